"""The one place the chassis meets the contracts' envelope (CloudEvents binary mode)."""

from dataclasses import dataclass

from forbedring_contracts import envelope
from pydantic import BaseModel


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    timestamp_ms: int | None


@dataclass(frozen=True)
class Received:
    id: str
    event: BaseModel


InvalidEvent = envelope.InvalidEvent


def encode(event: BaseModel) -> Record:
    raise NotImplementedError


def decode(value: bytes | None, headers: list[tuple[str, bytes]]) -> Received:
    raise NotImplementedError
