"""Unit results built from respondents' answers, scored the way the aggregation service
scores them (Safety Attitudes Questionnaire: an answer a scores (a - 1) x 25, a factor
score is the mean of a respondent's valid answers to its items, positive at 75 or more;
figures rounded to two decimals), so that test data is consistent: a unit's cells agree
with its answers, and a roll-up is the sum of its sub-units' answers."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from forbedring_contracts import examples
from forbedring_contracts.events import (
    FactorResult,
    Indicator,
    Item,
    ItemResult,
    PublishedUnitResults,
    ScaleDistribution,
    ScaleItemResult,
    SubUnitsRollUp,
    Texts,
    YesNoItemResult,
)

Answer = int | Literal["dont_know", "yes", "no"]
Respondent = Mapping[str, Answer]
"""One respondent's answers by item id (an item left out was not answered)."""

K = 5
OPTIONS = ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree")


@dataclass(frozen=True)
class Spec:
    item_id: str
    kind: Literal["scale", "yes_no"] = "scale"
    factor_id: str | None = "sc"
    reverse_scored: bool = False

    def item(self) -> Item:
        """The questionnaire's item, texts made of its id; a yes/no item is sensitive."""
        text = Texts(nb=f"{self.item_id} nb", nn=f"{self.item_id} nn", en=f"{self.item_id} en")
        return Item(**asdict(self), sensitive=self.kind == "yes_no", text=text)


SPECS = (Spec("sc1"),)
"""The test questionnaire of the integration tests: one scale item in factor `sc`."""


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 2)


def score(spec: Spec, answer: int) -> float:
    return (5 - answer) * 25.0 if spec.reverse_scored else (answer - 1) * 25.0


def figures(
    respondents: Sequence[Respondent], specs: Sequence[Spec] = SPECS
) -> tuple[tuple[FactorResult, ...], tuple[ItemResult, ...]]:
    """The factor and item results of these respondents' answers."""
    items: list[ItemResult] = []
    for spec in specs:
        answers = [r[spec.item_id] for r in respondents if spec.item_id in r]
        if spec.kind == "yes_no":
            yes, no = answers.count("yes"), answers.count("no")
            items.append(
                YesNoItemResult(
                    kind="yes_no",
                    item_id=spec.item_id,
                    yes=yes,
                    no=no,
                    percent_yes=percent(yes, yes + no) if yes + no >= K else None,
                )
            )
            continue
        valid = [a for a in answers if isinstance(a, int)]
        show = len(valid) >= K
        items.append(
            ScaleItemResult(
                kind="scale",
                item_id=spec.item_id,
                distribution=ScaleDistribution(
                    **{key: valid.count(n) for n, key in enumerate(OPTIONS, start=1)},
                    dont_know=answers.count("dont_know"),
                ),
                valid=len(valid),
                mean=round(sum(score(spec, a) for a in valid) / len(valid), 2) if show else None,
                percent_agree=percent(sum(a >= 4 for a in valid), len(valid)) if show else None,
            )
        )
    factors: list[FactorResult] = []
    for factor_id in dict.fromkeys(s.factor_id for s in specs if s.factor_id):
        scale = [s for s in specs if s.factor_id == factor_id and s.kind == "scale"]
        scores = []
        for respondent in respondents:
            mine = [score(s, a) for s in scale if isinstance(a := respondent.get(s.item_id), int)]
            if mine:
                scores.append(sum(mine) / len(mine))
        show = len(scores) >= K
        factors.append(
            FactorResult(
                factor_id=factor_id,
                scored=len(scores),
                mean=round(sum(scores) / len(scores), 2) if show else None,
                percent_positive=percent(sum(s >= 75 for s in scores), len(scores))
                if show
                else None,
            )
        )
    return tuple(factors), tuple(items)


def published(
    period_id: str,
    unit_id: str,
    respondents: Sequence[Respondent],
    *,
    eligible: int,
    specs: Sequence[Spec] = SPECS,
) -> PublishedUnitResults:
    factors, items = figures(respondents, specs)
    agree = next((i.percent_agree for i in items if isinstance(i, ScaleItemResult)), None)
    saq = next((f.percent_positive for f in factors if f.factor_id == "sc"), None)
    return examples.published_results(
        period_id,
        unit_id,
        respondents=len(respondents),
        eligible=eligible,
        factors=factors,
        items=items,
        indicators=(
            Indicator(
                indicator_id="good_safety_climate_agree",
                value=agree,
                threshold=75,
                met=None if agree is None else agree >= 75,
            ),
            Indicator(
                indicator_id="good_safety_climate_saq",
                value=saq,
                threshold=60,
                met=None if saq is None else saq >= 60,
            ),
        ),
    )


def roll_up(
    sub_units: Mapping[str, Sequence[Respondent]],
    *,
    eligible: int,
    unit_respondents: int,
    specs: Sequence[Spec] = SPECS,
) -> SubUnitsRollUp:
    """The roll-up of these published sub-units, scored over their answers together (as
    the aggregation service sums the sub-units' counters)."""
    everyone = [r for answers in sub_units.values() for r in answers]
    factors, items = figures(everyone, specs)
    return SubUnitsRollUp(
        sub_units=tuple(sub_units),
        respondents=len(everyone),
        unit_respondents=unit_respondents,
        eligible=eligible,
        factors=factors,
        items=items,
        withheld_items=(),
    )


def scale_answers(*answers: Answer, item_id: str = "sc1") -> list[Respondent]:
    """Respondents answering one item each (the integration tests' questionnaire)."""
    return [{item_id: a} for a in answers]
