import httpx

from forbedring_survey.app import create_app
from forbedring_survey.settings import SurveySettings

UNREACHABLE = SurveySettings(
    database_url="postgresql://nobody:nothing@127.0.0.1:1/none",
    kafka_bootstrap_servers="127.0.0.1:1",
    redis_url="redis://127.0.0.1:1/0",
)


async def test_building_an_app_connects_to_nothing_and_docs_follow_the_proxy_prefix() -> None:
    app = create_app(UNREACHABLE)  # nothing listens on port 1: any I/O here would fail
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        docs = await client.get("/docs", headers={"X-Forwarded-Prefix": "/survey"})
        assert docs.status_code == 200
        assert "/survey/openapi.json" in docs.text
        plain = await client.get("/docs")
        assert "'/openapi.json'" in plain.text or '"/openapi.json"' in plain.text
        assert (await client.get("/healthz")).json() == {"status": "alive"}
