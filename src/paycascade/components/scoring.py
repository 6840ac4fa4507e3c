"""How a component picks a physician's scorecard: one for the plan, or one per specialty."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paycascade.plans.model import Frame
from paycascade.plans.params import Reader
from paycascade.plans.scorecard import ScoreResult
from paycascade.plans.yamlpos import PosDict


@dataclass(frozen=True)
class ScorecardChoice:
    default: str | None
    by_specialty: tuple[tuple[str, str], ...]

    def ids(self) -> list[str]:
        ids = [card for _, card in self.by_specialty]
        if self.default:
            ids.append(self.default)
        return sorted(set(ids))

    def for_specialty(self, specialty: str) -> str | None:
        return dict(self.by_specialty).get(specialty, self.default)

    def scores(self, frame: Frame) -> list[ScoreResult | None]:
        """Each physician's score on their scorecard (None: no scorecard for their specialty)."""
        result: list[ScoreResult | None] = []
        for i, p in enumerate(frame.physicians):
            card = self.for_specialty(p.specialty)
            if card is None or card not in frame.scorecards:
                result.append(None)
                continue
            score = frame.score_of(card, i)
            frame.used_scores.setdefault(p.npi, {})[card] = score
            result.append(score)
        return result


def parse_choice(r: Reader) -> ScorecardChoice | None:
    """``scorecard: pcp`` or ``scorecard: {Cardiology: cardio, default: general}``."""
    value = r.raw("scorecard")
    if value is None:
        r.error(None, "missing 'scorecard'")
        return None
    if isinstance(value, str):
        return ScorecardChoice(value, ())
    if isinstance(value, PosDict):
        pairs: Mapping[str, object] = value
        default = pairs.get("default")
        by = tuple(sorted((str(k), str(v)) for k, v in pairs.items() if k != "default"))
        return ScorecardChoice(None if default is None else str(default), by)
    r.error(
        "scorecard", "'scorecard' must be a scorecard id or a mapping of specialty to scorecard id"
    )
    return None
