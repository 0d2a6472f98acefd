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


def request_refusal(exception) -> tuple[int, str]:
    """(status, sentence) for a request Django refuses before or while reading its body:
    413 past DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig), 400 for too many files or
    fields, 400 "could not be understood" for anything else. One wording for the error
    pages (crisiscell.errors.bad_request) and the API's JSON (incidents.api.errors)."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
    from django.template.defaultfilters import filesizeformat
    from django.utils.translation import gettext as _

    if isinstance(exception, RequestDataTooBig):
        return 413, _("The request is too large: send at most %(size)s.") % {
            "size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        }
    if isinstance(exception, TooManyFilesSent):
        return 400, _("Too many files in one request: send at most %(n)s at a time.") % {
            "n": settings.EVIDENCE_MAX_FILES_PER_REQUEST
        }
    if isinstance(exception, TooManyFieldsSent):
        return 400, _("Too many fields in one request.")
    return 400, _("The request could not be understood.")
