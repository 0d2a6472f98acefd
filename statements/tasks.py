"""Celery tasks: take ids, call selectors/actions. Queued after commit by the actions."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from . import selectors


@shared_task(ignore_result=True)
def notify_reviewers(statement_id: int) -> int:
    """Email the approvers whose sign-off the statement waits for now. Returns how many."""
    statement, recipients = selectors.reviewers_awaited(statement_id)
    if statement is None:
        return 0
    link = settings.SITE_URL + reverse("statement-detail", args=[statement.pk])
    messages = []
    for user in recipients:
        if not user.email:
            continue
        # One language per message would need a per-user preference; the statement's own
        # language is the best guess of what its reviewers read.
        with translation.override(statement.language):
            subject = _("[Crisis Cell] Approval needed: %(what)s — %(incident)s") % {
                "what": str(statement),
                "incident": statement.incident.title,
            }
            subject = " ".join(subject.split())  # a header is one line
            body = _(
                "A statement awaits your review (revision %(n)s, %(channel)s).\n\n"
                "%(text)s\n\nReview it: %(link)s\n"
            ) % {
                "n": statement.revision,
                "channel": statement.get_channel_display(),
                "text": statement.text,
                "link": link,
            }
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    send_mass_mail(messages, fail_silently=False)
    return len(messages)
