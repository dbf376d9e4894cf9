"""Run the actionplan service: `python -m forbedring_actionplan`."""

from forbedring_actionplan.settings import ActionplanSettings
from forbedring_chassis.serve import serve

serve("forbedring_actionplan.app:create_app", settings=ActionplanSettings())
