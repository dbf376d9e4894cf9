"""CSRF protection for every HTML form, beyond SameSite and the cross-site guard: a
double-submit token. A random value in a SameSite=Strict, HttpOnly cookie for the whole
origin, which every rendered form repeats in a hidden field; another site can neither read
the cookie nor set it, so it cannot write a form post that carries both.

Pages get it for free: `Pages.render` sets the cookie when missing and puts the hidden
field into every `<form method="post">` it renders. A page router (or one form route)
declares `dependencies=[CsrfProtected]`, which refuses a post without a matching pair
with 403 in the one error shape, and lets GET and HEAD through, and posts signed in with
a bearer token rather than the cookie (API clients, tests). See docs/security.md.
"""

import re
import secrets
from typing import Final

from fastapi import Depends, Request
from markupsafe import escape
from starlette.responses import Response

from forbedring_chassis.errors import ServiceError

CSRF_COOKIE: Final = "forbedring_csrf"
CSRF_FIELD: Final = "csrf_token"
_STATE: Final = "forbedring_csrf_token"
_POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']?post\b[^>]*>", re.IGNORECASE)


class CsrfRefused(ServiceError):
    status_code = 403
    code = "csrf_refused"


def csrf_token(request: Request) -> str:
    """This browser's token: the cookie's, or a new one that `set_csrf_cookie` will set."""
    token = getattr(request.state, _STATE, None)
    if not isinstance(token, str):
        cookie = request.cookies.get(CSRF_COOKIE)
        token = cookie if cookie and len(cookie) >= 32 else secrets.token_urlsafe(32)
        setattr(request.state, _STATE, token)
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = csrf_token(request)
    if request.cookies.get(CSRF_COOKIE) == token:
        return
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def hidden_field(request: Request) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">'


def with_tokens(html: str, request: Request) -> str:
    """`html` with the token's hidden field first in every form that posts."""
    field = hidden_field(request)
    return _POST_FORM.sub(lambda found: found.group(0) + field, html)


async def require_csrf(request: Request) -> None:
    """The route's dependency: the posted field must equal the cookie."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("authorization"):
        # Signed in by the header, not the cookie (auth.current_principal): a browser never
        # adds it to another site's form post, so there is nothing to forge.
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    posted = (await request.form()).get(CSRF_FIELD)
    if (
        not cookie
        or not isinstance(posted, str)
        or not secrets.compare_digest(cookie.encode(), posted.encode())
    ):
        raise CsrfRefused(
            "This form has expired or did not come from Forbedring's own page. "
            "Open the page again and send the form from there."
        )


CsrfProtected = Depends(require_csrf)
