"""What the notification service refuses, in the chassis's one error shape."""

from forbedring_chassis import errors


class NotificationError(errors.ServiceError):
    """Any refusal of this service (pages catch it to show their own page)."""


class NotFound(NotificationError, errors.NotFound):
    pass


class Forbidden(NotificationError, errors.Forbidden):
    pass


class Conflict(NotificationError, errors.Conflict):
    pass
