"""Settings every service shares; each service subclasses with its own env prefix."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common settings. A service sets `service_name` and `env_prefix` (e.g. `SURVEY_`)."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: ClassVar[str] = "service"

    database_url: str = Field(
        default="",
        description="PostgreSQL URL of this service's own database; by default "
        "forbedring_<service> on the local development server",
    )
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:59092")
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic name; lets test runs share a broker"
    )
    consumer_group: str | None = Field(
        default=None, description="Kafka consumer group; defaults to forbedring-<service>"
    )
    redis_url: str = Field(default="redis://127.0.0.1:56379/0")
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces endpoint; no export when unset"
    )
    http_host: str = Field(default="127.0.0.1")
    http_port: int = Field(default=8000)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", description="proxies whose X-Forwarded-* headers are trusted"
    )
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_interval_s: float = Field(default=0.05, gt=0)
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    migrate_at_start: bool = Field(
        default=True,
        description="Run the database migrations when the service starts; off where one "
        "job runs them first (`python -m forbedring_chassis.migrate <service>`)",
    )
    metrics_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the outbox backlog and the consumers' lag are measured for /metrics",
    )
    consumer_retry_backoff_s: float = Field(default=0.5, ge=0)
    consumer_max_attempts: int = Field(
        default=5, ge=1, description="attempts before a failing (non-outage) event is dead-lettered"
    )

    environment: str = Field(
        default="development",
        description="Where this runs (development, test, staging, production)",
    )
    oidc_issuer: str | None = Field(
        default=None, description="The OpenID Connect issuer whose tokens are accepted (iss)"
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description="The issuer's JWKS, overriding the jwks_uri of its discovery document "
        "(<oidc_issuer>/.well-known/openid-configuration)",
    )
    oidc_audience: str = Field(
        default="forbedring", description="The audience (aud) required of API bearer tokens"
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="This system's client id at the issuer; with oidc_issuer it turns on the "
        "browser sign-in (/signin), and ID tokens for it are accepted as the session",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="The client's secret, when the issuer registers it as confidential "
        "(Entra ID web apps); a public client with PKCE has none",
    )
    oidc_scopes: str = Field(default="openid profile email", description="Scopes asked for")
    oidc_employee_id_claim: str = Field(
        default="sub",
        description="The token claim holding the HR system's employee id (Entra ID: e.g. "
        "employeeid or preferred_username); applied to bearer tokens and sessions alike",
    )
    public_origin: str | None = Field(
        default=None,
        description="The origin browsers use (https://forbedring.example.no), for the sign-in "
        "redirect URIs; by default the request's own scheme and host",
    )
    session_lifetime_s: int = Field(
        default=8 * 3600,
        gt=0,
        description="How long a browser session lasts at most (the cookie's Max-Age); never "
        "longer than the issuer's token",
    )
    signin_rate_limit_per_min: int = Field(
        default=60,
        ge=1,
        description="Sign-in starts, callbacks and development sign-ins per minute from one "
        "client address (in Redis, shared by every replica)",
    )
    dev_issuer_enabled: bool = Field(
        default=False,
        description="Serve a development issuer (demo login, no password). Never in production.",
    )
    dev_issuer_url: str = Field(default="http://localhost/dev-issuer")
    dev_issuer_private_key: SecretStr | None = Field(
        default=None,
        description="PEM RSA key for the development issuer, so replicas share it; "
        "a fresh key per process when unset",
    )
    dev_issuer_private_key_file: Path | None = Field(
        default=None,
        description="A file holding that key instead (a volume the services share)",
    )

    @model_validator(mode="after")
    def _no_development_issuer_in_production(self) -> "ServiceSettings":
        if self.dev_issuer_enabled and "prod" in self.environment.lower():
            raise ValueError(
                f"dev_issuer_enabled must not be set in environment {self.environment!r}: "
                "the development issuer signs anyone in without a password"
            )
        return self

    @model_validator(mode="after")
    def _local_database_by_default(self) -> "ServiceSettings":
        if not self.database_url:
            self.database_url = (
                "postgresql+asyncpg://forbedring:forbedring@127.0.0.1:55432/"
                f"forbedring_{self.service_name}"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, value: str) -> str:
        # Operators paste plain libpq URLs; the services talk to PostgreSQL through asyncpg.
        for plain in ("postgresql://", "postgres://"):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value[len(plain) :]
        return value

    @property
    def group_id(self) -> str:
        # A prefixed deployment (a second stack, a benchmark) is apart in its groups too.
        return self.consumer_group or f"{self.kafka_topic_prefix}forbedring-{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"
