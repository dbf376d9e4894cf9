"""Run the publication service: `python -m forbedring_publication`."""

from forbedring_chassis.serve import serve
from forbedring_publication.settings import PublicationSettings

serve("forbedring_publication.app:create_app", settings=PublicationSettings())
