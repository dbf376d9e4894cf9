"""The local infrastructure's ports are kept out of Linux's ephemeral range (infra.sh
`reserve_ports`): else, while a server is down, an outgoing connection may be given its
port and the server cannot start again (a fault case's Kafka restart failed so)."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from forbedring_chassis.testing import Infrastructure

pytestmark = pytest.mark.infra

RESERVED = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def _reserved() -> set[int]:
    ports: set[int] = set()
    for part in RESERVED.read_text().strip().split(","):
        if part:
            low, _, high = part.partition("-")
            ports.update(range(int(low), int(high or low) + 1))
    return ports


def test_the_brokers_database_and_caches_ports_are_never_handed_out_as_ephemeral(
    infrastructure: Infrastructure,
) -> None:
    ports = {
        int(infrastructure.kafka_bootstrap_servers.rsplit(":", 1)[1]),
        urlsplit(infrastructure.database_url).port,
        urlsplit(infrastructure.redis_url).port,
    }
    assert ports <= _reserved(), (ports, RESERVED.read_text())
