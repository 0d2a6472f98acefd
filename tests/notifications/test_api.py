"""The notifications API: your notifications (newest first, paginated, `?unread=1`), marking
them read, and your preferences with write-only chat addresses. Personas never reach
another person's notifications, preferences or chat addresses."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import ChatTarget, Notification, NotificationPreference
from tests.helpers import assert_error

SECRET = "json://127.0.0.1:9/hook-s3cret-t0ken"
LIST = "/api/notifications/"
READ = "/api/notifications/read/"
PREFERENCES = "/api/notifications/preferences/"


def bell(user, subject, *, incident=None, minutes_ago=0, kind=NotificationKind.PUBLISHED):
    actions.notify(
        users=[user],
        kind=kind,
        subject=subject,
        url="/incidents/1/#statement-2",
        incident=incident,
        now=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )
    return Notification.objects.get(user=user, subject=subject)


def test_the_list_is_yours_newest_first(api, incident, drafter, approver):
    old = bell(drafter, "Old", incident=incident, minutes_ago=5)
    new = bell(drafter, "New", minutes_ago=1, kind=NotificationKind.TASK_ASSIGNED)
    bell(approver, "Not yours")

    response = api.as_user(drafter).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [n["id"] for n in body["results"]] == [new.pk, old.pk]
    assert body["results"][0] == {
        "id": new.pk,
        "kind": "task_assigned",
        "kind_label": "Task assigned to you",
        "subject": "New",
        "url": "http://testserver/incidents/1/#statement-2",
        "incident": None,
        "created_at": body["results"][0]["created_at"],
        "read_at": None,
        "read": False,
    }
    assert body["results"][1]["incident"] == incident.pk


def test_unread_only_and_marking_read(api, drafter, approver):
    first, second = bell(drafter, "One"), bell(drafter, "Two")
    theirs = bell(approver, "Theirs")
    api.as_user(drafter)

    response = api.post(READ, {"ids": [first.pk, theirs.pk]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert [n["id"] for n in api.get(LIST, {"unread": "1"}).json()["results"]] == [second.pk]
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's id changes nothing

    assert api.post(READ, {}, format="json").json() == {"marked": 1}
    assert api.get(LIST, {"unread": "true"}).json()["count"] == 0
    assert api.get(LIST).json()["results"][0]["read"] is True


def test_the_list_is_paginated_in_constant_queries(
    api, drafter, make_user, django_assert_max_num_queries
):
    for i in range(60):
        bell(drafter, f"N{i}")
    api.as_user(drafter)

    with django_assert_max_num_queries(4):
        body = api.get(LIST).json()
    assert len(body["results"]) == 50 and body["next"]


def test_preferences_default_and_update(api, drafter):
    api.as_user(drafter)
    body = api.get(PREFERENCES).json()
    assert body["email_kinds"] == NotificationKind.values
    assert body["chat_kinds"] == NotificationKind.values
    assert body["quiet_when_looking"] is False
    assert body["language"] == ""
    assert body["chat_targets"] == []

    response = api.put(
        PREFERENCES,
        {"email_kinds": ["review_requested"], "quiet_when_looking": True, "language": "fr"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["email_kinds"] == ["review_requested"]
    assert body["chat_kinds"] == NotificationKind.values  # left out: kept
    assert (body["quiet_when_looking"], body["language"]) == (True, "fr")


def test_chat_addresses_are_write_only(api, drafter):
    api.as_user(drafter)

    response = api.put(
        PREFERENCES, {"chat_targets": [{"label": "My phone", "url": SECRET}]}, format="json"
    )

    assert response.status_code == 200
    (target,) = response.json()["chat_targets"]
    assert target["label"] == "My phone"
    assert target["masked_url"] == "json://127.0.0.1/…"
    assert target["service"] == "JSON"
    assert "url" not in target
    assert b"s3cret" not in response.content
    assert b"s3cret" not in api.get(PREFERENCES).content
    assert ChatTarget.objects.get(user=drafter).url == SECRET


def test_keeping_renaming_and_removing_chat_addresses(api, drafter):
    keep = actions.chat_target_add(actor=drafter, label="Phone", url=SECRET)
    actions.chat_target_add(actor=drafter, label="Old", url="json://127.0.0.1:9/old")
    api.as_user(drafter)

    response = api.put(
        PREFERENCES,
        {
            "chat_targets": [
                {"id": keep.pk, "label": "Work phone"},
                {"label": "Slack", "url": "slack://TokenA/TokenB/TokenC/#crisis"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    assert [(t["label"], t["masked_url"]) for t in response.json()["chat_targets"]] == [
        ("Work phone", "json://127.0.0.1/…"),
        ("Slack", "slack://…"),
    ]
    assert ChatTarget.objects.filter(user=drafter).count() == 2
    assert b"Token" not in response.content


def test_a_bad_chat_address_is_a_400_and_changes_nothing(api, drafter):
    api.as_user(drafter)

    response = api.put(
        PREFERENCES,
        {
            "email_kinds": [],
            "chat_targets": [{"label": "Slack", "url": "slack-please://nothing"}],
        },
        format="json",
    )

    detail = assert_error(response, 400)
    assert "does not send to this kind of chat address" in detail
    assert "slack-please" not in response.content.decode()
    assert not ChatTarget.objects.exists()
    assert not NotificationPreference.objects.filter(user=drafter).exists()  # all or nothing


@pytest.mark.parametrize(
    "item",
    [
        {"label": "Both", "id": 1, "url": SECRET},
        {"label": "Neither"},
        {"label": " ", "url": SECRET},
        {"label": "Spaces", "url": "json://127.0.0.1:9/a b"},
    ],
)
def test_malformed_chat_addresses_are_400(api, drafter, item):
    response = api.as_user(drafter).put(PREFERENCES, {"chat_targets": [item]}, format="json")
    assert_error(response, 400)
    assert not ChatTarget.objects.exists()


def test_nobody_reaches_anothers_chat_address(api, drafter, approver):
    theirs = actions.chat_target_add(actor=approver, label="Approver's", url=SECRET)
    api.as_user(drafter)

    assert api.get(PREFERENCES).json()["chat_targets"] == []
    response = api.put(
        PREFERENCES, {"chat_targets": [{"id": theirs.pk, "label": "Mine now"}]}, format="json"
    )
    assert_error(response, 400)
    theirs.refresh_from_db()
    assert (theirs.user, theirs.label) == (approver, "Approver's")
    # And an empty list removes only one's own.
    assert api.put(PREFERENCES, {"chat_targets": []}, format="json").status_code == 200
    assert ChatTarget.objects.filter(pk=theirs.pk).exists()


def test_at_most_five_chat_addresses(api, drafter):
    items = [{"label": f"T{i}", "url": f"json://127.0.0.1:9/{i}"} for i in range(6)]
    response = api.as_user(drafter).put(PREFERENCES, {"chat_targets": items}, format="json")
    assert_error(response, 400)
    assert not ChatTarget.objects.exists()


def test_signed_out_is_refused(api):
    for method, path in [("get", LIST), ("post", READ), ("get", PREFERENCES)]:
        assert getattr(api, method)(path).status_code in (401, 403)


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:8000/api/",  # loopback
        "json://2130706433/x",  # loopback, written as a number
        "jsons://user:pass@10.0.0.5/hook",  # a private network
        "json://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "json://[::1]:80/x",
        "json://[::ffff:192.168.1.1]/x",
        "mmosts://192.168.1.1/token",
        "json://localhost/x",
        # Apprise connects to the smtp= server, not to the URL's host.
        "mailto://user:pw@example.com:8899?smtp=127.0.0.1&to=b@example.com",
        "mailtos://user:pw@example.com?smtp=10.0.0.5",
        "mailto://user:pw@example.com?smtp=2130706433",
    ],
)
def test_a_chat_address_into_the_servers_network_is_refused(api, drafter, settings, url):
    settings.CHAT_ALLOW_LOOPBACK = False
    response = api.as_user(drafter).put(
        PREFERENCES, {"chat_targets": [{"label": "Hook", "url": url}]}, format="json"
    )
    detail = assert_error(response, 400)
    assert "private or local network address" in detail
    assert not ChatTarget.objects.exists()


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        # Apprise sends to every address of a comma-separated list; only the first was
        # checked: one reached the server's own network.
        ("json://example.org/,json://127.0.0.1:8822/ssrf", "holds several"),
        ("json://example.org/,,json://example.net/", "holds several"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ,json://10.0.0.5/", "holds several"),
        # Apprise reads the host after the first @ (127.0.0.1), the check read the one
        # after the last (example.com).
        ("json://x@127.0.0.1:8822@example.com/hook", "names one server"),
        ("json://u:p@127.0.0.1:8822@example.com/", "names one server"),
        ("jsons://x@10.0.0.5@example.com/", "names one server"),
        ("form://x@127.0.0.1:8822@example.com/", "names one server"),
        # acs:// takes its endpoint in its path (no check reads it): only services whose
        # endpoint is checked are taken.
        (
            "acs://DoNotReply@example.com/a2V5a2V5/intranet.corp.example/someone@example.com",
            "does not send to this kind of chat address",
        ),
        ("apprise://apprise.example.com/token", "does not send to this kind of chat address"),
        ("zulip://bot@intranet.corp.example/token", "does not send to this kind of chat address"),
    ],
)
def test_a_chat_address_the_checks_cannot_read_whole_is_refused(
    api, drafter, settings, url, refusal
):
    """From break-it passes: each of these made the server post where no check looked."""
    settings.CHAT_ALLOW_LOOPBACK = False
    response = api.as_user(drafter).put(
        PREFERENCES, {"chat_targets": [{"label": "Hook", "url": url}]}, format="json"
    )
    assert refusal in assert_error(response, 400)
    assert not ChatTarget.objects.exists()


def test_a_hosted_service_with_a_token_for_a_host_is_accepted(api, drafter, settings):
    settings.CHAT_ALLOW_LOOPBACK = False
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    response = api.as_user(drafter).put(
        PREFERENCES, {"chat_targets": [{"label": "Slack", "url": url}]}, format="json"
    )
    assert response.status_code == 200, response.content
