"""Run the publication service: `python -m forbedring_publication`."""

from forbedring_chassis.serve import serve

serve("forbedring_publication.app:create_app", service="publication")
