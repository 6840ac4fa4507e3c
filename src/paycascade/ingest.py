"""Input layer: find the workspace's tables, read them into DuckDB, check them, stage them.

For each table of :mod:`paycascade.tables` (``docs/DATA.md`` is the user's contract):

1. **find** ``data/<table>.csv``, ``.parquet`` or ``.xlsx`` (first sheet), or the path or glob
   configured under ``[tables]``;
2. **read** it into DuckDB as ``input_<table>`` with every original column (names lower-cased)
   plus ``_file`` (the file as diagnostics name it) and ``_row`` (the row as a spreadsheet
   shows it: header = row 1, first data row = row 2; per file for a glob).  CSV and XLSX values
   are read as text so a bad value is kept for the report; Parquet keeps its types and
   ``input_<table>`` is a view over the files (no copy of a large table);
3. **check** every row with set-based SQL (never a Python loop over rows): required columns,
   types, negative quantities, ranges, allowed values, NPI format and check digit, duplicate
   NPIs, NPIs not in ``physicians``, HCPCS codes not in the PFS file, empty tables.  Every
   problem is a diagnostic ``file:row:column: message``; one problem repeating on many rows is
   listed for its first 20 rows, then ``… and N more rows with the same problem``;
4. **stage** the rows that passed as ``stg_<table>``, a view: typed (``DECIMAL(18,4)``
   quantities, ``DATE`` dates), trimmed, defaults filled, modifiers as an upper-case list,
   plus ``source_file`` and ``source_row``.  Rows that failed stay in ``input_<table>`` and
   are listed with their messages in ``rejects_<table>`` (``file, row, column, check,
   message``); nothing is dropped silently.

A table that is absent gets empty ``input_``/``rejects_``/``stg_`` relations, so later layers
always find them.  Reading, checking and staging run inside DuckDB in bounded memory; the only
Python loops over rows are the XLSX reader (openpyxl yields rows; a sheet has at most about a
million) and, for a CSV file with blank lines between its rows, a streaming pass that finds
the spreadsheet row of each record.
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from paycascade.diagnostics import Diagnostics, Severity
from paycascade.pipelines.duck import (
    AFTER_PERIOD,
    BEFORE_PERIOD,
    bucket_sql,
    columns_of,
    display_path,
    drop_relations,
    emit_problems,
    file_lit,
    file_path,
    lit,
    q,
    run,
    table_exists,
)
from paycascade.refdata.pfs import create_empty_pfs, load_pfs
from paycascade.tables import (
    MODIFIER_SEPARATORS,
    NUMBER_SCALE,
    NUMBER_SQL,
    PFS_ROW_MODIFIERS,
    REQUIRED_TABLES,
    TABLES,
    TABLES_BY_NAME,
    Column,
    LineGrouping,
    TableSpec,
)

FileFormat = Literal["csv", "parquet", "xlsx"]
_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_DEFAULT_SUFFIXES = (".csv", ".parquet", ".xlsx")
_RESERVED = frozenset({"_file", "_row", "_rec"})
_XLSX_BATCH = 50_000
_HEAD_BYTES = 64 * 1024
#: the longest header line read (a file whose first line is longer is not a table)
_HEADER_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One file of an input table."""

    path: Path
    display: str
    fmt: FileFormat


@dataclass
class _TableState:
    """What reading one table found, for the checks that follow."""

    spec: TableSpec
    mandatory: bool
    files: list[SourceFile] = field(default_factory=list)
    #: display name -> lower-cased column names of that file (files that could be read)
    file_columns: dict[str, list[str]] = field(default_factory=dict)
    #: files whose rows are neither checked nor staged (missing required column, malformed rows)
    excluded: set[str] = field(default_factory=set)
    #: files without a header or any row
    empty: set[str] = field(default_factory=set)
    #: column -> DuckDB type in input_<table>
    columns: dict[str, str] = field(default_factory=dict)
    #: display name -> rows in input_<table> (Parquet: from the files' footers)
    file_rows: dict[str, int] = field(default_factory=dict)
    #: whether the rows were checked one by one (some may be in rejects_<table>)
    row_by_row: bool = False


@dataclass
class _Context:
    con: duckdb.DuckDBPyConnection
    root: Path
    diags: Diagnostics
    pfs_configured: bool
    known_npis: bool = False
    #: ``_pc_employment`` holds physicians' start and end dates (see :func:`_collect_employment`)
    employment: bool = False
    #: bucket starts (the first is the period's start) and the period's end, for grouping
    buckets: tuple[tuple[date, ...], date] | None = None
    #: table -> rows staged (see :func:`rows_read`)
    rows: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- public API


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    table_paths: Mapping[str, str] | None,
    needed: set[str],
    pfs_path: Path | None,
    buckets: tuple[Sequence[date], date] | None = None,
    after: Callable[[str], None] | None = None,
) -> Diagnostics:
    """Read, check and stage every input table of the workspace at ``root``.

    ``table_paths`` is the ``[tables]`` section of ``paycascade.toml`` (table -> path or glob,
    relative to ``root``); ``needed`` names the optional tables the plans use (a missing or
    empty needed table is an error, a missing optional one is not); ``pfs_path`` is the
    ``[reference] pfs`` file (relative to ``root`` or absolute) or ``None``.  Returns every
    problem found; the tables are written even when there are errors (``stg_`` then holds only
    the rows that passed).  With ``buckets`` (bucket starts, the first being the period's
    start, and the period's end), a table with a ``grouping`` is summed by bucket in the pass
    that checks it (:func:`line_groups`).  ``after`` is called with each table's name once
    that table is staged.
    """
    root = root.resolve()
    diags = Diagnostics()
    ctx = _Context(con=con, root=root, diags=diags, pfs_configured=pfs_path is not None)
    if buckets is not None:
        ctx.buckets = (tuple(buckets[0]), buckets[1])
    if pfs_path is not None:
        path = pfs_path if pfs_path.is_absolute() else root / pfs_path
        load_pfs(con, path, diags, display=display_path(path, root))
    else:
        create_empty_pfs(con)
    paths = dict(table_paths or {})
    run(
        con,
        f'CREATE TABLE IF NOT EXISTS {GROUPS_TABLE} ("table" VARCHAR, starts DATE[], "end" DATE)',
    )
    for spec in TABLES:
        mandatory = spec.name in REQUIRED_TABLES or spec.name in needed
        _load_table(ctx, spec, mandatory, paths.get(spec.name))
        if after is not None:
            after(spec.name)
    run(con, "DROP TABLE IF EXISTS _pc_known_npis")
    run(con, "DROP TABLE IF EXISTS _pc_employment")
    run(con, f'CREATE OR REPLACE TABLE {ROWS_TABLE} ("table" VARCHAR, "rows" BIGINT)')
    con.executemany(f"INSERT INTO {ROWS_TABLE} VALUES (?, ?)", sorted(ctx.rows.items()))
    return diags


def find_table_files(
    root: Path, table: str, configured: str | None, diags: Diagnostics, *, mandatory: bool
) -> list[SourceFile]:
    """The files of one table, or ``[]`` (with a diagnostic when the table cannot be missing)."""
    if configured is not None:
        return _configured_files(root, table, configured, diags)
    data = root / "data"
    found = [data / f"{table}{s}" for s in _DEFAULT_SUFFIXES if (data / f"{table}{s}").is_file()]
    if not found:
        if mandatory:
            diags.add(
                "data/",
                None,
                f"no {table} table (looked for data/{table}.csv, .parquet, .xlsx)",
                code="missing_table",
            )
        return []
    if len(found) > 1:
        names = " and ".join(display_path(p, root) for p in found)
        diags.add(
            display_path(found[1], root),
            None,
            f"two files for the {table} table: {names}; keep one, or name it under [tables] "
            f"in paycascade.toml (reading {display_path(found[0], root)})",
            code="ambiguous_table",
        )
    path = found[0]
    return [SourceFile(path.resolve(), display_path(path, root), _SUFFIXES[path.suffix.lower()])]


# ----------------------------------------------------------------------------- finding files


def _configured_files(
    root: Path, table: str, configured: str, diags: Diagnostics
) -> list[SourceFile]:
    pattern = Path(configured)
    if any(ch in configured for ch in "*?["):
        if pattern.is_absolute():
            anchor = Path(pattern.anchor)
            paths = sorted(anchor.glob(str(pattern.relative_to(anchor))))
        else:
            paths = sorted(root.glob(configured))
        paths = [p for p in paths if p.is_file()]
    else:
        path = pattern if pattern.is_absolute() else root / pattern
        paths = [path] if path.is_file() else []
    if not paths:
        diags.add(
            configured,
            None,
            f"no file matches this path (the {table} table, from [tables] in paycascade.toml)",
            code="missing_table",
        )
        return []
    files: list[SourceFile] = []
    for p in paths:
        fmt = _SUFFIXES.get(p.suffix.lower())
        if fmt is None:
            diags.add(
                display_path(p, root),
                None,
                f"unsupported file type '{p.suffix}' (use .csv, .parquet or .xlsx)",
                code="unreadable",
            )
            continue
        files.append(SourceFile(p.resolve(), display_path(p, root), fmt))
    formats = {f.fmt for f in files}
    if len(formats) > 1:
        diags.add(
            configured,
            None,
            f"the {table} files mix formats ({', '.join(sorted(formats))}); "
            "use one format per table",
            code="mixed_formats",
        )
        return []
    return files


# ----------------------------------------------------------------------------- loading a table


def _load_table(ctx: _Context, spec: TableSpec, mandatory: bool, configured: str | None) -> None:
    con = ctx.con
    state = _TableState(spec=spec, mandatory=mandatory)
    drop_relations(
        con,
        [
            f"stg_{spec.name}",
            f"rejects_{spec.name}",
            f"input_{spec.name}",
            f"_pc_groups_{spec.name}",
        ],
    )
    run(con, f'DELETE FROM {GROUPS_TABLE} WHERE "table" = ?', [spec.name])
    state.files = find_table_files(ctx.root, spec.name, configured, ctx.diags, mandatory=mandatory)
    if state.files and state.files[0].fmt == "parquet":
        _read_parquet(ctx, state)
    elif state.files:
        _read_text_files(ctx, state)
    if not table_exists(con, f"input_{spec.name}"):
        cols = ", ".join(f"{q(c.name)} VARCHAR" for c in spec.columns)
        run(con, f"CREATE TABLE {q('input_' + spec.name)} (_file VARCHAR, _row BIGINT, {cols})")
    state.columns = {
        n.lower(): t for n, t in columns_of(con, q(f"input_{spec.name}")) if n not in _RESERVED
    }
    _check_columns(ctx, state)
    try:
        if spec.name == "physicians":
            _collect_known_npis(ctx, state)
            _collect_employment(ctx, state)
        _check_empty(ctx, state)
        _check_rows(ctx, state)
    except duckdb.Error as exc:
        # Parquet is read lazily: a damaged page, or files whose columns cannot be combined,
        # only show when the rows are read
        if not state.files or state.files[0].fmt != "parquet":
            raise
        _unreadable_rows(ctx, state, exc)
    _stage(ctx, state)
    _count_rows(ctx, state)


def _unreadable_rows(ctx: _Context, state: _TableState, exc: duckdb.Error) -> None:
    """A Parquet table whose rows could not be read: one problem at the file DuckDB names (or
    the first), and no rows of the table are staged."""
    text = str(exc)
    sf = next((f for f in state.files if str(f.path) in text), state.files[0])
    ctx.diags.add(sf.display, None, f"cannot be read: {_duck_reason(exc, sf)}", code="unreadable")
    state.file_columns.clear()
    state.file_rows.clear()
    state.row_by_row = False


def _check_columns(ctx: _Context, state: _TableState) -> None:
    """A file without a required column: one diagnostic, and its rows are not staged."""
    for display, cols in state.file_columns.items():
        if display in state.empty:
            continue
        for required in state.spec.required_columns:
            if required not in cols:
                shown = ", ".join(cols)
                if len(shown) > 300:
                    shown = shown[:300] + "…"
                ctx.diags.add(
                    display,
                    1,
                    f"missing required column '{required}' (found: {shown})",
                    code="missing_column",
                )
                state.excluded.add(display)


def _check_empty(ctx: _Context, state: _TableState) -> None:
    if not state.file_columns:
        return
    if not state.file_rows:  # text files: counted in their all-text table
        table = q(f"input_{state.spec.name}")
        state.file_rows = dict(run(ctx.con, f"SELECT _file, count(*) FROM {table} GROUP BY _file"))
    if any(state.file_rows.get(f, 0) for f in state.file_columns):
        return
    severity: Severity = "error" if state.mandatory else "warning"
    for display in state.file_columns:
        ctx.diags.add(display, None, "no data rows", severity=severity, code="empty")


# ----------------------------------------------------------------------------- readers


def _normalise_header(
    ctx: _Context, sf: SourceFile, raw_names: Iterable[object], header_row: int
) -> list[str]:
    """Lower-cased, trimmed, unique column names; a repeated name is reported."""
    names: list[str] = []
    seen: set[str] = set()
    for k, raw in enumerate(raw_names, start=1):
        name = str(raw).strip().lstrip("\ufeff").strip().lower() if raw is not None else ""
        if not name:
            name = f"column{k}"
        if name in _RESERVED:
            name = f"x{name}"
        if name in seen:
            ctx.diags.add(
                sf.display,
                header_row,
                f"column '{name}' appears more than once; only the first is read",
                code="duplicate_column",
            )
            name = f"{name}__{k}"
        seen.add(name)
        names.append(name)
    return names


def _read_parquet(ctx: _Context, state: _TableState) -> None:
    con = ctx.con
    readable: list[SourceFile] = []
    for sf in state.files:
        try:
            cols = columns_of(con, f"SELECT * FROM read_parquet({file_lit(sf.path)})")
        except duckdb.Error as exc:
            ctx.diags.add(
                sf.display,
                None,
                f"cannot be read as Parquet: {_duck_reason(exc, sf)}",
                code="unreadable",
            )
            continue
        lowered = [n.strip().lower() for n, _ in cols]
        dupes = sorted({n for n in lowered if lowered.count(n) > 1})
        if dupes:
            ctx.diags.add(
                sf.display,
                1,
                f"column names differ only in case: {', '.join(dupes)}",
                code="duplicate_column",
            )
            continue
        state.file_columns[sf.display] = lowered
        # its rows from the footer (read as read_parquet reads the path): counting them
        # through the view would read a column of every line
        footer = f"SELECT sum(num_rows) FROM parquet_file_metadata({file_lit(sf.path)})"
        rows = int(run(con, footer)[0][0] or 0)
        state.file_rows[sf.display] = state.file_rows.get(sf.display, 0) + rows
        readable.append(sf)
    if not readable:
        return
    files = "[" + ", ".join(file_lit(sf.path) for sf in readable) + "]"
    source = (
        f"read_parquet({files}, filename = '_pc_filename', file_row_number = true, "
        "union_by_name = true)"
    )
    try:
        union = columns_of(con, f"SELECT * FROM {source}")
    except duckdb.Error as exc:
        ctx.diags.add(
            readable[0].display,
            None,
            f"the {state.spec.name} files cannot be read together: {_first_line(exc)}",
            code="unreadable",
        )
        state.file_columns.clear()
        state.file_rows.clear()
        return
    prefix = str(ctx.root) + "/"
    select = [
        f"{q(n)} AS {q(n.strip().lower())}"
        for n, _ in union
        if n not in ("_pc_filename", "file_row_number") and n.strip().lower() not in _RESERVED
    ]
    file_expr = (
        f"CASE WHEN starts_with(_pc_filename, {lit(prefix)}) "
        f"THEN substr(_pc_filename, {len(prefix) + 1}) ELSE _pc_filename END"
    )
    run(
        con,
        f"CREATE VIEW {q('input_' + state.spec.name)} AS SELECT {file_expr} AS _file, "
        f"CAST(file_row_number + 2 AS BIGINT) AS _row, {', '.join(select)} FROM {source}",
    )


def _read_text_files(ctx: _Context, state: _TableState) -> None:
    """CSV and XLSX files: each into a temporary all-text table, then one union."""
    con = ctx.con
    parts: list[str] = []
    for i, sf in enumerate(state.files):
        tmp = f"_pc_in_{state.spec.name}_{i}"
        run(con, f"DROP TABLE IF EXISTS {q(tmp)}")
        try:
            if sf.fmt == "csv":
                ok = _read_csv(ctx, state, sf, tmp)
            else:
                ok = _read_xlsx(ctx, state, sf, tmp)
        except OSError as exc:
            ctx.diags.add(
                sf.display, None, f"cannot be read: {exc.strerror or exc}", code="unreadable"
            )
            ok = False
        if ok:
            parts.append(tmp)
    if not parts:
        return
    target = q(f"input_{state.spec.name}")
    union = " UNION ALL BY NAME ".join(f"SELECT * EXCLUDE (_rec) FROM {q(p)}" for p in parts)
    run(con, f"CREATE TABLE {target} AS {union}")
    for p in parts:
        run(con, f"DROP TABLE {q(p)}")


def _sniff_text(ctx: _Context, sf: SourceFile) -> tuple[str, str, int, str] | str | None:
    """Encoding, header line, its 1-based number and the delimiter; or a problem; or None if empty."""
    with sf.path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
        # a header line longer than the first read (thousands of columns): read on to its end
        while len(head) < _HEADER_LIMIT and head.strip() and b"\n" not in head.lstrip(b"\r\n"):
            more = fh.read(_HEAD_BYTES)
            if not more:
                break
            head += more
    if not head.strip():
        return None
    if b"\x00" in head:
        return "cannot be read as CSV: the file has binary content"
    if head.startswith(b"PK\x03\x04"):
        return "cannot be read as CSV: this is a ZIP or XLSX file; name it .xlsx"
    encoding = "utf-8"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:
            text = head[: exc.start].decode("utf-8-sig")
        else:
            encoding = "latin-1"
            text = head.decode("latin-1")
            ctx.diags.add(
                sf.display,
                None,
                "the file is not UTF-8; read as Latin-1",
                severity="warning",
                code="encoding",
            )
    lines = text.split("\n")
    for n, line in enumerate(lines, start=1):
        if line.strip():
            header = line.rstrip("\r")
            counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
            delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
            return encoding, header, n, delim
    return None


def _content_lines(path: Path) -> int:
    """Lines of a text file, not counting blank lines at its end."""
    newlines = 0
    size = path.stat().st_size
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
        fh.seek(max(0, size - _HEAD_BYTES))
        tail = fh.read()
    trailing = tail[len(tail.rstrip(b"\r\n\t ")) :].count(b"\n")
    return newlines - trailing + 1


def _read_csv(ctx: _Context, state: _TableState, sf: SourceFile, tmp: str) -> bool:
    con = ctx.con
    sniffed = _sniff_text(ctx, sf)
    if isinstance(sniffed, str):
        ctx.diags.add(sf.display, None, sniffed, code="unreadable")
        return False
    if sniffed is None:
        state.file_columns[sf.display] = []
        state.empty.add(sf.display)
        state.excluded.add(sf.display)
        return False
    encoding, header, header_line, delim = sniffed
    raw_names = next(csv.reader(io.StringIO(header), delimiter=delim), [])
    names = _normalise_header(ctx, sf, raw_names, header_line)
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    rej_scan, rej_err = f"{tmp}_rej_scan", f"{tmp}_rej_err"
    try:
        run(
            con,
            f"""CREATE TEMP TABLE {q(tmp)} AS
            SELECT {lit(sf.display)} AS _file, CAST(row_number() OVER () AS BIGINT) AS _rec,
                CAST(row_number() OVER () + {header_line} AS BIGINT) AS _row, *
            FROM read_csv({file_lit(sf.path)}, header = true, skip = {header_line - 1},
                auto_detect = false, columns = {columns}, delim = {lit(delim)}, quote = '"',
                escape = '"', encoding = {lit(encoding)}, store_rejects = true,
                rejects_scan = {lit(rej_scan)}, rejects_table = {lit(rej_err)})""",
        )
    except duckdb.Error as exc:
        mixed = _mixed_line_ending(sf.path)
        if mixed is not None:
            line, ending, first = mixed
            ctx.diags.add(
                sf.display,
                line,
                f"cannot be read as CSV: this line ends with {ending} but the lines before it "
                f"end with {first}; save the file with one kind of line ending",
                code="unreadable",
            )
        else:
            ctx.diags.add(
                sf.display, None, f"cannot be read as CSV: {_first_line(exc)}", code="unreadable"
            )
        return False
    state.file_columns[sf.display] = [n for n in names if "__" not in n]
    # DuckDB reports a short row once per missing column ("found 2", then "found 3"): keep one
    # problem per row, the first
    run(
        con,
        f"""DELETE FROM {q(rej_err)} WHERE rowid NOT IN (SELECT arg_min(rowid, column_idx)
            FROM {q(rej_err)} GROUP BY line)""",
    )
    n_rejects = run(con, f"SELECT count(*) FROM {q(rej_err)}")[0][0]
    if n_rejects:
        emit_problems(
            con,
            ctx.diags,
            f"""SELECT {lit(sf.display)} AS file, line AS row, NULL::VARCHAR AS "column",
                'csv:malformed' AS "check", 'error' AS severity,
                CASE
                    WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN
                        format('malformed row: expected {{}} values, found {{}}',
                            regexp_extract(error_message, 'Expected Number of Columns: (\\d+)', 1),
                            regexp_extract(error_message, 'Found: (\\d+)', 1))
                    WHEN error_type = 'UNQUOTED VALUE' THEN
                        'malformed row: a quote is not closed, or a value has a stray quote'
                    WHEN error_message ILIKE 'Invalid unicode%' THEN
                        'malformed row: the text is not UTF-8; save the file as UTF-8'
                    ELSE 'malformed row: ' || error_message
                END AS message
            FROM {q(rej_err)}""",
        )
        rejected = frozenset(int(r[0]) for r in run(con, f"SELECT DISTINCT line FROM {q(rej_err)}"))
        # the other rows are checked too, when each can still be given its spreadsheet row
        if not _fix_row_numbers(ctx, sf, tmp, encoding, header_line, delim, rejected):
            ctx.diags.add(
                sf.display,
                None,
                f"{n_rejects} malformed row(s); the other rows of this file are checked once "
                "the file can be read",
                code="malformed",
            )
            state.excluded.add(sf.display)
    else:
        _fix_row_numbers(ctx, sf, tmp, encoding, header_line, delim)
    run(con, f"DROP TABLE IF EXISTS {q(rej_err)}")
    run(con, f"DROP TABLE IF EXISTS {q(rej_scan)}")
    return True


def _mixed_line_ending(path: Path) -> tuple[int, str, str] | None:
    """The first line whose ending (CRLF or LF) differs from the first line's, streaming.

    DuckDB refuses such a file as a whole ("the CSV parser state machine reached an invalid
    state"); this names the line.  Returns (line, its ending, the first ending) or None."""
    names = {True: "CRLF (Windows)", False: "LF"}
    first: bool | None = None
    line = 0
    previous = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            start = 0
            while (i := chunk.find(b"\n", start)) >= 0:
                line += 1
                crlf = chunk[i - 1 : i] == b"\r" if i > 0 else previous == b"\r"
                if first is None:
                    first = crlf
                elif crlf != first:
                    return line, names[crlf], names[first]
                start = i + 1
            previous = chunk[-1:]
    return None


def _fix_row_numbers(
    ctx: _Context,
    sf: SourceFile,
    tmp: str,
    encoding: str,
    header_line: int,
    delim: str,
    rejected: frozenset[int] = frozenset(),
) -> bool:
    """Make ``_row`` the spreadsheet row when the file has blank lines between its rows, or
    malformed rows DuckDB set aside (``rejected``: their rows).

    DuckDB skips blank lines, so record ``k`` is on line ``header_line + k`` only if there are
    none; that is checked by counting lines (fast), and only a file that has them is read once
    more, streaming, to find each record's row.  False when rows were rejected and the other
    records cannot be matched to rows with certainty (the caller then checks none of them).
    """
    con = ctx.con
    records = int(run(con, f"SELECT count(*) FROM {q(tmp)}")[0][0])
    if not rejected and _content_lines(sf.path) == header_line + records:
        return True
    rows = array("q")
    py_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    with sf.path.open(newline="", encoding=py_encoding, errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delim)
        try:
            for n, rec in enumerate(reader, start=1):
                if n > header_line and rec and n not in rejected:
                    rows.append(n)
        except csv.Error:
            return False
    if len(rows) != records:
        if rejected:
            return False
        ctx.diags.add(
            sf.display,
            None,
            "row numbers may differ from the spreadsheet: the file has blank lines or line "
            "breaks inside values that could not be matched",
            severity="warning",
            code="row_numbers",
        )
        return True
    mapping = pa.table(
        {
            "_rec": pa.array(range(1, records + 1), pa.int64()),
            "_row_fixed": pa.array(rows, pa.int64()),
        }
    )
    view = f"{tmp}_rows"
    con.register(view, mapping)
    try:
        run(
            con,
            f"UPDATE {q(tmp)} SET _row = m._row_fixed FROM {q(view)} m WHERE {q(tmp)}._rec = m._rec",
        )
    finally:
        con.unregister(view)
    return True


def _cell_text(value: object) -> str | None:
    """An XLSX cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # 15 significant digits, as Excel shows a number: 0.1 + 0.2 is 0.3, not 0.30000000000000004
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _read_xlsx(ctx: _Context, state: _TableState, sf: SourceFile, tmp: str) -> bool:
    import openpyxl

    con = ctx.con
    try:
        wb = openpyxl.load_workbook(sf.path, read_only=True, data_only=True)
    except Exception as exc:
        ctx.diags.add(
            sf.display,
            None,
            f"cannot be read as an XLSX workbook: {_first_line(exc)}",
            code="unreadable",
        )
        return False
    try:
        if not wb.worksheets:
            ctx.diags.add(sf.display, None, "the workbook has no sheet", code="unreadable")
            return False
        rows = wb.worksheets[0].iter_rows(min_row=1, values_only=True)
        names: list[str] | None = None
        header_row = 0
        for n, values in enumerate(rows, start=1):
            if any(_cell_text(v) not in (None, "") for v in values):
                header_row = n
                names = _normalise_header(ctx, sf, values, n)
                break
        if names is None:
            state.file_columns[sf.display] = []
            state.empty.add(sf.display)
            state.excluded.add(sf.display)
            return False
        while names and names[-1] == f"column{len(names)}":
            names.pop()  # trailing cells without a header
        width = len(names)
        _XlsxWriter(con, sf, tmp, names).write(rows, header_row, width)
        state.file_columns[sf.display] = [n for n in names if "__" not in n]
        sheet = getattr(wb.worksheets[0], "_worksheet_path", None)  # openpyxl's, read only
        _uncomputed_formulas(ctx, state, sf, sheet, names, header_row)
        return True
    except Exception as exc:
        ctx.diags.add(
            sf.display,
            None,
            f"cannot be read as an XLSX workbook: {_first_line(exc)}",
            code="unreadable",
        )
        run(con, f"DROP TABLE IF EXISTS {q(tmp)}")
        return False
    finally:
        wb.close()


def _uncomputed_formulas(
    ctx: _Context,
    state: _TableState,
    sf: SourceFile,
    sheet: str | None,
    names: list[str],
    header_row: int,
) -> None:
    """A formula cell with no saved value (a workbook written by a program that does not
    compute formulas) reads as empty: an error at its cell, in the columns the table reads,
    rather than a value taken as missing or defaulted.  Found in the sheet's XML, a formula
    (``<f>``) without a saved value; a formula whose saved result is empty text (an empty
    ``<v/>`` in a cell of type ``str``) is fine.  The XML is only parsed when it holds a
    formula at all."""
    import zipfile
    from xml.etree.ElementTree import iterparse

    if sheet is None:
        return
    read = {c.name for c in state.spec.columns}
    with zipfile.ZipFile(sf.path) as book:
        member = sheet.lstrip("/")
        with book.open(member) as fh:
            if not any(
                b"<f" in chunk or b":f " in chunk or b":f>" in chunk
                for chunk in iter(lambda: fh.read(1 << 20), b"")
            ):
                return
        with book.open(member) as fh:
            for _, cell in iterparse(fh):
                if not cell.tag.endswith("}c") and cell.tag != "c":
                    continue
                formula = value = None
                for child in cell:
                    local = child.tag.rsplit("}", 1)[-1]
                    if local == "f":
                        formula = child
                    elif local == "v":
                        value = child
                # a saved result is a <v> with text, or an empty one of type text ("" saved
                # by Excel for =IF(…,"x","")); openpyxl and the like write an empty <v/>
                saved = value is not None and (bool(value.text) or cell.get("t") == "str")
                if formula is not None and not saved:
                    ref = cell.get("r", "")
                    letters = ref.rstrip("0123456789")
                    row = int(ref[len(letters) :] or 0)
                    k = _column_index(letters)
                    column = names[k] if 0 <= k < len(names) else None
                    if row > header_row and column in read:
                        text = "=" + (formula.text or "…")
                        ctx.diags.add(
                            sf.display,
                            row,
                            f"formula '{text[:60]}' has no saved value (the workbook was "
                            "written by a program that does not compute formulas): open and "
                            "save it in a spreadsheet program, or write the value",
                            column=column,
                            code="uncomputed_formula",
                        )
                cell.clear()


def _column_index(letters: str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - ord("A") + 1
    return index - 1


class _XlsxWriter:
    """Appends the rows of a sheet to a temporary all-text table, in Arrow batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sf: SourceFile, tmp: str, names: list[str]):
        self.con, self.sf, self.tmp, self.names = con, sf, tmp, names
        self.created = False

    def _flush(self, rows: list[int], cols: list[list[str | None]]) -> None:
        data: dict[str, pa.Array] = {
            "_file": pa.array([self.sf.display] * len(rows), pa.string()),
            "_rec": pa.array(rows, pa.int64()),
            "_row": pa.array(rows, pa.int64()),
        }
        for name, values in zip(self.names, cols, strict=True):
            data[name] = pa.array(values, pa.string())
        view = f"{self.tmp}_batch"
        self.con.register(view, pa.table(data))
        try:
            if self.created:
                run(self.con, f"INSERT INTO {q(self.tmp)} SELECT * FROM {q(view)}")
            else:
                run(self.con, f"CREATE TEMP TABLE {q(self.tmp)} AS SELECT * FROM {q(view)}")
                self.created = True
        finally:
            self.con.unregister(view)

    def write(self, rows: Iterable[tuple[Any, ...]], header_row: int, width: int) -> None:
        numbers: list[int] = []
        cols: list[list[str | None]] = [[] for _ in range(width)]
        for n, values in enumerate(rows, start=header_row + 1):
            texts = [_cell_text(v) for v in values[:width]]
            if all(t is None or not t.strip() for t in texts):
                continue
            texts += [None] * (width - len(texts))
            numbers.append(n)
            for k in range(width):
                cols[k].append(texts[k])
            if len(numbers) >= _XLSX_BATCH:
                self._flush(numbers, cols)
                numbers, cols = [], [[] for _ in range(width)]
        if numbers or not self.created:
            self._flush(numbers, cols)


# ----------------------------------------------------------------------------- SQL for values


def _npi_check_digit(s: str) -> str:
    """SQL: the NPI check digit of a 10-digit text ``s`` (Luhn over 80840 + first 9 digits).

    The prefix 80840 contributes a constant 24 to the Luhn sum (CMS, "Requirements for NPI
    check digit"); digits 1, 3, 5, 7, 9 of the NPI are doubled.
    """
    terms = []
    for i in range(1, 10):
        d = f"TRY_CAST(substr({s}, {i}, 1) AS INTEGER)"
        terms.append(f"({d} * 2 - CASE WHEN {d} >= 5 THEN 9 ELSE 0 END)" if i % 2 else d)
    return f"((10 - (24 + {' + '.join(terms)}) % 10) % 10)"


@dataclass(frozen=True)
class _Expr:
    """SQL for one column of ``input_<table>`` aliased ``i``: its text, typed value, exact value."""

    txt: str
    val: str
    exact: str | None = None


def _column_expr(col: Column, source_type: str | None) -> _Expr:
    if source_type is None:
        return _Expr("NULL::VARCHAR", f"NULL::{col.sql_type}")
    ref = f"i.{q(col.name)}"
    is_text = source_type == "VARCHAR"
    if is_text:
        txt = f"NULLIF(trim({ref}), '')"
    elif source_type.endswith("[]"):
        txt = f"NULLIF(trim(array_to_string({ref}, ' ')), '')"
    else:
        txt = f"NULLIF(trim(CAST({ref} AS VARCHAR)), '')"
    if col.type in ("npi", "text"):
        if col.normalise == "upper":
            return _Expr(txt, f"upper({txt})")
        if col.normalise == "lower":
            return _Expr(txt, f"lower({txt})")
        if col.normalise == "modifiers":
            split = f"string_split_regex(upper({txt}), {lit(MODIFIER_SEPARATORS)})"
            return _Expr(txt, f"list_filter({split}, lambda m: m <> '')")
        return _Expr(txt, txt)
    if col.type == "number":
        src = txt if is_text else ref
        exact_type = "DECIMAL(38,18)" if is_text else "DECIMAL(38,10)"
        return _Expr(txt, f"TRY_CAST({src} AS {NUMBER_SQL})", f"TRY_CAST({src} AS {exact_type})")
    if col.type == "integer":
        src = txt if is_text else ref
        d = f"TRY_CAST({src} AS DECIMAL(38,4))"
        return _Expr(txt, f"CASE WHEN {d} = trunc({d}) THEN TRY_CAST({d} AS BIGINT) END")
    if col.type == "date":
        if source_type == "DATE":
            return _Expr(txt, ref)
        if source_type.startswith("TIMESTAMP"):
            return _Expr(txt, f"CAST({ref} AS DATE)")
        return _Expr(
            txt,
            f"CASE WHEN regexp_full_match({txt}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
            f"THEN TRY_CAST({txt} AS DATE) END",
        )
    # bool
    if source_type == "BOOLEAN":
        return _Expr(txt, ref)
    return _Expr(
        txt,
        f"CASE WHEN lower({txt}) IN ('true', '1', 'yes') THEN true "
        f"WHEN lower({txt}) IN ('false', '0', 'no') THEN false END",
    )


def _sql_literal(value: str | Decimal | bool, sql_type: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"CAST({lit(str(value))} AS {sql_type})"
    return lit(value)


_PFS_MODIFIER = (
    "CASE "
    + " ".join(f"WHEN list_contains({{m}}, '{m}') THEN '{m}'" for m in PFS_ROW_MODIFIERS)
    + " ELSE '' END"
)

_TYPE_WORDS = {
    "number": "is not a number",
    "integer": "is not a whole number",
    "date": "is not a date (YYYY-MM-DD)",
    "bool": "is not true/false (use true, false, 1, 0, yes or no)",
}


@dataclass(frozen=True)
class _Check:
    column: str
    check: str
    condition: str
    message: str
    severity: Severity = "error"


@dataclass
class _Relation:
    """The relation the row checks run on.

    ``select`` reads ``input_<table>`` (aliased ``i``) and exposes each checked column as
    ``"<col>__txt"`` (trimmed text) and ``"<col>__val"`` (typed value); ``derived`` adds
    columns computed from those, ``joins`` joins on them (aliased ``c``) and ``extra`` adds
    columns over the joined relation, so each expression is written and computed once.
    """

    select: list[str]
    derived: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)


def _checks(ctx: _Context, state: _TableState) -> tuple[_Relation, list[_Check]]:
    """The checked relation of a table and every row check over it."""
    spec = state.spec
    rel = _Relation(select=["i._file AS _file", "i._row AS _row"])
    checks: list[_Check] = []
    present = {c.name for c in spec.columns if c.name in state.columns}

    def t(name: str) -> str:
        return q(f"{name}__txt")

    def v(name: str) -> str:
        return q(f"{name}__val")

    for col in spec.columns:
        if col.name not in present:
            continue
        e = _column_expr(col, state.columns[col.name])
        rel.select += [f"{e.txt} AS {t(col.name)}", f"{e.val} AS {v(col.name)}"]
        if e.exact is not None:
            rel.select.append(f"{e.exact} AS {q(col.name + '__exact')}")
        name = col.name
        if col.required:
            checks.append(
                _Check(
                    name,
                    f"{name}:missing",
                    f"{t(name)} IS NULL",
                    f"'missing value ({name} is required)'",
                )
            )
        if col.type in _TYPE_WORDS:
            checks.append(
                _Check(
                    name,
                    f"{name}:type",
                    f"{t(name)} IS NOT NULL AND {v(name)} IS NULL",
                    f"format('''{{}}'' {_TYPE_WORDS[col.type]}', left({t(name)}, 60))",
                )
            )
        if col.type == "number":
            checks.append(
                _Check(
                    name,
                    f"{name}:scale",
                    f"{q(name + '__exact')} <> {v(name)}",
                    f"format('''{{}}'' has more than {NUMBER_SCALE} decimal places', {t(name)})",
                )
            )
        if col.non_negative:
            checks.append(
                _Check(
                    name,
                    f"{name}:negative",
                    f"{v(name)} < 0",
                    f"format('{{}} is negative; {name} must be >= 0', {t(name)})",
                )
            )
        if col.minimum is not None or col.maximum is not None:
            conds = []
            if col.minimum is not None:
                conds.append(f"{v(name)} {'<=' if col.minimum_exclusive else '<'} {col.minimum}")
            if col.maximum is not None:
                conds.append(f"{v(name)} > {col.maximum}")
            checks.append(
                _Check(
                    name,
                    f"{name}:range",
                    " OR ".join(conds),
                    f"format('{{}} is out of range; {name} must be {col.range_text()}', {t(name)})",
                )
            )
        if col.allowed:
            allowed = ", ".join(lit(a) for a in col.allowed)
            checks.append(
                _Check(
                    name,
                    f"{name}:allowed",
                    f"{t(name)} IS NOT NULL AND lower({t(name)}) NOT IN ({allowed})",
                    f"format('''{{}}'' is not one of {', '.join(col.allowed)}', left({t(name)}, 60))",
                )
            )
        if col.type == "npi":
            checks += _npi_checks(ctx, spec, name, t(name), rel)

    if spec.unique_key and all(k in present for k in spec.unique_key):
        checks.append(_duplicate_check(spec, rel, t))
    for start, end in spec.date_ranges:
        if start in present and end in present:
            checks.append(
                _Check(
                    end,
                    f"{end}:before_start",
                    f"{v(end)} < {v(start)}",
                    f"format('{{}} is before {start} {{}}', {v(end)}, {v(start)})",
                )
            )
    if spec.name == "physicians":
        checks += _physician_checks(present, t, v)
    if spec.name == "attribution" and "month" in present:
        checks.append(
            _Check(
                "month",
                "month:not_first_day",
                f"{v('month')} <> date_trunc('month', {v('month')})",
                f"format('{{}} is not the first day of a month; counted in {{}}', {v('month')}, "
                f"strftime({v('month')}, '%Y-%m'))",
                severity="warning",
            )
        )
    if spec.name == "quality" and {"numerator", "denominator"} <= present:
        checks.append(
            _Check(
                "numerator",
                "numerator:above_denominator",
                f"{v('numerator')} > {v('denominator')}",
                f"format('numerator {{}} is more than denominator {{}}: a rate above 100% (right "
                f"for an observed-to-expected ratio, not for a share of patients)', "
                f"{t('numerator')}, {t('denominator')})",
                severity="warning",
            )
        )
    if spec.name == "encounters" and "hcpcs" in present:
        checks.append(_hcpcs_check(ctx, present, rel, t, v))
    if spec.name == "encounters" and ctx.employment and {"npi", "service_date"} <= present:
        checks.append(_employment_check(ctx, rel, t, v))
    return rel, checks


#: the check of a line dated outside its physician's employment (see :func:`_employment_check`)
OUTSIDE_EMPLOYMENT = "service_date:outside_employment"


def _employment_check(ctx: _Context, rel: _Relation, t: Any, v: Any) -> _Check:
    """A line of the period dated before its physician's ``start_date`` or after their
    ``end_date``: an error, not a line to credit.  Credited, it would be paid after the
    physician left, and in a tier-reset window with no day employed every wRVU of it would
    reach the top tier (the window's thresholds are prorated to zero days)."""
    rel.joins.append(f"LEFT JOIN _pc_employment emp ON emp._emp_npi = c.{t('npi')}")
    day = v("service_date")
    in_period = ""
    if ctx.buckets is not None:
        starts, end = ctx.buckets
        in_period = (
            f"{day} BETWEEN DATE '{starts[0].isoformat()}' AND DATE '{end.isoformat()}' AND "
        )
    advice = "lines are credited only while the physician is employed: correct the date"
    return _Check(
        "service_date",
        OUTSIDE_EMPLOYMENT,
        f"{in_period}({day} < _emp_start OR {day} > _emp_end)",
        f"CASE WHEN {day} < _emp_start "
        f"THEN format('{{}} is before the physician''s start_date {{}}; {advice} or the "
        f"start_date, or remove the line', {day}, _emp_start) "
        f"ELSE format('{{}} is after the physician''s end_date {{}}; {advice} or the "
        f"end_date, or remove the line', {day}, _emp_end) END",
    )


def _npi_checks(
    ctx: _Context, spec: TableSpec, name: str, txt: str, rel: _Relation
) -> list[_Check]:
    """NPI format, check digit and (outside ``physicians``) membership in ``physicians``."""
    checks: list[_Check] = []
    refers = spec.name != "physicians" or name == "supervising_npi"
    known = q(f"{name}__known")
    if refers and ctx.known_npis:
        rel.extra.append(f"({txt} IN (SELECT npi FROM _pc_known_npis)) AS {known}")
        unknown = f"{known} IS NOT TRUE AND {txt} IS NOT NULL"
    else:
        unknown = f"{txt} IS NOT NULL"
    well_formed = f"regexp_full_match({txt}, '[0-9]{{10}}')"
    digit = _npi_check_digit(txt)
    checks.append(
        _Check(
            name,
            f"{name}:npi_format",
            f"{unknown} AND NOT {well_formed}",
            f"format('''{{}}'' is not a 10-digit NPI', left({txt}, 60))",
        )
    )
    checks.append(
        _Check(
            name,
            f"{name}:npi_check_digit",
            f"{unknown} AND {well_formed} AND {digit} <> TRY_CAST(substr({txt}, 10, 1) AS INTEGER)",
            f"format('{{}} is not a valid NPI (its check digit should be {{}})', {txt}, {digit})",
        )
    )
    if refers and ctx.known_npis:
        checks.append(
            _Check(
                name,
                f"{name}:unknown_npi",
                f"{unknown} AND {well_formed} "
                f"AND {digit} = TRY_CAST(substr({txt}, 10, 1) AS INTEGER)",
                f"format('{{}} is not in the physicians table', {txt})",
            )
        )
    return checks


def _duplicate_check(spec: TableSpec, rel: _Relation, t: Any) -> _Check:
    key = spec.unique_key
    part = ", ".join(t(k) for k in key)
    rel.extra.append(f"list({{'f': c._file, 'r': c._row}}) OVER (PARTITION BY {part}) AS _dup_rows")
    others = (
        "array_to_string(list_transform(list_filter(_dup_rows, "
        "lambda x: NOT (x.f = _file AND x.r = _row)), "
        "lambda x: CASE WHEN x.f = _file THEN 'row ' || x.r ELSE x.f || ':' || x.r END), ', ')"
    )
    label = "NPI" if key == ("npi",) else "/".join(key)
    shown = " || '/' || ".join(t(k) for k in key)
    not_null = " AND ".join(f"{t(k)} IS NOT NULL" for k in key)
    return _Check(
        key[0],
        f"{key[0]}:duplicate",
        f"{not_null} AND len(_dup_rows) > 1",
        f"format('duplicate {label} {{}} (also on {{}})', {shown}, {others})",
    )


def _physician_checks(present: set[str], t: Any, v: Any) -> list[_Check]:
    checks: list[_Check] = []
    if {"clinical_fte", "fte"} <= present:
        checks.append(
            _Check(
                "clinical_fte",
                "clinical_fte:above_fte",
                f"{v('clinical_fte')} > {v('fte')}",
                f"format('clinical_fte {{}} is more than fte {{}}', {t('clinical_fte')}, {t('fte')})",
            )
        )
    if {"supervising_npi", "npi"} <= present:
        checks.append(
            _Check(
                "supervising_npi",
                "supervising_npi:self",
                f"{t('supervising_npi')} = {t('npi')}",
                "'supervising_npi is the row''s own NPI'",
            )
        )
        provider = (
            f"coalesce({v('provider_type')}, 'physician')"
            if "provider_type" in present
            else "'physician'"
        )
        checks.append(
            _Check(
                "supervising_npi",
                "supervising_npi:not_app",
                f"{t('supervising_npi')} IS NOT NULL AND {provider} <> 'app'",
                "'supervising_npi is used only for an APP (provider_type app); ignored here'",
                severity="warning",
            )
        )
    return checks


def _hcpcs_check(
    ctx: _Context,
    present: set[str],
    rel: _Relation,
    t: Any,
    v: Any,
) -> _Check:
    mods = v("modifiers") if "modifiers" in present else "[]::VARCHAR[]"
    pfs_mod = _PFS_MODIFIER.format(m=f"coalesce({mods}, []::VARCHAR[])")
    rel.derived.append(f"{pfs_mod} AS _pfs_modifier")
    rel.joins.append(
        "LEFT JOIN (SELECT hcpcs AS _k1_hcpcs, modifier AS _k1_mod FROM ref_pfs) k1 "
        'ON k1._k1_hcpcs = c."hcpcs__val" AND k1._k1_mod = c._pfs_modifier'
    )
    rel.joins.append(
        "LEFT JOIN (SELECT hcpcs AS _k2_hcpcs FROM ref_pfs WHERE modifier = '') k2 "
        'ON k2._k2_hcpcs = c."hcpcs__val"'
    )
    own = f"{v('wrvu')} IS NULL AND {t('wrvu')} IS NULL" if "wrvu" in present else "true"
    if ctx.pfs_configured:
        message = (
            f"format('''{{}}'' is not in the PFS file and the line has no wrvu', {v('hcpcs')})"
        )
    else:
        message = (
            f"format('''{{}}'': no PFS file is configured ([reference] pfs in paycascade.toml) "
            f"and the line has no wrvu', {v('hcpcs')})"
        )
    return _Check(
        "hcpcs",
        "hcpcs:unknown_hcpcs",
        f"{v('hcpcs')} IS NOT NULL AND {own} AND _k1_hcpcs IS NULL AND _k2_hcpcs IS NULL",
        message,
    )


# ----------------------------------------------------------------------------- checks and staging


def _input_where(state: _TableState) -> str:
    excluded = ", ".join(lit(f) for f in sorted(state.excluded))
    return f"WHERE i._file NOT IN ({excluded})" if excluded else ""


def _checked_relation(state: _TableState, rel: _Relation, source: str | None = None) -> str:
    """The relation the checks run on, over ``input_<table>`` or ``source`` (aliased ``i``)."""
    if source is None:
        source = f"{q('input_' + state.spec.name)} i {_input_where(state)}"
    inner = f"SELECT {', '.join(rel.select)} FROM {source}"
    if rel.derived:
        inner = f"SELECT *, {', '.join(rel.derived)} FROM ({inner})"
    extra = "".join(f", {x}" for x in rel.extra)
    return f"(SELECT *{extra} FROM ({inner}) c {' '.join(rel.joins)})"


def _check_rows(ctx: _Context, state: _TableState) -> None:
    con, spec = ctx.con, state.spec
    rejects = q(f"rejects_{spec.name}")
    run(
        con,
        f'CREATE TABLE {rejects} (file VARCHAR, "row" BIGINT, "column" VARCHAR, '
        '"check" VARCHAR, message VARCHAR)',
    )
    if not state.file_columns or set(state.file_columns) <= state.excluded:
        return
    rel, checks = _checks(ctx, state)
    if not checks:
        return
    if _passes_by_values(ctx, state, rel, checks):
        return
    state.row_by_row = True
    relation = _checked_relation(state, rel)
    bad = f"_pc_bad_{spec.name}"
    # no coalesce(): a NULL condition does not select the row, and a bare OR/AND lets DuckDB
    # skip the costly terms (NPI check digit) on rows an earlier term already decided
    any_problem = " OR ".join(f"({c.condition})" for c in checks)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {q(bad)} AS SELECT * FROM {relation} c WHERE {any_problem}",
    )
    problems = " UNION ALL ".join(
        f"""SELECT _file AS file, _row AS "row", {lit(c.column)} AS "column",
            {lit(c.check)} AS "check", {lit(c.severity)} AS severity, {c.message} AS message
        FROM {q(bad)} WHERE ({c.condition})"""
        for c in checks
    )
    table = f"_pc_problems_{spec.name}"
    run(con, f"CREATE OR REPLACE TEMP TABLE {q(table)} AS {problems}")
    run(con, f"DROP TABLE {q(bad)}")
    run(
        con,
        f"""INSERT INTO {rejects} SELECT file, "row", "column", "check", message
        FROM {q(table)} WHERE severity = 'error' ORDER BY file, "row", "column\"""",
    )
    emit_problems(con, ctx.diags, f"SELECT * FROM {q(table)}")
    run(con, f"DROP TABLE {q(table)}")


_REFERENCE = re.compile(r'"([a-z0-9_]+)__(?:txt|val|exact|known)"')


def _columns_of_check(check: _Check) -> frozenset[str] | None:
    """The input columns a check reads, or None when it compares rows with each other."""
    sql = f"{check.condition} {check.message}"
    if "_dup_rows" in sql or "_file" in sql or "_row" in sql.replace("_rows", ""):
        return None
    cols = set(_REFERENCE.findall(sql))
    if "_k1_" in sql or "_k2_" in sql or "_pfs_modifier" in sql:
        cols |= {"hcpcs", "modifiers"}  # the PFS look-up: code and pricing modifier
    if "_emp_" in sql:
        cols |= {"npi"}  # the physician's employment dates
    return frozenset(cols)


def _passes_by_values(
    ctx: _Context, state: _TableState, rel: _Relation, checks: list[_Check]
) -> bool:
    """True when no row of the table can fail any check: the fast path of the row checks.

    A check that reads only its row's values fails on a row exactly when it fails on that
    row's values, so it is run on the distinct combinations of the columns it reads (a few
    thousand NPIs, codes or dates) rather than on every line.  Only when some combination
    fails do the row checks run on every row, to name each file and row.  Checks that compare
    rows with each other (duplicates) always run on every row.

    All the combinations come from one scan (``GROUPING SETS``).  For a table with a
    ``grouping`` and run buckets (encounter lines), that scan also sums the rows by their key
    columns as written and the bucket of their date, the checks on key columns run on those
    sums, and when every row passes the sums are kept as ``_pc_groups_<table>`` for the
    pipeline (:func:`line_groups`): the lines are read once for checking and summing.
    """
    grouping, buckets = state.spec.grouping, ctx.buckets
    if grouping is None or buckets is None or grouping.date not in state.columns:
        grouping = buckets = None
    # with the line sums, a line outside its physician's employment shows in the first and last
    # date of the physician's sums: no set of (NPI, date) pairs is kept for it
    dated = [c for c in checks if c.check == OUTSIDE_EMPLOYMENT] if grouping else []
    sets: dict[frozenset[str], list[_Check]] = {}
    for check in checks:
        if check in dated:
            continue
        cols = _columns_of_check(check)
        if cols is None or not cols <= set(state.columns):
            return False
        sets.setdefault(cols, []).append(check)
    main: frozenset[str] = frozenset()
    merged: dict[frozenset[str], list[_Check]] = {}
    if grouping is not None:
        main = frozenset(k for k in grouping.keys if k in state.columns) | {_BUCKET}
        merged[main] = []
    # a check whose columns are a subset of another's runs on that one's combinations
    for cols, group in sorted(sets.items(), key=lambda g: (-len(g[0]), sorted(g[0]))):
        home = next((k for k in merged if cols <= k), cols)
        merged.setdefault(home, []).extend(group)
    names = sorted(set().union(*merged))
    source = f"(SELECT i.* FROM {q('input_' + state.spec.name)} i {_input_where(state)}) i"
    measures: list[str] = []
    if grouping is not None and buckets is not None:
        source = _bucketed_lines(
            state.spec.name,
            _staged_sql(state),
            _input_where(state),
            grouping,
            buckets,
            with_date=bool(dated),
        )
        measures = ["count(*) AS _pc_lines"]
        measures += [f"sum(i.{q('_sum_' + m)}) AS {q('_sum_' + m)}" for m in grouping.sums]
        if dated:
            measures += ["min(i._pc_date) AS _pc_first", "max(i._pc_date) AS _pc_last"]
    grouped = ", ".join(f"i.{q(n)}" for n in names)
    select = ["NULL::VARCHAR AS _file", "NULL::BIGINT AS _row"]
    select += [
        (f"i.{q(n)}" if n in names else f"CAST(NULL AS {source_type})") + f" AS {q(n)}"
        for n, source_type in state.columns.items()
    ]
    if grouping is not None:
        select.append(f"i.{_BUCKET} AS {_BUCKET}")
    select += [f"{'GROUPING(' + grouped + ')' if names else '0'} AS _pc_set", *measures]
    by = ", ".join("(" + ", ".join(f"i.{q(n)}" for n in sorted(c)) + ")" for c in merged)
    values = f"_pc_values_{state.spec.name}"
    run(
        ctx.con,
        f"CREATE OR REPLACE TEMP TABLE {q(values)} AS SELECT {', '.join(select)} "
        f"FROM {source} GROUP BY GROUPING SETS ({by})",
    )

    def set_id(cols: frozenset[str]) -> int:
        # GROUPING() has bit (n-1-k) set when column k is not grouped
        return sum(1 << (len(names) - 1 - k) for k, n in enumerate(names) if n not in cols)

    # the checks that rode on the line sums run on the distinct values of the columns each
    # reads (ten thousand NPIs rather than a million sums); the sums themselves are not checked
    on_lines = merged.pop(main, []) if grouping is not None else []
    by_cols: dict[frozenset[str], list[_Check]] = {}
    for check in on_lines:
        by_cols.setdefault(_columns_of_check(check) or frozenset(), []).append(check)
    exclude = f" WHERE _pc_set <> {set_id(main)}" if grouping is not None else ""
    parts = [f"SELECT * FROM {q(values)}{exclude}"]
    for cols, group in sorted(by_cols.items(), key=lambda g: sorted(g[0])):
        keep = "".join(f"{q(n)}, " for n in sorted(cols))
        parts.append(
            f"SELECT DISTINCT {keep}{set_id(cols)} AS _pc_set FROM {q(values)} "
            f"WHERE _pc_set = {set_id(main)}"
        )
        merged[cols] = group
    failing = [
        f"(_pc_set = {set_id(cols)} AND ({' OR '.join(f'({c.condition})' for c in group)}))"
        for cols, group in merged.items()
        if group
    ]
    checked = _Relation([*rel.select, "i._pc_set AS _pc_set"], rel.derived, rel.extra, rel.joins)
    relation = _checked_relation(state, checked, f"({' UNION ALL BY NAME '.join(parts)}) i")
    found = (
        run(ctx.con, f"SELECT EXISTS (SELECT 1 FROM {relation} c WHERE {' OR '.join(failing)})")
        if failing
        else [(False,)]
    )
    passes = not found[0][0]
    if passes and dated:
        passes = not _outside_employment(ctx, state, values, set_id(main))
    if passes and grouping is not None and buckets is not None:
        _keep_line_groups(ctx, state, grouping, main, values, set_id(main), buckets)
    run(ctx.con, f"DROP TABLE IF EXISTS {q(values)}")
    return passes


_BUCKET = "_pc_bucket"


def _outside_employment(ctx: _Context, state: _TableState, values: str, main_id: int) -> bool:
    """Whether some physician's line sums of the period (``values``, set ``main_id``) hold a
    line dated before their start_date or after their end_date: then the row checks name it."""
    npi = _column_expr(state.spec.column("npi"), state.columns["npi"]).txt
    found = run(
        ctx.con,
        f"""SELECT EXISTS (SELECT 1 FROM (
                SELECT {npi} AS npi, min(_pc_first) AS first, max(_pc_last) AS last
                FROM {q(values)} i
                WHERE _pc_set = {main_id} AND {_BUCKET} NOT IN ({BEFORE_PERIOD}, {AFTER_PERIOD})
                GROUP BY 1) d
            JOIN _pc_employment emp ON emp._emp_npi = d.npi
            WHERE d.first < emp._emp_start OR d.last > emp._emp_end)""",
    )
    return bool(found[0][0])


def _bucketed_lines(
    table: str,
    staged: Mapping[str, str],
    where: str,
    grouping: LineGrouping,
    buckets: tuple[Sequence[date], date],
    with_date: bool = False,
) -> str:
    """The rows of ``input_<table>`` (aliased ``i``) with the bucket of their staged date
    (``_pc_bucket``) and their staged measures (``_sum_<column>``), to be summed; with
    ``with_date``, the staged date too (``_pc_date``)."""
    starts, end = buckets
    day = staged[grouping.date]
    sums = "".join(f", {staged[m]} AS {q('_sum_' + m)}" for m in grouping.sums)
    if with_date:
        sums += f", {day} AS _pc_date"
    return (
        f"(SELECT i.*, {bucket_sql(day, starts, end)} AS {_BUCKET}{sums} "
        f"FROM {q('input_' + table)} i {where}) i"
    )


def _summed_columns(keys: Sequence[str], grouping: LineGrouping, lines: str) -> list[str]:
    """The columns of summed lines: the keys as written, ``bucket``, ``lines``, the sums."""
    cols = [*(q(k) for k in keys), f"{_BUCKET} AS bucket", f"{lines} AS lines"]
    return cols + [f"{q('_sum_' + m)} AS {q(m)}" for m in grouping.sums]


def regrouped_lines(
    con: duckdb.DuckDBPyConnection, table: str, buckets: tuple[Sequence[date], date]
) -> str | None:
    """SQL summing the staged rows of ``table`` (raw key cells, ``bucket`` by ``buckets``,
    ``lines``, the sums) like the sums ingest keeps, for other buckets than those; None when
    the table has no grouping or was not staged from input."""
    grouping, staged = TABLES_BY_NAME[table].grouping, staged_expressions(con, table)
    if grouping is None or staged is None:
        return None
    exprs, where = staged
    present = {name for name, _ in columns_of(con, q(f"input_{table}"))}
    keys = [k for k in grouping.keys if k in present]
    source = _bucketed_lines(table, exprs, f"WHERE {where}", grouping, buckets)
    sums = [f"sum(i.{q('_sum_' + m)}) AS {q('_sum_' + m)}" for m in grouping.sums]
    by = ", ".join([*(f"i.{q(k)}" for k in keys), f"i.{_BUCKET}"])
    inner = f"SELECT {by}, count(*) AS _pc_lines, {', '.join(sums)} FROM {source} GROUP BY {by}"
    return f"(SELECT {', '.join(_summed_columns(keys, grouping, '_pc_lines'))} FROM ({inner}))"


def _keep_line_groups(
    ctx: _Context,
    state: _TableState,
    grouping: LineGrouping,
    main: frozenset[str],
    values: str,
    main_id: int,
    buckets: tuple[Sequence[date], date],
) -> None:
    """``_pc_groups_<table>``: the rows of the key set of ``values``, and the buckets used."""
    cols = _summed_columns([k for k in grouping.keys if k in main], grouping, "_pc_lines")
    table = f"_pc_groups_{state.spec.name}"
    run(
        ctx.con,
        f"CREATE OR REPLACE TEMP TABLE {q(table)} AS SELECT {', '.join(cols)} "
        f"FROM {q(values)} WHERE _pc_set = {main_id}",
    )
    starts, end = buckets
    run(
        ctx.con,
        f"INSERT INTO {GROUPS_TABLE} VALUES (?, ?, ?)",
        [state.spec.name, list(starts), end],
    )


def _staged_sql(state: _TableState) -> dict[str, str]:
    """The SQL of each staged column over ``input_<table> i``: typed, normalised, defaulted."""
    spec = state.spec
    exprs: dict[str, str] = {}
    for col in spec.columns:
        e = _column_expr(col, state.columns.get(col.name))
        value = e.val
        if col.normalise == "modifiers":
            value = f"coalesce({value}, []::VARCHAR[])"
        elif col.default is not None:
            value = f"coalesce({value}, {_sql_literal(col.default, col.sql_type)})"
        exprs[col.name] = value
    for col in spec.columns:
        if col.default_from is not None:
            exprs[col.name] = f"coalesce({exprs[col.name]}, {exprs[col.default_from]})"
    if spec.name == "attribution":
        exprs["month"] = f"CAST(date_trunc('month', {exprs['month']}) AS DATE)"
    columns = {c.name: f"CAST({exprs[c.name]} AS {c.sql_type})" for c in spec.columns}
    if any(n == "modifier_text" for n, _ in spec.derived):
        e = _column_expr(spec.column("modifiers"), state.columns.get("modifiers"))
        columns["modifier_text"] = f"coalesce(upper({e.txt}), '')"
    return columns


#: per grouped table: the buckets its ``_pc_groups_<table>`` was summed by
GROUPS_TABLE = "_pc_line_groups"


def line_groups(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, list[date], date] | None:
    """``(relation, bucket starts, period end)`` of the lines of ``table`` summed while they
    were checked (see :func:`_passes_by_values`), or None when they were not."""
    if not table_exists(con, GROUPS_TABLE):
        return None
    row = con.execute(
        f'SELECT starts, "end" FROM {GROUPS_TABLE} WHERE "table" = ?', [table]
    ).fetchone()
    if row is None:
        return None
    return f"_pc_groups_{table}", list(row[0]), row[1]


def _stage(ctx: _Context, state: _TableState) -> None:
    """``stg_<table>``: a view of the rows that passed, typed, normalised, defaults filled.

    A view rather than a copy: a run reads each staged table once (the pipeline aggregates
    the lines in one pass), so copying ten million lines would only cost time and disk.
    """
    con, spec = ctx.con, state.spec
    target = q(f"stg_{spec.name}")
    staged = spec.staged_columns()
    required_missing = [c for c in spec.required_columns if c not in state.columns]
    if not state.file_columns or required_missing or set(state.file_columns) <= state.excluded:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {q(n)}" for n, t in staged)
        run(con, f"CREATE VIEW {target} AS SELECT {cols} WHERE false")
        return
    columns = _staged_sql(state)
    excluded = ", ".join(lit(f) for f in sorted(state.excluded))
    where = [
        f"NOT EXISTS (SELECT 1 FROM {q('rejects_' + spec.name)} r "
        'WHERE r.file = i._file AND r."row" = i._row)'
    ]
    if excluded:
        where.append(f"i._file NOT IN ({excluded})")
    _record_staging(con, spec.name, columns, " AND ".join(where))
    select = ["i._file AS source_file", "i._row AS source_row"]
    select += [f"{sql} AS {q(name)}" for name, sql in columns.items()]
    body = (
        f"SELECT {', '.join(select)} FROM {q('input_' + spec.name)} i WHERE {' AND '.join(where)}"
    )
    if spec.derived:
        derived = {"pfs_modifier": _PFS_MODIFIER.format(m="modifiers")}
        outer = [f"{derived[n]} AS {q(n)}" if n in derived else q(n) for n, _ in staged]
        body = f"SELECT {', '.join(outer)} FROM ({body})"
    run(con, f"CREATE VIEW {target} AS {body}")


ROWS_TABLE = "_pc_rows_read"


def _count_rows(ctx: _Context, state: _TableState) -> None:
    """The rows ``stg_<table>`` holds, for :func:`rows_read`, without reading the lines again:
    the rows of the files staged (Parquet footers, or the count of the text table); counted
    through the view when the rows were checked one by one (some may have been rejected)."""
    name, rows = state.spec.name, 0
    required = all(c in state.columns for c in state.spec.required_columns)
    if state.row_by_row:
        rows = int(run(ctx.con, f"SELECT count(*) FROM {q('stg_' + name)}")[0][0])
    elif state.file_columns and required:
        rows = sum(n for f, n in state.file_rows.items() if f not in state.excluded)
    ctx.rows[name] = rows


def rows_read(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Table name → rows staged (``stg_<table>``) by the last :func:`load_inputs`."""
    if not table_exists(con, ROWS_TABLE):
        return {}
    return {str(t): int(n) for t, n in run(con, f'SELECT "table", "rows" FROM {ROWS_TABLE}')}


STAGING_TABLE = "_pc_staging"


def _record_staging(
    con: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, str], where: str
) -> None:
    """How each staged column is computed from ``input_<table>`` (aliased ``i``).

    Read by :func:`staged_expressions`, so that a query may group the raw input first and
    stage each group once (the same expressions, so the same values)."""
    run(
        con,
        f"CREATE TABLE IF NOT EXISTS {STAGING_TABLE} "
        '("table" VARCHAR, "column" VARCHAR, expression VARCHAR)',
    )
    run(con, f'DELETE FROM {STAGING_TABLE} WHERE "table" = ?', [table])
    rows = [(table, "", where), *((table, name, sql) for name, sql in columns.items())]
    con.executemany(f"INSERT INTO {STAGING_TABLE} VALUES (?, ?, ?)", rows)


def staged_expressions(
    con: duckdb.DuckDBPyConnection, table: str
) -> tuple[dict[str, str], str] | None:
    """The SQL of each staged column of ``table`` over ``input_<table> i`` and the rows' filter.

    None when the table was not staged from input (absent, or every file excluded)."""
    if not table_exists(con, STAGING_TABLE):
        return None
    rows = con.execute(
        f'SELECT "column", expression FROM {STAGING_TABLE} WHERE "table" = ?', [table]
    ).fetchall()
    exprs = {str(c): str(e) for c, e in rows}
    if "" not in exprs:
        return None
    where = exprs.pop("")
    return exprs, where


def _collect_known_npis(ctx: _Context, state: _TableState) -> None:
    """The NPIs other tables may refer to: every well-formed NPI of ``input_physicians``.

    Rows rejected for another reason still count, so one bad cell in ``physicians`` does not
    make every line of that physician "not in physicians" too.
    """
    con = ctx.con
    ctx.known_npis = bool(state.file_columns) and "npi" in state.columns
    if not ctx.known_npis:
        return
    e = _column_expr(state.spec.column("npi"), state.columns["npi"])
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _pc_known_npis AS
        SELECT DISTINCT npi FROM (SELECT {e.txt} AS npi FROM input_physicians i)
        WHERE regexp_full_match(npi, '[0-9]{{10}}')
            AND {_npi_check_digit("npi")} = TRY_CAST(substr(npi, 10, 1) AS INTEGER)""",
    )
    # with no physician to refer to, "not in physicians" on every row would only be noise
    ctx.known_npis = bool(run(con, "SELECT count(*) FROM _pc_known_npis")[0][0])


def _collect_employment(ctx: _Context, state: _TableState) -> None:
    """``_pc_employment``: each known physician's employment dates, for the check of the
    encounter lines (:func:`_employment_check`); ``ctx.employment`` says whether any are set."""
    con = ctx.con
    dates = [c for c in ("start_date", "end_date") if c in state.columns]
    ctx.employment = False
    if not ctx.known_npis or not dates:
        return
    e = _column_expr(state.spec.column("npi"), state.columns["npi"])
    typed = {
        c: _column_expr(state.spec.column(c), state.columns[c]).val if c in dates else "NULL"
        for c in ("start_date", "end_date")
    }
    # one row per NPI (a duplicated NPI is its own problem): the earliest start, the latest end
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _pc_employment AS
        SELECT npi AS _emp_npi, min(s) AS _emp_start, max(e) AS _emp_end
        FROM (SELECT {e.txt} AS npi, CAST({typed["start_date"]} AS DATE) AS s,
                     CAST({typed["end_date"]} AS DATE) AS e FROM input_physicians i)
        WHERE npi IN (SELECT npi FROM _pc_known_npis) AND (s IS NOT NULL OR e IS NOT NULL)
        GROUP BY npi""",
    )
    ctx.employment = bool(run(con, "SELECT count(*) FROM _pc_employment")[0][0])


def _first_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0].strip() if lines else type(exc).__name__


def _duck_reason(exc: BaseException, sf: SourceFile) -> str:
    """A DuckDB error in the user's terms: no error class, the file as diagnostics name it."""
    text = _first_line(exc)
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Conversion Error: "):
        text = text.removeprefix(prefix)
    for shown in (str(sf.path), file_path(sf.path)):  # as given to DuckDB, escaped or not
        text = text.replace(f"'{shown}'", sf.display).replace(shown, sf.display)
    return text
