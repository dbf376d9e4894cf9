"""Process entry point shared by the services: uvicorn with graceful shutdown on SIGTERM."""

import uvicorn

from forbedring_chassis.settings import ServiceSettings


def serve(factory: str, *, settings: ServiceSettings) -> None:
    uvicorn.run(
        factory,
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        log_level="warning",
        access_log=False,
    )
