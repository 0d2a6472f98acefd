"""Writes of notifications. `notify` is called by producers inside their own transaction (a
hand-off, a task reminder), so a notification exists exactly when the event that caused it
does: the bell's rows and, per each person's preferences, their e-mail and chat messages as
outbox rows (incidents.outbox), all committed together and delivered after commit.

Preferences and chat targets are always the actor's own (the pages and the API never name
another person); the cell's chat channel is its lead's (rules.py)."""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _

from incidents import events, presence
from incidents.actions import lock_incident
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import Incident, Membership, Role
from incidents.outbox.actions import Outgoing, enqueue
from incidents.outbox.choices import Channel
from incidents.people import display_name
from incidents.text import is_visible, one_line

from . import chat, messages, rules
from .choices import NotificationKind
from .models import (
    MAX_CELL_TARGETS,
    MAX_KEY,
    MAX_PERSONAL_TARGETS,
    MAX_SUBJECT,
    ChatTarget,
    Notification,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

NOTIFICATIONS_CHANGED = "notifications-changed"
# The channels beyond the bell, as preferences name them.
EMAIL, CHAT = Channel.EMAIL.value, Channel.CHAT.value
BEYOND_THE_BELL = frozenset({EMAIL, CHAT})
# What the cell's chat channel does not get: a reminder five minutes ahead is one person's
# business, and a failure notice on a channel that may be the one failing could loop.
NOT_FOR_THE_CELL = frozenset({NotificationKind.DUE_SOON, NotificationKind.DELIVERY_FAILED})


def notify(
    *,
    users: Iterable,
    kind: str,
    subject: str,
    url: str,
    incident=None,
    now=None,
    announce: bool = True,
    body: str = "",
    actor=None,
    key: str = "",
) -> int:
    """One bell notification per user (duplicates in `users` count once) and, per each
    person's preferences, an e-mail (their account's address) and a message to each of
    their chat targets; the incident's cell channels get the event once. All outbox rows of
    a call are one INSERT, in the caller's transaction; nothing is sent before it commits.

    `subject`: what it is about (one line, at most 200 characters kept; words the product
    writes come as `per_reader(...)`, written in each person's language, in the bell as in
    messages; `body` likewise); `url`: a site path
    (e-mails and chat carry SITE_URL + url); `body`: the longer text a message carries (a
    statement's text); `actor`: who caused it. `key`: the producer's stable name for the
    event (e.g. "statement:12:rev:3:review"): the same key again notifies nobody twice, in
    the bell or beyond; without it every call is a new event. Someone whose preference is
    "quiet when looking" and who has the incident's room open gets the bell only.

    Each person's open pages refresh their bell after commit; a producer writing many at
    once passes `announce=False` and calls `announce_to` once at the end. Returns how many
    people were notified."""
    return _notify(
        users=users,
        kind=kind,
        subject=subject,
        url=url,
        incident=incident,
        now=now,
        announce=announce,
        body=body,
        actor=actor,
        key=key,
        channels=BEYOND_THE_BELL,
    )


def per_reader(render: Callable[..., str], *args, **kwargs) -> Promise:
    """A text written for each reader: `notify` calls `render(*args, **kwargs)` once per
    reader's language, with that language active, for the subject or the body. Words the
    product writes go through it (`per_reader(lambda: _("Your role is now %(role)s") % …)`),
    so that the bell and the messages of a French reader are French whoever acted; people's
    own words (a statement's title, a task's) are passed as they are."""
    return lazy(render, str)(*args, **kwargs)


def _event_key(kind: str, key: str) -> str:
    """The stored event key: the producer's, named by kind, hashed when too long."""
    if not key:
        return ""
    named = f"{kind}:{key}"
    if len(named) <= MAX_KEY:
        return named
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _notify(
    *, users, kind, subject, url, incident, now, announce, body, actor, key, channels
) -> int:
    recipients = {user.pk: user for user in users}
    if not recipients:
        return 0
    now = now or timezone.now()
    subject_in = _subject_renderer(subject)
    # Read once for the messages' and a lazy subject's languages: the bell alone needs none.
    preferences = (
        {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=list(recipients))}
        if channels or isinstance(subject, Promise)
        else {}
    )
    stored_key = _event_key(kind, key)
    # Inside the producer's transaction (the usual case) no savepoint of its own: any
    # failure here fails the producer's action, as it should (all or nothing).
    with transaction.atomic(savepoint=False):
        Notification.objects.bulk_create(
            [
                Notification(
                    user=user,
                    incident=incident,
                    kind=kind,
                    subject=subject_in(messages.language_of(preferences.get(user.pk))),
                    url=url,
                    created_at=now,
                    key=stored_key,
                )
                for user in recipients.values()
            ],
            ignore_conflicts=bool(stored_key),  # a keyed event already notified: skipped
        )
        if channels:
            # Outbox keys: (event, channel, recipient). A keyed event names itself;
            # otherwise this call is its own event.
            event = hashlib.sha256(stored_key.encode()).hexdigest()[:32] if stored_key else None
            outgoing = _outgoing(
                recipients=list(recipients.values()),
                preferences=preferences,
                subject_in=subject_in,
                content={
                    "kind": kind,
                    "url": url,
                    "incident": incident,
                    "actor": actor,
                    "body": body,
                },
                event=event or uuid.uuid4().hex,
                channels=channels,
            )
            if outgoing:
                enqueue(*outgoing, actor=actor, now=now)
        if announce:
            transaction.on_commit(lambda: announce_to(recipients))
    return len(recipients)


def _subject_renderer(subject):
    """language -> the subject as one line of at most MAX_SUBJECT characters, in that
    language when the producer gave a lazy text (rendered once per language), else as
    given whatever the language."""
    if not isinstance(subject, Promise):
        fixed = _subject_line(subject)
        return lambda _language: fixed

    @cache
    def subject_in(language: str) -> str:
        with translation.override(language):
            return _subject_line(str(subject))

    return subject_in


def _subject_line(text: str) -> str:
    """One line of at most MAX_SUBJECT characters, "…" where it was cut."""
    text = one_line(text)
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1].rstrip() + "…"


def _outgoing(*, recipients, preferences, subject_in, content, event, channels) -> list[Outgoing]:
    """The e-mail and chat messages of one event: one read (chat targets) beside the
    recipients' `preferences` and at most one presence look-up, whatever the number of
    recipients; each text is rendered once per language, with its subject in it
    (`subject_in(language)`)."""
    kind, incident = content["kind"], content["incident"]
    ids = [user.pk for user in recipients]
    wanted_targets = Q(user_id__in=ids) if CHAT in channels else Q(pk__in=[])
    to_the_cell = CHAT in channels and incident is not None and kind not in NOT_FOR_THE_CELL
    if to_the_cell:
        wanted_targets |= Q(incident=incident)
    personal, cell = {}, []
    if CHAT in channels:
        for target in ChatTarget.objects.filter(wanted_targets):
            if target.incident_id is not None:
                cell.append(target)
            else:
                personal.setdefault(target.user_id, []).append(target)
    quiet = set()
    if incident is not None:
        candidates = [i for i in ids if i in preferences and preferences[i].quiet_when_looking]
        quiet = presence.present_users(incident.pk, candidates)

    rendered: dict[tuple[str, str], messages.Message] = {}

    def text(form: str, language: str) -> messages.Message:
        if (form, language) not in rendered:
            render = messages.email if form == EMAIL else messages.chat
            rendered[form, language] = render(
                **content, subject=subject_in(language), language=language
            )
        return rendered[form, language]

    out = []
    for user in recipients:
        if not user.is_active or user.pk in quiet:
            continue
        preference = preferences.get(user.pk)
        language = messages.language_of(preference)
        if EMAIL in channels and user.email and _wants(preference, kind, EMAIL):
            message = text(EMAIL, language)
            out.append(
                Outgoing(
                    channel=Channel.EMAIL,
                    recipient=user.email,
                    key=f"notify:{event}:email:u{user.pk}",
                    subject=message.subject,
                    body=message.body,
                    label=user.email,
                    user=user,
                    incident=incident,
                )
            )
        if personal.get(user.pk) and _wants(preference, kind, CHAT):
            message = text(CHAT, language)
            out.extend(
                Outgoing(
                    channel=Channel.CHAT,
                    recipient=target.url,
                    key=f"notify:{event}:chat:t{target.pk}",
                    subject=message.subject,
                    body=message.body,
                    label=_for_person(target, user),
                    user=user,
                    incident=incident,
                )
                for target in personal[user.pk]
            )
    if cell:
        message = messages.chat(
            **content,
            subject=subject_in(settings.LANGUAGE_CODE),
            language=settings.LANGUAGE_CODE,
            people=sorted(display_name(user) for user in recipients),
        )
        out.extend(
            Outgoing(
                channel=Channel.CHAT,
                recipient=target.url,
                key=f"notify:{event}:cell:t{target.pk}",
                subject=message.subject,
                body=message.body,
                label=target.display,
                incident=incident,
            )
            for target in cell
        )
    return out


def _wants(preference, kind: str, channel: str) -> bool:
    return preference is None or preference.wants(kind, channel)


def _for_person(target: ChatTarget, user) -> str:
    return f"{target.display} ({display_name(user)})"


def announce_to(user_ids: Iterable[int]) -> None:
    """Tell each person's open pages to refresh their bell (one message per person)."""
    for user_id in set(user_ids):
        events.publish_user_signal(user_id, NOTIFICATIONS_CHANGED)


@transaction.atomic
def notifications_mark_read(*, user, ids=None) -> int:
    """Mark the user's unread notifications (or only `ids` of them) read; returns how many.
    Ids that are not the user's, or already read, are ignored."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notifications_settled(*, user, url: str) -> int:
    """The person did what these notifications asked (approved the statement they link to,
    signed the post-mortem...): their unread notifications linking to `url` are marked
    read, so the bell counts what still waits on them (it kept "Approval needed" for texts
    already approved). Returns how many; the bell refreshes after COMMIT."""
    settled = Notification.objects.filter(user=user, read_at__isnull=True, url=url).update(
        read_at=timezone.now()
    )
    if settled:
        transaction.on_commit(lambda: announce_to([user.pk]))
    return settled


# --- Preferences --------------------------------------------------------------------------


def _kinds(values, field: str) -> set[str]:
    values = set(values)
    unknown = values - set(NotificationKind.values)
    if unknown:
        raise InvalidInput(
            _("Unknown kind of notification in %(field)s: %(kinds)s.")
            % {"field": field, "kinds": ", ".join(sorted(unknown))[:200]}
        )
    return values


@transaction.atomic
def preferences_update(
    *,
    actor,
    email_kinds: Iterable[str] | None = None,
    chat_kinds: Iterable[str] | None = None,
    quiet_when_looking: bool | None = None,
    language: str | None = None,
    now=None,
) -> NotificationPreference:
    """Set the actor's own preferences. `email_kinds`/`chat_kinds`: the kinds (values of
    NotificationKind) sent by that channel, every other kind is not; `language`: "en" or
    "fr", chosen (it follows the person to every browser they sign in on, and no sign-in
    replaces it), or "" for none chosen (the language of their last sign-in, else the
    site's). An argument left None keeps its value. Raises InvalidInput
    (400) for an unknown kind or language."""
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
        user=actor
    )
    every = set(NotificationKind.values)
    if email_kinds is not None:
        preference.email_off = sorted(every - _kinds(email_kinds, "email_kinds"))
    if chat_kinds is not None:
        preference.chat_off = sorted(every - _kinds(chat_kinds, "chat_kinds"))
    if quiet_when_looking is not None:
        preference.quiet_when_looking = bool(quiet_when_looking)
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise InvalidInput(_("Unknown language: %(code)s.") % {"code": language[:20]})
        preference.language = language
    preference.updated_at = now or timezone.now()
    preference.save()
    return preference


def preferred_language(user) -> str:
    """The language the person chose for their messages and the app (the header's switch,
    the settings page, the API), "" when they chose none: a language remembered from a
    browser at sign-in (message_language_remember) is not a choice."""
    return (
        NotificationPreference.objects.filter(user=user).values_list("language", flat=True).first()
        or ""
    )


@transaction.atomic
def message_language_remember(*, actor, language: str) -> bool:
    """At sign-in: the language this browser shows the app in (`language`, a code of
    settings.LANGUAGES) is the one the person's messages go in while they have not chosen
    one (messages have no browser), so a French team's alerts and e-mails are French
    without a visit to the settings page. Remembered, never a choice: the next sign-in from
    a browser in another language (the site's included) replaces it, and it never follows
    the person to another browser (only a chosen language does, preferred_language). A
    chosen language is left as it is. True when something was written."""
    if language not in dict(settings.LANGUAGES):
        return False
    preference, created = NotificationPreference.objects.get_or_create(
        user=actor, defaults={"browser_language": language}
    )
    if created or preference.browser_language == language:
        return created
    # This column alone: a settings page saved meanwhile keeps what it wrote.
    NotificationPreference.objects.filter(pk=preference.pk).update(browser_language=language)
    return True


# --- Chat targets -------------------------------------------------------------------------


def _clean_label(label: str) -> str:
    label = one_line(label)
    if not is_visible(label):
        raise InvalidInput(_("Give this chat address a name (e.g. “Slack, #crisis”)."))
    if len(label) > chat.MAX_LABEL:
        raise InvalidInput(_("A name is limited to %(n)s characters.") % {"n": chat.MAX_LABEL})
    return label


@transaction.atomic
def chat_target_add(*, actor, label: str, url: str, incident=None, now=None) -> ChatTarget:
    """Add a chat target (an Apprise URL, checked by parsing it; nothing is sent): the
    actor's own, or with `incident` the cell's channel (the lead only). At most
    MAX_PERSONAL_TARGETS per person and MAX_CELL_TARGETS per cell; the same URL twice is
    refused. Raises InvalidInput (400), NotAllowed (403)."""
    label = _clean_label(label)
    service = chat.service_of(url)
    if incident is not None:
        incident = lock_incident(incident)
        rules.require_manage_cell_channel(actor, incident)
        existing = ChatTarget.objects.filter(incident=incident)
        limit = MAX_CELL_TARGETS
    else:
        # One person's additions queue on their own row (the limit holds under races).
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        existing = ChatTarget.objects.filter(user=actor)
        limit = MAX_PERSONAL_TARGETS
    urls = list(existing.values_list("url", flat=True))
    if url in urls:
        raise InvalidInput(_("This chat address is already there."))
    if len(urls) >= limit:
        raise InvalidInput(_("At most %(n)s chat addresses here: remove one first.") % {"n": limit})
    return ChatTarget.objects.create(
        user=None if incident is not None else actor,
        incident=incident,
        label=label,
        url=url,
        service=service,
        created_by=actor,
        created_at=now or timezone.now(),
    )


@transaction.atomic
def chat_targets_set(*, actor, targets: list[dict], now=None) -> list[ChatTarget]:
    """Make the actor's own chat addresses exactly `targets` (the API's PUT): `{"id",
    "label"}` keeps one of theirs (renamed), `{"label", "url"}` adds one; any other of theirs
    is removed. Raises InvalidInput (400), changing nothing, for an id that is not theirs,
    an URL Apprise cannot parse, the same URL twice or more than MAX_PERSONAL_TARGETS."""
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    current = {target.pk: target for target in ChatTarget.objects.filter(user=actor)}
    keep: dict[int, str] = {}
    new = []
    for item in targets:
        label = _clean_label(item.get("label", ""))
        if item.get("id") is not None:
            target = current.get(item["id"])
            if target is None or target.pk in keep:
                raise InvalidInput(
                    _("No chat address of yours has the id %(id)s (or it is listed twice).")
                    % {"id": item["id"]}
                )
            keep[target.pk] = label
        else:
            url = item.get("url") or ""
            new.append((label, url, chat.service_of(url)))
    if len(keep) + len(new) > MAX_PERSONAL_TARGETS:
        raise InvalidInput(
            _("At most %(n)s chat addresses here: remove one first.") % {"n": MAX_PERSONAL_TARGETS}
        )
    urls = [current[pk].url for pk in keep] + [url for _label, url, _service in new]
    if len(set(urls)) != len(urls):
        raise InvalidInput(_("This chat address is already there."))
    ChatTarget.objects.filter(user=actor).exclude(pk__in=keep).delete()
    for pk, label in keep.items():
        if current[pk].label != label:
            current[pk].label = label
            current[pk].save(update_fields=["label"])
    now = now or timezone.now()
    ChatTarget.objects.bulk_create(
        ChatTarget(
            user=actor, label=label, url=url, service=service, created_by=actor, created_at=now
        )
        for label, url, service in new
    )
    return list(ChatTarget.objects.filter(user=actor))


def _require_target(actor, target: ChatTarget) -> None:
    if target.incident_id is not None:
        rules.require_manage_cell_channel(actor, lock_incident(target.incident))
    elif target.user_id != actor.pk:
        raise NotAllowed(_("This chat address is someone else's."))


@transaction.atomic
def chat_target_remove(*, actor, target: ChatTarget) -> None:
    """Remove one of the actor's chat targets, or (the lead) a cell channel."""
    _require_target(actor, target)
    ChatTarget.objects.filter(pk=target.pk).delete()


@transaction.atomic
def chat_target_test(*, actor, target: ChatTarget, now=None) -> None:
    """Queue a test message to a chat target, through the outbox like every message (at
    most one per target and minute: a second click in the same minute adds nothing). A
    failure comes back as a notice in the bell of the actor (or the cell's lead)."""
    _require_target(actor, target)
    now = now or timezone.now()
    link = messages.absolute(
        reverse("incident-notifications", args=[target.incident_id])
        if target.incident_id
        else reverse("notification-settings")
    )
    body = (
        _("A test from Crisis Cell for “%(label)s”: notifications will reach you here.")
        % {"label": target.label}
        + f"\n{link}"
    )
    enqueue(
        Outgoing(
            channel=Channel.CHAT,
            recipient=target.url,
            key=f"test:t{target.pk}:{now:%Y%m%d%H%M}",
            subject=_("Crisis Cell: test message"),
            body=body,
            label=target.display,
            user=actor if target.incident_id is None else None,
            incident=target.incident,
        ),
        actor=actor,
        now=now,
    )


# --- Delivery failures (registered with the outbox) --------------------------------------


def on_delivery_failed(failed) -> int:
    """The outbox gave up on these messages (OutboundMessage rows, after their last
    attempt): tell someone who can act, in the bell: the incident's lead, or the sender
    when the message belongs to no incident. One notice per message, naming who did not get
    what and why ("E-mail to legal@example.com not delivered: refused by the mail server"),
    linking to the incident's room. A notice about an e-mail never goes by e-mail (bell
    only), and none goes by chat, so a failing channel cannot feed itself. Returns how many
    notices were written; calling it again for the same messages writes none."""
    failed = list(failed)
    incident_ids = {m.incident_id for m in failed if m.incident_id}
    incidents = Incident.objects.in_bulk(incident_ids)
    leads = {
        member.incident_id: member.user
        for member in Membership.objects.active()
        .filter(incident_id__in=incident_ids, role=Role.LEAD)
        .select_related("user")
    }
    sender_ids = {m.sender_id for m in failed if m.sender_id}
    senders = {u.pk: u for u in get_user_model().objects.filter(pk__in=sender_ids)}
    written = 0
    for message in failed:
        # The lead can act on an incident's messages (phone the approver); the sender
        # when there is no incident (or, exceptionally, no lead).
        person = leads.get(message.incident_id) or senders.get(message.sender_id)
        if person is None:
            logger.warning("Nobody to tell that outbound message %s failed", message.pk)
            continue
        incident = incidents.get(message.incident_id)
        url = (
            reverse("incident-room", args=[incident.pk])
            if incident is not None
            else reverse("notification-settings")
        )
        written += _notify(
            users=[person],
            kind=NotificationKind.DELIVERY_FAILED,
            subject=per_reader(_failure_subject, message),
            url=url,
            incident=incident,
            now=None,
            announce=True,
            body=per_reader(_failure_body, message),
            actor=None,
            key=f"outbox:{message.pk}",
            channels=frozenset() if message.channel == Channel.EMAIL else frozenset({EMAIL}),
        )
    for incident_id in incident_ids:  # the cell panel shows who was not reached
        events.publish_signal_on_commit(incident_id, "delivery-failed")
    return written


def _failure_subject(message) -> str:
    """ "E-mail to legal@example.com not delivered: refused by the mail server", in the
    active language."""
    who = message.recipient_label or (
        message.recipient if message.channel == Channel.EMAIL else chat.mask(message.recipient)
    )
    why = chat.scrub(message.last_error or "", message.recipient, who).strip()
    if who and who in why:
        # The outbox's own sentence already names who and what ("e-mail to legal@…
        # refused by the mail server: 550 …"): say it once.
        return why[:1].upper() + why[1:]
    channel = str(Channel(message.channel).label) if message.channel else _("Message")
    return _("%(channel)s to %(who)s not delivered: %(why)s") % {
        "channel": channel,
        "who": who,
        "why": why or _("no reason given"),
    }


def _failure_body(message) -> str:
    return "\n".join(
        [
            _failure_subject(message),
            "",
            _("What: %(subject)s") % {"subject": message.subject or "—"},
            _("Attempts: %(n)s") % {"n": message.attempts},
            _("Reach them another way (phone) if it matters now."),
        ]
    )
