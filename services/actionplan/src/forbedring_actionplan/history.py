"""History entries: stored as a code (the action) and parameters, shown in the reader's
language. `summary` is the English line the API has always given (field codes, raw
values); `text` is the same change in bokmål, nynorsk or English with the page's words.
Rows written before the parameters existed keep their stored English sentence."""

from collections.abc import Callable, Mapping
from datetime import date
from importlib.resources import files
from typing import Any, Final

from forbedring_chassis.web import Catalog, Language

CATALOG: Final = Catalog.load(files("forbedring_actionplan") / "messages.toml")

# The measure fields whose values a change names (the others are texts: named, not quoted).
QUOTED: Final = frozenset(
    {
        "category",
        "linked_id",
        "responsible_person_id",
        "deadline",
        "continued",
        "status",
        "evaluation_decision",
    }
)
# The message table whose words name a field's coded values.
_CODES: Final[Mapping[str, str]] = {
    "category": "category",
    "status": "measure_status",
    "evaluation_decision": "decision",
}


def value(raw: object) -> object:
    """A field's value as a parameter (JSON): dates as ISO days."""
    return raw.isoformat() if isinstance(raw, date) else raw


def summary(action: str, params: Mapping[str, Any]) -> str:
    """The English line with the stored codes, as the API gave it before `text`."""
    p = params
    match action:
        case "opened":
            return f"Plan opened with {p['count']} suggested focus areas ({p['source']})."
        case "focus_area":
            return f"Focus area {p['ref_id']}: {p['before']} → {p['after']}."
        case "dialogue":
            return f"Recorded {p['step']} on {p['held_on']}."
        case "comment":
            return "Comment added."
        case "carry_over":
            return f"Carried over {p['count']} unfinished measures."
        case "completed":
            return f"Completed version {p['version']}."
        case "measure_added":
            return f"Measure added: {p['title']}."
        case "measure_changed":
            changes = [
                f"{c['field']}: {_raw(c.get('before'))} → {_raw(c.get('after'))}"
                if c["field"] in QUOTED
                else f"{c['field']} changed"
                for c in p["changes"]
            ]
            return f"{p['title']}: " + "; ".join(changes) + "."
        case "escalated":
            return f"{p['title']}: lifted to {p['unit_name']}."
        case "escalation_accepted":
            return f"{p['title']}: taken over from a sub-unit."
        case "escalation_declined":
            return f"{p['title']}: declined, back to the sub-unit."
        case "escalation_decided":
            return f"Escalated measure {p['outcome']} by the plan above."
    return action


def _raw(v: object) -> str:
    if v is None or v == "":
        return "-"
    return str(v)


def day(value: date, language: Language) -> str:
    return value.strftime("%-d %b %Y") if language == "en" else value.strftime("%d.%m.%Y")


class Words:
    """What a history text names, in one language: the catalog's words for codes, the
    questionnaire's for items and factors, the directory's for people and units."""

    def __init__(
        self,
        language: Language,
        *,
        ref_name: Callable[[str], str],
        person_name: Callable[[str], str],
        unit_name: Callable[[str], str | None],
    ) -> None:
        self.language = language
        self.ref_name = ref_name
        self.person_name = person_name
        self.unit_name = unit_name

    def t(self, key: str, /, **params: object) -> str:
        return CATALOG.text(key, self.language, **params)

    def field_value(self, field: str, raw: object) -> str:
        if raw is None or raw == "":
            return "-"
        if field in _CODES:
            return self.t(f"{_CODES[field]}.{raw}")
        if field == "deadline":
            return day(date.fromisoformat(str(raw)), self.language)
        if field == "continued":
            return self.t(f"history_value.{'yes' if raw else 'no'}")
        if field == "linked_id":
            return self.ref_name(str(raw))
        if field == "responsible_person_id":
            return self.person_name(str(raw))
        return str(raw)


def text(action: str, params: Mapping[str, Any] | None, stored: str | None, words: Words) -> str:
    """The entry in the reader's language; an entry stored before the parameters existed
    shows its action in that language and its stored English sentence."""
    if params is None:
        return f"{words.t('history.' + action)} ({stored or ''})".strip()
    p = params
    t = words.t
    match action:
        case "opened":
            return t(
                "history_text.opened",
                count=p["count"],
                source=t(f"history_source.{p['source']}"),
            )
        case "focus_area":
            return t(
                "history_text.focus_area",
                area=words.ref_name(p["ref_id"]),
                before=t(f"focus_decision.{p['before']}"),
                after=t(f"focus_decision.{p['after']}"),
            )
        case "dialogue":
            return t(
                "history_text.dialogue",
                step=t(f"dialogue_step.{p['step']}"),
                held_on=day(date.fromisoformat(p["held_on"]), words.language),
            )
        case "carry_over" | "completed" | "comment" | "measure_added":
            return t(f"history_text.{action}", **p)
        case "measure_changed":
            changes = [
                t(
                    "history_change.set",
                    field=t(f"history_field.{c['field']}"),
                    before=words.field_value(c["field"], c.get("before")),
                    after=words.field_value(c["field"], c.get("after")),
                )
                if c["field"] in QUOTED
                else t("history_change.changed", field=t(f"history_field.{c['field']}"))
                for c in p["changes"]
            ]
            return t("history_text.measure_changed", title=p["title"], changes="; ".join(changes))
        case "escalated":
            unit = words.unit_name(p["unit_id"]) or p["unit_name"]
            return t("history_text.escalated", title=p["title"], unit=unit)
        case "escalation_accepted" | "escalation_declined":
            return t(f"history_text.{action}", title=p["title"])
        case "escalation_decided":
            return t(f"history_text.decided_{p['outcome']}")
    return t(f"history.{action}")
