"""Run the notification service: `python -m forbedring_notification`."""

from forbedring_chassis.serve import serve
from forbedring_notification.settings import NotificationSettings

serve("forbedring_notification.app:create_app", settings=NotificationSettings())
