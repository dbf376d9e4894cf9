from typing import ClassVar

import httpx

from forbedring_chassis.runtime import create_service_app
from forbedring_chassis.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    service_name: ClassVar[str] = "example"


UNREACHABLE = ExampleSettings(
    database_url="postgresql://nobody:nothing@127.0.0.1:1/none",
    kafka_bootstrap_servers="127.0.0.1:1",
    redis_url="redis://127.0.0.1:1/0",
)


async def test_building_an_app_connects_to_nothing_and_docs_follow_the_proxy_prefix() -> None:
    # Nothing listens on port 1: any I/O while building would fail.
    app = create_service_app(settings=UNREACHABLE, package="forbedring_chassis")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        docs = await client.get("/docs", headers={"X-Forwarded-Prefix": "/example"})
        assert docs.status_code == 200
        assert "/example/openapi.json" in docs.text
        plain = await client.get("/docs")
        assert "'/openapi.json'" in plain.text or '"/openapi.json"' in plain.text
        assert (await client.get("/healthz")).json() == {"status": "alive"}
        metrics = await client.get("/metrics/")
        assert metrics.status_code == 200
        assert "http_requests_total" in metrics.text
