"""The preference page (one per person) and the cell's chat channel page (its lead sets it),
by persona. A chat address is never shown whole; someone else's is a 404."""

import re

import pytest
from django.urls import reverse

from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import ChatTarget, NotificationPreference
from incidents.outbox.choices import Channel

from .conftest import outbox

SECRET = "json://127.0.0.1:9/hook-s3cret-t0ken"
SETTINGS = "/notifications/settings/"


@pytest.fixture
def page(browser_client):
    return browser_client


def test_the_page_shows_the_defaults_every_kind_by_email_and_chat(page, drafter):
    response = page.as_user(drafter).get(SETTINGS)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="email_kinds" value="review_requested" id="email-review_requested"' in html
    kinds = len(NotificationKind.values)
    assert html.count('name="email_kinds"') == kinds
    assert html.count('name="chat_kinds"') == kinds - 1  # never a failure notice by chat
    assert html.count(" checked") == 2 * kinds - 1
    assert 'name="quiet_when_looking"' in html
    assert "No chat address yet." in html


def test_saving_the_preferences(page, drafter):
    response = page.as_user(drafter).post(
        SETTINGS,
        {
            "email_kinds": ["review_requested", "published"],
            "chat_kinds": ["published"],
            "quiet_when_looking": "on",
            "language": "fr",
        },
    )

    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=drafter)
    assert not preference.wants("added_to_cell", "email")
    assert preference.wants("review_requested", "email")
    assert preference.chat_off == sorted(set(preference.chat_off))
    assert not preference.wants("review_requested", "chat")
    assert preference.quiet_when_looking
    assert preference.language == "fr"
    html = page.get(SETTINGS).content.decode()
    assert '<html lang="fr">' in html  # chosen here: the pages follow at once
    assert re.search(r'value="published" id="chat-published" aria-label="[^"]+" checked', html)


def test_an_unknown_kind_or_language_is_a_form_error(page, drafter):
    response = page.as_user(drafter).post(SETTINGS, {"email_kinds": ["nope"], "language": "xx"})

    assert response.status_code == 400
    assert b"form-error" in response.content
    assert not NotificationPreference.objects.filter(user=drafter).exists()


def test_adding_a_chat_address_shows_it_masked_only(page, drafter):
    response = page.as_user(drafter).post(
        reverse("notification-chat-add"), {"label": "My phone", "url": SECRET}
    )

    assert response.status_code == 302
    target = ChatTarget.objects.get(user=drafter)
    assert (target.label, target.url, target.service) == ("My phone", SECRET, "JSON")
    html = page.get(SETTINGS).content.decode()
    assert "My phone" in html
    assert "json://127.0.0.1/…" in html
    assert "s3cret" not in html and "hook" not in html


def test_a_bad_chat_address_is_a_clear_form_error(page, drafter):
    response = page.as_user(drafter).post(
        reverse("notification-chat-add"), {"label": "Slack", "url": "slack-please://nothing"}
    )

    assert response.status_code == 400
    assert "does not send to this kind of chat address" in response.content.decode()
    assert b"slack-please" not in response.content  # the field is never filled back
    assert not ChatTarget.objects.exists()


def test_test_send_goes_through_the_outbox_once_a_minute(page, drafter):
    target = actions.chat_target_add(actor=drafter, label="My phone", url=SECRET)
    page.as_user(drafter)

    for _ in range(2):  # a double click
        response = page.post(reverse("notification-chat-test", args=[target.pk]))
        assert response.status_code == 302

    (message,) = outbox()
    assert (message.channel, message.recipient, message.user) == (Channel.CHAT, SECRET, drafter)
    assert message.recipient_label == "JSON — My phone"
    assert "My phone" in message.body


def test_removing_a_chat_address(page, drafter):
    target = actions.chat_target_add(actor=drafter, label="My phone", url=SECRET)

    response = page.as_user(drafter).post(reverse("notification-chat-remove", args=[target.pk]))

    assert response.status_code == 302
    assert not ChatTarget.objects.exists()


def test_nobody_sees_or_touches_anothers_chat_addresses(page, drafter, approver):
    target = actions.chat_target_add(actor=approver, label="Approver's Slack", url=SECRET)
    page.as_user(drafter)

    assert "Approver's Slack" not in page.get(SETTINGS).content.decode()
    for name in ("notification-chat-remove", "notification-chat-test"):
        assert page.post(reverse(name, args=[target.pk])).status_code == 404
    assert ChatTarget.objects.filter(pk=target.pk).exists()
    assert not outbox()


def test_at_most_a_few_chat_addresses(page, drafter):
    for i in range(5):
        actions.chat_target_add(actor=drafter, label=f"T{i}", url=f"json://127.0.0.1:9/{i}")

    response = page.as_user(drafter).post(
        reverse("notification-chat-add"), {"label": "One more", "url": "json://127.0.0.1:9/x"}
    )

    assert response.status_code == 400
    assert ChatTarget.objects.count() == 5


def test_the_bell_page_and_the_user_menu_link_to_the_settings(page, drafter):
    html = page.as_user(drafter).get("/notifications/").content.decode()
    assert f'href="{SETTINGS}"' in html
    assert html.count(f'href="{SETTINGS}"') == 2  # the page's button and the user menu


# --- The cell's chat channel ----------------------------------------------------------------


def cell_page(incident):
    return reverse("incident-notifications", args=[incident.pk])


def test_the_lead_sets_the_cell_channel(page, incident, lead):
    response = page.as_user(lead).post(
        cell_page(incident), {"label": "#crisis-room", "url": "mmost://chat.example.com/k3y"}
    )

    assert response.status_code == 302
    channel = ChatTarget.objects.get(incident=incident)
    assert channel.user is None and channel.created_by == lead
    html = page.get(cell_page(incident)).content.decode()
    assert "#crisis-room" in html and "mmost://chat.example.com/…" in html
    assert "k3y" not in html
    assert 'data-action="manage_cell_channel"' in html


def test_members_see_the_channel_but_only_the_lead_changes_it(page, incident, lead, drafter):
    channel = actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="json://127.0.0.1:9/cell"
    )
    page.as_user(drafter)

    html = page.get(cell_page(incident)).content.decode()
    assert "#crisis-room" in html
    assert "manage_cell_channel" not in html
    response = page.post(cell_page(incident), {"label": "Mine", "url": "json://127.0.0.1:9/x"})
    assert response.status_code == 302  # back to the page with the refusal
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Only the lead can set the cell's chat channel."]
    for name in ("incident-channel-remove", "incident-channel-test"):
        page.post(reverse(name, args=[incident.pk, channel.pk]))
    assert list(ChatTarget.objects.all()) == [channel]
    assert not outbox()


def test_outsiders_get_404_and_staff_read_only(page, incident, outsider, staff):
    assert page.as_user(outsider).get(cell_page(incident)).status_code == 404
    response = page.as_user(staff).get(cell_page(incident))
    assert response.status_code == 200
    assert b"manage_cell_channel" not in response.content


def test_a_bad_cell_channel_is_a_form_error(page, incident, lead):
    response = page.as_user(lead).post(cell_page(incident), {"label": "Teams", "url": "teams"})

    assert response.status_code == 400
    assert "not a chat address" in response.content.decode()
    assert not ChatTarget.objects.exists()


def test_the_lead_tests_and_removes_the_cell_channel(page, incident, lead):
    channel = actions.chat_target_add(
        actor=lead, incident=incident, label="#crisis-room", url="json://127.0.0.1:9/cell"
    )
    page.as_user(lead)

    page.post(reverse("incident-channel-test", args=[incident.pk, channel.pk]))
    (message,) = outbox()
    assert (message.incident, message.user, message.sender) == (incident, None, lead)
    page.post(reverse("incident-channel-remove", args=[incident.pk, channel.pk]))
    assert not ChatTarget.objects.exists()


def test_the_room_links_to_the_cell_channel_page(page, incident, drafter):
    html = page.as_user(drafter).get(reverse("incident-room", args=[incident.pk])).content
    assert cell_page(incident).encode() in html


def test_the_admin_never_shows_a_chat_address_whole(page, drafter, make_user):
    target = actions.chat_target_add(actor=drafter, label="My phone", url=SECRET)
    admin = make_user("root", is_staff=True, is_superuser=True)
    page.as_user(admin)

    for url in (
        reverse("admin:notifications_chattarget_changelist"),
        reverse("admin:notifications_chattarget_change", args=[target.pk]),
    ):
        response = page.get(url)
        assert response.status_code == 200
        assert b"My phone" in response.content
        assert b"s3cret" not in response.content


def test_following_a_notification_reads_it(page, drafter, lead):
    """Opening "Published …" left it unread until "Mark all as read"."""
    from incidents.notifications.models import Notification

    actions.notify(
        users=[drafter], kind=NotificationKind.PUBLISHED, subject="Holding", url="/statements/9/"
    )
    actions.notify(users=[lead], kind=NotificationKind.PUBLISHED, subject="Theirs", url="/x/")
    mine = Notification.objects.get(user=drafter)
    client = page.as_user(drafter)
    listed = client.get(reverse("notifications")).content.decode()
    assert f'href="/notifications/{mine.pk}/open/"' in listed
    followed = client.get(f"/notifications/{mine.pk}/open/")
    assert followed.status_code == 302 and followed["Location"] == "/statements/9/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    theirs = Notification.objects.get(user=lead)
    assert client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
