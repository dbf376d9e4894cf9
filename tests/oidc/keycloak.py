"""A real OpenID provider for the tests: Keycloak in dev mode (in-memory database) with
the realm in realm.json imported at start, its client's redirect URIs set to the test's
origin. deploy/local/keycloak.sh fetches and unpacks it (Maven Central) when missing.

The realm: client `forbedring` (public, PKCE S256 required, RP-initiated logout back to
the redirect URIs), users whose `employeeid` attribute becomes the `employeeid` claim.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from forbedring_chassis.testing import REPO_ROOT, free_port

REALM_FILE = Path(__file__).with_name("realm.json")
REALM = "forbedring"
CLIENT_ID = "forbedring"
SCRIPT = REPO_ROOT / "deploy" / "local" / "keycloak.sh"
START_TIMEOUT_S = 900.0  # 17-60 s alone; minutes on a loaded 2-core machine


@dataclass(frozen=True)
class KeycloakUser:
    username: str
    password: str
    employee_id: str
    name: str


def users() -> list[KeycloakUser]:
    realm = json.loads(REALM_FILE.read_text())
    return [
        KeycloakUser(
            username=u["username"],
            password=u["credentials"][0]["value"],
            employee_id=u["attributes"]["employeeid"][0],
            name=f"{u['firstName']} {u['lastName']}",
        )
        for u in realm["users"]
    ]


@dataclass(frozen=True)
class Keycloak:
    base_url: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"


def _script(command: str) -> str:
    done = subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPT} {command} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


@contextmanager
def running_keycloak(origin: str) -> Iterator[Keycloak]:
    """Keycloak on a free port, its client allowing `origin` (e.g. http://127.0.0.1:PORT)."""
    home = Path(_script("install"))
    java_home = _script("java")
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="keycloak-"))
    # Dev mode keeps its H2 database under the distribution; a copy per run keeps runs apart.
    server = work / "keycloak"
    shutil.copytree(home, server, symlinks=True, ignore=shutil.ignore_patterns("h2", "tmp"))
    realm = json.loads(REALM_FILE.read_text())
    for client in realm["clients"]:
        client["redirectUris"] = [f"{origin}/*"]
        client["webOrigins"] = [origin]
    imports = server / "data" / "import"
    imports.mkdir(parents=True, exist_ok=True)
    (imports / "realm.json").write_text(json.dumps(realm))
    log = (work / "keycloak.log").open("wb")
    process = subprocess.Popen(
        [
            str(server / "bin" / "kc.sh"),
            "start-dev",
            f"--http-port={port}",
            "--http-host=127.0.0.1",
            "--hostname-strict=false",
            "--import-realm",
            "--http-management-port=" + str(free_port()),
        ],
        env={
            **os.environ,
            "JAVA_HOME": java_home,
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
            "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin-for-tests",
            "JAVA_OPTS_APPEND": "-Xms64m -Xmx768m",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    keycloak = Keycloak(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        discovery = f"{keycloak.issuer}/.well-known/openid-configuration"
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"Keycloak exited ({process.returncode}):\n"
                    + (work / "keycloak.log").read_text()[-4000:]
                )
            try:
                if httpx.get(discovery, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Keycloak did not answer in {START_TIMEOUT_S:.0f} s:\n"
                    + (work / "keycloak.log").read_text()[-4000:]
                )
            time.sleep(1.0)
        # The first login page renders its theme for a long while on a loaded machine.
        httpx.get(
            f"{keycloak.issuer}/protocol/openid-connect/auth",
            params={
                "client_id": CLIENT_ID,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": f"{origin}/warm-up",
            },
            timeout=120,
        )
        yield keycloak
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
