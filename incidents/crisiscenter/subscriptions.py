"""E-mail subscriptions to a crisis page: the signed links and the mails. No writes here
(actions.py writes); nothing here reads the database.

- The confirmation link carries the subscriber, the time of the request it answers and
  the language, signed (django.core.signing, its own salt) and valid
  CRISIS_CENTER_CONFIRM_HOURS: a newer request makes an older link stale; once confirmed,
  the link is used.
- The unsubscribe link carries the subscriber, signed, and never expires: every mail has
  one, and the `List-Unsubscribe` / `List-Unsubscribe-Post` headers (RFC 8058) point to it.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from incidents.outbox.actions import Outgoing
from incidents.outbox.choices import Channel

CONFIRM_SALT = "crisiscenter.subscription.confirm"
UNSUBSCRIBE_SALT = "crisiscenter.subscription.unsubscribe"


def confirm_max_age() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.CRISIS_CENTER_CONFIRM_HOURS)


def stamp(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def confirm_token(subscriber) -> str:
    return signing.dumps(
        [subscriber.pk, stamp(subscriber.requested_at), subscriber.language], salt=CONFIRM_SALT
    )


def read_confirm_token(token: str) -> tuple[str, tuple | None]:
    """("ok", (pk, stamp, language)), ("expired", (pk, stamp, language)) or ("invalid", None)."""
    try:
        pk, when, language = signing.loads(token, salt=CONFIRM_SALT, max_age=confirm_max_age())
        return "ok", (int(pk), int(when), str(language))
    except signing.SignatureExpired:
        pk, when, language = signing.loads(token, salt=CONFIRM_SALT)
        return "expired", (int(pk), int(when), str(language))
    except (signing.BadSignature, ValueError, TypeError):
        return "invalid", None


def unsubscribe_token(subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.language], salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        pk, language = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(pk), str(language)
    except (signing.BadSignature, ValueError, TypeError):
        return None


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def confirm_url(subscriber, slug: str) -> str:
    return absolute(reverse("crisis-subscription-confirm", args=[slug, confirm_token(subscriber)]))


def unsubscribe_url(subscriber, slug: str) -> str:
    return absolute(
        reverse("crisis-subscription-unsubscribe", args=[slug, unsubscribe_token(subscriber)])
    )


def _headers(unsubscribe: str) -> dict:
    return {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _footer(unsubscribe: str) -> str:
    return "\n\n-- \n" + _("Stop receiving these e-mails (one click): %(url)s") % {
        "url": unsubscribe
    }


def confirmation_mail(subscriber, *, slug: str, title: str, page_url: str) -> Outgoing:
    unsubscribe = unsubscribe_url(subscriber, slug)
    with translation.override(subscriber.language):
        body = _(
            "Someone, hopefully you, asked to receive the updates of this page by e-mail:\n"
            "%(title)s\n%(page)s\n\n"
            "To confirm, open this link and press its button (valid %(hours)s hours):\n"
            "%(confirm)s\n\n"
            "If you did not ask for it, ignore this message: nothing more will be sent."
        ) % {
            "title": title,
            "page": page_url,
            "hours": settings.CRISIS_CENTER_CONFIRM_HOURS,
            "confirm": confirm_url(subscriber, slug),
        }
        subject = _("Confirm your subscription: %(title)s") % {"title": title}
        return Outgoing(
            channel=Channel.EMAIL,
            recipient=subscriber.address,
            key=f"crisis-confirm:{subscriber.pk}:{stamp(subscriber.requested_at)}",
            subject=subject,
            body=body + _footer(unsubscribe),
            label=_("crisis page subscriber"),
            headers=_headers(unsubscribe),
        )


@dataclass(frozen=True)
class UpdateShown:
    pk: int
    text: str
    when: str  # the time as the page says it


def update_mail(subscriber, *, slug: str, title: str, page_url: str, update) -> Outgoing:
    unsubscribe = unsubscribe_url(subscriber, slug)
    with translation.override(subscriber.language):
        body = _("New update, %(when)s:\n\n%(text)s\n\nThe whole page: %(page)s") % {
            "when": update.when,
            "text": update.text,
            "page": page_url,
        }
        return Outgoing(
            channel=Channel.EMAIL,
            recipient=subscriber.address,
            key=f"crisis-update:{update.pk}:{subscriber.pk}",
            subject=_("New update: %(title)s") % {"title": title},
            body=body + _footer(unsubscribe),
            label=_("crisis page subscriber"),
            headers=_headers(unsubscribe),
        )
