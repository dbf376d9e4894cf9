"""What the actionplan service refuses, in the chassis's one error shape."""

from forbedring_chassis import errors


class ActionplanError(errors.ServiceError):
    """Any refusal of this service (pages catch it to show it)."""


class NotFound(ActionplanError, errors.NotFound):
    pass


class Forbidden(ActionplanError, errors.Forbidden):
    pass


class Conflict(ActionplanError, errors.Conflict):
    pass


class StaleEdit(Conflict):
    """The edit was made to an older revision than the one stored: someone else changed
    it meanwhile. Nothing is changed; reload and edit again."""

    code = "stale_edit"


class Invalid(ActionplanError, errors.Invalid):
    pass


class ChecklistNotMet(Invalid):
    """The plan cannot be marked complete: the checklist (in `problems`) is not met."""

    code = "checklist_not_met"


class EscalationRefused(Conflict):
    code = "escalation_refused"
