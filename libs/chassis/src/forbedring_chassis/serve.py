"""Process entry point shared by the services: uvicorn with graceful shutdown on SIGTERM."""

import os

import uvicorn


def serve(factory: str, *, service: str) -> None:
    prefix = service.upper()
    uvicorn.run(
        factory,
        factory=True,
        host=os.environ.get(f"{prefix}_HTTP_HOST", "127.0.0.1"),
        port=int(os.environ.get(f"{prefix}_HTTP_PORT", "8000")),
        proxy_headers=True,
        timeout_graceful_shutdown=int(os.environ.get(f"{prefix}_SHUTDOWN_GRACE_S", "10")),
        log_level="warning",
        access_log=False,
    )
