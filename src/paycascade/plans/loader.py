"""Load ``plans/*.yaml`` into :class:`Plan` objects, reporting every problem with its line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from paycascade.diagnostics import Diagnostics
from paycascade.ledger import ALIGNMENTS
from paycascade.money import ONE, ZERO
from paycascade.periods import Period
from paycascade.plans.model import Spec
from paycascade.plans.params import Reader
from paycascade.plans.scorecard import Measure, Scorecard
from paycascade.plans.yamlpos import PosDict, PosList, load_yaml

COMMON_KEYS = ("id", "kind", "label", "alignment", "source", "note")
PLAN_KEYS = (
    "plan",
    "name",
    "description",
    "source",
    "version",
    "crediting",
    "components",
    "scorecards",
)
CREDITING_KEYS = (
    "co_surgeon",
    "assistant_at_surgery",
    "multiple_procedure",
    "bilateral",
    "split_shared",
    "app_supervision",
    "credit_on",
    "rvu_vintage",
)
CREDITING_DEFAULTS: dict[str, Decimal | None] = {
    "co_surgeon": Decimal("0.625"),
    "assistant_at_surgery": Decimal("0.16"),
    "multiple_procedure": Decimal("0.5"),
    "bilateral": Decimal("1.5"),
    "split_shared": ONE,
    "app_supervision": ZERO,
}


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    file: str
    line: int
    source: str | None
    description: str | None
    version: str | None
    components: tuple[Spec, ...]
    scorecards: dict[str, Scorecard]
    crediting: dict[str, Any]
    digest: str

    def all_specs(self) -> list[Spec]:
        """Components including those nested in combinators."""
        out: list[Spec] = []
        stack = list(self.components)
        while stack:
            spec = stack.pop(0)
            out.append(spec)
            stack[0:0] = list(getattr(spec, "inner", ()))
        return out

    def breakpoints(self, period: Period) -> list[date]:
        points = {d for spec in self.all_specs() for d in spec.breakpoints()}
        return sorted(d for d in points if period.start < d <= period.end)

    def needs(self) -> set[str]:
        return {table for spec in self.all_specs() for table in spec.needs}

    def tier_resets(self) -> set[str]:
        return {str(s.tier_reset) for s in self.all_specs() if hasattr(s, "tier_reset")}


def load_plans(root: Path, diags: Diagnostics) -> dict[str, Plan]:
    """Every plan under ``root/plans``; a plan with problems is left out (and reported)."""
    folder = root / "plans"
    plans: dict[str, Plan] = {}
    if not folder.is_dir():
        diags.add("plans/", None, "no plans folder: write at least one plan in plans/*.yaml")
        return plans
    files = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
    if not files:
        diags.add("plans/", None, "no plan files (plans/*.yaml)")
    for path in files:
        display = path.relative_to(root).as_posix()
        before = len(diags.errors)
        plan = load_plan(path, display, diags)
        if plan is None or len(diags.errors) > before:
            continue
        if plan.id in plans:
            diags.add(
                display, plan.line, f"plan id '{plan.id}' is already used by {plans[plan.id].file}"
            )
            continue
        plans[plan.id] = plan
    return plans


def load_plan(path: Path, display: str, diags: Diagnostics) -> Plan | None:
    data = load_yaml(path, display, diags)
    if data is None:
        if path.exists() and not diags.has_errors():
            diags.add(display, None, "empty plan file")
        return None
    if not isinstance(data, PosDict):
        diags.add(
            display,
            getattr(data, "line", 1),
            "a plan file must be a mapping with 'plan:' and 'components:'",
        )
        return None
    r = Reader(data, display, diags, "plan")
    plan_id = r.text("plan", required=True)
    if plan_id is None:
        return None
    r.where = f"plan '{plan_id}'"
    name = r.text("name", default=plan_id) or plan_id
    scorecards = _scorecards(r)
    crediting = _crediting(r)
    components = _components(r, scorecards)
    r.unknown_keys(PLAN_KEYS)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Plan(
        id=plan_id,
        name=name,
        file=display,
        line=data.line,
        source=r.text("source"),
        description=r.text("description"),
        version=r.text("version"),
        components=components,
        scorecards=scorecards,
        crediting=crediting,
        digest=digest,
    )


def _crediting(r: Reader) -> dict[str, Any]:
    value = r.raw("crediting")
    result: dict[str, Any] = dict(CREDITING_DEFAULTS)
    result["credit_on"] = "paid"
    result["rvu_vintage"] = None
    if value is None:
        return result
    if not isinstance(value, PosDict):
        r.error("crediting", "'crediting' must be a mapping (see docs/PLANS.md)")
        return result
    sub = Reader(value, r.file, r.diags, f"{r.where} crediting")
    for key in CREDITING_DEFAULTS:
        raw = value.get(key)
        if raw is False or raw == "off":
            result[key] = None
            sub.used.add(key)
        elif raw is not None:
            # shares of a line are at most 1; bilateral (modifier 50) credits up to 200%
            limit = Decimal(2) if key == "bilateral" else ONE
            result[key] = sub.number(key, minimum=ZERO, maximum=limit)
    result["credit_on"] = sub.choice("credit_on", ("paid", "submitted"), "paid")
    vintage = sub.number("rvu_vintage", minimum=Decimal(1992), maximum=Decimal(2100))
    result["rvu_vintage"] = None if vintage is None else int(vintage)
    sub.unknown_keys(CREDITING_KEYS)
    return result


def _scorecards(r: Reader) -> dict[str, Scorecard]:
    value = r.raw("scorecards")
    cards: dict[str, Scorecard] = {}
    if value is None:
        return cards
    if not isinstance(value, PosDict):
        r.error("scorecards", "'scorecards' must map scorecard ids to {measures: [...]}")
        return cards
    for card_id, body in value.items():
        line = value.line_of(card_id)
        if not isinstance(body, PosDict):
            r.diags.add(r.file, line, f"scorecard '{card_id}' must be a mapping with 'measures'")
            continue
        card = _scorecard(
            Reader(body, r.file, r.diags, f"scorecard '{card_id}'"), str(card_id), line
        )
        if card is not None:
            cards[str(card_id)] = card
    return cards


def _scorecard(r: Reader, card_id: str, line: int) -> Scorecard | None:
    fallback = r.choice("fallback", ("group", "neutral", "none"), "none")
    neutral_value = r.number("neutral_score", default=Decimal("0.5"), minimum=ZERO)
    neutral = Decimal("0.5") if neutral_value is None else neutral_value
    shrinkage = r.choice("shrinkage", ("none", "empirical_bayes"), "none")
    raw = r.raw("measures")
    r.unknown_keys({"fallback", "neutral_score", "shrinkage", "measures", "source", "note"})
    if not isinstance(raw, PosList) or not raw:
        r.error("measures" if raw is not None else None, "a scorecard needs a list of 'measures'")
        return None
    measures: list[Measure] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, PosDict):
            r.diags.add(r.file, raw.line_of(index), f"{r.where}: each measure must be a mapping")
            continue
        measure = _measure(Reader(item, r.file, r.diags, f"{r.where} measure"), item.line)
        if measure is None:
            continue
        if measure.id in seen:
            r.diags.add(r.file, item.line, f"{r.where}: measure '{measure.id}' listed twice")
            continue
        seen.add(measure.id)
        measures.append(measure)
    if len(measures) != len(raw):
        return None
    return Scorecard(
        card_id,
        r.file,
        line,
        tuple(measures),
        fallback,  # type: ignore[arg-type]
        neutral,
        shrinkage,  # type: ignore[arg-type]
    )


def _measure(r: Reader, line: int) -> Measure | None:
    mid = r.text("id", required=True)
    if mid is None:
        return None
    r.where = f"{r.where} '{mid}'"
    direction = r.choice("direction", ("higher", "lower"), "higher")
    weight = r.number("weight", default=ONE, minimum=ZERO)
    threshold = r.number("threshold", required=True)
    target = r.number("target", required=True)
    stretch = r.number("stretch")
    stretch_points = r.number("stretch_points", default=ONE, minimum=ONE)
    minimum = r.number("min_denominator", default=ONE, minimum=ZERO)
    r.unknown_keys(
        {
            "id",
            "label",
            "direction",
            "weight",
            "threshold",
            "target",
            "stretch",
            "stretch_points",
            "min_denominator",
            "source",
            "note",
        }
    )
    if None in (weight, threshold, target, stretch_points, minimum):
        return None
    assert threshold is not None and target is not None and weight is not None
    sign = ONE if direction == "higher" else -ONE
    better = "above" if direction == "higher" else "below"
    if target * sign < threshold * sign:
        r.error(
            "target",
            f"target {target} must be at or {better} threshold {threshold} for a {direction}-is-better measure",
        )
        return None
    if stretch is not None and stretch * sign <= target * sign:
        r.error(
            "stretch",
            f"stretch {stretch} must be {better} target {target} for a {direction}-is-better measure",
        )
        return None
    return Measure(
        id=mid,
        label=r.text("label", default=mid) or mid,
        direction=direction,  # type: ignore[arg-type]
        weight=weight,
        threshold=threshold,
        target=target,
        stretch=stretch,
        stretch_points=ONE if stretch_points is None else stretch_points,
        min_denominator=ONE if minimum is None else minimum,
        line=line,
        source=r.text("source"),
    )


def _components(r: Reader, scorecards: dict[str, Scorecard]) -> tuple[Spec, ...]:
    from paycascade.components.registry import KINDS

    raw = r.raw("components")
    if not isinstance(raw, PosList) or not raw:
        r.error("components" if raw is not None else None, "a plan needs a list of 'components'")
        return ()
    specs: list[Spec] = []
    known: set[str] = set()

    def parse_one(node: PosDict) -> Spec | None:
        cr = Reader(node, r.file, r.diags, "component")
        cid = cr.text("id", required=True)
        kind = cr.text("kind", required=True)
        if cid is None or kind is None:
            return None
        cr.where = f"component '{cid}'"
        if cid in known:
            cr.error("id", f"component id '{cid}' is used twice in this plan")
            return None
        declared_before = set(known)  # valid or not: an invalid one has its own problem
        known.add(cid)
        if kind not in KINDS:
            import difflib

            hint = difflib.get_close_matches(kind, list(KINDS), n=1)
            extra = (
                f" (did you mean '{hint[0]}'?)" if hint else f"; known kinds: {', '.join(KINDS)}"
            )
            cr.error("kind", f"unknown component kind '{kind}'{extra}")
            return None
        parser, cls = KINDS[kind]
        alignment = cr.text("alignment", default=cls.default_alignment)
        if alignment not in ALIGNMENTS:
            cr.error(
                "alignment", f"alignment must be one of {', '.join(ALIGNMENTS)}, not '{alignment}'"
            )
            alignment = cls.default_alignment
        fields = {
            "id": cid,
            "label": cr.text("label", default=cid.replace("_", " ")) or cid,
            "file": r.file,
            "line": node.line,
            "alignment": alignment,
            "source": cr.text("source"),
        }
        cr.text("note")
        spec = parser(cr, {"fields": fields, "_common_keys": COMMON_KEYS, "parse_inner": parse_one})
        if spec is None:
            return None
        for ref in spec.refs():
            base_ref = ref.split(".", 1)[0]
            if base_ref not in declared_before:
                key = next((k for k in ("of", "against") if k in node), None)
                cr.error(
                    key, f"refers to '{ref}', which must be a component declared before '{cid}'"
                )
        for card in spec.scorecard_ids():
            if card not in scorecards:
                cr.error(
                    "scorecard",
                    f"unknown scorecard '{card}'; declared: {', '.join(sorted(scorecards)) or 'none'}",
                )
        return spec

    for index, node in enumerate(raw):
        if not isinstance(node, PosDict):
            r.diags.add(
                r.file,
                raw.line_of(index),
                f"{r.where}: each component must be a mapping with 'id' and 'kind'",
            )
            continue
        spec = parse_one(node)
        if spec is not None:
            specs.append(spec)
    return tuple(specs)
