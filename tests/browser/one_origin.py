"""A proxy for browser tests that puts services under one origin as the real proxy does:
`/<service>/...` goes to that service with the prefix stripped and named in
X-Forwarded-Prefix, so cookies, links and the browser's fetches work across services."""

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Final

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_HOP: Final = {"content-length", "transfer-encoding", "content-encoding", "connection"}
_METHODS: Final = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


def one_origin(upstreams: Mapping[str, str]) -> Starlette:
    """`upstreams`: service name -> its base URL."""
    client = httpx.AsyncClient(timeout=60)

    async def forward(request: Request) -> Response:
        service = request.path_params["service"]
        base = upstreams.get(service)
        if base is None:
            return Response("no such service behind this proxy", status_code=404)
        url = f"{base}/{request.path_params['rest']}"
        if request.url.query:
            url += "?" + request.url.query
        headers = [
            (k, v) for k, v in request.headers.raw if k.lower() not in (b"host", b"content-length")
        ]
        headers.append((b"x-forwarded-prefix", f"/{service}".encode()))
        upstream = await client.request(
            request.method, url, headers=headers, content=await request.body()
        )
        response = Response(upstream.content, status_code=upstream.status_code)
        response.raw_headers = [
            *(
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in upstream.headers.multi_items()
                if k.lower() not in _HOP
            ),
            (b"content-length", str(len(upstream.content)).encode()),
        ]
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(
        routes=[Route("/{service}/{rest:path}", forward, methods=_METHODS)], lifespan=lifespan
    )
