"""notify(): the bell, and per each person's preferences their e-mail and chat messages as
outbox rows (one INSERT for all of them), the cell's chat channel once per event, and
the same event key never notifying twice."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext as _

from crisiscell.typography import french_spacing
from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import ChatTarget, Notification
from incidents.outbox.choices import Channel
from incidents.outbox.models import OutboundMessage

from .conftest import SITE, outbox

pytestmark = pytest.mark.usefixtures("with_emails")

STATEMENT_URL = "/statements/5/"
TEXT = "We are aware of the post and are looking into it."


def review_requested(incident, users, actor, **extra):
    return actions.notify(
        users=users,
        kind=NotificationKind.REVIEW_REQUESTED,
        subject="Holding statement (X)",
        url=STATEMENT_URL,
        incident=incident,
        body=TEXT,
        actor=actor,
        **extra,
    )


def chat_target(user, url="json://127.0.0.1:9/hook-secret", label="Phone"):
    return actions.chat_target_add(actor=user, label=label, url=url)


def test_each_person_gets_the_bell_and_an_email_with_the_direct_link(
    incident, approver, spokesperson, drafter
):
    assert review_requested(incident, [approver, spokesperson, approver], drafter) == 2

    bell = Notification.objects.filter(kind="review_requested")
    assert {n.user for n in bell} == {approver, spokesperson}
    mails = outbox(channel=Channel.EMAIL)
    assert [m.recipient for m in mails] == ["approver@example.com", "spokesperson@example.com"]
    mail = mails[0]
    assert (
        mail.subject == f"[Crisis Cell] Approval needed: Holding statement (X) — {incident.title}"
    )
    assert f"{SITE}{STATEMENT_URL}" in mail.body
    assert TEXT in mail.body
    assert "By: drafter" in mail.body
    assert f"{SITE}/notifications/settings/" in mail.body  # where to change what they get
    assert (mail.user, mail.incident, mail.sender) == (approver, incident, drafter)
    assert mail.recipient_label == "approver@example.com"
    assert mail.status == "pending"
    assert len({m.key for m in mails}) == 2
    assert not outbox(channel=Channel.CHAT)  # nobody has a chat address


def test_preferences_choose_the_channels_per_kind(incident, approver, spokesperson, drafter):
    chat_target(approver)
    chat_target(spokesperson, url="json://127.0.0.1:9/other")
    every = NotificationKind.values
    # The approver wants approvals by chat only; the spokesperson by e-mail only.
    actions.preferences_update(
        actor=approver, email_kinds=[k for k in every if k != "review_requested"]
    )
    actions.preferences_update(actor=spokesperson, chat_kinds=["published"])

    review_requested(incident, [approver, spokesperson], drafter)

    assert {(m.channel, m.user) for m in outbox()} == {
        (Channel.EMAIL, spokesperson),
        (Channel.CHAT, approver),
    }
    assert Notification.objects.filter(kind="review_requested").count() == 2  # the bell, always


def test_chat_goes_to_each_address_of_the_person(incident, approver, drafter):
    chat_target(approver, label="Phone")
    chat_target(approver, url="slack://TokenA/TokenB/TokenC/#crisis", label="Slack DM")

    review_requested(incident, [approver], drafter)

    chats = outbox(channel=Channel.CHAT)
    assert [m.recipient for m in chats] == [
        "json://127.0.0.1:9/hook-secret",
        "slack://TokenA/TokenB/TokenC/#crisis",
    ]
    assert [m.recipient_label for m in chats] == [
        "JSON — Phone (approver)",
        "Slack — Slack DM (approver)",
    ]
    chat = chats[0]
    assert chat.subject == "Approval needed: Holding statement (X)"
    assert chat.body.splitlines() == [incident.title, "By: drafter", TEXT, f"{SITE}{STATEMENT_URL}"]
    # Labels name the address without its secret: they are what failure notices show.
    assert all(
        "Token" not in m.recipient_label and "secret" not in m.recipient_label for m in chats
    )


def test_no_email_address_or_a_deactivated_account_gets_the_bell_only(
    incident, approver, spokesperson, drafter
):
    approver.email = ""
    approver.save()
    spokesperson.is_active = False
    spokesperson.save()
    chat_target(spokesperson)

    review_requested(incident, [approver, spokesperson], drafter)

    assert Notification.objects.filter(kind="review_requested").count() == 2
    assert not outbox()


def test_the_cell_channel_hears_each_event_once(incident, lead, approver, spokesperson, drafter):
    actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="mmost://chat.example.com/hookkey"
    )

    review_requested(incident, [approver, spokesperson, lead], drafter)

    cell = outbox(recipient="mmost://chat.example.com/hookkey")
    assert len(cell) == 1
    message = cell[0]
    assert message.user is None and message.incident == incident
    assert message.recipient_label == "Mattermost — #crisis-room"
    assert "For: Camille Laurent, approver, spokesperson" in message.body
    assert f"{SITE}{STATEMENT_URL}" in message.body
    # ...besides each person's own e-mail.
    assert len(outbox(channel=Channel.EMAIL)) == 3


def test_the_cell_channel_skips_personal_reminders_and_other_incidents(
    incident, declare, lead, drafter
):
    actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="json://127.0.0.1:9/cell"
    )
    actions.notify(
        users=[drafter], kind=NotificationKind.DUE_SOON, subject="Brief", url="/", incident=incident
    )
    other = declare(title="Another incident")
    actions.notify(
        users=[lead], kind=NotificationKind.PUBLISHED, subject="x", url="/", incident=other
    )
    actions.notify(users=[lead], kind=NotificationKind.TASK_ASSIGNED, subject="Brief", url="/")

    assert not outbox(channel=Channel.CHAT)


def test_the_same_event_key_notifies_nobody_twice(incident, lead, approver, spokesperson, drafter):
    actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="json://127.0.0.1:9/cell"
    )
    chat_target(approver)
    key = "statement:5:revision:2:review"

    review_requested(incident, [approver, spokesperson], drafter, key=key)
    first = {m.key for m in outbox()}
    review_requested(incident, [approver, spokesperson], drafter, key=key)  # a retried task

    assert Notification.objects.filter(kind="review_requested").count() == 2
    assert {m.key for m in outbox()} == first
    assert len(first) == 4  # two e-mails, the approver's chat, the cell's channel
    # Another event (the next revision) is news again.
    review_requested(incident, [approver], drafter, key="statement:5:revision:3:review")
    assert Notification.objects.filter(kind="review_requested").count() == 3
    assert len(outbox()) == 4 + 3


def test_without_a_key_each_call_is_an_event(incident, approver, drafter):
    review_requested(incident, [approver], drafter)
    review_requested(incident, [approver], drafter)

    assert Notification.objects.filter(user=approver).count() == 2
    assert len(outbox(user=approver)) == 2


def test_a_long_event_key_is_hashed_into_the_column(incident, approver, drafter):
    key = "x" * 500
    review_requested(incident, [approver], drafter, key=key)
    review_requested(incident, [approver], drafter, key=key)

    assert Notification.objects.filter(user=approver).count() == 1
    assert len(outbox(user=approver)) == 1


def _inserts(queries, table):
    return [q for q in queries if q["sql"].startswith("INSERT") and f'"{table}"' in q["sql"]]


@pytest.mark.parametrize("people", [3, 30])
def test_one_insert_for_every_message_of_a_call(incident, lead, drafter, make_user, people):
    users = [make_user(email=f"person{i}@example.com") for i in range(people)]
    for user in users[:2]:
        chat_target(user, url=f"json://127.0.0.1:9/{user.pk}")
    actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="json://127.0.0.1:9/cell"
    )
    actions.preferences_update(actor=users[0], quiet_when_looking=True)

    with CaptureQueriesContext(connection) as queries:
        review_requested(incident, users, drafter)

    assert len(_inserts(queries, OutboundMessage._meta.db_table)) == 1
    assert len(_inserts(queries, Notification._meta.db_table)) == 1
    # Preferences and chat targets are read once: the count does not grow with people.
    assert len(queries) <= 6, [q["sql"] for q in queries]
    assert OutboundMessage.objects.count() == people + 2 + 1


def test_emails_are_in_the_recipients_language(incident, approver, spokesperson, drafter):
    actions.preferences_update(actor=approver, language="fr")

    review_requested(incident, [approver, spokesperson], drafter)

    french = outbox(user=approver)[0]
    english = outbox(user=spokesperson)[0]
    with translation.override("fr"):
        site, label = _("Crisis Cell"), str(NotificationKind.REVIEW_REQUESTED.label)
    assert label != "Approval needed"
    # A subject is put on one line and keeps its no-break spaces, as the body does.
    assert french.subject.startswith(french_spacing(f"[{site}] {label} : Holding statement (X)"))
    assert french_spacing("Incident : ") + incident.title in french.body
    assert f"Incident: {incident.title}" in english.body
    assert english.subject.startswith("[Crisis Cell] Approval needed:")


def test_without_a_language_of_their_own_people_get_the_sites(
    incident, approver, drafter, settings
):
    settings.LANGUAGE_CODE = "fr"
    review_requested(incident, [approver], drafter)
    assert french_spacing("Incident : ") + incident.title in outbox(user=approver)[0].body


def test_signing_in_in_french_gives_french_messages_to_who_never_chose(
    incident, approver, spokesperson, drafter, client
):
    """A new-user pass browsed in French and got its alerts and e-mails in English, the
    site's language: the language the person signs in with stands until they choose."""
    for person in (approver, spokesperson):
        person.set_password("pw-for-this-test")
        person.save(update_fields=["password"])
    actions.preferences_update(actor=spokesperson, language="en")  # chose
    for person in (approver, spokesperson):
        client.post(
            "/accounts/login/",
            {"username": person.username, "password": "pw-for-this-test"},
            HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9",
        )
        client.logout()

    review_requested(incident, [approver, spokesperson], drafter)

    assert french_spacing("Incident : ") + incident.title in outbox(user=approver)[0].body
    assert f"Incident: {incident.title}" in outbox(user=spokesperson)[0].body
    # Remembered, not chosen: signing in later from an English browser replaces it
    # (tests/notifications/test_language_choice.py); a choice stands.
    for person in (approver, spokesperson):
        client.post(
            "/accounts/login/",
            {"username": person.username, "password": "pw-for-this-test"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        client.logout()
    approver.notification_preference.refresh_from_db()
    spokesperson.notification_preference.refresh_from_db()
    assert (
        approver.notification_preference.language,
        approver.notification_preference.browser_language,
    ) == ("", "en")
    assert spokesperson.notification_preference.language == "en"


def test_the_language_chosen_in_the_header_is_the_persons(
    incident, approver, drafter, browser_client, client
):
    """A French lead switched the header to Français: the bell and the e-mails went on in
    English, and signed in again in a fresh browser the app was English again."""
    from django.conf import settings

    switched = browser_client.as_user(approver).post(
        "/i18n/setlang/", {"language": "fr", "next": "/"}
    )
    assert switched.status_code == 302
    approver.notification_preference.refresh_from_db()
    assert approver.notification_preference.language == "fr"
    review_requested(incident, [approver], drafter)
    assert french_spacing("Incident : ") + incident.title in outbox(user=approver)[0].body
    # Another browser, asking for English: signing in brings the choice back.
    approver.set_password("pw-for-this-test")
    approver.save(update_fields=["password"])
    signed_in = client.post(
        "/accounts/login/",
        {"username": approver.username, "password": "pw-for-this-test"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert signed_in.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert '<html lang="fr">' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").text
    # An unknown language changes nothing.
    browser_client.as_user(approver).post("/i18n/setlang/", {"language": "xx", "next": "/"})
    approver.notification_preference.refresh_from_db()
    assert approver.notification_preference.language == "fr"


def test_signing_in_to_the_admin_panel_records_the_language_too(make_user, client):
    from incidents.notifications.models import NotificationPreference

    admin = make_user("chief", is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "chief", "password": "pw-for-tests", "next": "/admin/"},
        HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9",
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    preference = NotificationPreference.objects.get(user=admin)
    assert (preference.language, preference.browser_language) == ("", "fr")  # not a choice
    # A refused password records nothing and shows the admin's form again.
    client.logout()
    other = make_user("deputy", is_staff=True)
    refused = client.post(
        "/admin/login/", {"username": "deputy", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert refused.status_code == 200
    assert not NotificationPreference.objects.filter(user=other).exists()


def test_nothing_is_written_when_the_producer_rolls_back(incident, approver, drafter):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        review_requested(incident, [approver], drafter)
        raise RuntimeError("the hand-off failed")

    assert not Notification.objects.exists()
    assert not outbox()


def test_nobody_to_notify_writes_nothing(incident, lead, drafter, django_assert_num_queries):
    ChatTarget.objects.create(
        incident=incident,
        label="#cell",
        url="json://127.0.0.1:9/c",
        created_at=incident.declared_at,
    )
    with django_assert_num_queries(0):
        assert review_requested(incident, [], drafter) == 0


def test_a_long_subject_is_cut_with_an_ellipsis_in_the_bell_and_messages(
    incident, approver, drafter
):
    approver.email = "approver@example.com"
    approver.save(update_fields=["email"])
    actions.notify(
        users=[approver], kind=NotificationKind.REVIEW_REQUESTED, subject="x" * 300, url="/"
    )
    bell = Notification.objects.get(user=approver).subject
    assert len(bell) == 200 and bell.endswith("x…")
    assert "x…" in outbox(user=approver)[0].subject  # the e-mail says it was cut too


def test_a_long_subject_gives_way_to_the_incidents_name_in_the_mail(incident, approver):
    """The outbox keeps 250 characters: a 200-character subject cut the incident's name
    ("… — Compla"); the subject is cut instead, and the name ends the line whole."""
    approver.email = "approver@example.com"
    approver.save(update_fields=["email"])
    incident.title = "Complaint wave: " + "kettle lids cracking " * 8
    incident.save(update_fields=["title"])
    actions.notify(
        users=[approver],
        kind=NotificationKind.REVIEW_REQUESTED,
        subject="y" * 200,
        url="/",
        incident=incident,
    )
    subject = outbox(user=approver)[0].subject
    assert len(subject) <= 250 and "y…" in subject
    assert subject.endswith(" — " + " ".join(incident.title.split()))
