"""Writes of publishing. Posting itself happens in the outbox's worker (platforms.py),
never here: an action writes a Publication and one outbox message in the statement's
transaction, and the worker calls `publication_posted` or the failure handler records why
it did not go out.

Lock order, as every statements action: the incident, the statement, then the
publication."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events
from incidents.actions import lock_incident
from incidents.errors import DomainError, InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import Membership, Role
from incidents.notifications.actions import notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.outbox import actions as outbox
from incidents.outbox.actions import Outgoing
from incidents.outbox.choices import Channel
from incidents.outbox.models import OutboundMessage
from statements import actions as statement_actions
from statements import rules as statement_rules
from statements import selectors as statement_selectors
from statements.choices import StatementKind, StatementStatus
from statements.limits import over_limit
from statements.models import Revision, Statement

from . import crypto, rules
from .choices import BrandPlatform, PublicationStatus
from .models import (
    MAX_ERROR,
    MAX_HANDLE,
    MAX_LABEL,
    MAX_REPLY_TO,
    MAX_SECRET,
    BrandAccount,
    Publication,
    message_key,
)

logger = logging.getLogger("incidents.publishing")

PUBLICATION_CHANGED = "publication-changed"
KEY_PREFIX = "publish:"


# --- Brand accounts (the admin) ----------------------------------------------------------------


def account_save(*, account: BrandAccount, actor, secret: str = "") -> BrandAccount:
    """Create or change a brand account. `secret` (the Mastodon access token or the
    Bluesky app password) is encrypted before it is stored; empty keeps the stored one
    (required for a new account). Only staff allowed to change brand accounts. Raises
    NotAllowed, InvalidInput (naming the field in `extra["field"]`)."""
    if not rules.may_manage_accounts(actor):
        raise NotAllowed(_("Only staff who manage brand accounts may change them."))
    secret = clean_account(account, secret)
    if secret:
        account.secret_encrypted = crypto.encrypt(secret)
    account.save()
    logger.info("Brand account %s saved by %s", account.pk, getattr(actor, "pk", None))
    return account


def clean_account(account: BrandAccount, secret: str = "") -> str:
    """The one rule for a brand account's fields (the admin form shows its refusals beside
    the field): normalizes them in place and returns the secret to store ("" to keep)."""
    if account.platform not in BrandPlatform.values:
        raise InvalidInput(_("Choose Mastodon or Bluesky."), field="platform")
    account.label = " ".join((account.label or "").split())[:MAX_LABEL]
    if not account.label:
        raise InvalidInput(_("Give the account a label."), field="label")
    account.handle = (account.handle or "").strip()[:MAX_HANDLE]
    if not account.handle:
        raise InvalidInput(_("Give the account's handle."), field="handle")
    account.base_url = (account.base_url or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["http", "https"])(account.base_url)
    except ValidationError:
        raise InvalidInput(
            _("Give the server's address, such as https://mastodon.social."), field="base_url"
        ) from None
    secret = (secret or "").strip()
    if len(secret) > MAX_SECRET:
        raise InvalidInput(
            _("A token is at most %(n)s characters.") % {"n": MAX_SECRET}, field="secret"
        )
    if not secret and not account.secret_encrypted:
        raise InvalidInput(
            _("Give the access token (Mastodon) or app password (Bluesky)."), field="secret"
        )
    return secret


# --- Publishing a statement ----------------------------------------------------------------------


def _clean_reply_to(value) -> str:
    value = (value or "").strip()
    if len(value) > MAX_REPLY_TO:
        raise InvalidInput(
            _("The post to answer is named in at most %(n)s characters.") % {"n": MAX_REPLY_TO}
        )
    return value


def _lock(statement: Statement) -> Statement:
    incident = lock_incident(statement.incident)
    statement = Statement.objects.select_for_update().select_related("policy").get(pk=statement.pk)
    statement.incident = incident
    return statement_selectors.load_progress(statement)


@transaction.atomic
def statement_publish_via(
    *,
    statement: Statement,
    account: BrandAccount,
    actor,
    in_reply_to: str | None = None,
    revision: int | None = None,
) -> Publication:
    """Post the approved text of the statement's current revision on a brand account, as
    a reply to `in_reply_to` (the answered post's URL, URI or id on the platform: a
    mention's `url` or `external_id`) or, for an individual reply without one, to the
    statement's `reply_to_url`. Writes a queued Publication and one outbox message; the
    worker posts it and records the statement published (with the post's address, time
    and `actor` as publisher).

    Idempotent per (statement, revision, account): asking again while it is queued or
    posted answers the same Publication; after a failure it tries again (the same outbox
    message, so the platform sees the same idempotency key). The one rule of publishing
    (statements' PUBLISH: the spokesperson, an approved revision holding every approval)
    applies. Raises NotAllowed (403), TransitionNotAllowed (409: not approved, already
    published or being published elsewhere), InvalidInput (400: an inactive account or
    one of another platform)."""
    in_reply_to = _clean_reply_to(in_reply_to)
    statement = _lock(statement)
    account = BrandAccount.objects.get(pk=account.pk)
    seen = revision
    revision = statement.revision
    existing = (
        Publication.objects.select_for_update()
        .filter(statement=statement, revision=revision, account=account)
        .first()
    )
    if existing is not None and existing.status != PublicationStatus.FAILED:
        # A double click, a retried request, or asked again after it went out: the same
        # post (still only for who may publish).
        statement_rules.check(statement_rules.PUBLISH, actor, statement)
        return existing
    if not statement_rules.check(statement_rules.PUBLISH, actor, statement, revision=seen):
        raise TransitionNotAllowed(_("This statement is already published."))
    rules.check_account(account, statement)
    other = (
        Publication.objects.filter(statement=statement)
        .exclude(status=PublicationStatus.FAILED)
        .select_related("account")
        .first()
    )
    if other is not None:
        raise TransitionNotAllowed(
            _("This statement is already being posted on %(account)s.")
            % {"account": other.account.label}
        )
    text = Revision.objects.get(statement=statement, number=revision).text
    if over_limit(text, statement.channel):
        raise InvalidInput(_("The text is longer than the platform allows."))
    if not in_reply_to and statement.kind == StatementKind.REPLY:
        in_reply_to = statement.reply_to_url
    now = timezone.now()
    if existing is None:
        publication = Publication.objects.create(
            statement=statement,
            account=account,
            revision=revision,
            in_reply_to=in_reply_to,
            requested_by=actor,
            requested_at=now,
        )
    else:  # "Try again" after a failure
        publication = existing
        publication.status = PublicationStatus.QUEUED
        publication.in_reply_to = in_reply_to
        publication.requested_by = actor
        publication.requested_at = now
        publication.tries += 1
        publication.error = ""
        publication.failed_at = None
    key = message_key(statement.pk, revision, account.pk)
    message = publication.message
    if message is None:
        outbox.enqueue(
            Outgoing(
                channel=Channel.POST,
                recipient=f"{account.platform}:{account.pk}",
                key=key,
                body=text,
                subject=statement.title,
                label=account.label,
                incident=statement.incident,
            ),
            actor=actor,
            now=now,
        )
        publication.message = OutboundMessage.objects.get(key=key)
    else:
        # The same row, so the same idempotency key: a post that went out unseen is not
        # posted twice. The rule above is the permission; the outbox's own "Retry now" is
        # staff's, so this asks as the system.
        outbox.messages_retry(actor=None, ids=[message.pk], now=now)
    publication.save()
    events.publish_signal_on_commit(
        statement.incident_id, PUBLICATION_CHANGED, statement_id=statement.pk
    )
    return publication


def publication_posted(*, publication: Publication, post_id: str, post_url: str, now=None):
    """The worker's record of a post that went out: the Publication is `sent` with the
    post's id and address, and the statement is recorded published (statements'
    `statement_publish`, as the person who asked). A statement that cannot be recorded
    any more (published meanwhile by hand, the asker no longer spokesperson) keeps the
    post all the same, with the reason in `error`: the post is public either way."""
    now = now or timezone.now()
    with transaction.atomic():
        publication = Publication.objects.select_related("statement__incident", "requested_by").get(
            pk=publication.pk
        )
        note = ""
        if publication.requested_by is None:
            note = _("Posted, but not recorded on the statement: the account that asked is gone.")
        else:
            try:
                with transaction.atomic():
                    statement_actions.statement_publish(
                        statement=publication.statement,
                        actor=publication.requested_by,
                        url=post_url,
                        published_at=now,
                        revision=publication.revision,
                    )
            except DomainError as error:
                note = _("Posted, but not recorded on the statement: %(reason)s") % {
                    "reason": error.message
                }
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.SENT,
            post_id=post_id[:300],
            post_url=post_url[:500],
            sent_at=now,
            failed_at=None,
            error=note[:MAX_ERROR],
        )
        events.publish_signal_on_commit(
            publication.statement.incident_id,
            PUBLICATION_CHANGED,
            statement_id=publication.statement_id,
        )
    if note:
        logger.warning("Publication %s: %s", publication.pk, note)


def _not_posted(account: str, statement) -> str:
    # The statement as its pages name it: its title, else its kind and channel.
    return _("Not posted on %(account)s: %(title)s") % {"account": account, "title": statement}


def on_post_failed(messages) -> int:
    """The outbox's failure handler (registered in apps.py): the publications of these
    messages are `failed` with the reason, their statements stay approved, and whoever
    asked is told (the incident's lead already is, by the notifications' handler).
    Returns how many publications failed."""
    ids = [m.pk for m in messages if m.channel == Channel.POST and m.key.startswith(KEY_PREFIX)]
    if not ids:
        return 0
    reasons = {m.pk: m.last_error for m in messages}
    now = timezone.now()
    publications = list(
        Publication.objects.filter(
            message_id__in=ids, status=PublicationStatus.QUEUED
        ).select_related("statement__incident", "account", "requested_by")
    )
    incident_ids = {p.statement.incident_id for p in publications}
    leads = set(
        Membership.objects.active()
        .filter(incident_id__in=incident_ids, role=Role.LEAD)
        .values_list("incident_id", "user_id")
    )
    failed = 0
    for publication in publications:
        publication.error = (reasons.get(publication.message_id) or _("Not posted."))[:MAX_ERROR]
        # Conditional: a publication asked again meanwhile is left to its new try.
        if not Publication.objects.filter(
            pk=publication.pk, status=PublicationStatus.QUEUED, tries=publication.tries
        ).update(status=PublicationStatus.FAILED, error=publication.error, failed_at=now):
            continue
        failed += 1
        statement = publication.statement
        asker = publication.requested_by
        if asker is not None and (statement.incident_id, asker.pk) not in leads:
            notify(
                users=[asker],
                kind=NotificationKind.DELIVERY_FAILED,
                subject=per_reader(_not_posted, publication.account.label, statement),
                body=publication.error,
                url=reverse("statement-detail", args=[statement.pk]),
                incident=statement.incident,
                key=f"publication:{publication.pk}:try{publication.tries}:failed",
            )
        events.publish_signal_on_commit(
            statement.incident_id, PUBLICATION_CHANGED, statement_id=statement.pk
        )
    logger.info("%s publication(s) failed", failed)
    return failed


def still_publishable(publication: Publication) -> str:
    """Why the worker must not post this publication now ("" when it may): the statement
    changed, was withdrawn or published by other means since it was queued."""
    statement = publication.statement
    if statement.status == StatementStatus.PUBLISHED:
        return _("the statement was already published (%(url)s)") % {
            "url": statement.published_url or _("no address")
        }
    if statement.status != StatementStatus.APPROVED or statement.revision != publication.revision:
        return _("the statement changed since it was queued: it must be approved again")
    if not publication.account.active:
        return _("the brand account was deactivated")
    return ""
