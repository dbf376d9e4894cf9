"""The shared page layer: languages, messages, escaping and links behind the proxy."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader

from forbedring_chassis.runtime import ForwardedPrefix
from forbedring_chassis.web import (
    CHASSIS_MESSAGES,
    LANGUAGE_COOKIE,
    LANGUAGES,
    NAV_SECTIONS,
    Catalog,
    CatalogError,
    MissingMessage,
    Pages,
    Viewer,
    install_pages,
    negotiate,
    render,
    sections_for,
    set_viewer,
    status_router,
)

SERVICE_MESSAGES = """
[service.name]
nb = "Eksempeltjeneste"
nn = "Dømeteneste"
en = "Example service"

[example.greeting]
nb = "Hei, {name}!"
nn = "Hei, {name}!"
en = "Hello, {name}!"
"""

TEMPLATES = {
    "greeting.html": (
        '{% extends "chassis/base.html" %}{% block title %}T{% endblock %}'
        '{% block content %}<h1>{{ t("example.greeting", name=name) }}</h1>'
        '<p id="raw">{{ name }}</p>'
        '<a id="self" href="{{ url_for(\'greeting\') }}">self</a>{% endblock %}'
    ),
    "unknown-message.html": '{{ t("no.such.message") }}',
}


def make_app(tmp_path: Path) -> FastAPI:
    messages = tmp_path / "messages.toml"
    messages.write_text(SERVICE_MESSAGES, encoding="utf-8")
    app = FastAPI()
    install_pages(app, Pages(templates=DictLoader(TEMPLATES), messages=[messages]))
    app.include_router(status_router())

    @app.get("/greeting", response_class=HTMLResponse, name="greeting")
    async def greeting(request: Request, name: str = "verden") -> HTMLResponse:
        return render(request, "greeting.html", {"name": name})

    @app.get("/signed-in", response_class=HTMLResponse)
    async def signed_in(request: Request, language: str) -> HTMLResponse:
        set_viewer(request, Viewer.holding((), name="Kari", language=language))
        return render(request, "greeting.html", {"name": "Kari"})

    @app.get("/unknown", response_class=HTMLResponse)
    async def unknown(request: Request) -> HTMLResponse:
        return render(request, "unknown-message.html")

    app.add_middleware(ForwardedPrefix)
    return app


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# --- language negotiation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("en", "nn", "nb", "en"),  # the explicit choice wins
        (None, "nn", "en", "nn"),  # then the remembered one
        ("xx", "nn", "en", "nn"),  # an unknown ?lang= is ignored
        (None, None, "en-GB,en;q=0.9", "en"),  # then the browser
        (None, "de", "nn-NO", "nn"),  # an unknown cookie is ignored
        (None, None, "de, en;q=0.5, nn;q=0.8", "nn"),  # by q-value, not by order
        (None, None, "no", "nb"),  # "Norwegian" means bokmål
        (None, None, "nb-NO;q=0.1, sv;q=0.9", "nb"),  # unsupported ones are skipped
        (None, None, "en;q=0", "nb"),  # q=0 means "not this"
        (None, None, "de, fr;q=bad", "nb"),  # nothing of ours: bokmål
        (None, None, None, "nb"),
    ],
)
def test_language_negotiation_order(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert negotiate(query=query, cookie=cookie, accept_language=accept) == expected


@pytest.mark.parametrize(
    ("query", "cookie", "preferred", "expected"),
    [
        (None, None, "nb", "nb"),  # the directory's language over the browser's English
        (None, None, "nn", "nn"),
        (None, None, None, "en"),  # no directory language: the browser's
        (None, None, "sv", "en"),  # not one of ours: the browser's
        ("en", None, "nb", "en"),  # an explicit choice first
        (None, "nn", "nb", "nn"),  # a remembered choice too
    ],
)
def test_the_persons_preferred_language_comes_before_the_browsers(
    query: str | None, cookie: str | None, preferred: str | None, expected: str
) -> None:
    assert (
        negotiate(query=query, cookie=cookie, preferred=preferred, accept_language="en-GB,en")
        == expected
    )


async def test_the_page_language_follows_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/greeting", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="en">' in response.text
    assert "Hello, verden!" in response.text
    assert response.headers["content-language"] == "en"
    assert LANGUAGE_COOKIE not in response.cookies  # nothing chosen, nothing remembered


async def test_an_explicit_choice_is_remembered(client: httpx.AsyncClient) -> None:
    response = await client.get("/greeting?lang=nn", headers={"Accept-Language": "en"})
    assert '<html lang="nn">' in response.text
    assert response.cookies[LANGUAGE_COOKIE] == "nn"
    # The next page without ?lang= keeps nynorsk, over the browser's English.
    again = await client.get("/greeting", headers={"Accept-Language": "en"})
    assert '<html lang="nn">' in again.text


async def test_a_persons_preferred_language_goes_with_them_to_the_other_services(
    client: httpx.AsyncClient,
) -> None:
    # Survey knows Kari prefers nynorsk; publication, on the same origin, knows no languages.
    first = await client.get("/signed-in?language=nn", headers={"Accept-Language": "en"})
    assert '<html lang="nn">' in first.text
    assert first.cookies[LANGUAGE_COOKIE] == "nn"
    cookie = next(c for c in first.cookies.jar if c.name == LANGUAGE_COOKIE)
    assert cookie.expires is None  # for the browser session: a later directory change wins
    elsewhere = await client.get("/greeting", headers={"Accept-Language": "en"})
    assert '<html lang="nn">' in elsewhere.text
    # A choice made on a page still wins over the preference.
    await client.get("/greeting?lang=en")
    chosen = await client.get("/signed-in?language=nn")
    assert '<html lang="en">' in chosen.text


# --- escaping and messages ------------------------------------------------------------


async def test_values_and_message_parameters_are_escaped(client: httpx.AsyncClient) -> None:
    response = await client.get("/greeting", params={"name": "<script>alert(1)</script>"})
    assert "<script>" not in response.text
    assert '<p id="raw">&lt;script&gt;alert(1)&lt;/script&gt;</p>' in response.text
    assert "Hei, &lt;script&gt;" in response.text


async def test_an_unknown_message_id_fails_loudly(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=make_app(tmp_path), raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(MissingMessage, match=r"no\.such\.message"):
            await client.get("/unknown")


def test_every_shared_message_exists_in_all_three_languages() -> None:
    catalog = Catalog.load(CHASSIS_MESSAGES)
    assert catalog.messages, "the chassis has shared messages"
    assert catalog.problems() == []
    for key, texts in catalog.messages.items():
        assert set(texts) == set(LANGUAGES), key


def test_message_ids_in_templates_are_checked_without_rendering(tmp_path: Path) -> None:
    messages = tmp_path / "messages.toml"
    messages.write_text(SERVICE_MESSAGES, encoding="utf-8")
    templates = {
        **TEMPLATES,
        "branch.html": (
            '{% if never %}{{ t("only.in.a.branch") }}{% endif %}{{ t("layout.site_name") }}'
        ),
    }
    pages = Pages(templates=DictLoader(templates), messages=[messages])
    assert sorted(pages.missing_messages()) == [
        "branch.html: only.in.a.branch",
        "unknown-message.html: no.such.message",
    ]


def test_the_chassis_templates_use_only_known_messages(tmp_path: Path) -> None:
    messages = tmp_path / "messages.toml"
    messages.write_text(SERVICE_MESSAGES, encoding="utf-8")  # defines service.name
    assert Pages(messages=[messages]).missing_messages() == []


def test_a_catalog_missing_a_language_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        '[a.one]\nnb = "x"\nnn = "y"\n\n[a.two]\nnb = "x"\nnn = "y"\nen = ""\n', encoding="utf-8"
    )
    with pytest.raises(CatalogError) as refused:
        Catalog.load(broken)
    assert "a.one" in str(refused.value)
    assert "a.two" in str(refused.value)  # every problem, not just the first


def test_a_message_defined_twice_is_refused(tmp_path: Path) -> None:
    clash = tmp_path / "clash.toml"
    clash.write_text('[layout.site_name]\nnb = "a"\nnn = "b"\nen = "c"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="already defined"):
        Catalog.load(CHASSIS_MESSAGES, clash)


# --- links behind the proxy -----------------------------------------------------------


async def test_links_carry_the_proxy_prefix(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/greeting?lang=en&name=x", headers={"X-Forwarded-Prefix": "/survey"}
    )
    page = response.text
    assert 'href="/survey/static/chassis/forbedring.css"' in page
    assert '<a class="site-name" href="/survey/">' in page
    assert '<a id="self" href="/survey/greeting">' in page
    # The switcher keeps the page and its query, changing only the language.
    assert 'href="/survey/greeting?name=x&amp;lang=nb"' in page
    assert 'href="/survey/greeting?name=x&amp;lang=nn"' in page


async def test_links_without_a_proxy_are_root_relative(client: httpx.AsyncClient) -> None:
    page = (await client.get("/greeting")).text
    assert 'href="/static/chassis/forbedring.css"' in page
    assert '<a id="self" href="/greeting">' in page


async def test_the_stylesheet_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/chassis/forbedring.css")
    assert response.status_code == 200
    assert "prefers-reduced-motion" in response.text


# --- the status page --------------------------------------------------------------------


async def test_the_status_page_names_the_service_in_each_language(
    client: httpx.AsyncClient,
) -> None:
    expected = {"nb": "Eksempeltjeneste", "nn": "Dømeteneste", "en": "Example service"}
    for language, name in expected.items():
        page = (await client.get(f"/?lang={language}")).text
        assert f'<html lang="{language}">' in page
        assert name in page


async def test_a_failing_check_makes_the_status_page_say_so(tmp_path: Path) -> None:
    messages = tmp_path / "messages.toml"
    messages.write_text(SERVICE_MESSAGES, encoding="utf-8")
    app = FastAPI()
    install_pages(app, Pages(messages=[messages]))

    async def checks(request: Request) -> dict[str, bool]:
        return {"PostgreSQL": True, "Kafka": False}

    app.include_router(status_router(checks=checks))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/?lang=en")
    assert response.status_code == 503
    assert "The service is not ready." in response.text
    assert '<th scope="row">Kafka</th><td>Failed</td>' in response.text


def test_render_without_install_pages_says_what_to_do() -> None:
    app = FastAPI()
    request = Request({"type": "http", "app": app, "headers": [], "query_string": b""})
    with pytest.raises(RuntimeError, match="install_pages"):
        render(request, "anything.html")


async def test_a_service_package_brings_templates_messages_and_static_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fake_service_pages"
    (package / "templates").mkdir(parents=True)
    (package / "static").mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "messages.toml").write_text(SERVICE_MESSAGES, encoding="utf-8")
    (package / "templates" / "home.html").write_text(
        '{% extends "chassis/base.html" %}{% block title %}{{ t("service.name") }}{% endblock %}'
        "{% block head %}<link rel=\"stylesheet\" href=\"{{ url_for('static', path='own.css') }}\">"
        '{% endblock %}{% block content %}<h1>{{ t("service.name") }}</h1>{% endblock %}',
        encoding="utf-8",
    )
    (package / "static" / "own.css").write_text("h1 { color: black; }", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))

    pages = Pages.for_package("fake_service_pages")
    assert pages.missing_messages() == []
    app = FastAPI()
    install_pages(app, pages)

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return render(request, "home.html")

    app.add_middleware(ForwardedPrefix)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = (await client.get("/?lang=nn", headers={"X-Forwarded-Prefix": "/svc"})).text
        assert "<h1>Dømeteneste</h1>" in page
        assert 'href="/svc/static/service/own.css"' in page
        assert (await client.get("/static/service/own.css")).text == "h1 { color: black; }"
        # An encoded "..", which the client does not normalise away, must not escape.
        escape = await client.get("/static/service/%2E%2E/messages.toml")
        assert escape.request.url.raw_path == b"/static/service/%2E%2E/messages.toml"
        assert escape.status_code == 404
        assert (await client.get("/static/chassis/nothing.css")).status_code == 404


def test_the_navigation_follows_the_roles_of_the_services_own_directory() -> None:
    assert sections_for([]) == {"start", "survey", "results"}
    assert sections_for(["leader"]) == {
        "start",
        "survey",
        "results",
        "participation",
        "actionplan",
    }
    assert sections_for(["hr_admin"]) == {"start", "survey", "results", "participation", "admin"}
    assert [key for key, _ in NAV_SECTIONS] == [
        "start",
        "survey",
        "participation",
        "results",
        "actionplan",
        "admin",
    ]
    assert all(href.startswith("/") for _, href in NAV_SECTIONS), "the proxy's one origin"
