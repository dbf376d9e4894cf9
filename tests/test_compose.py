"""docker-compose.yml, its Dockerfile and its proxy, checked without a Docker engine.

Compose cannot run on these machines, so the definition is checked statically: against
the Compose Specification JSON schema (the copy vendored by check-jsonschema), against
the services' settings classes (every variable a service is given is one its settings
read), and for the start order, health checks, image and proxy routes the stack relies on.

Each check is a function from parsed content to a list of problems, so the last tests can
show that a deliberately broken copy is caught.
"""

import copy
import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema  # type: ignore[import-untyped]
from jsonschema import Draft202012Validator
from pydantic_settings import BaseSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"
NGINX_CONF = REPO_ROOT / "deploy" / "docker" / "nginx.conf"

SERVICES = ("survey", "aggregation", "publication", "actionplan", "notification")
INFRASTRUCTURE = ("kafka", "postgres", "redis")
TOPICS_INIT = "topics-init"
DEV_ISSUER_KEY = "dev-issuer-key"  # the job that makes the development sign-in's key
# Settings every service must be given in compose: the defaults point at 127.0.0.1.
REQUIRED_SETTINGS = ("database_url", "kafka_bootstrap_servers", "redis_url")
SERVICE_PORT = 8000  # <SERVICE>_HTTP_PORT in the containers, and the proxy's upstream port

Compose = dict[str, Any]


# --- loading -------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> Compose:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))  # resolves anchors and <<
    assert isinstance(document, dict), f"{path} is not a mapping"
    return document


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"forbedring_{service}.settings")
    cls = getattr(module, f"{service.capitalize()}Settings")
    assert isinstance(cls, type)
    assert issubclass(cls, BaseSettings)
    return cls


def environment_of(definition: Mapping[str, Any]) -> dict[str, str | None]:
    """A compose service's `environment`, in either of its two forms, as a dict."""
    raw = definition.get("environment") or {}
    if isinstance(raw, list):
        pairs = (str(item).partition("=") for item in raw)
        return {name: value if sep else None for name, sep, value in pairs}
    return {str(name): None if value is None else str(value) for name, value in raw.items()}


def depends_on_of(definition: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's `depends_on` as {target: condition}, short form = service_started."""
    raw = definition.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {
        str(name): str((spec or {}).get("condition", "service_started"))
        for name, spec in raw.items()
    }


# --- checks: each returns a list of problems (empty = fine) ---------------------------------


def schema_problems(compose: Compose) -> list[str]:
    """Violations of the Compose Specification schema, one line each."""
    validator = Draft202012Validator(get_builtin_schema("vendor.compose-spec"))
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(compose)
    )


def settings_env_names(cls: type[BaseSettings]) -> tuple[set[str], tuple[str, ...]]:
    """(exact upper-case variable names, nested prefixes) that the settings class reads."""
    config = cls.model_config
    prefix = str(config.get("env_prefix") or "")
    delimiter = config.get("env_nested_delimiter")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        aliases: list[str] = []
        alias = field.validation_alias
        if isinstance(alias, str):
            aliases.append(alias)  # an alias is read as is, without the prefix
        elif alias is not None:
            choices = getattr(alias, "choices", [])
            aliases.extend(choice for choice in choices if isinstance(choice, str))
        if field.alias and not aliases:
            aliases.append(field.alias)
        names.update(name.upper() for name in aliases or [prefix + field_name])
    nested = tuple(name + delimiter.upper() for name in names) if delimiter else ()
    return names, nested


def unknown_env_problems(compose: Compose) -> list[str]:
    """Variables given to a service that its settings class does not read."""
    problems = []
    for service in SERVICES:
        known, nested = settings_env_names(settings_class(service))
        given = environment_of(compose["services"].get(service, {}))
        for name in sorted(given):
            upper = name.upper()
            if upper not in known and not any(upper.startswith(n) for n in nested):
                problems.append(f"{service}: {name} is not a setting of {service}'s settings")
    return problems


def required_env_problems(compose: Compose) -> list[str]:
    """Settings each service must be given, and the port the proxy expects it on."""
    problems = []
    for service in SERVICES:
        if service not in compose["services"]:
            problems.append(f"{service}: not defined")
            continue
        prefix = str(settings_class(service).model_config.get("env_prefix") or "")
        given = {k.upper(): v for k, v in environment_of(compose["services"][service]).items()}
        for setting in REQUIRED_SETTINGS:
            if not given.get(f"{prefix}{setting}".upper()):
                problems.append(f"{service}: {prefix}{setting.upper()} is not set")
        if given.get(f"{prefix}HTTP_PORT") != str(SERVICE_PORT):
            problems.append(f"{service}: {prefix}HTTP_PORT must be {SERVICE_PORT}")
        if given.get(f"{prefix}HTTP_HOST") != "0.0.0.0":
            problems.append(f"{service}: {prefix}HTTP_HOST must be 0.0.0.0 in a container")
    return problems


def one_shot_jobs(compose: Compose) -> set[str]:
    """Services something waits on to complete (they exit; no health check applies)."""
    return {
        target
        for definition in compose["services"].values()
        for target, condition in depends_on_of(definition).items()
        if condition == "service_completed_successfully"
    }


def dependency_problems(compose: Compose) -> list[str]:
    services: Mapping[str, Any] = compose["services"]
    problems = []
    for name, definition in services.items():
        for target, condition in depends_on_of(definition).items():
            if target not in services:
                problems.append(f"{name}: depends on {target}, which is not defined")
            elif condition == "service_healthy" and not has_healthcheck(services[target]):
                problems.append(f"{name}: waits for {target} healthy, but it has no healthcheck")
    expected = {infra: "service_healthy" for infra in INFRASTRUCTURE}
    expected[TOPICS_INIT] = expected[DEV_ISSUER_KEY] = "service_completed_successfully"
    for service in SERVICES:
        actual = depends_on_of(services.get(service, {}))
        for target, condition in expected.items():
            if actual.get(target) != condition:
                problems.append(f"{service}: must depend on {target} with {condition}")
    if depends_on_of(services.get(TOPICS_INIT, {})).get("kafka") != "service_healthy":
        problems.append(f"{TOPICS_INIT}: must wait for kafka healthy")
    return problems


def has_healthcheck(definition: Mapping[str, Any]) -> bool:
    check = definition.get("healthcheck")
    return isinstance(check, Mapping) and not check.get("disable") and bool(check.get("test"))


def healthcheck_problems(compose: Compose) -> list[str]:
    jobs = one_shot_jobs(compose)
    return [
        f"{name}: no healthcheck"
        for name, definition in compose["services"].items()
        if name not in jobs and not has_healthcheck(definition)
    ]


def dev_sign_in_problems(compose: Compose) -> list[str]:
    """Every service signs in with the development issuer, from the one key file the
    key job writes, in a volume both mount."""
    services = compose["services"]
    writer = services.get(DEV_ISSUER_KEY, {})
    written = {str(v).split(":")[0]: str(v).split(":")[1] for v in writer.get("volumes", [])}
    problems = []
    for service in SERVICES:
        env = environment_of(services.get(service, {}))
        prefix = service.upper()
        if env.get(f"{prefix}_DEV_ISSUER_ENABLED") != "true":
            problems.append(f"{service}: no development sign-in")
        key_file = env.get(f"{prefix}_DEV_ISSUER_PRIVATE_KEY_FILE") or ""
        mounted = {
            str(v).split(":")[0]: str(v).split(":")[1]
            for v in services.get(service, {}).get("volumes", [])
        }
        shared = [
            name
            for name, target in mounted.items()
            if written.get(name) == target and key_file.startswith(target + "/")
        ]
        if not shared:
            problems.append(f"{service}: key file {key_file!r} not in {DEV_ISSUER_KEY}'s volume")
        elif key_file not in " ".join(map(str, writer.get("command", []))):
            problems.append(f"{DEV_ISSUER_KEY}: does not write {key_file}")
    return problems


def command_problems(compose: Compose) -> list[str]:
    """Each service runs its own package, and the topic job names files that exist."""
    services = compose["services"]
    problems = [
        f"{service}: command must be python -m forbedring_{service}"
        for service in SERVICES
        if services.get(service, {}).get("command") != ["python", "-m", f"forbedring_{service}"]
    ]
    command = [str(part) for part in services.get(TOPICS_INIT, {}).get("command") or []]
    for wanted in ("deploy/local/apply_topics.py", "deploy/topics.yaml"):
        if wanted not in command:
            problems.append(f"{TOPICS_INIT}: command does not use {wanted}")
        elif not (REPO_ROOT / wanted).is_file():
            problems.append(f"{TOPICS_INIT}: {wanted} does not exist in the repository")
    return problems


def database_problems(compose: Compose) -> list[str]:
    """Every database a service is pointed at is created by the mounted init script."""
    postgres = compose["services"]["postgres"]
    scripts = [
        REPO_ROOT / str(volume).split(":")[0]
        for volume in postgres.get("volumes", [])
        if "/docker-entrypoint-initdb.d" in str(volume)
    ]
    created = {
        match.lower()
        for script in scripts
        for match in re.findall(r"CREATE\s+DATABASE\s+(\w+)", script.read_text(), re.IGNORECASE)
    }
    problems = []
    for service in SERVICES:
        prefix = str(settings_class(service).model_config.get("env_prefix") or "")
        definition = compose["services"].get(service, {})
        given = {k.upper(): v for k, v in environment_of(definition).items()}
        url = given.get(f"{prefix}DATABASE_URL") or ""
        database = url.rsplit("/", 1)[-1].split("?")[0].lower()
        if f"forbedring_{service}" != database:
            problems.append(f"{service}: must use its own database forbedring_{service}")
        elif database not in created:
            problems.append(f"{service}: database {database} is not created by an init script")
    return problems


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments): continuations joined, and the
    defaults of the ARGs declared before the first FROM substituted into FROM lines."""
    joined = re.sub(r"\\\n", " ", text)
    global_args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        instruction, _, arguments = stripped.partition(" ")
        instruction, arguments = instruction.upper(), arguments.strip()
        if instruction == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            global_args[name.strip()] = default.strip().strip("\"'")
        if instruction == "FROM":
            for name, value in global_args.items():
                arguments = re.sub(rf"\$\{{{name}\}}|\${name}\b", value, arguments)
            stages.append([])
        if stages:
            stages[-1].append((instruction, arguments))
    return stages


def dockerfile_problems(text: str) -> list[str]:
    stages = dockerfile_stages(text)
    if len(stages) < 2:
        return ["the Dockerfile must be multi-stage (a build stage and a runtime stage)"]
    runtime = stages[-1]
    problems = []
    base = runtime[0][1]
    if not re.match(r"python:3\.11(\.\d+)?-slim\b", base):
        problems.append(f"runtime stage must be FROM python:3.11-slim, is FROM {base}")
    users = [args.split(":")[0] for instruction, args in runtime if instruction == "USER"]
    if not users or users[-1] in {"root", "0"}:
        problems.append("runtime stage must switch to a non-root USER")
    checks = [args for instruction, args in runtime if instruction == "HEALTHCHECK"]
    if not checks or checks[-1].upper().startswith("NONE"):
        problems.append("runtime stage must declare a HEALTHCHECK")
    elif "/healthz" not in checks[-1]:
        problems.append("the HEALTHCHECK must probe /healthz")
    envs = " ".join(args for instruction, args in runtime if instruction == "ENV")
    if not re.search(r"\bPYTHONUNBUFFERED=1\b", envs):
        problems.append("runtime stage must set ENV PYTHONUNBUFFERED=1")
    build = " ".join(args for stage in stages[:-1] for instruction, args in stage)
    if "uv sync" not in build or "--frozen" not in build or "--no-dev" not in build:
        problems.append("a build stage must install with uv sync --frozen --no-dev")
    # The aggregation service's counting is a Cython extension, compiled as it installs.
    compiler = re.search(r"apt-get install[^&;]*\bgcc\b", build)
    if compiler is None or compiler.start() > build.rfind("uv sync"):
        problems.append("a build stage must install gcc before uv sync (the Cython extension)")
    return problems


def nginx_locations(text: str) -> dict[str, str]:
    """location path -> its block's body, from an nginx config (comments dropped)."""
    text = re.sub(r"#[^\n]*", "", text)
    locations: dict[str, str] = {}
    for match in re.finditer(r"location\s+(?:[=~^*]+\s+)?(\S+)\s*\{", text):
        depth, start = 1, match.end()
        position = start
        while depth and position < len(text):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            position += 1
        locations[match.group(1)] = text[start : position - 1]
    return locations


def proxy_problems(text: str) -> list[str]:
    locations = nginx_locations(text)
    problems = []
    for service in SERVICES:
        body = locations.get(f"/{service}/")
        if body is None:
            problems.append(f"no location /{service}/ in the proxy config")
            continue
        if "proxy_pass" not in body or f"{service}:{SERVICE_PORT}" not in body:
            problems.append(f"/{service}/ does not proxy to {service}:{SERVICE_PORT}")
        if not re.search(rf"X-Forwarded-Prefix\s+/{service}\s*;", body):
            problems.append(f"/{service}/ does not set X-Forwarded-Prefix /{service}")
    for path, upstream in (("/mail/", "mailpit:8025"), ("/jaeger/", "jaeger:16686")):
        if upstream not in locations.get(path, ""):
            problems.append(f"{path} does not proxy to {upstream}")
    metrics = [p for p in locations if re.fullmatch(r"\^/\[a-z\]\+/metrics", p)]
    if not metrics or "return 404" not in locations[metrics[0]]:
        problems.append("the proxy exposes /<service>/metrics (monitoring scrapes the ports)")
    return problems


# --- the real files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load_compose()


def test_compose_file_matches_the_compose_specification(compose: Compose) -> None:
    assert schema_problems(compose) == []


def test_services_are_given_only_variables_their_settings_know(compose: Compose) -> None:
    assert unknown_env_problems(compose) == []


def test_services_are_given_database_kafka_redis_and_their_port(compose: Compose) -> None:
    assert required_env_problems(compose) == []


def test_start_order_waits_for_healthy_infrastructure_and_topics(compose: Compose) -> None:
    assert dependency_problems(compose) == []


def test_every_long_running_container_has_a_healthcheck(compose: Compose) -> None:
    assert one_shot_jobs(compose) == {TOPICS_INIT, DEV_ISSUER_KEY}
    assert healthcheck_problems(compose) == []


def test_each_service_runs_its_own_package_and_topics_come_from_the_file(
    compose: Compose,
) -> None:
    assert command_problems(compose) == []


def test_every_service_shares_the_development_sign_in(compose: Compose) -> None:
    assert dev_sign_in_problems(compose) == []


def test_each_service_gets_its_own_database_created_at_init(compose: Compose) -> None:
    assert database_problems(compose) == []


def test_dockerfile_runtime_stage_is_slim_non_root_and_health_checked() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


def test_proxy_routes_every_service_and_the_tool_uis() -> None:
    assert proxy_problems(NGINX_CONF.read_text(encoding="utf-8")) == []


# --- the checks catch broken input -----------------------------------------------------------


def _unknown_variable(c: Compose) -> None:
    c["services"]["aggregation"]["environment"]["AGGREGATION_DATABSE_URL"] = "postgresql://x/y"


def _variable_of_another_service(c: Compose) -> None:
    c["services"]["survey"]["environment"]["AGGREGATION_REDIS_URL"] = "redis://redis:6379/0"


def _missing_database_url(c: Compose) -> None:
    del c["services"]["notification"]["environment"]["NOTIFICATION_DATABASE_URL"]


def _schema_violation(c: Compose) -> None:
    c["services"]["survey"]["depends_on"]["kafka"]["condition"] = "when_it_feels_like_it"


def _unknown_service_key(c: Compose) -> None:
    c["services"]["redis"]["helthcheck"] = c["services"]["redis"].pop("healthcheck")


def _dangling_dependency(c: Compose) -> None:
    c["services"]["publication"]["depends_on"]["zookeeper"] = {"condition": "service_healthy"}


def _not_waiting_for_topics(c: Compose) -> None:
    del c["services"]["actionplan"]["depends_on"][TOPICS_INIT]


def _key_outside_the_volume(c: Compose) -> None:
    c["services"]["publication"]["environment"]["PUBLICATION_DEV_ISSUER_PRIVATE_KEY_FILE"] = (
        "/tmp/key.pem"
    )


BREAKAGES: dict[str, tuple[Callable[[Compose], None], Callable[[Compose], list[str]], str]] = {
    "unknown variable": (_unknown_variable, unknown_env_problems, "AGGREGATION_DATABSE_URL"),
    "another service's variable": (
        _variable_of_another_service,
        unknown_env_problems,
        "survey: AGGREGATION_REDIS_URL",
    ),
    "missing database url": (
        _missing_database_url,
        required_env_problems,
        "NOTIFICATION_DATABASE_URL",
    ),
    "schema violation": (_schema_violation, schema_problems, "when_it_feels_like_it"),
    "misspelt key": (_unknown_service_key, schema_problems, "helthcheck"),
    "dangling dependency": (_dangling_dependency, dependency_problems, "zookeeper"),
    "not waiting for topics": (_not_waiting_for_topics, dependency_problems, TOPICS_INIT),
    "key file not shared": (_key_outside_the_volume, dev_sign_in_problems, "publication"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_deliberately_broken_compose_file_is_caught(compose: Compose, breakage: str) -> None:
    break_it, check, expected = BREAKAGES[breakage]
    assert check(compose) == []
    broken = copy.deepcopy(compose)
    break_it(broken)
    problems = check(broken)
    assert any(expected in problem for problem in problems), problems


def _lines_without(text: str, pattern: str) -> Iterator[str]:
    return (line for line in text.splitlines() if not re.match(pattern, line.strip()))


def test_a_dockerfile_running_as_root_without_healthcheck_is_caught() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    broken = "\n".join(_lines_without(re.sub(r"\\\n", " ", text), r"(USER|HEALTHCHECK)\b"))
    problems = dockerfile_problems(broken)
    assert any("non-root USER" in problem for problem in problems), problems
    assert any("HEALTHCHECK" in problem for problem in problems), problems


def test_a_dockerfile_without_a_compiler_for_the_extension_is_caught() -> None:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    broken = "\n".join(_lines_without(text, r"RUN apt-get update"))
    assert "a build stage must install gcc before uv sync (the Cython extension)" in (
        dockerfile_problems(broken)
    )


def test_a_proxy_config_missing_a_service_route_is_caught() -> None:
    text = NGINX_CONF.read_text(encoding="utf-8")
    broken = text.replace("location /publication/", "location /publications/")
    assert "no location /publication/ in the proxy config" in proxy_problems(broken)
    exposed = NGINX_CONF.read_text(encoding="utf-8").replace("return 404;", "return 200;")
    assert any("exposes /<service>/metrics" in p for p in proxy_problems(exposed))
