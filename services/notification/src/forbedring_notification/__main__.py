"""Run the notification service: `python -m forbedring_notification`."""

from forbedring_chassis.serve import serve

serve("forbedring_notification.app:create_app", service="notification")
