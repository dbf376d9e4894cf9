"""deploy/kubernetes/ rendered and validated offline: no cluster is available here.

Every overlay is rendered with `kubectl kustomize` and checked against the real schemas
(Kubernetes's, Strimzi's generated CRDs, KEDA's model), by kube-score, and against what
the services are (their settings, their topics, their health routes). The last tests break
a copy on purpose and show that each validator notices.
"""

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deploy.kubernetes import generate
from forbedring_chassis.settings import ServiceSettings
from tests.deploy.kube_checks import (
    OVERLAYS,
    Obj,
    builtin_schema_problems,
    deployment_problems,
    env_problems,
    ingress_problems,
    keda_schema_problems,
    kube_score_problems,
    mutated,
    network_problems,
    per_service_problems,
    render,
    scaled_object_problems,
    secret_problems,
    strimzi_problems,
    strimzi_schema_problems,
)

# Nothing listens on port 1.
UNREACHABLE = {
    "database_url": "postgresql://nobody:nothing@127.0.0.1:1/none",
    "kafka_bootstrap_servers": "127.0.0.1:1",
    "redis_url": "redis://127.0.0.1:1/0",
}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[Obj]:
    return render(str(request.param))


@pytest.fixture(scope="module")
def production() -> list[Obj]:
    return render("production")


def test_generated_manifests_are_what_the_generator_writes() -> None:
    stale = generate.stale_files()
    assert stale == [], "run `uv run python deploy/kubernetes/generate.py`"


def test_every_object_matches_the_kubernetes_schemas_strictly(rendered: list[Obj]) -> None:
    assert builtin_schema_problems(rendered) == []


def test_strimzi_resources_match_strimzis_own_crds(rendered: list[Obj]) -> None:
    assert strimzi_schema_problems(rendered) == []
    assert strimzi_problems(rendered) == []


def test_scaled_objects_match_kedas_model(rendered: list[Obj]) -> None:
    assert keda_schema_problems(rendered) == []


def test_kube_score_finds_nothing_unaccepted(rendered: list[Obj], tmp_path: Path) -> None:
    assert kube_score_problems(rendered, tmp_path) == []


def test_services_are_given_only_variables_their_settings_know(rendered: list[Obj]) -> None:
    assert env_problems(rendered) == []


def test_secrets_are_referenced_never_inlined(rendered: list[Obj]) -> None:
    assert secret_problems(rendered) == []


def test_deployments_probe_limit_drain_and_run_unprivileged(rendered: list[Obj]) -> None:
    assert deployment_problems(rendered) == []


def test_every_service_has_its_objects_and_one_migration_job(rendered: list[Obj]) -> None:
    assert per_service_problems(rendered) == []


def test_network_policies_allow_only_what_each_service_needs(rendered: list[Obj]) -> None:
    assert network_problems(rendered) == []


def test_one_origin_for_every_service(rendered: list[Obj]) -> None:
    assert ingress_problems(rendered) == []


def test_consumers_scale_on_lag_within_their_partitions(rendered: list[Obj]) -> None:
    assert scaled_object_problems(rendered) == []


def test_overlays_differ_where_environments_do() -> None:
    def environment(objects: list[Obj]) -> str:
        (config,) = [o for o in objects if o["metadata"]["name"] == "forbedring-environment"]
        return str(config["data"]["name"])

    dev, production = render("dev"), render("production")
    assert (environment(dev), environment(production)) == ("development", "production")
    assert {o["metadata"].get("namespace") for o in dev} == {"forbedring-dev"}
    assert {o["metadata"].get("namespace") for o in production} == {"forbedring"}
    pools = [p["spec"]["replicas"] for p in production if p["kind"] == "KafkaNodePool"]
    assert pools == [3, 3]


# --- each validator fails on a deliberately broken manifest ----------------------------------


def _set(path: list[Any], value: Any) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        target = obj
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


BROKEN: list[tuple[str, str, str, Callable[[Obj], None], Callable[[list[Obj]], list[str]]]] = [
    # (what, kind, name, change, check)
    (
        "kubernetes: a wrong type",
        "Service",
        "survey",
        _set(["spec", "ports", 0, "port"], "eighty"),
        builtin_schema_problems,
    ),
    (
        "kubernetes: an unknown field",
        "Deployment",
        "aggregation",
        _set(["spec", "template", "spec", "containers", 0, "livenesProbe"], {}),
        builtin_schema_problems,
    ),
    (
        "strimzi: a wrong type",
        "KafkaTopic",
        "forbedring.survey.response-submitted.v1",
        _set(["spec", "partitions"], "12"),
        strimzi_schema_problems,
    ),
    (
        "strimzi: an unknown field (v1beta2's spec.kafka.replicas)",
        "Kafka",
        "forbedring",
        _set(["spec", "kafka", "replicas"], 3),
        strimzi_schema_problems,
    ),
    (
        "keda: a wrong type (a number in trigger metadata)",
        "ScaledObject",
        "aggregation",
        _set(["spec", "triggers", 0, "metadata", "lagThreshold"], 5000),
        keda_schema_problems,
    ),
    (
        "keda: an unknown field",
        "ScaledObject",
        "publication",
        _set(["spec", "maxReplicas"], 6),
        keda_schema_problems,
    ),
    (
        "settings: a variable no setting reads",
        "Deployment",
        "notification",
        lambda o: o["spec"]["template"]["spec"]["containers"][0]["env"].append(
            {"name": "NOTIFICATION_SMTP_PASWORD", "value": "x"}
        ),
        env_problems,
    ),
    (
        "scaling: more replicas than partitions",
        "ScaledObject",
        "actionplan",
        _set(["spec", "maxReplicaCount"], 12),
        scaled_object_problems,
    ),
    (
        "secrets: a password inline",
        "Deployment",
        "notification",
        _set(
            ["spec", "template", "spec", "containers", 0, "env", -1],
            {"name": "NOTIFICATION_SMTP_PASSWORD", "value": "hunter2"},
        ),
        secret_problems,
    ),
    (
        "drain: a termination period shorter than the drain",
        "Deployment",
        "survey",
        _set(["spec", "template", "spec", "terminationGracePeriodSeconds"], 5),
        deployment_problems,
    ),
    (
        "topics: partitions other than deploy/topics.yaml's",
        "KafkaTopic",
        "forbedring.survey.response-submitted.v1",
        _set(["spec", "partitions"], 24),
        strimzi_problems,
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "change", "check"),
    [pytest.param(k, n, c, f, id=what) for what, k, n, c, f in BROKEN],
)
def test_each_check_fails_on_a_broken_manifest(
    production: list[Obj],
    kind: str,
    name: str,
    change: Callable[[Obj], None],
    check: Callable[[list[Obj]], list[str]],
) -> None:
    assert check(production) == []
    assert check(mutated(production, kind, name, change)) != []


def test_kube_score_fails_on_a_container_without_limits(
    production: list[Obj], tmp_path: Path
) -> None:
    broken = mutated(
        production,
        "Deployment",
        "survey",
        lambda o: o["spec"]["template"]["spec"]["containers"][0].pop("resources"),
    )
    findings = kube_score_problems(broken, tmp_path)
    assert any("survey" in line and "CPU limit is not set" in line for line in findings), findings


def test_kustomize_fails_on_a_broken_overlay(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n  - ../does-not-exist\n", encoding="utf-8"
    )
    with pytest.raises(AssertionError, match="kustomize"):
        render(tmp_path)


@pytest.mark.parametrize("service", generate.SERVICES, ids=lambda s: s.name)
def test_each_consumer_group_scales_on_exactly_the_topics_its_service_reads(
    service: generate.Service,
) -> None:
    # Built, not started: building an app connects to nothing.
    module = importlib.import_module(f"forbedring_{service.name}.app")
    settings = importlib.import_module(f"forbedring_{service.name}.settings")
    settings_class = next(
        v
        for v in vars(settings).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )
    app = module.create_app(settings_class.model_validate(UNREACHABLE))
    assert sorted(service.consumes) == list(app.state.consumed_topics)
