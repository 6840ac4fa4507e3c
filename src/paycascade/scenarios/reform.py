"""REFORM.yaml: parameter changes overlaid on a workspace's plans and contracts, and moves of
physicians to another plan, without touching the baseline.

Grammar (``docs/SCENARIOS.md``)::

    name: Surgeons onto a 10% quality withhold
    description: free text
    changes:
      - plan: surgery-tiered                 # patch a plan's YAML before it is parsed
        set: {components.production.conversion_factor: 58.00}
        unset: [components.production.paid_share]
        add_component: {id: w, kind: withhold, ...}
        replace_component: {id: production, kind: productivity, ...}
        remove_component: stipend_id
      - contract: mssp-aco                   # patch a contract (its allocation policy, terms)
        set: {allocation.shares: [...]}
      - new_plan: {plan: x, components: [...]}   # a plan that the baseline does not have
      - move: {specialty: Orthopedic Surgery, to_plan: x}   # or npis: [...], from_plan: y

A path is dot-separated: mapping keys, list indexes, or the ``id`` of an item in a list of
mappings (``components.production.tiers``, ``scorecards.pcp.measures.bp_control.target``).

The reform's values are spliced into a *copy* of the plan's YAML data with their line numbers
moved by :data:`LINE_OFFSET`; the plan is then parsed by the ordinary plan loader, and every
diagnostic whose line is past the offset is moved back to ``reform.yaml:line``.  So a bad tier
in a reform is reported at its line in the reform, and a problem it causes elsewhere in the
plan at the plan's own line.  Nothing of the baseline (``Loaded``) is ever changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from paycascade.contracts.loader import ContractSpec
from paycascade.diagnostics import Diagnostic, Diagnostics, PaycascadeError
from paycascade.plans.loader import Plan
from paycascade.plans.model import Physician
from paycascade.plans.params import Reader
from paycascade.plans.yamlpos import PosDict, PosList, load_yaml

LINE_OFFSET = 10_000_000
REFORM_KEYS = ("name", "description", "source", "period", "changes", "note")
PLAN_OPS = ("set", "unset", "add_component", "replace_component", "remove_component")
CONTRACT_OPS = ("set", "unset")
MOVE_KEYS = ("specialty", "npis", "from_plan", "group", "to_plan", "note")


@dataclass(frozen=True)
class Change:
    """One overlay: ``target`` is ``plan``, ``contract``, ``new_plan`` or ``move``."""

    target: str
    ref: str  # plan / contract id, or the new plan's id, or the move's to_plan
    line: int
    ops: tuple[tuple[str, Any, int], ...] = ()  # (op, argument, line)
    body: Any = None  # new_plan mapping, or the move mapping


@dataclass(frozen=True)
class Reform:
    name: str
    description: str | None
    file: str
    period: str | None
    changes: tuple[Change, ...]
    digest: str


@dataclass(frozen=True)
class Override:
    """A value set on top of the reform (a solve or sweep point): ``target:path = value``."""

    target: str
    path: str
    value: Decimal


@dataclass
class Applied:
    """The reformed objects; the baseline's are untouched."""

    plans: dict[str, Plan]
    contracts: dict[str, ContractSpec]
    physicians: list[Physician]
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # npi → (from, to)
    changed_plans: set[str] = field(default_factory=set)
    changed_contracts: set[str] = field(default_factory=set)
    raw: dict[str, PosDict] = field(default_factory=dict)  # patched YAML data by plan/contract

    def crediting_changed(self, baseline: Mapping[str, Plan]) -> bool:
        """Whether the aggregates of the baseline can be reused (crediting and dates equal)."""
        if self.moved:
            return True
        for pid in self.changed_plans:
            old = baseline.get(pid)
            new = self.plans.get(pid)
            if old is None or new is None or old.crediting != new.crediting:
                return True
        return False


# -- reading -------------------------------------------------------------------------------


def load_reform(path: Path, display: str, diags: Diagnostics) -> Reform | None:
    """Read a REFORM.yaml (grammar only; :func:`apply_reform` checks it against a workspace)."""
    before = len(diags.errors)
    data = load_yaml(path, display, diags)
    if data is None:
        if len(diags.errors) == before:
            diags.add(display, None, "empty reform file")
        return None
    if not isinstance(data, PosDict):
        diags.add(display, getattr(data, "line", 1), "a reform must be a mapping with 'changes:'")
        return None
    r = Reader(data, display, diags, "reform")
    name = r.text("name", required=True) or ""
    description = r.text("description")
    r.text("source")
    r.text("note")
    period = r.text("period")
    r.unknown_keys(REFORM_KEYS)
    raw = r.raw("changes")
    changes: list[Change] = []
    if not isinstance(raw, PosList) or not raw:
        r.error("changes" if raw is not None else None, "a reform needs a list of 'changes'")
    else:
        for index, item in enumerate(raw):
            change = _change(item, raw.line_of(index), display, diags)
            if change is not None:
                changes.append(change)
    if len(diags.errors) > before:
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Reform(name, description, display, period, tuple(changes), digest)


def _change(item: Any, line: int, file: str, diags: Diagnostics) -> Change | None:
    shape = "each change is a mapping with one of plan, contract, new_plan or move"
    if not isinstance(item, PosDict):
        diags.add(file, line, shape)
        return None
    targets = [k for k in ("plan", "contract", "new_plan", "move") if k in item]
    if len(targets) != 1:
        found = f" (found {', '.join(targets)})" if targets else ""
        diags.add(file, item.line, shape + found)
        return None
    target = targets[0]
    r = Reader(item, file, diags, f"change at line {item.line}")
    if target == "new_plan":
        body = r.raw("new_plan")
        r.unknown_keys(("new_plan", "note"))
        if not isinstance(body, PosDict) or not isinstance(body.get("plan"), str):
            r.error("new_plan", "'new_plan' must be a plan mapping with 'plan:' and 'components:'")
            return None
        return Change("new_plan", str(body["plan"]), item.line, body=body)
    if target == "move":
        return _move(r, item)
    ref = r.text(target, required=True)
    ops: list[tuple[str, Any, int]] = []
    allowed = PLAN_OPS if target == "plan" else CONTRACT_OPS
    for op in allowed:
        if op in item:
            ops.append((op, r.raw(op), item.line_of(op)))
    r.text("note")
    r.unknown_keys((target, "note", *allowed))
    if not ops:
        r.error(None, f"a {target} change needs one of {', '.join(allowed)}")
        return None
    for op, arg, op_line in ops:
        ok = {
            "set": isinstance(arg, PosDict) and bool(arg),
            "unset": isinstance(arg, PosList) and all(isinstance(a, str) for a in arg),
            "add_component": isinstance(arg, PosDict),
            "replace_component": isinstance(arg, PosDict) and isinstance(arg.get("id"), str),
            "remove_component": isinstance(arg, str),
        }[op]
        if not ok:
            what = {
                "set": "a mapping of path: value",
                "unset": "a list of paths",
                "add_component": "a component mapping",
                "replace_component": "a component mapping with 'id'",
                "remove_component": "a component id",
            }[op]
            diags.add(file, op_line, f"'{op}' must be {what}")
            return None
    if ref is None:
        return None
    return Change(target, ref, item.line, tuple(ops))


def _move(r: Reader, item: PosDict) -> Change | None:
    body = r.raw("move")
    r.unknown_keys(("move", "note"))
    if not isinstance(body, PosDict):
        r.error("move", "'move' must be a mapping with 'to_plan' and specialty, group or npis")
        return None
    m = Reader(body, r.file, r.diags, "move")
    to_plan = m.text("to_plan", required=True)
    m.text("specialty")
    m.text("group")
    m.text("from_plan")
    m.text("note")
    npis = m.raw("npis")
    m.unknown_keys(MOVE_KEYS)
    if npis is not None and not isinstance(npis, PosList):
        m.error("npis", "'npis' must be a list of NPIs")
        return None
    if not any(k in body for k in ("specialty", "group", "npis", "from_plan")):
        m.error(None, "say who moves: specialty, group, from_plan or npis")
        return None
    if to_plan is None:
        return None
    return Change("move", to_plan, item.line, body=body)


# -- applying ------------------------------------------------------------------------------


def apply_reform(
    loaded: Any, reform: Reform, overrides: Sequence[Override] = (), touch: Sequence[str] = ()
) -> Applied:
    """The reformed plans, contracts and physicians of ``loaded`` (a runner.Loaded).

    Raises PaycascadeError with every problem as ``file:line: message``."""
    from paycascade.contracts.loader import _contract
    from paycascade.plans.loader import PLAN_KEYS, _components, _crediting, _scorecards

    diags = Diagnostics()
    root: Path = loaded.workspace.root
    plans: dict[str, Plan] = dict(loaded.plans)
    contracts: dict[str, ContractSpec] = dict(loaded.contracts)
    plan_data: dict[str, PosDict] = {}
    contract_data: dict[str, PosDict] = {}
    contract_files: dict[str, str] = {}

    def plan_node(pid: str, line: int) -> PosDict | None:
        if pid not in plan_data:
            if pid not in loaded.plans:
                known = ", ".join(sorted(plans)) or "none"
                diags.add(reform.file, line, f"unknown plan '{pid}' (plans: {known})")
                return None
            base = loaded.plans[pid]
            raw = load_yaml(root / base.file, base.file, diags)
            if not isinstance(raw, PosDict):
                diags.add(reform.file, line, f"cannot read plan '{pid}' from {base.file}")
                return None
            plan_data[pid] = _copy(raw, 0)
        return plan_data[pid]

    def contract_node(cid: str, line: int) -> PosDict | None:
        if cid not in contract_data:
            if cid not in loaded.contracts:
                known = ", ".join(sorted(contracts)) or "none"
                diags.add(reform.file, line, f"unknown contract '{cid}' (contracts: {known})")
                return None
            spec = loaded.contracts[cid]
            raw = load_yaml(root / spec.file, spec.file, diags)
            node = _find_contract(raw, cid)
            if node is None:
                diags.add(reform.file, line, f"cannot read contract '{cid}' from {spec.file}")
                return None
            contract_data[cid] = _copy(node, 0)
            contract_files[cid] = spec.file
        return contract_data[cid]

    new_plans: dict[str, PosDict] = {}
    moves: list[Change] = []
    for change in reform.changes:
        if change.target == "new_plan":
            if change.ref in loaded.plans or change.ref in new_plans:
                diags.add(reform.file, change.line, f"plan '{change.ref}' already exists")
                continue
            new_plans[change.ref] = _copy(change.body, LINE_OFFSET)
        elif change.target == "move":
            moves.append(change)
        elif change.target == "plan":
            node = plan_node(change.ref, change.line)
            if node is not None:
                _plan_ops(node, change, reform.file, diags)
        else:
            node = contract_node(change.ref, change.line)
            if node is not None:
                _contract_ops(node, change, reform.file, diags)
    for target in touch:
        if target in new_plans:
            continue
        if target in loaded.contracts:
            contract_node(target, 0)
        else:
            plan_node(target, 0)
    for ov in overrides:
        node = (
            plan_node(ov.target, 0) if ov.target in loaded.plans or ov.target in plan_data else None
        )
        if node is None and ov.target in loaded.contracts:
            node = contract_node(ov.target, 0)
        if node is None and ov.target in new_plans:
            node = new_plans[ov.target]
        if node is None:
            diags.add("--param", None, f"'{ov.target}' is neither a plan nor a contract")
            continue
        _set_path(node, ov.path, ov.value, 0, "--param", diags, numeric=True)
    if diags.has_errors():
        # the moves' problems too, all at once (against the plans there would be)
        _apply_moves(loaded.physicians, moves, {*loaded.plans, *new_plans}, reform.file, diags)
        raise PaycascadeError(diags)

    parsed = Diagnostics()
    changed_plans: set[str] = set()
    for pid, node in {**plan_data, **new_plans}.items():
        file = loaded.plans[pid].file if pid in loaded.plans else f"{reform.file} (new plan)"
        r = Reader(node, file, parsed, "plan")
        plan_id = r.text("plan", required=True)
        if plan_id is None:
            continue
        if plan_id != pid:
            r.error("plan", f"a reform cannot rename plan '{pid}' to '{plan_id}'")
            continue
        r.where = f"plan '{plan_id}'"
        before = len(parsed.errors)
        name = r.text("name", default=plan_id) or plan_id
        scorecards = _scorecards(r)
        crediting = _crediting(r)
        components = _components(r, scorecards)
        r.unknown_keys(PLAN_KEYS)
        if len(parsed.errors) > before:
            continue
        base_digest = loaded.plans[pid].digest if pid in loaded.plans else ""
        ov_text = "|".join(f"{o.target}:{o.path}={o.value}" for o in overrides)
        digest = hashlib.sha256(f"{base_digest}|{reform.digest}|{ov_text}".encode()).hexdigest()
        plans[pid] = Plan(
            id=plan_id,
            name=name,
            file=file,
            line=node.line,
            source=r.text("source"),
            description=r.text("description"),
            version=r.text("version"),
            components=components,
            scorecards=scorecards,
            crediting=crediting,
            digest=digest,
        )
        changed_plans.add(pid)
    for cid, node in contract_data.items():
        spec = _contract(node, contract_files[cid], parsed)
        if spec is not None:
            if spec.id != cid:
                parsed.add(reform.file, None, f"a reform cannot rename contract '{cid}'")
                continue
            contracts[cid] = spec
    diags.extend(_relocate(parsed, reform.file))
    physicians, moved = _apply_moves(loaded.physicians, moves, set(plans), reform.file, diags)
    if diags.has_errors():
        raise PaycascadeError(diags)
    raw = {**contract_data, **plan_data, **new_plans}
    return Applied(plans, contracts, physicians, moved, changed_plans, set(contract_data), raw)


def _relocate(diags: Diagnostics, reform_file: str) -> list[Diagnostic]:
    """Diagnostics on lines spliced in from the reform point back at the reform."""
    out = []
    for d in diags:
        if d.line is not None and d.line >= LINE_OFFSET:
            d = replace(d, file=reform_file, line=d.line - LINE_OFFSET)
        out.append(d)
    return out


def _apply_moves(
    physicians: Sequence[Physician],
    moves: Sequence[Change],
    plans: AbstractSet[str],
    file: str,
    diags: Diagnostics,
) -> tuple[list[Physician], dict[str, tuple[str, str]]]:
    """The physicians with the reform's moves applied to plans of ``plans`` (ids), and who moved
    from where to where; every problem of every move goes to ``diags``."""
    people = list(physicians)
    moved: dict[str, tuple[str, str]] = {}
    for change in moves:
        body: PosDict = change.body
        if change.ref not in plans:
            known = ", ".join(sorted(plans))
            diags.add(
                file, body.line_of("to_plan"), f"unknown plan '{change.ref}' (plans: {known})"
            )
            continue
        wanted_npis = {str(n) for n in body.get("npis") or []}
        known_npis = {p.npi for p in people}
        for npi in sorted(wanted_npis - known_npis):
            diags.add(file, body.line_of("npis"), f"no physician with NPI {npi}")
        checks = [
            ("specialty", {p.specialty for p in people}),
            ("group", {p.group for p in people}),
            ("from_plan", set(plans)),
        ]
        bad = False
        for key, values in checks:
            value = body.get(key)
            if value is not None and str(value) not in values:
                diags.add(
                    file,
                    body.line_of(key),
                    f"no physician has {key} '{value}' ({', '.join(sorted(values))})",
                )
                bad = True
        if bad:
            continue
        count = 0
        for index, p in enumerate(people):
            if wanted_npis and p.npi not in wanted_npis:
                continue
            if "specialty" in body and p.specialty != str(body["specialty"]):
                continue
            if "group" in body and p.group != str(body["group"]):
                continue
            if "from_plan" in body and p.plan != str(body["from_plan"]):
                continue
            if p.plan == change.ref:
                continue
            first = moved.get(p.npi, (p.plan, change.ref))[0]
            moved[p.npi] = (first, change.ref)
            people[index] = replace(p, plan=change.ref)
            count += 1
        if count == 0:
            diags.add(
                file,
                body.line,
                f"move to '{change.ref}' matches nobody not already on it",
                severity="warning",
            )
    return people, moved


def _find_contract(raw: Any, cid: str) -> PosDict | None:
    if isinstance(raw, PosDict) and raw.get("contract") == cid:
        return raw
    if isinstance(raw, PosDict) and isinstance(raw.get("contracts"), PosList):
        for item in raw["contracts"]:
            if isinstance(item, PosDict) and item.get("contract") == cid:
                return item
    return None


def _plan_ops(node: PosDict, change: Change, file: str, diags: Diagnostics) -> None:
    components = node.get("components")
    for op, arg, line in change.ops:
        if op == "set":
            for path, value in arg.items():
                _set_path(node, path, _copy(value, LINE_OFFSET), arg.line_of(path), file, diags)
        elif op == "unset":
            for index, path in enumerate(arg):
                _unset_path(node, path, arg.line_of(index), file, diags)
        elif not isinstance(components, PosList):
            diags.add(file, line, f"plan '{change.ref}' has no list of components")
        elif op == "add_component":
            cid = arg.get("id")
            if any(isinstance(c, PosDict) and c.get("id") == cid for c in components):
                diags.add(file, line, f"plan '{change.ref}' already has a component '{cid}'")
                continue
            components.append(_copy(arg, LINE_OFFSET))
            components.item_lines.append(arg.line + LINE_OFFSET)
        else:
            cid = arg if op == "remove_component" else arg.get("id")
            pos = _index_of(components, str(cid))
            if pos is None:
                diags.add(
                    file, line, f"plan '{change.ref}' has no component '{cid}'{_ids(components)}"
                )
                continue
            if op == "remove_component":
                del components[pos]
                del components.item_lines[pos]
            else:
                components[pos] = _copy(arg, LINE_OFFSET)
                components.item_lines[pos] = arg.line + LINE_OFFSET


def _contract_ops(node: PosDict, change: Change, file: str, diags: Diagnostics) -> None:
    for op, arg, _line in change.ops:
        if op == "set":
            for path, value in arg.items():
                _set_path(node, path, _copy(value, LINE_OFFSET), arg.line_of(path), file, diags)
        else:
            for index, path in enumerate(arg):
                _unset_path(node, path, arg.line_of(index), file, diags)


def _ids(items: PosList) -> str:
    ids = [str(i.get("id")) for i in items if isinstance(i, PosDict) and "id" in i]
    return f" (has: {', '.join(ids)})" if ids else ""


def _index_of(items: PosList, seg: str) -> int | None:
    if seg.isdigit():
        index = int(seg)
        return index if index < len(items) else None
    for index, item in enumerate(items):
        if isinstance(item, PosDict) and str(item.get("id")) == seg:
            return index
    return None


def _walk(
    node: Any, segments: list[str], path: str, line: int, file: str, diags: Diagnostics
) -> Any:
    for depth, seg in enumerate(segments):
        where = ".".join(segments[:depth]) or "the top"
        if isinstance(node, PosDict):
            if seg not in node:
                keys = ", ".join(node) or "none"
                diags.add(file, line, f"'{path}': no '{seg}' in {where} (keys: {keys})")
                return None
            node = node[seg]
        elif isinstance(node, PosList):
            index = _index_of(node, seg)
            if index is None:
                diags.add(file, line, f"'{path}': no item '{seg}' in {where}{_ids(node)}")
                return None
            node = node[index]
        else:
            diags.add(file, line, f"'{path}': {where} is a value, not a mapping or list")
            return None
    return node


def _set_path(
    root: PosDict,
    path: str,
    value: Any,
    line: int,
    file: str,
    diags: Diagnostics,
    *,
    numeric: bool = False,
) -> None:
    segments = str(path).split(".")
    parent = _walk(root, segments[:-1], path, line, file, diags)
    last = segments[-1]
    if parent is None:
        return
    if numeric:
        current = _get(parent, last)
        if isinstance(current, PosDict) and "value" in current:
            parent, last = current, "value"
        elif current is None or isinstance(current, PosDict | PosList | bool):
            diags.add(file, line or None, f"'{path}' is not a number in the plan or contract")
            return
    if isinstance(parent, PosDict):
        parent[last] = value
        parent.key_lines[last] = parent.key_lines.get(last, line + LINE_OFFSET)
        if not numeric:
            parent.key_lines[last] = line + LINE_OFFSET
    elif isinstance(parent, PosList):
        index = _index_of(parent, last)
        if index is None:
            diags.add(file, line, f"'{path}': no item '{last}'{_ids(parent)}")
            return
        parent[index] = value
        if not numeric:
            parent.item_lines[index] = line + LINE_OFFSET
    else:
        diags.add(file, line, f"'{path}': cannot set inside a value")


def _get(parent: Any, key: str) -> Any:
    if isinstance(parent, PosDict):
        return parent.get(key)
    if isinstance(parent, PosList):
        index = _index_of(parent, key)
        return None if index is None else parent[index]
    return None


def get_path(root: Any, path: str) -> Any:
    """The value at ``path`` (None when absent); ``{value: x}`` mappings give x."""
    node = root
    for seg in path.split("."):
        node = _get(node, seg)
        if node is None:
            return None
    if isinstance(node, PosDict) and "value" in node:
        return node["value"]
    return node


def _unset_path(root: PosDict, path: str, line: int, file: str, diags: Diagnostics) -> None:
    segments = str(path).split(".")
    parent = _walk(root, segments[:-1], path, line, file, diags)
    last = segments[-1]
    if isinstance(parent, PosDict) and last in parent:
        del parent[last]
        parent.key_lines.pop(last, None)
    elif isinstance(parent, PosList) and _index_of(parent, last) is not None:
        index = _index_of(parent, last)
        assert index is not None
        del parent[index]
        del parent.item_lines[index]
    elif parent is not None:
        diags.add(file, line, f"'{path}': nothing to unset")


def _copy(node: Any, offset: int) -> Any:
    """A deep copy of YAML data with every line moved by ``offset``."""
    if isinstance(node, PosDict):
        out = PosDict()
        out.line = node.line + offset
        out.key_lines = {k: v + offset for k, v in node.key_lines.items()}
        for key, value in node.items():
            out[key] = _copy(value, offset)
        return out
    if isinstance(node, PosList):
        items = PosList(_copy(v, offset) for v in node)
        items.line = node.line + offset
        items.item_lines = [v + offset for v in node.item_lines]
        return items
    return node


def load_and_apply(
    loaded: Any, path: Path, overrides: Sequence[Override] = ()
) -> tuple[Reform, Applied]:
    """Read ``path`` and apply it to ``loaded``; raises PaycascadeError with every problem."""
    diags = Diagnostics()
    display = path.name
    try:
        display = path.resolve().relative_to(loaded.workspace.root.resolve()).as_posix()
    except ValueError:
        display = path.name
    reform = load_reform(path, display, diags)
    if reform is None:
        raise PaycascadeError(diags)
    return reform, apply_reform(loaded, reform, overrides)
