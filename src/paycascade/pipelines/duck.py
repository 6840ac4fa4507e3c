"""DuckDB glue shared by ingestion, the reference loaders and the pipeline.

Everything engine-specific lives here so the aggregation itself stays pure Ibis: quoting, running
a statement to its end, reporting problems found by a query (at most :data:`ROW_CAP` rows per
problem, then one summary line), and materialising an Ibis expression as a table.

Why :func:`materialize` does not call ``backend.create_table(..., overwrite=True)``: with the
pinned versions (ibis 12, DuckDB 2, sqlglot 30) ibis renders the ``DROP TABLE`` of an overwrite
without its table name, so the DuckDB path compiles the expression and writes the table itself
in one ``CREATE OR REPLACE TABLE … AS SELECT``, each column cast to the expression's Ibis type.
Other backends use ``create_table``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from paycascade.diagnostics import Diagnostics, Severity

#: Rows listed for one problem before the "… and N more rows" line.
ROW_CAP = 20


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


#: the characters DuckDB's file readers expand as a glob in a path, each written as a
#: one-character class so that it names itself
_GLOB_ESCAPES = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def file_path(path: str | os.PathLike[str]) -> str:
    """A file's path as DuckDB's readers (``read_csv``, ``read_parquet``,
    ``parquet_file_metadata``) must be given it: they expand ``*``, ``?`` and ``[`` as a glob
    even in a plain path, so a workspace in ``Comp [2026]/`` would read ``Comp 2/``'s files.
    Those characters are escaped as one-character classes; the readers report the real path
    (e.g. in ``filename``)."""
    return os.fspath(path).translate(_GLOB_ESCAPES)


def file_lit(path: str | os.PathLike[str]) -> str:
    """:func:`file_path` as a SQL string literal."""
    return lit(file_path(path))


def run(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> list[tuple[Any, ...]]:
    """Run one statement to its end and return its rows (DDL returns none or a count)."""
    cur = con.execute(sql, params) if params is not None else con.execute(sql)
    rows: list[tuple[Any, ...]] = cur.fetchall()
    return rows


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view of that name is visible on the connection."""
    rows = run(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [name],
    )
    return bool(rows[0][0])


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a table or a view of that name if there is one."""
    drop_relations(con, [name])


def drop_relations(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> None:
    """Drop the tables and views of these names that exist (one catalog look-up for all)."""
    marks = ", ".join("?" for _ in names)
    found = run(
        con,
        "SELECT DISTINCT table_name, table_type FROM information_schema.tables "
        f"WHERE table_name IN ({marks})",
        list(names),
    )
    for name, kind in sorted(found):
        run(con, f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {q(name)}")


def columns_of(con: duckdb.DuckDBPyConnection, relation_sql: str) -> list[tuple[str, str]]:
    """``(name, type)`` of the columns a query or relation returns."""
    rows = run(con, f"DESCRIBE {relation_sql}")
    return [(str(r[0]), str(r[1])) for r in rows]


def display_path(path: Path, root: Path | None) -> str:
    """A file as diagnostics name it: relative to the workspace when inside it, POSIX style."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def emit_problems(
    con: duckdb.DuckDBPyConnection,
    diags: Diagnostics,
    problems_sql: str,
    *,
    cap: int = ROW_CAP,
) -> None:
    """Turn the rows of a problems query into diagnostics, capped per problem.

    ``problems_sql`` returns ``file, row, column, check, severity, message``.  A problem is a
    (file, check) pair: its first ``cap`` rows are listed and one more diagnostic, placed at the
    first row not listed, says how many more rows have the same problem.
    """
    sql = f"""
        WITH p AS ({problems_sql}),
        r AS (
            SELECT *,
                row_number() OVER (PARTITION BY file, "check" ORDER BY row, "column") AS rn,
                count(*) OVER (PARTITION BY file, "check") AS n
            FROM p
        )
        SELECT file, row, "column", "check", severity, message, rn, n
        FROM r WHERE rn <= {cap + 1}
        ORDER BY file, row, "check", rn
    """
    for file, row, column, check, severity, message, rn, n in run(con, sql):
        line = int(row) if row is not None else None
        sev: Severity = "warning" if severity == "warning" else "error"
        code = str(check).split(":")[-1]
        if rn <= cap:
            diags.add(file, line, str(message), column=column, severity=sev, code=code)
        else:
            diags.add(
                file,
                line,
                f"… and {n - cap} more rows with the same problem",
                column=column,
                severity=sev,
                code=code,
            )


def materialize_view(backend: Any, name: str, expr: Any) -> Any:
    """Define view ``name`` (replacing it) as an Ibis expression and return it as a table."""
    if getattr(backend, "name", "") != "duckdb":
        return backend.create_view(name, expr, overwrite=True)
    con: duckdb.DuckDBPyConnection = backend.con
    drop_relation(con, name)
    run(con, f"CREATE VIEW {q(name)} AS {backend.compile(expr)}")
    return backend.table(name)


def materialize(backend: Any, name: str, expr: Any) -> Any:
    """Write an Ibis table expression as table ``name`` (replacing it) and return the table.

    The table's column types are the expression's Ibis schema, so what DuckDB computes (for
    example ``SUM`` of ``BIGINT`` as ``HUGEINT``) is cast to what the pipeline declared.
    """
    if getattr(backend, "name", "") == "pyspark":
        # a cached temporary view: nothing written to a warehouse directory
        view = backend.create_view(name, expr, overwrite=True)
        backend._session.table(name).cache()
        return view
    if getattr(backend, "name", "") != "duckdb":
        return backend.create_table(name, expr, overwrite=True)
    return materialize_sql(backend, name, expr.schema(), backend.compile(expr))


def materialize_sql(backend: Any, name: str, schema: Any, sql: str) -> Any:
    """Write a DuckDB query as table ``name`` of the Ibis ``schema`` (replacing it)."""
    _create_typed(backend.con, name, schema, sql)
    return backend.table(name)


def fetch(backend: Any, name: str, expr: Any, order: Sequence[Any]) -> Any:
    """Write ``expr`` as table ``name`` (replacing it) and return its rows sorted by ``order``
    as an Arrow table typed as the expression's Ibis schema.

    On DuckDB: one statement writes the table and one reads it back, with the conversion
    Ibis's ``to_pyarrow`` applies, instead of a temporary table, a rename and catalog look-ups.
    """
    if getattr(backend, "name", "") != "duckdb":
        return materialize(backend, name, expr).order_by(order).to_pyarrow()
    import ibis
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    schema = expr.schema()
    _create_typed(backend.con, name, schema, backend.compile(expr))
    ordered = ibis.table(schema, name=name).order_by(order)
    arrow = backend.con.sql(backend.compile(ordered)).to_arrow_table()
    return ordered.__pyarrow_result__(arrow, data_mapper=DuckDBPyArrowData)


def _create_typed(con: duckdb.DuckDBPyConnection, name: str, schema: Any, sql: str) -> None:
    """``CREATE OR REPLACE TABLE name AS`` the query, each column cast to its Ibis type (what
    DuckDB computes, e.g. ``SUM`` of ``BIGINT`` as ``HUGEINT``, becomes what was declared).
    Atomic: if the query fails, an earlier table of that name is kept."""
    from ibis.backends.sql.datatypes import DuckDBType

    cols = ", ".join(
        f"CAST({q(c)} AS {DuckDBType.to_string(t)}) AS {q(c)}" for c, t in schema.items()
    )
    run(con, f"CREATE OR REPLACE TABLE {q(name)} AS SELECT {cols} FROM ({sql})")


#: the bucket of lines dated before / after the period
BEFORE_PERIOD = -1
AFTER_PERIOD = -2


def bucket_sql(day: str, starts: Sequence[date], end: date) -> str:
    """SQL for the bucket of the date ``day``: the index of the last of ``starts`` (sorted, the
    first is the period's start) on or before it; ``BEFORE_PERIOD`` / ``AFTER_PERIOD`` outside
    ``starts[0]`` … ``end``."""
    cases = " ".join(
        f"WHEN {day} >= DATE '{s.isoformat()}' THEN {k}"
        for k, s in reversed(list(enumerate(starts))[1:])
    )
    return (
        f"CASE WHEN {day} < DATE '{starts[0].isoformat()}' THEN {BEFORE_PERIOD} "
        f"WHEN {day} > DATE '{end.isoformat()}' THEN {AFTER_PERIOD} {cases} ELSE 0 END"
    )
