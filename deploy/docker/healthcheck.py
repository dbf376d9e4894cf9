"""Container health check: exit 0 when the service in this container answers 200.

    python /app/healthcheck.py [PATH]        PATH defaults to /healthz (liveness)

The port is the service's `<SERVICE>_HTTP_PORT` (the one set in this container's
environment; FORBEDRING_SERVICE picks it when several are), else 8000. Standard library
only: the runtime image has neither curl nor wget.
"""

import os
import sys
import urllib.error
import urllib.request

SERVICES = ("survey", "aggregation", "publication", "actionplan", "notification")


def port() -> int:
    chosen = os.environ.get("FORBEDRING_SERVICE", "")
    candidates = [chosen] if chosen else list(SERVICES)
    for service in candidates:
        value = os.environ.get(f"{service.upper()}_HTTP_PORT")
        if value:
            return int(value)
    return 8000


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
    url = f"http://127.0.0.1:{port()}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
