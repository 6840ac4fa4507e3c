"""Settle every contract of a workspace for one period.

Performance data comes from two tables, read by the ingestion layer:

* ``contract_performance`` (``contract_id, period, metric, value``), passed as
  ``{(contract_id, period label): {metric: value}}``;
* ``episodes`` (``contract_id, episode_id, npi, start_date, actual_spend, episode_type``),
  passed summed per contract (:class:`~paycascade.contracts.base.EpisodeVolume`, the
  episodes starting in the period; :func:`~paycascade.contracts.base.episode_volumes` sums
  rows).

Each problem becomes a diagnostic at the contract's ``file:line`` and that contract is left out
of the results; the others are settled.  A contract whose term (``start``/``end``) does not
overlap the period has nothing to settle and is skipped silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from decimal import Decimal

from paycascade.contracts.base import ContractResult, EpisodeVolume
from paycascade.contracts.loader import ContractInputError, ContractSpec, Kind, kinds
from paycascade.diagnostics import Diagnostics
from paycascade.money import RoundingMode
from paycascade.periods import Period


def settle_all(
    specs: Mapping[str, ContractSpec],
    performance: Mapping[tuple[str, str], Mapping[str, Decimal]],
    episodes: Mapping[str, EpisodeVolume],
    period: Period,
    rounding: RoundingMode,
    diags: Diagnostics,
) -> list[ContractResult]:
    """The results of every contract in effect in ``period``, in contract-id order."""
    table = kinds()
    results: list[ContractResult] = []
    for cid in sorted(specs):
        spec = specs[cid]
        if not spec.in_effect(period):
            continue
        kind = table[spec.kind]
        rows = performance.get((spec.id, period.label)) or {}
        mine = episodes.get(spec.id) if kind.uses_episodes else None
        missing = f"no contract_performance rows for contract '{spec.id}' in period {period.label}"
        if not rows and not (mine and mine.count):
            diags.add(spec.file, spec.line, missing)
            continue
        _unused(spec, kind, rows, period, diags)
        try:
            results.append(kind.settle(spec, rows, mine, period, rounding))
        except ContractInputError as exc:
            line = spec.line_of(exc.name) if exc.param else spec.line
            if rows:
                message = f"contract '{spec.id}', period {period.label}: {exc}"
            else:
                message = f"{missing} (needed: {exc})"
            diags.add(spec.file, line, message)
    return results


def _unused(
    spec: ContractSpec,
    kind: Kind,
    rows: Mapping[str, Decimal],
    period: Period,
    diags: Diagnostics,
) -> None:
    """A warning for every metric the contract's kind does not read (often a misspelling)."""
    known = kind.all_metrics()
    for name in sorted(rows):
        if name in known:
            continue
        hint = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
        extra = f" (did you mean '{hint[0]}'?)" if hint else f"; it reads: {', '.join(known)}"
        diags.add(
            spec.file,
            spec.line,
            f"contract '{spec.id}', period {period.label}: metric '{name}' in "
            f"contract_performance is not used by a {kind.name} contract{extra}",
            severity="warning",
        )
