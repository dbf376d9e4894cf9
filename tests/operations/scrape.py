"""Reading a service's /metrics the way Prometheus does (its text format, parsed by
prometheus_client's own parser)."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    families: frozenset[str]
    """The family names, as exposed (a counter `x_total` is family `x`)."""
    samples: tuple[tuple[str, dict[str, str], float], ...]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named `name` whose labels include `labels`."""
        return sum(
            value
            for sample, sample_labels, value in self.samples
            if sample == name and labels.items() <= sample_labels.items()
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {labels[label] for sample, labels, _ in self.samples if sample == name}


async def scrape(client: httpx.AsyncClient) -> Scrape:
    reply = await client.get("/metrics/")
    assert reply.status_code == 200, reply.text
    families = list(text_string_to_metric_families(reply.text))
    return Scrape(
        frozenset(f.name for f in families),
        tuple((s.name, dict(s.labels), s.value) for f in families for s in f.samples),
    )
