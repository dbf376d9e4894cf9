"""Shared web pages: layout, stylesheet, languages and translations for every service.

    pages = Pages.for_package("forbedring_survey")   # templates/, messages.toml, static/
    install_pages(app, pages)                         # in the app factory
    ...
    return render(request, "form.html", {"questions": questions})   # in a route

A service template starts with `{% extends "chassis/base.html" %}`.
"""

from forbedring_chassis.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGE_PARAM,
    LANGUAGES,
    Catalog,
    CatalogError,
    Language,
    MissingMessage,
    negotiate,
)
from forbedring_chassis.web.moments import TRUST_ZONE, from_local_field, local_time
from forbedring_chassis.web.pages import (
    CHASSIS_MESSAGES,
    NAV_SECTIONS,
    HealthChecks,
    LanguageOption,
    NavLink,
    Pages,
    Viewer,
    install_pages,
    page_principal,
    public_path,
    public_root,
    render,
    request_language,
    sections_for,
    set_viewer,
    sign_in_page,
    signed_in,
    status_router,
    url_path,
    viewer_of,
)

__all__ = [
    "CHASSIS_MESSAGES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_COOKIE",
    "LANGUAGE_NAMES",
    "LANGUAGE_PARAM",
    "NAV_SECTIONS",
    "TRUST_ZONE",
    "Catalog",
    "CatalogError",
    "HealthChecks",
    "Language",
    "LanguageOption",
    "MissingMessage",
    "NavLink",
    "Pages",
    "Viewer",
    "from_local_field",
    "install_pages",
    "local_time",
    "negotiate",
    "page_principal",
    "public_path",
    "public_root",
    "render",
    "request_language",
    "sections_for",
    "set_viewer",
    "sign_in_page",
    "signed_in",
    "status_router",
    "url_path",
    "viewer_of",
]
