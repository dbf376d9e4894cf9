"""Server-rendered pages: one Jinja2 environment per service, layered over the chassis.

A service's templates extend `chassis/base.html` (skip link, landmarks, language switcher,
the shared stylesheet). Every link is root-relative and carries the proxy prefix from
`scope["root_path"]` (set by the chassis from X-Forwarded-Prefix), so pages work both
directly and behind the proxy. Templates call `t("message.id")` for text and
`url_for("route-name", **params)` for links; `lang` is the page's language.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    PrefixLoader,
    StrictUndefined,
    nodes,
)
from starlette.staticfiles import StaticFiles

from forbedring_chassis.auth import Principal, current_principal
from forbedring_chassis.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie, with_tokens
from forbedring_chassis.errors import PageAnswer
from forbedring_chassis.web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGE_PARAM,
    LANGUAGES,
    Catalog,
    Language,
    is_language,
    negotiate,
)

_PACKAGE: Final = "forbedring_chassis.web"
CHASSIS_MESSAGES: Final[Traversable] = files(_PACKAGE) / "messages.toml"
CHASSIS_STATIC_ROUTE: Final = "static-chassis"
SERVICE_STATIC_ROUTE: Final = "static"
_COOKIE_MAX_AGE: Final = 365 * 24 * 3600


# The sections of the one navigation, in the header's order, each at its place behind the
# proxy's one origin. A service says which the person may use (see `Viewer`).
NAV_SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("start", "/survey/start"),
    ("survey", "/survey/"),
    ("participation", "/survey/participation"),
    ("results", "/publication/"),
    ("actionplan", "/actionplan/"),
    ("admin", "/survey/admin"),
)
_VIEWER_STATE: Final = "forbedring_viewer"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as this service's own directory copy has them (never the
    token's say): the name in the header, the preferred language, and the navigation
    sections (keys of NAV_SECTIONS) the person may use. A page handler sets it with
    `set_viewer` before `render`."""

    name: str | None = None
    language: str | None = None
    sections: frozenset[str] = frozenset({"start", "survey", "results"})

    @classmethod
    def holding(
        cls, roles: Iterable[str], *, name: str | None = None, language: str | None = None
    ) -> "Viewer":
        """The viewer whose sections are those `roles` give (`sections_for`)."""
        return cls(name=name, language=language, sections=sections_for(roles))


@dataclass(frozen=True)
class NavLink:
    key: str
    href: str
    current: bool


def sections_for(roles: Iterable[str]) -> frozenset[str]:
    """The navigation sections for the roles a service's directory copy gives the person:
    everyone has a start page, answers and reads results; a unit role adds participation
    and the plan; HR sees participation and the HR console (Admin)."""
    held = set(roles)
    sections = {"start", "survey", "results"}
    if held - {"hr_admin"}:
        sections |= {"participation", "actionplan"}
    if "hr_admin" in held:
        sections |= {"participation", "admin"}
    return frozenset(sections)


def set_viewer(request: Request, viewer: Viewer) -> None:
    setattr(request.state, _VIEWER_STATE, viewer)


def viewer_of(request: Request) -> Viewer | None:
    viewer = getattr(request.state, _VIEWER_STATE, None)
    return viewer if isinstance(viewer, Viewer) else None


def navigation(request: Request, viewer: Viewer | None) -> list[NavLink]:
    """The header's links the person may use; the one leading to this page is current."""
    if viewer is None:
        return []
    here = public_path(request)
    links = [(key, href) for key, href in NAV_SECTIONS if key in viewer.sections]
    # The longest matching prefix is current (participation, not survey, on its page).
    best = max(
        (href for _, href in links if here == href.rstrip("/") or here.startswith(href)),
        key=len,
        default=None,
    )
    return [NavLink(key=key, href=href, current=href == best) for key, href in links]


@dataclass(frozen=True)
class LanguageOption:
    """One entry of the language switcher."""

    code: Language
    name: str
    href: str
    current: bool


class Pages:
    """A service's templates and messages over the chassis's layout and shared messages.

    Build it in the app factory (it reads files) and hand it to `install_pages`.
    """

    def __init__(
        self,
        *,
        templates: BaseLoader | None = None,
        messages: Sequence[Path | Traversable] = (),
        static: Path | None = None,
    ) -> None:
        self.catalog = Catalog.load(CHASSIS_MESSAGES, *messages)
        self.static = static
        # "chassis/…" always names the chassis's templates; anything else is the service's.
        loaders: list[BaseLoader] = [PrefixLoader({"chassis": PackageLoader(_PACKAGE)})]
        if templates is not None:
            loaders.append(templates)
        self._loader = ChoiceLoader(loaders)
        self.environment = Environment(
            loader=self._loader,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )

    @classmethod
    def for_package(cls, package: str) -> "Pages":
        """The conventional layout: `<package>/templates/`, `<package>/messages.toml` and
        (optional) `<package>/static/`."""
        root = files(package)
        static = root / "static"
        return cls(
            templates=PackageLoader(package) if (root / "templates").is_dir() else None,
            messages=[root / "messages.toml"],
            static=Path(str(static)) if static.is_dir() else None,
        )

    def missing_messages(self) -> list[str]:
        """Every `t("literal.id")` in any template whose id no catalog defines, as
        "template: id" (for a test: branches a test never renders are checked too)."""
        missing: list[str] = []
        for name in self.environment.list_templates():
            source, _, _ = self._loader.get_source(self.environment, name)
            for call in self.environment.parse(source).find_all(nodes.Call):
                if (
                    isinstance(call.node, nodes.Name)
                    and call.node.name == "t"
                    and call.args
                    and isinstance(call.args[0], nodes.Const)
                    and call.args[0].value not in self.catalog.messages
                ):
                    missing.append(f"{name}: {call.args[0].value}")
        return missing

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        language = request_language(request)

        def t(key: str, /, **params: object) -> str:
            return self.catalog.text(key, language, **params)

        def url_for(name: str, /, **params: Any) -> str:
            return url_path(request, name, **params)

        viewer = viewer_of(request)
        html = self.environment.get_template(template).render(
            {
                **(context or {}),
                "viewer": viewer,
                "nav": navigation(request, viewer),
                "request": request,
                "lang": language,
                "t": t,
                "url_for": url_for,
                "home_url": public_root(request) + "/",
                "languages": language_options(request, language),
                "signout_url": public_root(request) + "/signout",
                "csrf_field": CSRF_FIELD,
                "csrf_token": csrf_token(request),
            }
        )
        # Every form that posts carries the CSRF token (forbedring_chassis.csrf).
        response = HTMLResponse(with_tokens(html, request), status_code=status_code)
        set_csrf_cookie(request, response)
        response.headers["Content-Language"] = language
        response.headers["Vary"] = "Accept-Language, Cookie"
        chosen = request.query_params.get(LANGUAGE_PARAM)
        if is_language(chosen) and chosen != request.cookies.get(LANGUAGE_COOKIE):
            # Remembered across the services: they share one origin behind the proxy.
            _remember_language(request, response, chosen, max_age=_COOKIE_MAX_AGE)
        elif LANGUAGE_COOKIE not in request.cookies and is_language(
            preferred := getattr(viewer_of(request), "language", None)
        ):
            # Only survey knows a person's preferred language; a cookie for the browser
            # session carries it to the other services, which keep no languages.
            _remember_language(request, response, preferred, max_age=None)
        return response


def _remember_language(
    request: Request, response: HTMLResponse, language: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=max_age,
        path="/",
        samesite="lax",
        httponly=True,
        secure=request.url.scheme == "https",
    )


def install_pages(app: FastAPI, pages: Pages) -> None:
    """Make `render` work in this app and serve the stylesheets under its root path."""
    app.state.pages = pages
    _serve_static(app, "/static/chassis", CHASSIS_STATIC_ROUTE, [(_PACKAGE, "static")], None)
    if pages.static is not None:
        _serve_static(app, "/static/service", SERVICE_STATIC_ROUTE, None, pages.static)


def _serve_static(
    app: FastAPI,
    prefix: str,
    name: str,
    packages: list[str | tuple[str, str]] | None,
    directory: Path | None,
) -> None:
    """Static files through a route rather than a mount: Starlette's mounts expect the
    ASGI path to include `root_path`, which a prefix-stripping proxy leaves out, so a
    mount answers 404 behind the proxy. Routes match either way."""
    static_files = StaticFiles(directory=directory, packages=packages)

    async def static_file(path: str, request: Request) -> Response:
        if ".." in path.split("/"):
            raise HTTPException(status_code=404)
        return await static_files.get_response(path, request.scope)

    app.add_api_route(
        prefix + "/{path:path}",
        static_file,
        methods=["GET", "HEAD"],
        name=name,
        include_in_schema=False,
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render one of the service's templates in the request's language."""
    pages = getattr(request.app.state, "pages", None)
    if not isinstance(pages, Pages):
        raise RuntimeError("no pages in this app: call install_pages(app, pages) first")
    return pages.render(request, template, context, status_code=status_code)


def request_language(request: Request) -> Language:
    viewer = viewer_of(request)
    return negotiate(
        query=request.query_params.get(LANGUAGE_PARAM),
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        preferred=viewer.language if viewer is not None else None,
        accept_language=request.headers.get("accept-language"),
    )


def public_root(request: Request) -> str:
    """The prefix under which the browser reaches this app ("" when reached directly)."""
    scope = request.scope
    root: str = scope.get("app_root_path", scope.get("root_path", ""))
    return root.rstrip("/")


def public_path(request: Request) -> str:
    """The path of this request as the browser sees it, prefix included."""
    root = public_root(request)
    path: str = request.scope["path"]
    # ASGI says `path` includes `root_path`; a prefix-stripping proxy leaves it out.
    if root and (path == root or path.startswith(root + "/")):
        return path
    return root + path


def url_path(request: Request, name: str, /, **params: Any) -> str:
    """A root-relative link to a named route (e.g. a static file), with the prefix."""
    return public_root(request) + str(request.app.url_path_for(name, **params))


def language_options(request: Request, current: Language) -> list[LanguageOption]:
    """This page in each language: the same path and query, with `lang` replaced."""
    path = public_path(request)
    others = [(k, v) for k, v in request.query_params.multi_items() if k != LANGUAGE_PARAM]
    return [
        LanguageOption(
            code=code,
            name=LANGUAGE_NAMES[code],
            href=f"{path}?{urlencode([*others, (LANGUAGE_PARAM, code)])}",
            current=code == current,
        )
        for code in LANGUAGES
    ]


HealthChecks = Callable[[Request], Awaitable[Mapping[str, bool]]]


def status_router(*, path: str = "/", checks: HealthChecks | None = None) -> APIRouter:
    """A translated page naming the service (message `service.name`) and its health.

    `checks` returns named results (e.g. {"PostgreSQL": True}); without it the page says
    only that the service answers.
    """
    router = APIRouter(include_in_schema=False)

    @router.get(path, response_class=HTMLResponse, name="status-page")
    async def status_page(request: Request) -> HTMLResponse:
        results = dict(await checks(request)) if checks is not None else {}
        ready = all(results.values())
        return render(
            request,
            "chassis/status.html",
            {"checks": results, "ready": ready},
            status_code=200 if ready else 503,
        )

    return router


async def signed_in(request: Request) -> Principal | None:
    """The signed-in person, or None: a page then answers with `sign_in_page`."""
    try:
        return await current_principal(request)
    except HTTPException:
        return None


async def page_principal(
    request: Request,
    *,
    why: str,
    viewer: Callable[[Principal], Awaitable[Viewer]] | None = None,
) -> Principal:
    """The signed-in person a page is for; anyone else gets `sign_in_page` saying `why`
    instead of the route. With `viewer`, the header shows `viewer(principal)`: what this
    service's directory copy says of them, never the token's roles."""
    principal = await signed_in(request)
    if principal is None:
        raise PageAnswer(sign_in_page(request, why=why))
    if viewer is not None:
        set_viewer(request, await viewer(principal))
    return principal


def sign_in_page(request: Request, *, why: str) -> HTMLResponse:
    """401: a page asking the person to sign in, saying `why` (a message key), with a
    link to the trust's sign-in (or the development one where only that is enabled)."""
    root = public_root(request)
    settings = request.app.state.runtime.settings
    here = quote(public_path(request))
    login = None
    if settings.oidc_issuer and settings.oidc_client_id:
        login = f"{root}/signin?next={here}"
    elif settings.dev_issuer_enabled:
        # `here`, not the root plus request.url.path: behind the proxy that path already
        # carries the prefix, and the sign-in led to /survey/survey/... (404)
        login = f"{root}/dev-login?next={here}"
    return render(request, "chassis/signin.html", {"login_url": login, "why": why}, status_code=401)
