"""Suggested measures per factor, kept as data files in `suggestions/` (nb, nn, en),
read once when the app is built."""

import tomllib
from dataclasses import dataclass
from importlib.resources import files

from forbedring_chassis.web import LANGUAGES, Language


@dataclass(frozen=True)
class Suggestions:
    by_language: dict[Language, dict[str, tuple[str, ...]]]

    @classmethod
    def load(cls) -> "Suggestions":
        root = files("forbedring_actionplan") / "suggestions"
        loaded: dict[Language, dict[str, tuple[str, ...]]] = {}
        for language in LANGUAGES:
            data = tomllib.loads((root / f"{language}.toml").read_text(encoding="utf-8"))
            loaded[language] = {factor: tuple(texts) for factor, texts in data.items()}
        return cls(loaded)

    def for_factor(self, factor_id: str, language: Language) -> tuple[str, ...]:
        return self.by_language[language].get(factor_id, ())
