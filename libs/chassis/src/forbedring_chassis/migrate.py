"""Bring one service's database to the newest revision, then exit.

    python -m forbedring_chassis.migrate <service>

Reads the service's own settings (`forbedring_<service>.settings`, prefix `<SERVICE>_`), so
it takes exactly the database the service would. Kubernetes runs it as one Job per service
before the Deployment's replicas start with `<SERVICE>_MIGRATE_AT_START=false`; locally the
services migrate as they start (the advisory lock in `migrations` serialises replicas).
"""

import argparse
import importlib
import sys

from pydantic_settings import BaseSettings

from forbedring_chassis.logging import configure_logging, get_logger
from forbedring_chassis.migrations import upgrade_to_head
from forbedring_chassis.settings import ServiceSettings

log = get_logger(__name__)


def settings_for(service: str) -> ServiceSettings:
    """The service's settings class, read from its environment."""
    module = importlib.import_module(f"forbedring_{service}.settings")
    cls = getattr(module, f"{service.capitalize()}Settings")
    if not (isinstance(cls, type) and issubclass(cls, ServiceSettings)):
        raise TypeError(f"forbedring_{service}.settings has no {service.capitalize()}Settings")
    settings: BaseSettings = cls()
    assert isinstance(settings, ServiceSettings)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("service", help="survey, aggregation, publication, actionplan, ...")
    args = parser.parse_args(argv)
    settings = settings_for(args.service)
    configure_logging(
        service=settings.service_name, level=settings.log_level, json=settings.log_json
    )
    upgrade_to_head(database_url=settings.database_url, package=f"forbedring_{args.service}")
    log.info("service.migrated", service=settings.service_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
