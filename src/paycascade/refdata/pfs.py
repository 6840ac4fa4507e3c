"""The CMS Physician Fee Schedule relative value file (PPRRVU) as table ``ref_pfs``.

CMS publishes the file in the RVUyyA/B/C/D packages on cms.gov (for CY2023 January:
``PPRRVU23_JAN.csv`` in RVU23A).  Two layouts are read:

* the official CSV: a few preamble lines (title, AMA/ADA copyright, release date), then a
  header stacked over several lines whose last line starts with ``HCPCS,MOD,DESCRIPTION``
  (e.g. ``WORK`` above ``RVU``), then one row per HCPCS code and modifier;
* a one-header-row CSV with columns ``HCPCS, MOD, STATUS_CODE, WORK_RVU, …`` such as
  ``shared/data/cms/pfs_rvu_2023_jan/pprrvu_2023_jan_codes_rvus.csv``.

The header row is the first row whose first cell is ``HCPCS``; the data start on the next line.
Columns are found by name (``WORK RVU`` and ``WORK_RVU`` alike), never by position, so the
``DESCRIPTION`` column may be present or absent.

``ref_pfs`` columns: ``hcpcs, modifier ('' for the global row), status_code,
work_rvu DECIMAL(10,2), pctc_ind, mult_proc, bilat_surg, asst_surg, co_surg,
conv_factor DECIMAL(10,4), non_fac_total DECIMAL(10,2), fac_total DECIMAL(10,2), source_row``.
``(hcpcs, modifier)`` is unique: a duplicate is reported and only its first row is kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from paycascade.diagnostics import Diagnostics
from paycascade.pipelines.duck import drop_relation, emit_problems, file_lit, lit, q, run

TABLE = "ref_pfs"
_HEAD_BYTES = 256 * 1024
_HEAD_LINES = 60

REF_PFS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("hcpcs", "VARCHAR"),
    ("modifier", "VARCHAR"),
    ("status_code", "VARCHAR"),
    ("work_rvu", "DECIMAL(10,2)"),
    ("pctc_ind", "VARCHAR"),
    ("mult_proc", "VARCHAR"),
    ("bilat_surg", "VARCHAR"),
    ("asst_surg", "VARCHAR"),
    ("co_surg", "VARCHAR"),
    ("conv_factor", "DECIMAL(10,4)"),
    ("non_fac_total", "DECIMAL(10,2)"),
    ("fac_total", "DECIMAL(10,2)"),
    ("source_row", "BIGINT"),
)


def _tokens(name: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+", name.upper())


def _is(*words: str) -> Callable[[list[str]], bool]:
    return lambda t: t == list(words)


def _has(*words: str) -> Callable[[list[str]], bool]:
    return lambda t: all(w in t for w in words)


# target column -> predicate on the header name's tokens; the first matching column wins
_MATCHERS: tuple[tuple[str, Callable[[list[str]], bool]], ...] = (
    ("hcpcs", _is("HCPCS")),
    ("modifier", lambda t: t in (["MOD"], ["MODIFIER"])),
    ("status_code", _has("STATUS")),
    ("work_rvu", _is("WORK", "RVU")),
    ("pctc_ind", _has("PCTC")),
    ("mult_proc", _has("MULT")),
    ("bilat_surg", _has("BILAT")),
    ("asst_surg", _has("ASST")),
    ("co_surg", lambda t: bool(t) and t[0] == "CO" and "SURG" in t),
    ("conv_factor", _has("CONV")),
    ("non_fac_total", lambda t: "TOTAL" in t and "NON" in t),
    (
        "fac_total",
        lambda t: "TOTAL" in t and "NON" not in t and ("FACILITY" in t or "FAC" in t),
    ),
)
_REQUIRED = ("hcpcs", "modifier", "work_rvu")
_DECIMALS = {
    "work_rvu": (10, 2),
    "conv_factor": (10, 4),
    "non_fac_total": (10, 2),
    "fac_total": (10, 2),
}


def create_empty_pfs(con: duckdb.DuckDBPyConnection) -> None:
    """An empty ``ref_pfs`` (no PFS file configured: every line must carry its own wRVU)."""
    drop_relation(con, TABLE)
    cols = ", ".join(f"{q(n)} {t}" for n, t in REF_PFS_COLUMNS)
    run(con, f"CREATE TABLE {TABLE} ({cols})")


def _read_head(path: Path) -> tuple[list[list[str]], str] | str:
    """The first lines of the file as CSV rows and the encoding, or a problem in words."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip():
        return "the file is empty"
    if b"\x00" in head:
        return "not a CMS PFS relative value file: binary content, expected the CSV file"
    if head.startswith(b"PK\x03\x04"):
        return (
            "not a CMS PFS relative value file: this is a ZIP or XLSX file; "
            "point [reference] pfs at the PPRRVU CSV inside the RVU package"
        )
    try:
        text, encoding = head.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a multi-byte character cut by the read size
            text, encoding = head[: exc.start].decode("utf-8-sig"), "utf-8"
        else:
            text, encoding = head.decode("latin-1"), "latin-1"
    lines = text.splitlines()
    if len(head) == _HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    return list(csv.reader(io.StringIO("\n".join(lines[:_HEAD_LINES])))), encoding


def _header(rows: list[list[str]]) -> tuple[int, list[str]] | None:
    """Index of the ``HCPCS`` row and the column names, stacked header lines joined."""
    starts = [i for i, row in enumerate(rows) if row and row[0].strip().upper() == "HCPCS"]
    if not starts:
        return None
    h = starts[0]
    top = h
    while top > 0 and any(c.strip() for c in rows[top - 1][3:]):
        top -= 1
    width = len(rows[h])
    names = []
    for i in range(width):
        parts = [r[i].strip() for r in rows[top : h + 1] if i < len(r) and r[i].strip()]
        names.append(" ".join(parts))
    return h, names


def load_pfs(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    diags: Diagnostics,
    *,
    display: str | None = None,
) -> None:
    """Load a CMS PPRRVU file into ``ref_pfs``; problems go to ``diags``.

    On a problem that makes the file unusable, ``ref_pfs`` is left empty (so every line without
    its own wRVU is then reported as an unknown HCPCS code, next to the reason).
    """
    name = display or path.as_posix()
    create_empty_pfs(con)
    if not path.is_file():
        diags.add(name, None, "PFS file not found", code="missing_file")
        return
    try:
        head = _read_head(path)
    except OSError as exc:
        diags.add(name, None, f"cannot be read: {exc.strerror or exc}", code="unreadable")
        return
    if isinstance(head, str):
        diags.add(name, None, head, code="unreadable")
        return
    rows, encoding = head
    found = _header(rows)
    if found is None:
        diags.add(
            name,
            None,
            "not a CMS PFS relative value file: no header row starting with HCPCS "
            f"in the first {_HEAD_LINES} lines",
            code="not_pfs",
        )
        return
    h, names = found
    index: dict[str, int] = {}
    for target, match in _MATCHERS:
        for i, col in enumerate(names):
            if i not in index.values() and match(_tokens(col)):
                index[target] = i
                break
    if "hcpcs" not in index and names and names[0].strip().upper() == "HCPCS":
        index["hcpcs"] = 0
    missing = [t for t in _REQUIRED if t not in index]
    if missing:
        shown = ", ".join(n for n in names if n)[:300]
        diags.add(
            name,
            h + 1,
            "not a CMS PFS relative value file: no "
            + " or ".join(m.upper().replace("_", " ") for m in missing)
            + f" column (found: {shown})",
            code="not_pfs",
        )
        return
    _load_rows(con, path, name, h, len(names), index, encoding, diags)


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    h: int,
    width: int,
    index: dict[str, int],
    encoding: str,
    diags: Diagnostics,
) -> None:
    raw = "_pc_pfs_raw"
    cols = ", ".join(f"{lit(f'c{i}')}: 'VARCHAR'" for i in range(width))
    reject_scan, reject_err = "_pc_pfs_reject_scans", "_pc_pfs_reject_errors"
    try:
        run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE {raw} AS
            SELECT row_number() OVER () + {h + 1} AS source_row, *
            FROM read_csv({file_lit(path)}, header = false, skip = {h + 1},
                auto_detect = false, columns = {{{cols}}}, delim = ',', quote = '"',
                escape = '"', null_padding = true, encoding = {lit(encoding)},
                store_rejects = true, rejects_scan = {lit(reject_scan)},
                rejects_table = {lit(reject_err)})""",
        )
    except duckdb.Error as exc:
        from paycascade.ingest import _mixed_line_ending

        mixed = _mixed_line_ending(path)
        if mixed is not None:
            line, ending, first = mixed
            diags.add(
                name,
                line,
                f"cannot be read as CSV: this line ends with {ending} but the lines before it "
                f"end with {first}; save the file with one kind of line ending",
                code="unreadable",
            )
        else:
            diags.add(name, None, f"cannot be read as CSV: {_first_line(exc)}", code="unreadable")
        return
    # a rejected line has no record: the records after it are one line further down the file
    run(
        con,
        f"""UPDATE {raw} SET source_row = source_row + (
            SELECT count(*) FROM (
                SELECT line - (row_number() OVER (ORDER BY line) - 1) AS t
                FROM (SELECT DISTINCT line FROM {reject_err})
            ) WHERE t <= {raw}.source_row)""",
    )
    emit_problems(
        con,
        diags,
        f"""SELECT {lit(name)} AS file, line AS row, NULL::VARCHAR AS "column",
                'pfs:malformed' AS "check", 'error' AS severity,
                'malformed CSV row: ' || error_message AS message
            FROM {reject_err}""",
    )
    run(con, f"DROP TABLE IF EXISTS {reject_err}")
    run(con, f"DROP TABLE IF EXISTS {reject_scan}")

    def cell(target: str) -> str:
        if target not in index:
            return "NULL"
        return f"NULLIF(trim(c{index[target]}), '')"

    typed = [
        f"upper(coalesce({cell('hcpcs')}, '')) AS hcpcs",
        f"upper(coalesce({cell('modifier')}, '')) AS modifier",
    ]
    for target, _ in _MATCHERS[2:]:
        if target in _DECIMALS:
            p, s = _DECIMALS[target]
            typed.append(f"TRY_CAST({cell(target)} AS DECIMAL({p},{s})) AS {target}")
            typed.append(f"TRY_CAST({cell(target)} AS DECIMAL(38,10)) AS {target}__exact")
            typed.append(f"{cell(target)} AS {target}__text")
        else:
            typed.append(f"{cell(target)} AS {target}")
    stage = "_pc_pfs_typed"
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE {stage} AS
        SELECT * FROM (
            SELECT source_row, {", ".join(typed)},
                regexp_replace(coalesce({cell("hcpcs")}, ''), '[\\s\\x00-\\x1f]', '', 'g') = ''
                    AND {cell("work_rvu")} IS NULL AS blank
            FROM {raw}
        ) WHERE NOT blank""",
    )
    run(con, f"DROP TABLE {raw}")

    checks = [
        (
            "hcpcs",
            "hcpcs:format",
            "NOT regexp_full_match(hcpcs, '[A-Z0-9]{5}')",
            "format('''{}'' is not a HCPCS code', hcpcs)",
        ),
        (
            "work_rvu",
            "work_rvu:type",
            "work_rvu IS NULL",
            "format('''{}'' is not a work RVU', coalesce(work_rvu__text, ''))",
        ),
        (
            "work_rvu",
            "work_rvu:negative",
            "work_rvu < 0",
            "format('{} is negative; a work RVU must be >= 0', work_rvu__text)",
        ),
    ]
    for target, (_, s) in _DECIMALS.items():
        if target in index:
            checks.append(
                (
                    target,
                    f"{target}:scale",
                    f"{target}__exact <> {target}",
                    f"format('''{{}}'' has more than {s} decimal places', {target}__text)",
                )
            )
    problem_sql = " UNION ALL ".join(
        f"""SELECT {lit(name)} AS file, source_row AS row, {lit(col)} AS "column",
                {lit(check)} AS "check", 'error' AS severity, {msg} AS message
            FROM {stage} WHERE {cond}"""
        for col, check, cond, msg in checks
    )
    dup_sql = f"""
        SELECT {lit(name)} AS file, source_row AS row, 'hcpcs' AS "column",
            'hcpcs:duplicate' AS "check", 'error' AS severity,
            format('duplicate HCPCS {{}} modifier ''{{}}'' (first on row {{}}); this row is ignored',
                hcpcs, modifier, first_row) AS message
        FROM (
            SELECT hcpcs, modifier, source_row,
                min(source_row) OVER (PARTITION BY hcpcs, modifier) AS first_row
            FROM {stage} WHERE work_rvu IS NOT NULL
        ) WHERE source_row > first_row"""
    emit_problems(con, diags, f"{problem_sql} UNION ALL {dup_sql}")

    n_rows = run(con, f"SELECT count(*) FROM {stage}")[0][0]
    if n_rows == 0:
        diags.add(name, None, "no data rows", code="empty")
    out_cols = ", ".join(n for n, _ in REF_PFS_COLUMNS)
    run(
        con,
        f"""INSERT INTO {TABLE} ({out_cols})
        SELECT {out_cols} FROM {stage}
        WHERE regexp_full_match(hcpcs, '[A-Z0-9]{{5}}') AND work_rvu IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY hcpcs, modifier ORDER BY source_row) = 1""",
    )
    run(con, f"DROP TABLE {stage}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
