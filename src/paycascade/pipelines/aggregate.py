"""Staging → core → marts: per-physician aggregates for a run, written once as Ibis expressions.

Layers (each table stamped with ``run_id``):

``core_encounter_groups`` (npi, bucket, hcpcs, modifier_text, status, wrvu)
    the one pass over the lines: lines and units summed by everything pricing and crediting
    read (a line's wRVU is its work RVU × its units, so pricing each group once is exact);
    ``bucket`` is ``BEFORE_PERIOD`` / ``AFTER_PERIOD`` for lines dated outside the period.
    A hundred million lines become a few hundred thousand groups.  On DuckDB the groups are
    made from the sums ingest kept while checking the lines, when they were summed by the
    same buckets (``_duckdb_encounter_groups``).
``core_encounter_wrvu`` (a view over the groups of the period)
    the work RVU each group is priced by (the PFS row of its 26/TC/53 modifier or the global
    row, or the lines' own ``wrvu``), the unadjusted wRVU (work RVU × units), which crediting
    adjustments apply under its physician's plan (``adjustment_mask``, bit k =
    ``ADJUSTMENTS[k]``), the combined ``factor``, the credited ``wrvu`` and whether the lines
    are credited at all (``credit_on``).
``core_wrvu_summary`` (npi, bucket, hcpcs, adjustment_mask, credited, …)
    the lines summed in one pass; every wRVU mart is computed from it.
``mart_wrvu`` (npi, bucket, source)
    lines, units and wRVU credited; ``source`` is ``own`` or ``app_supervision`` (the share of
    an APP's wRVU credited to the supervising physician).
``mart_wrvu_adjustments`` (npi, adjustment)
    lines affected and the wRVU effect of each adjustment (and of lines not credited), so a
    statement can say "12 lines with modifier 51 credited at 50% (−18.40 wRVU)".
``mart_wrvu_codes`` (npi, hcpcs), ``mart_code_lines`` (npi, hcpcs, when: lines of the codes the
guardrails count, in and before the period), ``mart_panel`` (npi, bucket), ``mart_shifts`` (npi, bucket,
shift_type), ``mart_hours`` (npi, bucket, kind), ``mart_activities`` (npi, bucket, activity),
``mart_quality`` (npi, measure; rows without ``stratum`` only), ``mart_quality_strata`` (npi,
measure, stratum: the social-risk breakdowns, for equity review, never scored),
``mart_stipends`` (the staged rows).

Buckets split the period where a plan changes: the sorted unique breakpoints strictly after
``period_start`` and up to ``period_end``, with ``period_start``, start half-open intervals
``[b_i, b_{i+1})``; the last ends on ``period_end`` inclusive.  Rows dated outside the period
are ignored.

The module only builds Ibis expressions, so the same code runs on any Ibis backend (DuckDB
embedded by default, Spark for large installations); writing a table goes through
:func:`paycascade.pipelines.duck.materialize`.  Only per-physician aggregates come back to
Python, as Arrow tables with exact ``decimal128`` columns.

Exact arithmetic, fast: a product is never rounded per line (on DuckDB, narrowing a 38-digit
decimal divides a 128-bit integer, which costs more than the rest of the line).  Per group,
``wrvu_unadjusted`` = work RVU × units is exact at 8 places and ``wrvu`` = that × the combined
factor is exact at 24 places; the factors of each plan and combination of adjustments are
computed once in Python (:meth:`CreditingPolicy.combined`), and wRVU effects and supervision
credit are computed on per-physician sums.  Marts carry wRVUs at 12 places
(``DECIMAL(38,12)``), which rounds nothing unless a line's wRVU has more than 12 decimal places
(a PFS work RVU has 2, units 4, a factor such as 0.625 × 0.5 three).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from paycascade.pipelines.crediting import ADJUSTMENTS, CreditingPolicy
from paycascade.pipelines.duck import (
    AFTER_PERIOD,
    BEFORE_PERIOD,
    fetch,
    materialize,
    materialize_sql,
    materialize_view,
    q,
)
from paycascade.refdata.pfs import REF_PFS_COLUMNS
from paycascade.tables import (
    MODIFIER_SEPARATORS,
    PFS_ROW_MODIFIERS,
    TABLES_BY_NAME,
    TableSpec,
)

#: wRVUs in marts, combined factors, shares
WRVU = dt.Decimal(38, 12)
#: a line's credited wRVU: exact product of the unadjusted wRVU (8 places) and a factor (12)
LINE_WRVU = dt.Decimal(38, 24)
#: summed quantities (units, hours, member months)
QTY = dt.Decimal(38, 4)
#: products of two quantities (unadjusted wRVU, risk-adjusted member months)
QTY2 = dt.Decimal(38, 8)
# Ibis types a product of two equal decimals as that decimal; the cast to the exact type DuckDB
# computes (scales add) is free there.  A cast to a type Ibis sees as different makes DuckDB
# round a (small, aggregated) product back to the scale.
_WRVU_ROUND = dt.Decimal(37, 12)

_DUCK_TO_IBIS = {
    "VARCHAR": dt.string,
    "BIGINT": dt.int64,
    "DATE": dt.date,
    "BOOLEAN": dt.boolean,
    "VARCHAR[]": dt.Array(dt.string),
}


@dataclass(frozen=True)
class Bucket:
    """A part of the period with one set of plan terms: ``start`` to ``end``, both inclusive."""

    index: int
    start: date
    end: date


@dataclass(frozen=True)
class Aggregates:
    """What a run needs from the data, per physician: small Arrow tables, exact decimals."""

    run_id: str
    period_start: date
    period_end: date
    period_label: str
    buckets: tuple[Bucket, ...]
    physicians: pa.Table
    code_lines: pa.Table
    wrvu: pa.Table
    wrvu_adjustments: pa.Table
    wrvu_codes: pa.Table
    panel: pa.Table
    shifts: pa.Table
    hours: pa.Table
    activities: pa.Table
    quality: pa.Table
    quality_strata: pa.Table
    stipends: pa.Table
    ownership: pa.Table
    effort: pa.Table
    contract_performance: pa.Table
    episodes: pa.Table


def make_buckets(
    period_start: date, period_end: date, breakpoints: Sequence[date]
) -> tuple[Bucket, ...]:
    """The buckets of a period: see the module docstring."""
    if period_end < period_start:
        raise ValueError(f"period ends {period_end} before it starts {period_start}")
    starts = [period_start, *sorted({b for b in breakpoints if period_start < b <= period_end})]
    ends = [*(s - timedelta(days=1) for s in starts[1:]), period_end]
    return tuple(Bucket(i, s, e) for i, (s, e) in enumerate(zip(starts, ends, strict=True)))


def aggregate(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    period_start: date,
    period_end: date,
    period_label: str,
    breakpoints: Sequence[date] = (),
    policies: Mapping[str, CreditingPolicy] | None = None,
    default_policy: CreditingPolicy | None = None,
    counted_codes: Sequence[str] = (),
    pushdown: bool = True,
) -> Aggregates:
    """Run the pipeline on the staged tables of a DuckDB connection (see :func:`aggregate_on`)."""
    return aggregate_on(
        ibis.duckdb.from_connection(con),
        run_id=run_id,
        period_start=period_start,
        period_end=period_end,
        period_label=period_label,
        breakpoints=breakpoints,
        policies=policies,
        default_policy=default_policy,
        counted_codes=counted_codes,
        pushdown=pushdown,
    )


def aggregate_on(
    backend: Any,
    *,
    run_id: str,
    period_start: date,
    period_end: date,
    period_label: str,
    breakpoints: Sequence[date] = (),
    policies: Mapping[str, CreditingPolicy] | None = None,
    default_policy: CreditingPolicy | None = None,
    counted_codes: Sequence[str] = (),
    pushdown: bool = True,
) -> Aggregates:
    """Build the core layer and the marts on an Ibis backend and return the marts.

    ``policies`` maps a plan id to its crediting policy; a line is credited by the policy of
    its physician's plan (``physicians.plan``), else ``default_policy`` (the defaults of
    :class:`CreditingPolicy` when ``None``).  ``mart_code_lines`` counts the lines of
    ``counted_codes`` per physician, in the period and before it.  Quality rows whose ``period`` is set and is not
    ``period_label`` are skipped.  Tables absent from the workspace give empty marts.
    """
    buckets = make_buckets(period_start, period_end, breakpoints)
    pipe = _Pipeline(
        backend,
        run_id=run_id,
        period_start=period_start,
        period_end=period_end,
        buckets=buckets,
        policies=dict(policies or {}),
        default_policy=default_policy or CreditingPolicy(),
    )
    # the marts that do not read the lines are built first and computed on a second connection
    # while this one sums the lines: DuckDB runs both queries at once, and Python compiles one
    # while the other runs
    others = {
        "panel": pipe.panel(),
        "shifts": pipe.shifts(),
        "hours": pipe.hours(),
        "activities": pipe.activities(),
        "quality": pipe.quality(period_label),
        "quality_strata": pipe.quality_strata(period_label),
        "stipends": pipe.stipends(),
        "ownership": pipe.rows_of("ownership", ["npi", "venture"]),
        "effort": pipe.rows_of("effort", ["npi"]),
        "contract_performance": pipe.contract_performance(period_label),
        "episodes": pipe.episodes(),
    }
    physicians = pipe.staged("physicians")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="paycascade-marts") as pool:
        second = _second_connection(backend)
        beside = pool.submit(_fetch_all, second, others) if second is not None else None
        groups_expr = pipe.encounter_groups()
        pushed = _duckdb_encounter_groups(backend, pipe) if pushdown else None
        if pushed is None:
            groups = materialize(backend, "core_encounter_groups", groups_expr)
        else:
            groups = materialize_sql(backend, "core_encounter_groups", groups_expr.schema(), pushed)
        lines = materialize_view(backend, "core_encounter_wrvu", pipe.encounter_lines(groups))
        summary = materialize(backend, "core_wrvu_summary", pipe.summary(lines))
        results = _fetch_all(
            backend,
            {
                "code_lines": pipe.code_lines(groups, counted_codes),
                "wrvu": pipe.wrvu(summary),
                "wrvu_adjustments": pipe.wrvu_adjustments(summary),
                "wrvu_codes": pipe.wrvu_codes(summary),
            },
        )
        results.update(beside.result() if beside is not None else _fetch_all(backend, others))
    return Aggregates(
        run_id=run_id,
        period_start=period_start,
        period_end=period_end,
        period_label=period_label,
        buckets=buckets,
        physicians=physicians.order_by("npi").to_pyarrow(),
        **results,
    )


def _fetch_all(backend: Any, marts: Mapping[str, tuple[Any, list[str]]]) -> dict[str, pa.Table]:
    return {
        name: fetch(backend, f"mart_{name}", expr, order) for name, (expr, order) in marts.items()
    }


def _second_connection(backend: Any) -> Any:
    """Another connection to the same DuckDB database, for a second thread; None on other
    engines (there the marts are computed one after the other)."""
    if getattr(backend, "name", "") != "duckdb":
        return None
    return ibis.duckdb.from_connection(backend.con.cursor())


def _duckdb_encounter_groups(backend: Any, pipe: _Pipeline) -> str | None:
    """``core_encounter_groups`` on DuckDB: the raw lines grouped first, then staged per group.

    Staging trims, cases and parses every text cell; on a hundred million lines that costs
    more than the grouping.  A staged value is a function of its raw cell, so grouping the
    raw cells (dates bucketed and units summed as staged, per line) and staging each group
    with the very expressions ``stg_encounters`` uses (:func:`staged_expressions`) gives the
    same groups.  When ingest already summed the lines by these buckets while checking them
    (:func:`line_groups`), those sums are read instead of the lines.  None when the table was
    not staged from input, or on another engine.
    """
    from paycascade.ingest import line_groups, regrouped_lines, staged_expressions

    if getattr(backend, "name", "") != "duckdb":
        return None
    staged = staged_expressions(backend.con, "encounters")
    if staged is None:
        return None
    exprs = staged[0]
    starts = [b.start for b in pipe.buckets]
    done = line_groups(backend.con, "encounters")
    if done is not None and done[1] == starts and done[2] == pipe.end:
        source: str | None = q(done[0])
    else:  # summed by other buckets (a reform's): sum the raw cells again
        source = regrouped_lines(backend.con, "encounters", (starts, pipe.end))
    if source is None:
        return None
    # staged per group: the raw key cells through the very expressions of stg_encounters
    keys = ["npi", "hcpcs", "modifier_text", "status", "wrvu"]
    outer = [f"{exprs[k]} AS {q(k)}" for k in keys]
    run_id = "'" + pipe.run_id.replace("'", "''") + "'"
    return (
        f"SELECT {', '.join(outer)}, bucket, sum(lines) AS lines, sum(units) AS units, "
        f"{run_id} AS run_id FROM {source} i GROUP BY ALL"
    )


def staged_schema(spec: TableSpec) -> ibis.Schema:
    """The Ibis schema of ``stg_<table>``."""
    out: dict[str, dt.DataType] = {}
    for name, sql_type in spec.staged_columns():
        out[name] = _DUCK_TO_IBIS.get(sql_type) or dt.Decimal(18, 4)
    return ibis.schema(out)


def _pfs_schema() -> ibis.Schema:
    types: dict[str, dt.DataType] = {}
    for name, sql_type in REF_PFS_COLUMNS:
        if sql_type.startswith("DECIMAL"):
            p, s = sql_type[len("DECIMAL(") : -1].split(",")
            types[name] = dt.Decimal(int(p), int(s))
        else:
            types[name] = _DUCK_TO_IBIS[sql_type]
    return ibis.schema(types)


def _wrvu(value: Decimal | int) -> Any:
    return ibis.literal(Decimal(value), type=WRVU)


def _exact(a: Any, b: Any, scale: int) -> Any:
    """``a × b`` exactly: both at ``scale`` places, the product at ``2 × scale`` places."""
    return (a.cast(dt.Decimal(38, scale)) * b.cast(dt.Decimal(38, scale))).cast(
        dt.Decimal(38, 2 * scale)
    )


def _factor_of(adjustment: str) -> Callable[[CreditingPolicy], Decimal]:
    return lambda policy: policy.factor(adjustment)


def _rounded(a: Any, b: Any) -> Any:
    """``a × b`` at 12 places, rounded half away from zero (for aggregated rows only)."""
    return (a.cast(WRVU) * b.cast(WRVU)).cast(_WRVU_ROUND).cast(WRVU)


class _Pipeline:
    """The expressions of one run."""

    def __init__(
        self,
        backend: Any,
        *,
        run_id: str,
        period_start: date,
        period_end: date,
        buckets: tuple[Bucket, ...],
        policies: dict[str, CreditingPolicy],
        default_policy: CreditingPolicy,
    ) -> None:
        self.backend = backend
        self.run_id = run_id
        self.start = period_start
        self.end = period_end
        self.buckets = buckets
        self.policies = policies
        self.default = default_policy
        self._tables: dict[str, Any] = {}

    # -- inputs

    def _table(self, name: str, schema: ibis.Schema) -> Any:
        if name not in self._tables:
            try:
                self._tables[name] = self.backend.table(name)
            except Exception:  # absent: an empty table of the declared schema
                self._tables[name] = self.backend.create_table(name, schema=schema)
        return self._tables[name]

    def staged(self, table: str) -> Any:
        return self._table(f"stg_{table}", staged_schema(TABLES_BY_NAME[table]))

    # -- shared pieces

    def _in_period(self, day: Any) -> Any:
        return (day >= self.start) & (day <= self.end)

    def _bucket(self, day: Any) -> Any:
        if len(self.buckets) == 1:
            return ibis.literal(0, type=dt.int32)
        cases = [(day >= b.start, b.index) for b in reversed(self.buckets[1:])]
        return ibis.cases(*cases, else_=0).cast(dt.int32)

    def _bucket_dates(self, t: Any) -> Any:
        def pick(attr: str) -> Any:
            if len(self.buckets) == 1:
                return ibis.literal(getattr(self.buckets[0], attr), type=dt.date)
            cases = [(t.bucket == b.index, getattr(b, attr)) for b in self.buckets[1:]]
            return ibis.cases(*cases, else_=getattr(self.buckets[0], attr)).cast(dt.date)

        return t.mutate(bucket_start=pick("start"), bucket_end=pick("end"))

    def _stamp(self, t: Any) -> Any:
        return t.mutate(run_id=ibis.literal(self.run_id, type=dt.string))

    def _by_plan(self, plan: Any, value: Callable[[CreditingPolicy], Any], dtype: Any) -> Any:
        """A value of the policy of each row's plan (the default policy for other plans)."""
        default = value(self.default)
        special = [
            (plan_id, value(policy))
            for plan_id, policy in sorted(self.policies.items())
            if value(policy) != default
        ]
        if not special:
            return ibis.literal(default, type=dtype)
        cases = [(plan == plan_id, ibis.literal(v, type=dtype)) for plan_id, v in special]
        return ibis.cases(*cases, else_=ibis.literal(default, type=dtype))

    def _by_plan_and_mask(
        self, plan: Any, mask: Any, value: Callable[[CreditingPolicy, int], Any], dtype: Any
    ) -> Any:
        """A value of (the row's plan policy, the row's applied adjustments)."""

        def per_mask(policy: CreditingPolicy) -> Any:
            masks = [m for m in range(1, 1 << len(ADJUSTMENTS)) if m & policy.mask == m]
            cases = [(mask == m, ibis.literal(value(policy, m), type=dtype)) for m in masks]
            none = ibis.literal(value(policy, 0), type=dtype)
            return ibis.cases(*cases, else_=none) if cases else none

        default = per_mask(self.default)
        plans = [(pid, pol) for pid, pol in sorted(self.policies.items()) if pol != self.default]
        if plans:
            by_plan = [(plan == pid, per_mask(pol)) for pid, pol in plans]
            default = ibis.cases(*by_plan, else_=default)
        # most lines carry no adjustment: decide those with one comparison
        return ibis.cases(
            (mask == 0, ibis.literal(value(self.default, 0), type=dtype)), else_=default
        )

    # -- core

    def encounter_groups(self) -> Any:
        """``core_encounter_groups``: the staged lines summed by what pricing reads.

        One pass over the lines.  Pricing and crediting read only a line's physician, date
        bucket, code, modifiers, status and own wRVU, and a line's wRVU is its work RVU times
        its units, so summing units per combination of those first and pricing each
        combination once gives the same sums exactly.  Modifiers are grouped as written and
        parsed per group.  ``bucket`` is ``BEFORE_PERIOD`` / ``AFTER_PERIOD`` for lines dated
        outside the period (kept for the E/M history of the guardrails).
        """
        e = self.staged("encounters")
        day = e.service_date
        when = ibis.cases(
            (day < self.start, BEFORE_PERIOD),
            (day > self.end, AFTER_PERIOD),
            else_=self._bucket(day),
        ).cast(dt.int32)
        t = e.group_by("npi", "hcpcs", "modifier_text", "status", "wrvu", bucket=when).aggregate(
            lines=e.count(), units=e.units.sum().cast(QTY)
        )
        return self._stamp(t)

    def encounter_lines(self, groups: Any) -> Any:
        """``core_encounter_wrvu``: every group of lines in the period, priced and adjusted."""
        e = groups.filter(groups.bucket >= 0)
        modifiers = e.modifier_text.re_split(MODIFIER_SEPARATORS).filter(lambda m: m != "")
        e = e.mutate(
            modifiers=modifiers,
            pfs_modifier=ibis.cases(
                *((modifiers.contains(m), m) for m in PFS_ROW_MODIFIERS), else_=""
            ),
        )
        p = self.staged("physicians")
        p = p.select(
            p_npi=p.npi,
            plan=p.plan,
            provider_type=p.provider_type,
            supervising_npi=p.supervising_npi,
        )
        ref = self._table("ref_pfs", _pfs_schema())
        by_mod = ref.select(pm_hcpcs=ref.hcpcs, pm_mod=ref.modifier, pm_work=ref.work_rvu)
        glob = ref.filter(ref.modifier == "").select(pg_hcpcs=ref.hcpcs, pg_work=ref.work_rvu)
        lines = (
            e.join(p, e.npi == p.p_npi)
            .left_join(by_mod, [e.hcpcs == by_mod.pm_hcpcs, e.pfs_modifier == by_mod.pm_mod])
            .left_join(glob, e.hcpcs == glob.pg_hcpcs)
        )
        base = ibis.cases(
            (lines.wrvu.notnull(), lines.wrvu.cast(dt.Decimal(18, 4))),
            (lines.pm_work.notnull(), lines.pm_work.cast(dt.Decimal(18, 4))),
            # a technical component carries no physician work
            (lines.pfs_modifier == "TC", ibis.literal(Decimal(0), type=dt.Decimal(18, 4))),
            else_=lines.pg_work.cast(dt.Decimal(18, 4)),
        )
        carried = sum(
            (
                ibis.ifelse(self._has_any(lines.modifiers, mods), 1 << k, 0)
                for k, (_, mods) in enumerate(ADJUSTMENTS)
            ),
            ibis.literal(0),
        )
        on = self._by_plan(lines.plan, lambda pol: pol.mask, dt.int16)
        submitted = self._by_plan(lines.plan, lambda pol: pol.credit_on == "submitted", dt.boolean)
        t = lines.select(
            npi=lines.npi,
            plan=lines.plan,
            provider_type=lines.provider_type,
            supervising_npi=lines.supervising_npi,
            bucket=lines.bucket,
            hcpcs=lines.hcpcs,
            modifiers=lines.modifiers,
            pfs_modifier=lines.pfs_modifier,
            status=lines.status,
            credited=ibis.ifelse(submitted, lines.status != "void", lines.status == "paid"),
            lines=lines.lines,
            units=lines.units,
            rvu_source=ibis.ifelse(lines.wrvu.notnull(), "line", "pfs"),
            base_rvu=base,
            wrvu_unadjusted=_exact(base, lines.units, 4),
            adjustment_mask=(carried.cast(dt.int16) & on).cast(dt.int16),
        )
        factor = self._by_plan_and_mask(
            t.plan, t.adjustment_mask, lambda pol, m: pol.combined(m)[0], WRVU
        )
        t = t.mutate(factor=factor)
        t = t.mutate(wrvu=_exact(t.wrvu_unadjusted, t.factor, 12))
        return self._stamp(t)

    def code_lines(self, groups: Any, codes: Sequence[str]) -> tuple[Any, list[str]]:
        """``mart_code_lines`` (npi, hcpcs, when): lines of ``codes`` in and before the period.

        Denied and void lines are not counted; ``when`` is ``period`` or ``before``."""
        g = groups.filter(groups.bucket != AFTER_PERIOD)
        wanted = g.hcpcs.isin(list(codes)) if codes else ibis.literal(False)
        g = g.filter(wanted & ~g.status.isin(["denied", "void"]))
        when = ibis.ifelse(g.bucket == BEFORE_PERIOD, "before", "period")
        t = g.group_by("npi", "hcpcs", when=when).aggregate(lines=g.lines.sum().cast(dt.int64))
        return self._stamp(t).select("run_id", "npi", "hcpcs", "when", "lines"), [
            "npi",
            "hcpcs",
            "when",
        ]

    @staticmethod
    def _has_any(modifiers: Any, wanted: Sequence[str]) -> Any:
        cond = modifiers.contains(wanted[0])
        for m in wanted[1:]:
            cond = cond | modifiers.contains(m)
        return (modifiers.length() > 0) & cond

    def summary(self, lines: Any) -> Any:
        """``core_wrvu_summary``: the lines summed by everything a wRVU mart groups by."""
        keys = ["npi", "bucket", "hcpcs", "adjustment_mask", "credited"]
        t = lines.group_by(keys).aggregate(
            # one value per physician: carried along, not grouped by (cheaper)
            plan=lines.plan.arbitrary(),
            provider_type=lines.provider_type.arbitrary(),
            supervising_npi=lines.supervising_npi.arbitrary(),
            lines=lines.lines.sum().cast(dt.int64),
            units=lines.units.sum().cast(QTY),
            wrvu_unadjusted=lines.wrvu_unadjusted.sum().cast(QTY2),
            wrvu=lines.wrvu.sum().cast(LINE_WRVU),
        )
        return self._stamp(t)

    # -- marts (from the summary)

    def _supervision(self, core: Any) -> Any:
        """Per APP, supervising physician and bucket: the APP lines credited and the credit.

        The credit is the supervising physician's plan share of the APP's credited wRVU,
        summed per APP and bucket first (a product of sums, exact to 12 places).
        """
        app = core.filter(
            core.credited & (core.provider_type == "app") & core.supervising_npi.notnull()
        )
        per_app = app.group_by(["npi", "supervising_npi", "bucket"]).aggregate(
            lines=app.lines.sum(),
            units=app.units.sum().cast(QTY),
            app_wrvu=app.wrvu.sum().cast(WRVU),
        )
        p = self.staged("physicians")
        sup = p.select(sup_npi=p.npi, sup_plan=p.plan)
        joined = per_app.join(sup, per_app.supervising_npi == sup.sup_npi)
        joined = joined.mutate(
            share=self._by_plan(joined.sup_plan, lambda pol: pol.supervision_share, WRVU)
        )
        joined = joined.filter(joined.share > _wrvu(0))
        return joined.mutate(credit=_rounded(joined.app_wrvu, joined.share))

    def wrvu(self, core: Any) -> tuple[Any, list[str]]:
        own = core.filter(core.credited)
        own = own.group_by(["npi", "bucket"]).aggregate(
            lines=own.lines.sum(),
            units=own.units.sum().cast(QTY),
            wrvu=own.wrvu.sum().cast(WRVU),
        )
        own = own.mutate(source=ibis.literal("own"))
        sup = self._supervision(core)
        sup = sup.group_by([sup.sup_npi.name("npi"), "bucket"]).aggregate(
            lines=sup.lines.sum(),
            units=sup.units.sum().cast(QTY),
            wrvu=sup.credit.sum().cast(WRVU),
        )
        sup = sup.mutate(source=ibis.literal("app_supervision"))
        cols = ["npi", "bucket", "source", "lines", "units", "wrvu"]
        t = own.select(*cols).union(sup.select(*cols))
        t = self._stamp(self._bucket_dates(t))
        out = t.select(
            "run_id",
            "npi",
            "bucket",
            "bucket_start",
            "bucket_end",
            "source",
            "lines",
            "units",
            "wrvu",
        )
        return out, ["npi", "bucket", "source"]

    def wrvu_adjustments(self, core: Any) -> tuple[Any, list[str]]:
        credited = core.filter(core.credited & (core.adjustment_mask != 0))
        g = credited.group_by(["npi", "plan", "adjustment_mask"]).aggregate(
            lines=credited.lines.sum(),
            units=credited.units.sum().cast(QTY),
            unadjusted=credited.wrvu_unadjusted.sum().cast(QTY2),
        )
        # the combined factor after each adjustment, rounded as CreditingPolicy.combined does
        # it, so the effects add up to the credited wRVU of the lines exactly
        previous = "factor_0"
        g = g.mutate(factor_0=_wrvu(1))
        for k, (adj, _) in enumerate(ADJUSTMENTS):
            bit = (g.adjustment_mask & (1 << k)) != 0
            f = self._by_plan(g.plan, _factor_of(adj), WRVU)
            g = g.mutate(
                **{f"factor_{k + 1}": ibis.ifelse(bit, _rounded(g[previous], f), g[previous])}
            )
            previous = f"factor_{k + 1}"
        cols = ["npi", "adjustment", "factor", "lines", "units", "wrvu_effect"]
        parts = []
        for k, (adj, _) in enumerate(ADJUSTMENTS):
            a = g.filter((g.adjustment_mask & (1 << k)) != 0)
            share = (a[f"factor_{k + 1}"] - a[f"factor_{k}"]).cast(WRVU)
            a = a.mutate(effect=_exact(a.unadjusted, share, 12))
            a = a.group_by(["npi", "plan"]).aggregate(
                lines=a.lines.sum(),
                units=a.units.sum().cast(QTY),
                wrvu_effect=a.effect.sum().cast(WRVU),
            )
            a = a.mutate(factor=self._by_plan(a.plan, _factor_of(adj), WRVU))
            parts.append(a.mutate(adjustment=ibis.literal(adj)).select(*cols))
        nc = core.filter(~core.credited)
        nc = nc.group_by("npi").aggregate(
            lines=nc.lines.sum(),
            units=nc.units.sum().cast(QTY),
            wrvu_effect=(-nc.wrvu.sum()).cast(WRVU),
        )
        parts.append(
            nc.mutate(adjustment=ibis.literal("not_credited"), factor=_wrvu(0)).select(*cols)
        )
        sup = self._supervision(core)
        sup = sup.group_by([sup.sup_npi.name("npi"), "share"]).aggregate(
            lines=sup.lines.sum(),
            units=sup.units.sum().cast(QTY),
            wrvu_effect=sup.credit.sum().cast(WRVU),
        )
        parts.append(
            sup.mutate(adjustment=ibis.literal("app_supervision"), factor=sup.share).select(*cols)
        )
        t = parts[0]
        for part in parts[1:]:
            t = t.union(part)
        t = self._stamp(t).mutate(lines=t.lines.cast(dt.int64))
        return t.select("run_id", *cols), ["npi", "adjustment"]

    def wrvu_codes(self, core: Any) -> tuple[Any, list[str]]:
        c = core.filter(core.credited)
        t = c.group_by(["npi", "hcpcs"]).aggregate(
            lines=c.lines.sum(),
            units=c.units.sum().cast(QTY),
            wrvu=c.wrvu.sum().cast(WRVU),
        )
        cols = ["run_id", "npi", "hcpcs", "lines", "units", "wrvu"]
        return self._stamp(t).select(*cols), ["npi", "hcpcs"]

    def _dated(self, table: str, day: str) -> Any:
        t = self.staged(table)
        t = t.filter(self._in_period(t[day]))
        return t.mutate(bucket=self._bucket(t[day]))

    def _finish(self, t: Any, keys: list[str], values: list[str]) -> tuple[Any, list[str]]:
        t = self._stamp(self._bucket_dates(t))
        head = ["run_id", "npi", "bucket", "bucket_start", "bucket_end"]
        return t.select(*head, *[k for k in keys if k not in head], *values), keys

    def panel(self) -> tuple[Any, list[str]]:
        a = self._dated("attribution", "month")
        risk_mm = _exact(a.member_months, a.risk_score, 4)
        t = a.group_by(["npi", "bucket"]).aggregate(
            rows=a.count(),
            member_months=a.member_months.sum().cast(QTY),
            risk_adjusted_member_months=risk_mm.sum().cast(QTY2),
            expected_cost=a.expected_cost.fill_null(Decimal(0)).sum().cast(QTY),
            actual_cost=a.actual_cost.fill_null(Decimal(0)).sum().cast(QTY),
        )
        values = ["rows", "member_months", "risk_adjusted_member_months"]
        return self._finish(t, ["npi", "bucket"], [*values, "expected_cost", "actual_cost"])

    def shifts(self) -> tuple[Any, list[str]]:
        s = self._dated("shifts", "date")
        t = s.group_by(["npi", "bucket", "shift_type"]).aggregate(
            rows=s.count(),
            shifts=s["count"].sum().cast(QTY),
            hours=s.hours.fill_null(Decimal(0)).sum().cast(QTY),
        )
        return self._finish(t, ["npi", "bucket", "shift_type"], ["rows", "shifts", "hours"])

    def hours(self) -> tuple[Any, list[str]]:
        h = self._dated("hours", "date")
        t = h.group_by(["npi", "bucket", "kind"]).aggregate(
            rows=h.count(), hours=h.hours.sum().cast(QTY)
        )
        return self._finish(t, ["npi", "bucket", "kind"], ["rows", "hours"])

    def activities(self) -> tuple[Any, list[str]]:
        a = self._dated("activities", "date")
        t = a.group_by(["npi", "bucket", "activity"]).aggregate(
            rows=a.count(), quantity=a.quantity.sum().cast(QTY)
        )
        return self._finish(t, ["npi", "bucket", "activity"], ["rows", "quantity"])

    def quality(self, period_label: str) -> tuple[Any, list[str]]:
        qt = self.staged("quality")
        qt = qt.filter((qt.period.isnull() | (qt.period == period_label)) & qt.stratum.isnull())
        t = qt.group_by(["npi", "measure"]).aggregate(
            rows=qt.count(),
            numerator=qt.numerator.sum().cast(QTY),
            denominator=qt.denominator.sum().cast(QTY),
            exclusions=qt.exclusions.sum().cast(QTY),
        )
        t = self._stamp(t)
        cols = ["npi", "measure", "rows", "numerator", "denominator", "exclusions"]
        return t.select("run_id", *cols), ["npi", "measure"]

    def quality_strata(self, period_label: str) -> tuple[Any, list[str]]:
        """Stratified quality rows (``stratum`` given), summed per npi, measure and stratum."""
        qt = self.staged("quality")
        qt = qt.filter((qt.period.isnull() | (qt.period == period_label)) & qt.stratum.notnull())
        t = qt.group_by(["npi", "measure", "stratum"]).aggregate(
            rows=qt.count(),
            numerator=qt.numerator.sum().cast(QTY),
            denominator=qt.denominator.sum().cast(QTY),
            exclusions=qt.exclusions.sum().cast(QTY),
        )
        t = self._stamp(t)
        cols = ["npi", "measure", "stratum", "rows", "numerator", "denominator", "exclusions"]
        return t.select("run_id", *cols), ["npi", "measure", "stratum"]

    def stipends(self) -> tuple[Any, list[str]]:
        return self.rows_of("stipends", ["npi", "stipend", "source_file", "source_row"])

    def rows_of(self, table: str, order: list[str]) -> tuple[Any, list[str]]:
        """A small per-physician or per-contract table, staged rows as they are."""
        s = self._stamp(self.staged(table))
        cols = [c for c in s.columns if c != "run_id"]
        return s.select("run_id", *cols), order

    def contract_performance(self, period_label: str) -> tuple[Any, list[str]]:
        c = self.staged("contract_performance")
        c = c.filter(c.period == period_label)
        return self._rows_of_expr(c, ["contract_id", "metric"])

    def episodes(self) -> tuple[Any, list[str]]:
        e = self.staged("episodes")
        e = e.filter(self._in_period(e.start_date))
        return self._rows_of_expr(e, ["contract_id", "episode_id"])

    def _rows_of_expr(self, t: Any, order: list[str]) -> tuple[Any, list[str]]:
        t = self._stamp(t)
        cols = [c for c in t.columns if c != "run_id"]
        return t.select("run_id", *cols), order
