"""Write the generated parts of the Kubernetes base, or check that they are current.

    uv run python deploy/kubernetes/generate.py           # rewrite base/generated/
    uv run python deploy/kubernetes/generate.py --check   # exit 1 if a file is stale

Two kinds of objects are generated, so that they cannot drift from what they describe:

- `base/generated/kafka-topics.yaml`: one Strimzi `KafkaTopic` per topic of
  deploy/topics.yaml, read by `forbedring_chassis.topic_admin.load_topics`, the same code
  that applies the file to the local broker (partitions and configs are the file's;
  only the replication factor is the cluster's, see `CLUSTER_REPLICATION_FACTOR`).
- `base/generated/<service>.yaml`: each service's Deployment, Service, ServiceAccount,
  PodDisruptionBudget, NetworkPolicy, migration Job, Ingress and autoscaler (an HPA on
  CPU for survey, a KEDA ScaledObject on consumer lag plus CPU for the consumers), from
  the table `SERVICES` below: the five are alike but for a few numbers.

Everything an environment changes (namespace, image, replicas, hosts, resources, OIDC
issuer) is in the overlays, as Kustomize patches over this base. tests/deploy checks that
the checked-in files equal what this writes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forbedring_chassis.topic_admin import TopicSpec, load_topics

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TOPICS_FILE = REPO_ROOT / "deploy" / "topics.yaml"
GENERATED = HERE / "base" / "generated"

KAFKA_CLUSTER = "forbedring"  # the Strimzi Kafka resource (base/kafka.yaml)
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9092"  # Strimzi's bootstrap Service
KAFKA_PORT = 9092
# Three brokers in Kubernetes (deploy/topics.yaml says 1, for the single local broker):
# with min.insync.replicas=2 and acks=all a write survives the loss of one broker.
CLUSTER_REPLICATION_FACTOR = 3
CLUSTER_MIN_INSYNC_REPLICAS = "2"
HTTP_PORT = 8000
SHUTDOWN_GRACE_S = 20  # <SERVICE>_SHUTDOWN_GRACE_S: the drain of in-flight work at SIGTERM
# Kubernetes waits this long after SIGTERM before SIGKILL: the drain plus the outbox's last
# flush (up to 10 s) plus slack, so a pod is never killed half-way through its drain.
TERMINATION_GRACE_S = SHUTDOWN_GRACE_S + 25
IMAGE = "forbedring"  # one image for all five; the overlays set its registry and tag
OTLP_ENDPOINT = "http://opentelemetry-collector.monitoring:4318"
PART_OF = "forbedring"

# CIDRs that are inside the cluster or the trust's network: the OIDC issuer (Entra ID) is
# reached on the internet over HTTPS, never through these.
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


@dataclass(frozen=True)
class Service:
    name: str
    consumes: tuple[str, ...] = ()
    """Topics the service's one consumer group reads (forbedring-<name>)."""
    lag_threshold: int = 1000
    """Lag per replica KEDA aims for: about what one replica works off in a few seconds."""
    cpu_request: str = "250m"
    cpu_limit: str = "1"
    memory_request: str = "256Mi"
    memory_limit: str = "512Mi"
    smtp: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def group(self) -> str:
        return f"forbedring-{self.name}"


SERVICES = (
    # HTTP only (it publishes through its outbox, consumes nothing): an HPA on CPU.
    Service("survey"),
    Service(
        "aggregation",
        consumes=(
            "forbedring.survey.period-opened.v1",
            "forbedring.survey.response-submitted.v1",
            "forbedring.survey.period-closed.v1",
            "forbedring.survey.directory-updated.v1",
        ),
        # One replica counts about 10,000 responses a second in batches of up to 20,000
        # (bench-results/): a lag of 5,000 per replica is half a second of work.
        lag_threshold=5000,
        # Two worker processes decode and count beside the consumer (count_workers).
        cpu_request="1",
        cpu_limit="3",
        memory_request="1Gi",
        memory_limit="2Gi",
    ),
    Service(
        "publication",
        consumes=(
            "forbedring.survey.period-opened.v1",
            "forbedring.survey.directory-updated.v1",
            "forbedring.aggregation.unit-results.v1",
            "forbedring.aggregation.results-finalized.v1",
        ),
        lag_threshold=500,
        memory_limit="1Gi",
    ),
    Service(
        "actionplan",
        consumes=(
            "forbedring.survey.period-opened.v1",
            "forbedring.survey.directory-updated.v1",
            "forbedring.aggregation.unit-results.v1",
            "forbedring.aggregation.results-finalized.v1",
            "forbedring.publication.results-released.v1",
        ),
        lag_threshold=200,
    ),
    Service(
        "notification",
        consumes=(
            "forbedring.survey.directory-updated.v1",
            "forbedring.survey.period-opened.v1",
            "forbedring.survey.participation-changed.v1",
            "forbedring.survey.period-closed.v1",
            "forbedring.publication.results-released.v1",
            "forbedring.actionplan.plan-updated.v1",
            "forbedring.actionplan.measure-escalated.v1",
            "forbedring.actionplan.plan-deadline-approaching.v1",
        ),
        lag_threshold=200,
        smtp=True,
        extra_env={"SMTP_PORT": "587", "SMTP_STARTTLS": "true"},
    ),
)


# --- topics ----------------------------------------------------------------------------


def kafka_topic(spec: TopicSpec) -> dict[str, Any]:
    config: dict[str, Any] = dict(spec.config)
    config.setdefault("min.insync.replicas", CLUSTER_MIN_INSYNC_REPLICAS)
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {
            # Topic names are valid resource names (lower case, dots and dashes).
            "name": spec.name,
            "labels": {"strimzi.io/cluster": KAFKA_CLUSTER},
            "annotations": {"forbedring/description": spec.description},
        },
        "spec": {
            "partitions": spec.partitions,
            "replicas": max(spec.replication_factor, CLUSTER_REPLICATION_FACTOR),
            "config": config,
        },
    }


def topic_partitions() -> dict[str, int]:
    return {spec.name: spec.partitions for spec in load_topics(TOPICS_FILE)}


# --- per service -------------------------------------------------------------------------


def labels(service: Service, component: str = "service") -> dict[str, str]:
    return {
        "app.kubernetes.io/name": service.name,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/component": component,
    }


def selector(service: Service) -> dict[str, str]:
    return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/component": "service"}


def env(service: Service) -> list[dict[str, Any]]:
    """The container's environment: every name is a field of the service's settings
    (tests/deploy checks it); secrets are referenced, never written here."""
    p = service.prefix
    plain = {
        "HTTP_HOST": "0.0.0.0",  # noqa: S104 - in a pod; the NetworkPolicy limits who reaches it
        "HTTP_PORT": str(HTTP_PORT),
        # Pod addresses are not known in advance; only the ingress controller reaches the
        # pods (NetworkPolicy), so its X-Forwarded-* headers are the only ones there are.
        "FORWARDED_ALLOW_IPS": "*",
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        "OTLP_ENDPOINT": OTLP_ENDPOINT,
        "LOG_JSON": "true",
        "SHUTDOWN_GRACE_S": str(SHUTDOWN_GRACE_S),
        "MIGRATE_AT_START": "false",  # the migration Job does it, once
        **service.extra_env,
    }
    items: list[dict[str, Any]] = [{"name": p + k, "value": v} for k, v in plain.items()]
    items += [
        config_env(p + "ENVIRONMENT", "forbedring-environment", "name"),
        # CloudNativePG writes the application user's URL into <cluster>-app, key uri.
        secret_env(p + "DATABASE_URL", f"forbedring-{service.name}-db-app", "uri"),
        secret_env(p + "REDIS_URL", "forbedring-redis", "url"),
        config_env(p + "OIDC_ISSUER", "forbedring-oidc", "issuer"),
        config_env(p + "OIDC_AUDIENCE", "forbedring-oidc", "audience"),
        # The browser sign-in (README, "Connecting the trust's sign-in").
        config_env(p + "OIDC_CLIENT_ID", "forbedring-oidc", "client_id"),
        config_env(p + "OIDC_EMPLOYEE_ID_CLAIM", "forbedring-oidc", "employee_id_claim"),
        config_env(p + "PUBLIC_ORIGIN", "forbedring-oidc", "public_base_url"),
        # Only a confidential client (Entra ID's web platform) has a secret.
        {
            "name": p + "OIDC_CLIENT_SECRET",
            "valueFrom": {
                "secretKeyRef": {
                    "name": "forbedring-oidc-client",
                    "key": "secret",
                    "optional": True,
                }
            },
        },
    ]
    if service.smtp:
        items += [
            config_env(p + "SMTP_HOST", "forbedring-smtp", "host"),
            config_env(p + "MAIL_FROM", "forbedring-smtp", "mail_from"),
            config_env(p + "PUBLIC_BASE_URL", "forbedring-oidc", "public_base_url"),
            secret_env(p + "SMTP_USERNAME", "forbedring-smtp-credentials", "username"),
            secret_env(p + "SMTP_PASSWORD", "forbedring-smtp-credentials", "password"),
        ]
    return items


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def config_env(name: str, config_map: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"configMapKeyRef": {"name": config_map, "key": key}}}


POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,  # the image's user (deploy/docker/Dockerfile)
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "privileged": False,
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "capabilities": {"drop": ["ALL"]},
}


def container(service: Service, *, command: list[str], probes: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": service.name,
        "image": IMAGE,
        "imagePullPolicy": "Always",
        "command": command,
        "env": env(service),
        "resources": {
            "requests": {
                "cpu": service.cpu_request,
                "memory": service.memory_request,
                "ephemeral-storage": "64Mi",
            },
            "limits": {
                "cpu": service.cpu_limit,
                "memory": service.memory_limit,
                "ephemeral-storage": "256Mi",
            },
        },
        "securityContext": CONTAINER_SECURITY,
        # Python writes nothing but temporary files (multiprocessing, uploads): /tmp only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    if probes:
        spec["ports"] = [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}]
        # Liveness is /healthz (the event loop answers); readiness is /readyz (database,
        # Kafka and Redis reachable), so a replica that lost a dependency gets no traffic
        # but is not restarted for it. Startup allows a minute (consumers join their group).
        spec["startupProbe"] = probe("/healthz", period=2, failures=30)
        spec["livenessProbe"] = probe("/healthz", period=10, failures=3)
        spec["readinessProbe"] = probe("/readyz", period=5, failures=2)
    return spec


def probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def pod_spec(service: Service, containers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "serviceAccountName": service.name,
        "automountServiceAccountToken": False,
        "securityContext": POD_SECURITY,
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "128Mi"}}],
        **extra,
    }


def deployment(service: Service) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": service.name, "labels": labels(service)}
    if service.consumes:
        # Accepted kube-score finding: kube-score knows HPAs but not KEDA, so it sees one
        # replica; the ScaledObject keeps at least minReplicaCount (2 in production).
        metadata["annotations"] = {"kube-score/ignore": "deployment-replicas"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            # No replicas: the autoscaler (HPA or KEDA) owns the count, and a count here
            # would reset it to this number on every apply.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(service)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels(service)},
                "spec": pod_spec(
                    service,
                    [
                        container(
                            service,
                            command=["python", "-m", f"forbedring_{service.name}"],
                            probes=True,
                        )
                    ],
                    terminationGracePeriodSeconds=TERMINATION_GRACE_S,
                    # Replicas on different nodes where possible, so one node's loss is one
                    # replica's.
                    affinity={
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [
                                {
                                    "weight": 100,
                                    "podAffinityTerm": {
                                        "topologyKey": "kubernetes.io/hostname",
                                        "labelSelector": {"matchLabels": selector(service)},
                                    },
                                }
                            ]
                        }
                    },
                ),
            },
        },
    }


def migration_job(service: Service) -> dict[str, Any]:
    """One Job per service runs the migrations before the replicas roll (they start with
    MIGRATE_AT_START=false). Jobs are immutable: the deploy deletes the finished one
    first (docs/runbook.md, README "Operations")."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{service.name}-migrate", "labels": labels(service, "migration")},
        "spec": {
            "backoffLimit": 6,
            "activeDeadlineSeconds": 900,
            "template": {
                "metadata": {"labels": labels(service, "migration")},
                "spec": pod_spec(
                    service,
                    [
                        container(
                            service,
                            command=["python", "-m", "forbedring_chassis.migrate", service.name],
                            probes=False,
                        )
                    ],
                    restartPolicy="OnFailure",
                ),
            },
        },
    }


def k8s_service(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            "selector": selector(service),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def service_account(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": service.name, "labels": labels(service)},
        # The services never call the Kubernetes API.
        "automountServiceAccountToken": False,
    }


def pdb(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service.name, "labels": labels(service)},
        # maxUnavailable rather than minAvailable: a one-replica dev namespace can still
        # drain its nodes.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(service)}},
    }


def network_policy(service: Service) -> dict[str, Any]:
    """Ingress only to the HTTP port, from the ingress controller and Prometheus; egress
    only to Kafka, the service's own database, Redis, the OIDC issuer (HTTPS outside the
    private ranges), SMTP for notification, plus DNS and the trace collector."""

    def tcp(port: int) -> dict[str, Any]:
        return {"protocol": "TCP", "port": port}

    egress: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "podSelector": {
                        "matchLabels": {
                            "strimzi.io/cluster": KAFKA_CLUSTER,
                            "strimzi.io/broker-role": "true",
                        }
                    }
                }
            ],
            "ports": [tcp(KAFKA_PORT)],
        },
        {
            # The service's own PostgreSQL cluster (CloudNativePG labels its pods).
            "to": [
                {
                    "podSelector": {
                        "matchLabels": {"cnpg.io/cluster": f"forbedring-{service.name}-db"}
                    }
                }
            ],
            "ports": [tcp(5432)],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}],
            "ports": [tcp(6379)],
        },
        {
            # The OIDC issuer's JWKS (Entra ID or an external Keycloak) over HTTPS.
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
            "ports": [tcp(443)],
        },
        {
            # Name resolution for all of the above.
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, tcp(53)],
        },
        {
            # Traces (OTLP/HTTP) to the collector.
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {
                        "matchLabels": {"app.kubernetes.io/name": "opentelemetry-collector"}
                    },
                }
            ],
            "ports": [tcp(4318)],
        },
    ]
    if service.smtp:
        # The trust's mail relay; the production overlay narrows this to its address.
        egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [tcp(587)]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            # The service's pods and its migration Job's pod.
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": service.name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}
                            },
                        },
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                            },
                            "podSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "prometheus"}
                            },
                        },
                    ],
                    "ports": [{"protocol": "TCP", "port": "http"}],
                }
            ],
            "egress": egress,
        },
    }


def ingress(service: Service) -> dict[str, Any]:
    """/<service>/ on the one host, prefix stripped and passed on as X-Forwarded-Prefix,
    as the local proxy does (deploy/local/stack.sh, deploy/docker/nginx.conf). ingress-nginx
    merges the five Ingresses of one host into one server."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": service.name,
            "labels": labels(service),
            "annotations": {
                "nginx.ingress.kubernetes.io/use-regex": "true",
                "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
                "nginx.ingress.kubernetes.io/x-forwarded-prefix": f"/{service.name}",
                "nginx.ingress.kubernetes.io/proxy-body-size": "20m",
            },
        },
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["forbedring.example.org"], "secretName": "forbedring-tls"}],
            "rules": [
                {
                    "host": "forbedring.example.org",
                    "http": {
                        "paths": [
                            {
                                "path": f"/{service.name}(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "backend": {
                                    "service": {"name": service.name, "port": {"name": "http"}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }


def hpa(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def scaled_object(service: Service, partitions: dict[str, int]) -> dict[str, Any]:
    """KEDA scales the consumers on their group's lag, one kafka trigger per topic, and the
    HTTP side on CPU (KEDA owns the Deployment's HPA, so a second HPA would fight it).
    A replica beyond the partitions of every topic would get no partition: KEDA caps each
    kafka trigger at its topic's partitions, and maxReplicaCount is that cap."""
    triggers: list[dict[str, Any]] = [
        {
            "type": "kafka",
            "name": topic.split(".")[2],
            "metadata": {
                "bootstrapServers": KAFKA_BOOTSTRAP,
                "consumerGroup": service.group,
                "topic": topic,
                "lagThreshold": str(service.lag_threshold),
                # Scale from the minimum only when this much is waiting, not for one event.
                "activationLagThreshold": "10",
                # As the consumers: a group without committed offsets reads from the start.
                "offsetResetPolicy": "earliest",
                "allowIdleConsumers": "false",
                "scaleToZeroOnInvalidOffset": "false",
            },
        }
        for topic in service.consumes
    ]
    triggers.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}})
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            # Never to zero: the same pods serve HTTP.
            "minReplicaCount": 2,
            "maxReplicaCount": max(partitions[topic] for topic in service.consumes),
            "pollingInterval": 15,
            # Rebalances cost a pause of the whole group: scale down slowly.
            "cooldownPeriod": 300,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {
                            "stabilizationWindowSeconds": 300,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                        }
                    }
                }
            },
            "triggers": triggers,
        },
    }


def service_objects(service: Service, partitions: dict[str, int]) -> list[dict[str, Any]]:
    autoscaler = scaled_object(service, partitions) if service.consumes else hpa(service)
    return [
        service_account(service),
        migration_job(service),
        deployment(service),
        k8s_service(service),
        pdb(service),
        network_policy(service),
        ingress(service),
        autoscaler,
    ]


# --- files -------------------------------------------------------------------------------

HEADER = (
    "# Generated by deploy/kubernetes/generate.py from {source}; do not edit.\n"
    "# Change the generator (or the source) and run it again; tests/deploy checks this file.\n"
)


def dump(objects: list[dict[str, Any]], source: str) -> str:
    body = yaml.safe_dump_all(objects, sort_keys=False, width=100, explicit_start=True)
    return HEADER.format(source=source) + body


def generated_files() -> dict[Path, str]:
    specs = load_topics(TOPICS_FILE)
    partitions = {spec.name: spec.partitions for spec in specs}
    files = {
        GENERATED / "kafka-topics.yaml": dump(
            [kafka_topic(spec) for spec in specs], "deploy/topics.yaml"
        )
    }
    for service in SERVICES:
        files[GENERATED / f"{service.name}.yaml"] = dump(
            service_objects(service, partitions), f"its SERVICES table ({service.name})"
        )
    files[GENERATED / "kustomization.yaml"] = HEADER.format(
        source="its file list"
    ) + yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(path.name for path in files),
        },
        sort_keys=False,
    )
    return files


def stale_files() -> list[Path]:
    """Generated files whose checked-in content differs from what the generator writes."""
    wanted = generated_files()
    stale = [
        path
        for path, text in wanted.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    extra = [p for p in GENERATED.glob("*.yaml") if p not in wanted] if GENERATED.is_dir() else []
    return sorted(stale + extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path.relative_to(REPO_ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    GENERATED.mkdir(parents=True, exist_ok=True)
    for path, text in generated_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
