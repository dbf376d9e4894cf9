"""Run the actionplan service: `python -m forbedring_actionplan`."""

from forbedring_chassis.serve import serve

serve("forbedring_actionplan.app:create_app", service="actionplan")
