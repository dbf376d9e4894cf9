"""What the publication service refuses, in the chassis's one error shape."""

from forbedring_chassis import errors


class PublicationError(errors.ServiceError):
    """Any refusal of this service (pages catch it to show their own page)."""


class NotFound(PublicationError, errors.NotFound):
    pass


class Forbidden(PublicationError, errors.Forbidden):
    pass


class Conflict(PublicationError, errors.Conflict):
    pass


class Invalid(PublicationError, errors.Invalid):
    pass
