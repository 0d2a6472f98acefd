"""Domain errors raised by actions. The API maps each to a status code; pages show the text."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra  # more JSON for API clients (e.g. the other person's text)


class InvalidInput(DomainError):
    status_code = 400


class NotAllowed(DomainError):
    """The user is in the cell but their role does not allow this."""

    status_code = 403


def require(allowed: bool, message) -> None:
    """Refuse with `message` (NotAllowed, 403) unless `allowed`: the guard of every action.
    `message` may be lazy (gettext_lazy): it is translated only when refused."""
    if not allowed:
        raise NotAllowed(str(message))


class TransitionNotAllowed(DomainError):
    status_code = 409


class Conflict(DomainError):
    status_code = 409


class StaleRevision(Conflict):
    """Saved from a revision that is no longer the current one: someone else saved first."""
