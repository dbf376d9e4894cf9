"""The notification service's settings (env prefix `NOTIFICATION_`)."""

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from forbedring_chassis.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "notification"

    # --- where mail goes ----------------------------------------------------------------
    smtp_host: str = Field(
        default="127.0.0.1", description="The SMTP server (relay) to send through"
    )
    smtp_port: int = Field(default=51025, description="Its port (the local SMTP sink by default)")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the connection with STARTTLS (required if set)"
    )
    smtp_tls: bool = Field(default=False, description="Connect with implicit TLS (port 465)")
    smtp_validate_certs: bool = True
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user, if any")
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    mail_from: str = Field(
        default="ForBedring <forbedring@localhost>",
        description="The From header and envelope sender",
    )
    message_id_domain: str = Field(
        default="forbedring.localhost", description="The right-hand side of every Message-ID"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where people reach the services (the proxy's origin); every link in an "
        "email starts here: /survey/, /publication/, /actionplan/, /notification/",
    )

    # --- how fast and how persistent ------------------------------------------------------
    relay_enabled: bool = True
    relay_connections: int = Field(default=4, ge=1, description="SMTP connections in parallel")
    relay_batch_size: int = Field(
        default=20,
        ge=1,
        description="Rows a connection claims at once; at most this many per connection are "
        "marked 'possibly sent' after a crash",
    )
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    send_rate_per_s: float = Field(
        default=100.0, ge=0, description="Most emails sent per second in all; 0 for no limit"
    )
    retry_base_s: float = Field(default=30.0, gt=0, description="First retry after this long")
    retry_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between retries")
    retry_max_attempts: int = Field(
        default=30, ge=1, description="Attempts before a temporary failure counts as permanent"
    )
    sending_lease_s: float = Field(
        default=120.0,
        gt=0,
        description="A row claimed for sending this long ago and still not recorded was "
        "claimed by a process that stopped: it is marked 'possibly sent'",
    )

    # --- when ------------------------------------------------------------------------------
    scheduler_enabled: bool = True
    scheduler_interval_s: float = Field(default=60.0, gt=0)
    time_zone: str = Field(default="Europe/Oslo", description="Recipients' time zone")
    working_hours_start: int = Field(default=8, ge=0, le=23, description="Digests from (hour)")
    working_hours_end: int = Field(default=16, ge=1, le=24, description="Digests until (hour)")
    reminder_days_before_close: list[float] = Field(
        default_factory=lambda: [14.0, 3.0],
        description="Reminders to every invited employee, this many days before the period "
        "closes; at most two",
    )
    digest_daily_days: int = Field(
        default=7, ge=0, description="The last days of a period in which the digest is daily"
    )

    outbox_poll_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="This service publishes no events: its (chassis) outbox is polled "
        "rarely, so as not to take a transaction every 50 ms from the mail relay",
    )

    hr_admins: list[str] = Field(
        default_factory=list,
        description="Employee ids allowed on the admin page besides the directory's hr_admins",
    )

    @field_validator("reminder_days_before_close")
    @classmethod
    def _at_most_two(cls, value: list[float]) -> list[float]:
        if len(value) > 2:
            raise ValueError("at most two reminders during a period")
        if any(days <= 0 for days in value):
            raise ValueError("reminders come before the period closes (days > 0)")
        return sorted(value, reverse=True)
