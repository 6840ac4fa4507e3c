"""Writing an Ibis expression as a DuckDB table and reading it back (``pipelines.duck``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pytest

from paycascade.pipelines.duck import fetch, file_lit, lit, materialize_sql


@pytest.fixture
def backend() -> object:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE lines AS SELECT * FROM (VALUES ('b', 2, 1.25), ('a', 3, 2.5), "
        "('b', 4, 0.125)) t(npi, n, w)"
    )
    return ibis.duckdb.from_connection(con)


def test_fetch_writes_the_table_typed_as_declared_and_returns_it_sorted(backend: object) -> None:
    t = backend.table("lines")  # type: ignore[attr-defined]
    expr = t.group_by("npi").aggregate(
        lines=t.count(), n=t.n.sum(), w=t.w.sum().cast(dt.Decimal(38, 2))
    )
    out = fetch(backend, "mart_x", expr, ["npi"])
    assert out.schema.field("n").type == pa.int64()  # DuckDB sums to HUGEINT; declared int64
    assert out.schema.field("w").type == pa.decimal128(38, 2)
    assert out.to_pylist() == [
        {"npi": "a", "lines": 1, "n": 3, "w": Decimal("2.50")},
        {"npi": "b", "lines": 2, "n": 6, "w": Decimal("1.38")},  # 1.375 rounded by the cast
    ]
    con = backend.con  # type: ignore[attr-defined]
    assert con.execute("SELECT npi, n FROM mart_x ORDER BY npi").fetchall() == [("a", 3), ("b", 6)]
    assert con.execute("DESCRIBE mart_x").fetchall()[2][1] == "BIGINT"
    # written again: replaced
    fetch(backend, "mart_x", expr.filter(expr.npi == "a"), ["npi"])
    assert con.execute("SELECT count(*) FROM mart_x").fetchone() == (1,)


def test_a_failing_query_keeps_the_earlier_table(backend: object) -> None:
    schema = ibis.schema({"npi": "string"})
    materialize_sql(backend, "core_x", schema, "SELECT npi FROM lines")
    with pytest.raises(duckdb.Error):
        materialize_sql(backend, "core_x", schema, "SELECT no_such_column FROM lines")
    con = backend.con  # type: ignore[attr-defined]
    assert con.execute("SELECT count(*) FROM core_x").fetchone() == (3,)


@pytest.mark.parametrize("name", ["a[b]c", "a*", "a?c", "[[]", "x]y", "a[!b]c", "**"])
def test_a_file_path_names_only_its_own_file_for_duckdbs_readers(tmp_path: Path, name: str) -> None:
    # folders whose names the unescaped path would match as a glob, each holding another value
    # (COPY … TO takes its path as it is)
    decoys = ["abc", "ab", "a", "axc", "[", "x]y_", "aac", "a!c", "b"]
    con = duckdb.connect()
    for value, folder in enumerate([name, *decoys]):
        (tmp_path / folder).mkdir(exist_ok=True)
        for ext in ("csv", "parquet"):
            if not (tmp_path / folder / f"t.{ext}").exists():
                con.execute(
                    f"COPY (SELECT {value} AS v) TO {lit(str(tmp_path / folder / f't.{ext}'))}"
                )
    for reader in ("read_csv", "read_parquet"):
        path = tmp_path / name / f"t.{reader.removeprefix('read_')}"
        rows = con.execute(
            f"SELECT v, filename FROM {reader}({file_lit(path)}, filename = true)"
        ).fetchall()
        assert rows == [(0, str(path))], (reader, rows)
