"""E-mail subscriptions to a live crisis page: the static page's plain form, double opt-in
with a signed single-use link, one-click unsubscribe (RFC 8058) in every mail, every new
public update mailed to confirmed subscribers of its language through the outbox after
COMMIT, throttled requests, nothing that tells whether an address is subscribed."""

import datetime
import re
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from incidents.crisiscenter import actions
from incidents.crisiscenter.models import Subscriber
from incidents.outbox.models import OutboundMessage
from statements import actions as statement_actions

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def _inline_workers():
    """The Celery tasks run inline (as in embedded mode) in both modes; mails go to
    Django's test mailbox (locmem backend)."""
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    caches[settings.CRISIS_CENTER_THROTTLE_CACHE].clear()
    yield
    current_app.conf.task_always_eager = eager
    caches[settings.CRISIS_CENTER_THROTTLE_CACHE].clear()


def subscribe(client, slug="rumour", *, email="reader@example.com", language="en", **headers):
    headers.setdefault("HTTP_ORIGIN", ORIGIN)
    return client.post(
        f"/crisis/{slug}/subscribe/", {"email": email, "language": language}, **headers
    )


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def confirm_link(message) -> str:
    return path_of(re.search(r"https?://\S+/confirm/\S+/", message.body).group(0))


def unsubscribe_link(message) -> str:
    return path_of(re.search(r"https?://\S+/unsubscribe/\S+/", message.body).group(0))


def test_the_public_page_has_a_plain_form_posting_to_django(live_page):
    html = (Path(settings.CRISIS_CENTER_ROOT) / "rumour" / "en" / "index.html").read_text()
    assert '<form class="subscribe" method="post" action="/crisis/rumour/subscribe/">' in html
    assert 'name="email"' in html and 'name="language" value="en"' in html
    assert "csrfmiddlewaretoken" not in html
    assert "form-action &#x27;self&#x27;" in html


def test_double_opt_in_then_every_update_then_one_click_unsubscribe(
    live_page, publish_update, lead
):
    client = Client()
    answer = subscribe(client)
    assert answer.status_code == 200
    assert "Check your e-mail" in answer.content.decode()
    assert 'href="/crisis/rumour/en/"' in answer.content.decode()  # back to the page
    assert "Set-Cookie" not in answer.headers and not answer.cookies
    [confirmation] = mail.outbox
    assert confirmation.to == ["reader@example.com"]
    assert confirmation.subject.startswith("Confirm your subscription")
    assert confirmation.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert confirmation.extra_headers["List-Unsubscribe"].startswith("<http")
    # Not confirmed yet: an update goes to nobody.
    publish_update("First update: nothing to hide.")
    assert len(mail.outbox) == 1
    assert actions.selectors.subscriber_count(live_page) == 0

    # The link opens a page with a button; the person's POST confirms (no CSRF token: the
    # signed single-use token in the address is the credential).
    asked = client.get(confirm_link(confirmation))
    assert asked.status_code == 200 and "Confirm my subscription" in asked.content.decode()
    assert actions.selectors.subscriber_count(live_page) == 0
    strict = Client(enforce_csrf_checks=True)
    page = strict.post(confirm_link(confirmation))
    assert page.status_code == 200 and "Subscription confirmed" in page.content.decode()
    assert "reader@example.com" not in page.content.decode()
    assert not page.cookies and "Set-Cookie" not in page.headers
    assert actions.selectors.subscriber_count(live_page) == 1
    again = strict.post(confirm_link(confirmation))  # single use
    assert again.status_code == 400 and "can no longer be used" in again.content.decode()
    opened = client.get(confirm_link(confirmation))  # no button any more
    assert opened.status_code == 400 and "<button" not in opened.content.decode()

    update = publish_update("Second update: the batch was recalled.")
    [notice] = mail.outbox[1:]
    assert notice.to == ["reader@example.com"]
    assert "Second update: the batch was recalled." in notice.body
    assert "(Paris time)" in notice.body or "time)" in notice.body
    assert notice.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = unsubscribe_link(notice)
    assert notice.extra_headers["List-Unsubscribe"] == f"<{settings.SITE_URL}{unsubscribe}>"
    assert (
        OutboundMessage.objects.get(key__startswith=f"crisis-update:{update.pk}:").incident is None
    )

    # The mail client's one click (RFC 8058): a POST without any CSRF token.
    strict = Client(enforce_csrf_checks=True)
    done = strict.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.content.decode()
    assert strict.post(unsubscribe, {"List-Unsubscribe": "One-Click"}).status_code == 200
    publish_update("Third update.")
    assert len(mail.outbox) == 2
    assert actions.selectors.subscriber_count(live_page) == 0


def test_following_the_confirmation_link_confirms_nothing(live_page):
    """Mail scanners and link previews follow links (GET, HEAD): only the person's press
    on the button confirms."""
    subscribe(Client())
    url = confirm_link(mail.outbox[0])
    for _ in range(3):
        page = Client().get(url)
        assert Client().head(url).status_code == 200
    body = page.content.decode()
    assert page.status_code == 200 and "Confirm your subscription" in body
    assert f'<form method="post" action="{url}"' in body
    assert "List-Unsubscribe" not in body and "reader@example.com" not in body
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"
    assert "X-Robots-Tag" in page and not page.cookies
    assert Subscriber.objects.get().confirmed_at is None
    assert Client().post(url).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None


def test_unsubscribe_by_get_asks_first(live_page):
    subscribe(Client())
    url = unsubscribe_link(mail.outbox[0])
    page = Client().get(url)
    assert page.status_code == 200
    assert f'action="{url}"' in page.content.decode() and "<button" in page.content.decode()
    assert Subscriber.objects.get().unsubscribed_at is None
    assert Client().get(url.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404


def test_updates_go_in_the_subscribers_language(live_page, publish_update):
    for address, language in [("en@example.com", "en"), ("fr@example.com", "fr")]:
        subscribe(Client(), email=address, language=language)
    for message in list(mail.outbox):
        Client().post(confirm_link(message))
    assert "Confirmez votre abonnement" in next(
        m.subject for m in mail.outbox if m.to == ["fr@example.com"]
    )
    mail.outbox.clear()
    publish_update("Nouvelle mise à jour.", language="fr")
    [french] = mail.outbox
    assert french.to == ["fr@example.com"]
    assert french.subject.startswith("Nouvelle mise à jour")
    assert "Ne plus recevoir ces e-mails" in french.body


def test_faq_answers_and_briefings_are_not_mailed(live_page, publish_update):
    subscribe(Client())
    Client().post(confirm_link(mail.outbox[0]))
    publish_update("Internal briefing.", kind="briefing")
    assert len(mail.outbox) == 1


def test_the_same_answer_whether_or_not_the_address_is_subscribed(live_page):
    first = subscribe(Client())
    Client().post(confirm_link(mail.outbox[0]))
    second = subscribe(Client())
    strip = lambda response: (response.status_code, response.content)  # noqa: E731
    assert strip(first) == strip(second)
    assert len(mail.outbox) == 1  # no second mail to a confirmed subscriber
    assert Subscriber.objects.count() == 1


def test_a_new_request_makes_the_older_link_stale(live_page):
    subscribe(Client())
    subscribe(Client())
    older, newer = mail.outbox
    assert Client().get(confirm_link(older)).status_code == 400
    assert Client().post(confirm_link(older)).status_code == 400
    assert Client().get(confirm_link(newer)).status_code == 200
    assert Client().post(confirm_link(newer)).status_code == 200


def test_an_expired_link_shows_a_clear_page(live_page, settings):
    subscribe(Client())
    Subscriber.objects.update(requested_at=timezone.now() - datetime.timedelta(hours=3))
    settings.CRISIS_CENTER_CONFIRM_HOURS = 0
    url = confirm_link(mail.outbox[0])
    for page in (Client().get(url), Client().post(url)):
        assert page.status_code == 400 and "<button" not in page.content.decode()


def test_expired_link_past_its_age(live_page, settings, monkeypatch):
    subscribe(Client())
    url = confirm_link(mail.outbox[0])
    settings.CRISIS_CENTER_CONFIRM_HOURS = -1  # every signature is older than that
    for page in (Client().get(url), Client().post(url)):
        assert page.status_code == 400 and "expired" in page.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


def test_a_forged_link_shows_a_clear_page(live_page):
    for page in (
        Client().get("/crisis/rumour/confirm/not-a-token/"),
        Client().post("/crisis/rumour/confirm/not-a-token/"),
    ):
        assert page.status_code == 400 and "not valid" in page.content.decode()


@pytest.mark.parametrize(
    "email,status",
    [
        ("not-an-address", 400),
        ("a@b", 400),
        ("x" * 250 + "@example.com", 400),
        ("", 400),
        # Passed Django's validator, then broke the sending (the domain does not encode).
        ("a@exa\u202emple.com", 400),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_page(live_page, email, status):
    answer = subscribe(Client(), email=email)
    assert answer.status_code == status
    assert "not an e-mail address" in answer.content.decode()
    assert not Subscriber.objects.exists() and not mail.outbox


def test_a_language_the_page_does_not_show_takes_no_subscriber(live_page, lead):
    """Its summary withdrawn, the French page is gone: nobody subscribes to it."""
    summary = live_page.texts.get(section="summary", statement__language="fr").statement
    statement_actions.statement_withdraw(statement=summary, actor=lead, reason="Wrong")
    answer = subscribe(Client(), language="fr")
    assert answer.status_code == 400
    assert "publiée dans cette langue" in answer.content.decode()  # the page's language
    assert not Subscriber.objects.exists() and not mail.outbox


def assert_public_message(response, status, *, language, title):
    """The public pages' own message page: in `language`, without the app's chrome or any
    internal detail, never stored."""
    body = response.content.decode()
    assert response.status_code == status, body[:300]
    assert f'<html lang="{language}">' in body and f"<h1>{title}</h1>" in body
    assert 'class="crisis-page"' in body and "/crisis/crisis.css" in body
    for internal in ("Sign out", "Traceback", "DATA_UPLOAD", "RequestDataTooBig", "csrf"):
        assert internal not in body
    assert response["Cache-Control"] == "no-store" and not response.cookies


def test_oversized_and_malformed_posts_are_refused(live_page):
    client = Client()
    big = client.post(
        "/crisis/rumour/subscribe/",
        {"email": "a@example.com", "language": "en", "pad": "x" * 5000},
        HTTP_ORIGIN=ORIGIN,
    )
    assert_public_message(big, 413, language="en", title="This request is too large")
    json_post = client.post(
        "/crisis/rumour/subscribe/",
        '{"email": "a@example.com"}',
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert json_post.status_code == 400
    assert subscribe(client, language="de").status_code == 400
    assert not Subscriber.objects.exists()


TOO_LARGE = {"en": "This request is too large", "fr": "Cette requête est trop volumineuse"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_oversized_post_to_a_mails_link_gets_the_public_page_in_its_language(
    live_page, language
):
    """The confirmation and unsubscription links post an empty body (or RFC 8058's one
    field): a larger one is refused, nothing done, on the public pages' own message page in
    the link's language — whether the view refuses it or Django does before it (a body past
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields)."""
    subscribe(Client(), language=language)
    confirm, stop = confirm_link(mail.outbox[0]), unsubscribe_link(mail.outbox[0])
    title = TOO_LARGE[language]
    form = "application/x-www-form-urlencoded"
    for url in (confirm, stop):
        small = Client().post(url, {"pad": "x" * 5000})
        assert_public_message(small, 413, language=language, title=title)
        huge = Client().post(url, "pad=" + "x" * 3_000_000, content_type=form)
        assert_public_message(huge, 413, language=language, title=title)
    fields = Client().post(confirm, "&".join(f"f{i}=1" for i in range(1200)), content_type=form)
    assert fields.status_code == 400 and f'<html lang="{language}">' in fields.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is None and subscriber.unsubscribed_at is None
    # Its own small body still confirms.
    assert Client().post(confirm).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None


def test_another_site_cannot_post_the_form(live_page):
    assert subscribe(Client(), HTTP_ORIGIN="https://evil.example").status_code == 403
    assert subscribe(Client(), HTTP_ORIGIN="").status_code == 403
    assert (
        subscribe(Client(), HTTP_ORIGIN="", HTTP_REFERER="http://testserver/crisis/rumour/en/")
    ).status_code == 200
    assert Subscriber.objects.count() == 1


def test_requests_are_throttled_per_address_and_per_ip(live_page, settings):
    settings.CRISIS_CENTER_SUBSCRIBE_PER_ADDRESS = 2
    settings.CRISIS_CENTER_SUBSCRIBE_PER_IP = 4
    client = Client()
    assert [subscribe(client).status_code for _ in range(3)] == [200, 200, 429]
    assert subscribe(client, email="other@example.com").status_code == 200
    # The IP's fifth request, whatever the address.
    assert subscribe(client, email="third@example.com").status_code == 429
    assert subscribe(client, email="third@example.com", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_dark_and_unknown_pages_are_404(dark_page):
    assert subscribe(Client()).status_code == 404
    assert subscribe(Client(), slug="nope").status_code == 404


def test_resolved_pages_take_no_new_subscriber(live_page, lead):
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    assert subscribe(Client()).status_code == 404
    html = (Path(settings.CRISIS_CENTER_ROOT) / "rumour" / "en" / "index.html").read_text()
    assert 'class="subscribe"' not in html


def test_addresses_never_reach_the_public_files(live_page, publish_update):
    subscribe(Client())
    Client().post(confirm_link(mail.outbox[0]))
    publish_update("An update.")
    root = Path(settings.CRISIS_CENTER_ROOT)
    for path in root.rglob("*"):
        if path.is_file():
            assert "reader@example.com" not in path.read_text(), path
    api = Client().get("/crisis/rumour/page.json")
    assert b"reader@example.com" not in api.content


def test_notification_queries_do_not_grow_with_subscribers(
    live_page, publish_update, django_assert_max_num_queries, monkeypatch
):
    from incidents.crisiscenter import tasks

    monkeypatch.setattr(tasks, "queue_notification", lambda statement_id: None)
    from incidents.outbox import tasks as outbox_tasks

    monkeypatch.setattr(outbox_tasks, "queue_delivery", lambda keys: None)

    def subscribers(n, start):
        Subscriber.objects.bulk_create(
            Subscriber(
                page=live_page,
                address=f"r{start + i}@example.com",
                language="en",
                requested_at=timezone.now(),
                confirmed_at=timezone.now(),
            )
            for i in range(n)
        )

    subscribers(2, 0)
    few = publish_update("Update one.")
    with django_assert_max_num_queries(8) as few_queries:
        assert actions.update_notify(statement_id=few.pk) == 2
    subscribers(40, 100)
    many = publish_update("Update two.")
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        assert actions.update_notify(statement_id=many.pk) == 42
    # Run twice (a retried task): nothing queued twice.
    actions.update_notify(statement_id=many.pk)
    assert OutboundMessage.objects.filter(key__startswith=f"crisis-update:{many.pk}:").count() == 42


def test_the_room_panel_counts_confirmed_subscribers(live_page, browser_client, api, lead):
    subscribe(Client(), email="one@example.com")
    subscribe(Client(), email="two@example.com")
    Client().post(confirm_link(mail.outbox[0]))
    panel = browser_client.as_user(lead).get(f"/incidents/{live_page.incident_id}/crisis-page/")
    html = panel.content.decode()
    assert "1 confirmed e-mail subscriber" in html
    assert "one@example.com" not in html
    team = api.as_user(lead).get(f"/api/incidents/{live_page.incident_id}/crisis-page/")
    assert team.json()["subscribers"] == 1 and b"one@example.com" not in team.content


def test_staff_list_subscribers_in_the_admin(live_page, staff, observer):
    subscribe(Client())
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    listing = client.get("/admin/crisiscenter/subscriber/")
    assert listing.status_code == 200 and "reader@example.com" in listing.content.decode()
    client.force_login(observer)
    assert client.get("/admin/crisiscenter/subscriber/").status_code == 302
