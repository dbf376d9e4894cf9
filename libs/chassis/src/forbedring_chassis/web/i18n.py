"""Languages and messages: bokmål, nynorsk and English.

A catalog is a TOML file of message ids, each with its text in every language:

    [status.heading]
    nb = "Status for tenesta"   # …
    nn = "…"
    en = "…"

Placeholders use `{name}` and are filled by `Catalog.text(..., name=...)`. Loading refuses
a file where a message lacks a language, and asking for an unknown id raises, so a
missing translation fails the first test that renders the page rather than a user.
"""

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final, Literal, TypeGuard, get_args

Language = Literal["nb", "nn", "en"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
DEFAULT_LANGUAGE: Final[Language] = "nb"
LANGUAGE_COOKIE: Final = "forbedring_lang"
LANGUAGE_PARAM: Final = "lang"

# Language names in their own language: a reader looks for the one they can read.
LANGUAGE_NAMES: Final[Mapping[Language, str]] = {
    "nb": "Norsk bokmål",
    "nn": "Norsk nynorsk",
    "en": "English",
}

# Accept-Language tags (primary subtag) that mean one of ours. "no" is Norwegian without
# a written standard named; bokmål is what nearly everyone who sends it reads.
_TAGS: Final[Mapping[str, Language]] = {"nb": "nb", "no": "nb", "nn": "nn", "en": "en"}


def is_language(value: object) -> TypeGuard[Language]:
    return value in LANGUAGES


class CatalogError(ValueError):
    """A catalog file is malformed, incomplete or clashes with another."""


class MissingMessage(KeyError):
    """A template or handler asked for a message id no catalog defines."""


@dataclass(frozen=True)
class Catalog:
    messages: Mapping[str, Mapping[Language, str]]

    @classmethod
    def load(cls, *sources: Path | Traversable) -> "Catalog":
        """Merge TOML catalogs; a message id defined twice is an error."""
        merged: dict[str, Mapping[Language, str]] = {}
        for source in sources:
            for key, texts in _parse(source).items():
                if key in merged:
                    raise CatalogError(f"{source}: message {key!r} is already defined")
                merged[key] = texts
        return cls(merged)

    def text(self, key: str, language: Language, /, **params: object) -> str:
        try:
            template = self.messages[key][language]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in language {language!r}") from None
        return template.format_map(params) if params else template

    def problems(self) -> list[str]:
        """Every message id lacking a language or with an empty text (for tests)."""
        return [
            f"{key}: {language} missing or empty"
            for key, texts in sorted(self.messages.items())
            for language in LANGUAGES
            if not texts.get(language, "").strip()
        ]


def _parse(source: Path | Traversable) -> dict[str, Mapping[Language, str]]:
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogError(f"{source}: {error}") from error
    found: dict[str, Mapping[Language, str]] = {}
    problems: list[str] = []
    _collect(data, "", found, problems)
    if problems:
        raise CatalogError(f"{source}:\n  " + "\n  ".join(problems))
    return found


def _collect(
    table: Mapping[str, object],
    prefix: str,
    found: dict[str, Mapping[Language, str]],
    problems: list[str],
) -> None:
    """A table whose keys are languages is a message; any other table is a namespace."""
    if table and all(is_language(k) for k in table):
        key = prefix.rstrip(".")
        texts = {k: v for k, v in table.items() if is_language(k) and isinstance(v, str)}
        missing = [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]
        if missing or len(texts) != len(table):
            problems.append(f"{key}: needs a non-empty text in {', '.join(LANGUAGES)}")
        else:
            found[key] = texts
        return
    for name, value in table.items():
        if isinstance(value, dict):
            _collect(value, f"{prefix}{name}.", found, problems)
        else:
            problems.append(f"{prefix}{name}: expected a table of {', '.join(LANGUAGES)}")


def negotiate(
    *,
    query: str | None,
    cookie: str | None,
    accept_language: str | None,
    preferred: str | None = None,
) -> Language:
    """The explicit choice (?lang=), then the remembered one (cookie), then the person's
    preferred language from the directory, then the browser's preferences
    (Accept-Language, by q-value), then bokmål."""
    for value in (query, cookie, preferred):
        if is_language(value):
            return value
    for tag in _ranked_tags(accept_language or ""):
        language = _TAGS.get(tag.split("-", 1)[0])
        if language is not None:
            return language
    return DEFAULT_LANGUAGE


def _ranked_tags(header: str) -> Iterable[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return (tag for _, _, tag in sorted(ranked))
