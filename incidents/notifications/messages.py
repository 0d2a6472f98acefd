"""The text of the e-mails and chat messages a notification sends: plain text, in one
language (the recipient's, else the site's), with the direct link built from
settings.SITE_URL. Pure functions of their arguments: rendered once per language and kind of
channel, whatever the number of recipients."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from incidents.outbox.models import MAX_SUBJECT
from incidents.people import display_name
from incidents.text import one_line

from .choices import NotificationKind

# A chat message carries the start of a long body (a statement's text); the link has it all.
CHAT_BODY_MAX = 1500


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def absolute(url: str) -> str:
    """A site path as the link people click: SITE_URL + path (an absolute URL as it is)."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + (url if url.startswith("/") else f"/{url}")


def language_of(preference) -> str:
    """The language of a person's messages: the one they chose, else the one their browser
    showed the app in when they last signed in, else the site's."""
    if preference is None:
        return settings.LANGUAGE_CODE
    return preference.language or preference.browser_language or settings.LANGUAGE_CODE


def _kind(kind: str) -> str:
    try:
        return str(NotificationKind(kind).label)
    except ValueError:
        return kind


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def email(*, kind, subject, url, incident=None, actor=None, body="", language) -> Message:
    """The e-mail to one person: `[Crisis Cell] <kind>: <subject> — <incident>`, then the
    facts, the body, the link, and where to change what they receive. A lazy `body` (a
    producer's text in words) is rendered here, in the recipient's language."""
    with translation.override(language):
        body = str(body or "")
        head = (
            _("%(kind)s: %(subject)s") % {"kind": _kind(kind), "subject": subject}
            if subject
            else _kind(kind)
        )
        # The incident's name ends the subject whole (mail clients list it): a long
        # subject gives way to it, cut with "…", within the outbox's limit.
        prefix = f"[{_('Crisis Cell')}] "
        suffix = f" — {incident.title}" if incident is not None else ""
        title = prefix + _clip(one_line(head), MAX_SUBJECT - len(prefix) - len(suffix))
        title += suffix
        lines = [head]
        if incident is not None:
            lines.append(_("Incident: %(title)s") % {"title": incident.title})
        if actor is not None:
            lines.append(_("By: %(name)s") % {"name": display_name(actor)})
        if body:
            lines += ["", body]
        lines += ["", _("Open it: %(link)s") % {"link": absolute(url)}, "", "-- "]
        lines.append(
            _("Choose what you receive, and how: %(link)s")
            % {"link": absolute(reverse("notification-settings"))}
        )
    return Message(subject=one_line(title), body="\n".join(lines) + "\n")


def chat(*, kind, subject, url, incident=None, actor=None, body="", language, people=()) -> Message:
    """A chat message (a person's or the cell's channel): a short title, then the incident,
    who it is for (`people`, on the cell's channel), the start of the body and the link."""
    with translation.override(language):
        body = str(body or "")
        title = (
            _("%(kind)s: %(subject)s") % {"kind": _kind(kind), "subject": subject}
            if subject
            else _kind(kind)
        )
        lines = []
        if incident is not None:
            lines.append(incident.title)
        if people:
            lines.append(_("For: %(names)s") % {"names": ", ".join(people)})
        if actor is not None:
            lines.append(_("By: %(name)s") % {"name": display_name(actor)})
        if body:
            lines.append(_clip(body, CHAT_BODY_MAX))
        lines.append(absolute(url))
    return Message(subject=one_line(title), body="\n".join(lines))
