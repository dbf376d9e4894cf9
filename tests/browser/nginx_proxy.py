"""nginx in front of a test service as `make up`'s proxy puts it (deploy/local/stack.sh):
the service under `/<name>/`, the prefix stripped and named in X-Forwarded-Prefix, and
the same `client_max_body_size` as stack.sh's. Fails (never skips) without nginx."""

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

STACK_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "stack.sh"


def stack_body_limit() -> str:
    """make up's proxy's client_max_body_size, as stack.sh writes it (e.g. "100m")."""
    found = re.search(r"client_max_body_size (\w+);", STACK_SCRIPT.read_text(encoding="utf-8"))
    assert found, "stack.sh sets no client_max_body_size"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _configure(name: str, upstream: str, folder: Path) -> tuple[str, Path, int]:
    """nginx's binary, a configuration in `folder` and the port it listens on."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).is_file():
        pytest.fail("nginx is missing: `make up` installs it (apt-get install nginx-light)")
    port = _free_port()
    temp = folder / "nginx-tmp"
    temp.mkdir()
    # As root, nginx's workers would run as nobody, who cannot enter pytest's 0700 folder.
    user = "user root;" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        f"""{user} worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log {folder}/access.log; client_body_temp_path {temp};
  proxy_temp_path {temp}; fastcgi_temp_path {temp}; uwsgi_temp_path {temp};
  scgi_temp_path {temp};
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size {stack_body_limit()};
    location /{name}/ {{
      proxy_pass {upstream}/;
      proxy_set_header Host $host; proxy_set_header X-Forwarded-Prefix /{name};
      proxy_read_timeout 600s;
    }}
  }}
}}
""",
        encoding="utf-8",
    )
    return binary, config, port


@contextlib.asynccontextmanager
async def nginx_in_front(name: str, upstream: str, folder: Path) -> AsyncIterator[str]:
    """The proxy's base URL while it runs; `upstream` is the service's base URL."""
    binary, config, port = await asyncio.to_thread(_configure, name, upstream, folder)
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"nginx did not start: {error}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
