"""Promises kept: every promised update time is recorded with what became of it (kept on
time, late, missed, moved, withdrawn); an update published keeps the current promise and
announces the next; a sweep reminds the lead and the spokespeople before the time and
records a lapse once, whoever runs it and however often; the room counts down; the
post-mortem and the metrics count the promises kept."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crisiscell.typography import french_spacing
from incidents import actions as incident_actions
from incidents.crisiscenter import actions, promises, render, selectors
from incidents.crisiscenter.models import UpdatePromise
from incidents.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import TimelineEntry
from incidents.notifications import actions as notifications
from incidents.notifications.models import Notification
from incidents.postmortems import figures
from incidents.postmortems import metrics as pm_metrics
from statements import actions as statement_actions
from tests.helpers import assert_chain_intact, assert_error, run_concurrently, token_client

from .conftest import approve

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


def outcomes(page):
    return list(page.promises.order_by("made_at", "id").values_list("outcome", flat=True))


def push_into_the_past(promise, by):
    """As if the promise had been made `by` earlier (its time and when it was made)."""
    UpdatePromise.objects.filter(pk=promise.pk).update(
        made_at=promise.made_at - by, due_at=promise.due_at - by
    )
    promise.refresh_from_db()
    return promise


@pytest.fixture
def approved_update(incident, drafter, approver):
    def run(text="Update: the rumour is false.", language="en"):
        statement = statement_actions.statement_create(
            incident=incident,
            actor=drafter,
            kind="update",
            channel="crisis_center",
            language=language,
            text=text,
        )
        return approve(statement, author=drafter, approver=approver)

    return run


# --- Making, moving, withdrawing ------------------------------------------------------------


def test_preparing_with_a_time_makes_the_first_promise(dark_page, lead, next_update):
    promise = promises.current(dark_page)
    assert promise.due_at == next_update and promise.outcome == "open"
    assert promise.made_by == lead and promise.closed_at is None
    assert dark_page.next_update_at == next_update


def test_a_new_time_moves_the_promise_and_keeps_its_original_time(live_page, lead, next_update):
    later = next_update + HOUR
    actions.page_next_update_set(page=live_page, actor=lead, at=later)
    first, second = live_page.promises.order_by("made_at", "id")
    assert (first.outcome, first.due_at) == ("moved", next_update)
    assert first.closed_at is not None
    assert (second.outcome, second.due_at, second.closed_at) == ("open", later, None)
    live_page.refresh_from_db()
    assert live_page.next_update_at == later
    entry = TimelineEntry.objects.filter(kind="crisis_page_next_update").last()
    assert entry.data["promise"] == second.pk
    # No time: the promise is withdrawn, nothing is promised.
    actions.page_next_update_set(page=live_page, actor=lead, at=None)
    assert outcomes(live_page) == ["moved", "withdrawn"]
    assert promises.current(live_page) is None


def test_a_new_time_after_the_promised_one_records_it_missed(live_page, lead):
    push_into_the_past(promises.current(live_page), 3 * HOUR)
    actions.page_next_update_set(page=live_page, actor=lead, at=timezone.now() + HOUR)
    assert outcomes(live_page) == ["missed", "open"]


@pytest.mark.parametrize(
    "at, message",
    [
        (lambda now: now - MINUTE, "That time has passed"),
        (lambda now: now + datetime.timedelta(days=8), "within the coming week"),
    ],
)
def test_a_time_past_or_beyond_a_week_is_refused(live_page, lead, at, message):
    with pytest.raises(InvalidInput, match=message):
        actions.page_next_update_set(page=live_page, actor=lead, at=at(timezone.now()))
    assert outcomes(live_page) == ["open"]


def test_resolving_withdraws_the_open_promise(live_page, lead):
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    live_page.refresh_from_db()
    assert outcomes(live_page) == ["withdrawn"]
    assert live_page.next_update_at is None


# --- Updates keep promises ------------------------------------------------------------------


def test_an_update_keeps_the_promise_on_time_and_announces_the_next(
    live_page, publish_update, next_update, lead
):
    made = promises.current(live_page)
    interval = made.due_at - made.made_at
    update = publish_update("Update: the rumour is false.")
    made.refresh_from_db()
    assert (made.outcome, made.kept_by_id, made.kept_at) == ("kept", update.pk, update.published_at)
    # No time given: the page's last interval, from the publication.
    following = promises.current(live_page)
    assert following.announced_by_id == update.pk
    assert following.due_at == update.published_at + interval
    live_page.refresh_from_db()
    assert live_page.next_update_at == following.due_at
    # The public page shows, under the update, the time it announced; the header the promise.
    public = selectors.public_page(live_page)
    shown = public.versions["en"].updates[0]
    assert shown.id == update.pk and shown.next_update_at == following.due_at
    assert public.next_update_at == following.due_at
    html = render.page_html(public, "en")
    assert "Next update announced for:" in html
    assert render.page_data(public)["versions"]["en"]["updates"][0]["next_update_at"]
    # Resolved, the archive promises nothing any more.
    resolved = actions.page_switch(page=live_page, actor=lead, action="resolve")
    public = selectors.public_page(resolved)
    assert public.versions["en"].updates[0].next_update_at is None
    assert "Next update announced for:" not in render.page_html(public, "en")


def test_the_same_update_in_another_language_keeps_nothing_more(live_page, publish_update):
    first = publish_update("Update: the rumour is false.")
    publish_update("Point : la rumeur est fausse.", language="fr")  # its translation
    assert outcomes(live_page) == ["kept", "open"]
    assert promises.current(live_page).announced_by_id == first.pk
    # The next English update keeps it, and the French one after it is its translation.
    publish_update("Second update.")
    publish_update("Deuxième point.", language="fr")
    assert outcomes(live_page) == ["kept", "kept", "open"]


def test_an_update_after_the_time_keeps_it_late(live_page, publish_update):
    made = push_into_the_past(promises.current(live_page), 3 * HOUR)
    publish_update("Update, late.")
    made.refresh_from_db()
    assert made.outcome == "late" and made.kept_at > made.due_at


def test_a_page_text_is_not_published_and_keeps_no_promise(live_page, spokesperson):
    """A section is on the page once approved: "publishing" it is refused (it kept the
    promise of an update nobody made)."""
    summary = live_page.texts.filter(section="summary", statement__language="en").get()
    with pytest.raises(TransitionNotAllowed, match="nobody publishes it"):
        statement_actions.statement_publish(statement=summary.statement, actor=spokesperson)
    summary.statement.refresh_from_db()
    assert summary.statement.status == "approved"
    assert outcomes(live_page) == ["open"]


def test_publishing_with_the_next_time_in_one_step(live_page, approved_update, spokesperson):
    at = timezone.now() + 30 * MINUTE
    update = actions.update_publish(
        statement=approved_update(), actor=spokesperson, next_update_at=at
    )
    assert update.status == "published"
    assert outcomes(live_page) == ["kept", "open"]
    assert promises.current(live_page).due_at == at
    # None: the update promises nothing next.
    actions.update_publish(
        statement=approved_update("Last one."), actor=spokesperson, next_update_at=None
    )
    assert outcomes(live_page) == ["kept", "kept"]
    live_page.refresh_from_db()
    assert live_page.next_update_at is None


def test_publishing_with_a_past_time_is_refused_and_nothing_is_published(
    live_page, approved_update, spokesperson
):
    statement = approved_update()
    with pytest.raises(InvalidInput, match="That time has passed"):
        actions.update_publish(
            statement=statement, actor=spokesperson, next_update_at=timezone.now() - HOUR
        )
    statement.refresh_from_db()
    assert statement.status == "approved" and outcomes(live_page) == ["open"]


def test_a_next_time_a_resolved_page_cannot_promise_is_refused_not_dropped(
    live_page, lead, approved_update, spokesperson
):
    statement = approved_update()
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    with pytest.raises(InvalidInput, match="The crisis page is resolved"):
        actions.update_publish(
            statement=statement, actor=spokesperson, next_update_at=timezone.now() + HOUR
        )
    statement.refresh_from_db()
    assert statement.status == "approved" and outcomes(live_page) == ["withdrawn"]
    # Without a time it publishes as before (nothing is promised).
    actions.update_publish(statement=statement, actor=spokesperson, next_update_at=None)
    statement.refresh_from_db()
    assert statement.status == "published"


def test_a_next_time_given_with_an_update_already_published_is_refused(
    live_page, approved_update, spokesperson
):
    at = timezone.now() + 30 * MINUTE
    statement = actions.update_publish(
        statement=approved_update(), actor=spokesperson, next_update_at=at
    )
    with pytest.raises(InvalidInput, match="already published"):
        actions.update_publish(statement=statement, actor=spokesperson, next_update_at=at + HOUR)
    assert outcomes(live_page) == ["kept", "open"]
    assert promises.current(live_page).due_at == at


def test_only_whoever_publishes_publishes_an_update(live_page, approved_update, drafter):
    with pytest.raises(NotAllowed):
        actions.update_publish(statement=approved_update(), actor=drafter)
    assert outcomes(live_page) == ["open"]


# --- The sweep ------------------------------------------------------------------------------


def test_the_sweep_reminds_once_then_records_the_lapse_once(
    live_page, lead, spokesperson, drafter, publish_update
):
    notifications.preferences_update(actor=spokesperson, language="fr")
    promise = promises.current(live_page)
    before = promise.due_at - 10 * MINUTE
    assert promises.sweep(now=promise.due_at - 20 * MINUTE) == {"reminded": 0, "missed": 0}
    assert promises.sweep(now=before) == {"reminded": 1, "missed": 0}
    assert promises.sweep(now=before + MINUTE) == {"reminded": 0, "missed": 0}
    due_soon = Notification.objects.filter(kind="update_due_soon")
    assert sorted(n.user.username for n in due_soon) == ["lead", "spokesperson"]
    # Each in their own language (the sweep has none of its own).
    subjects = {n.user.username: n.subject for n in due_soon}
    assert subjects["lead"].startswith(f"Crisis page {live_page.slug}: next public update due")
    french = french_spacing(f"Page de crise {live_page.slug} : prochain point")
    assert subjects["spokesperson"].startswith(french)
    after = promise.due_at + MINUTE
    assert promises.sweep(now=after) == {"reminded": 0, "missed": 1}
    assert promises.sweep(now=after + MINUTE) == {"reminded": 0, "missed": 0}
    promise.refresh_from_db()
    assert promise.outcome == "missed" and promise.lapsed_at == after
    assert promise.closed_at is None  # still the current promise: an update keeps it late
    missed = Notification.objects.filter(kind="update_missed")
    assert sorted(n.user.username for n in missed) == ["lead", "spokesperson"]
    assert TimelineEntry.objects.filter(kind="crisis_page_promise_missed").count() == 1
    assert not Notification.objects.filter(user=drafter).filter(kind__startswith="update_").exists()
    # The update that finally comes keeps it late.
    push_into_the_past(promise, after - promise.made_at + MINUTE)
    publish_update("Here is the update.")
    promise.refresh_from_db()
    assert promise.outcome == "late" and promise.closed_at is not None


def test_the_sweep_ignores_dark_pages(dark_page):
    promise = promises.current(dark_page)
    assert promises.sweep(now=promise.due_at + MINUTE) == {"reminded": 0, "missed": 0}


def test_two_sweeps_at_once_send_one_notice_each(live_page, incident):
    promise = promises.current(live_page)
    for now in (promise.due_at - 5 * MINUTE, promise.due_at + MINUTE):
        _results, _expected, unexpected = run_concurrently(
            [lambda now=now: promises.sweep(now=now) for _ in range(2)]
        )
        assert not unexpected, unexpected
    assert Notification.objects.filter(kind="update_due_soon").count() == 2  # lead, spokesperson
    assert Notification.objects.filter(kind="update_missed").count() == 2
    assert TimelineEntry.objects.filter(kind="crisis_page_promise_missed").count() == 1
    assert_chain_intact(incident)


def test_an_update_and_a_move_at_once_leave_one_current_promise(
    live_page, approved_update, spokesperson, lead
):
    statement = approved_update()
    at = timezone.now() + 2 * HOUR
    _results, _expected, unexpected = run_concurrently(
        [
            lambda: actions.update_publish(statement=statement, actor=spokesperson),
            lambda: actions.page_next_update_set(page=live_page, actor=lead, at=at),
        ]
    )
    assert not unexpected, unexpected
    assert live_page.promises.filter(closed_at__isnull=True).count() == 1
    # Either order is a consistent history: the update kept the first promise and the new
    # time moved the one it announced, or the new time moved the first and the update kept
    # it.
    assert outcomes(live_page) in (["kept", "moved", "open"], ["moved", "kept", "open"])


# --- Room, API ------------------------------------------------------------------------------


def test_the_room_panel_counts_down_and_lists_the_promises(live_page, incident, lead):
    client = Client()
    client.force_login(lead)
    html = client.get(f"/incidents/{incident.pk}/crisis-page/").content.decode()
    due = promises.current(live_page).due_at
    assert f'data-deadline="{due.isoformat()}"' in html
    assert "promise-countdown" in html and "Promises kept" in html


def test_the_room_offers_to_publish_an_approved_update_with_the_next_time(
    live_page, incident, approved_update, spokesperson
):
    statement = approved_update()
    client = Client()
    client.force_login(spokesperson)
    url = f"/incidents/{incident.pk}/crisis-page/"
    html = client.get(url).content.decode()
    assert "crisis-to-publish" in html and f'value="{statement.pk}"' in html
    at = timezone.localtime(timezone.now() + 2 * HOUR).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url + "publish/", {"statement": statement.pk, "next_update_at": at})
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "published"
    assert outcomes(live_page) == ["kept", "open"]


def _room_publish(client, incident, statement, at, **headers):
    return client.post(
        f"/incidents/{incident.pk}/crisis-page/publish/",
        {"statement": statement.pk, "next_update_at": at.strftime("%Y-%m-%dT%H:%M")},
        **headers,
    )


def test_the_room_refuses_a_next_time_it_would_drop_beside_the_form(
    live_page, incident, lead, approved_update, spokesperson
):
    client = Client()
    client.force_login(spokesperson)
    at = timezone.localtime(timezone.now() + 2 * HOUR)
    first = approved_update()
    assert _room_publish(client, incident, first, at).status_code == 302
    # Sent again (a second tab, a retry): refused in place, the form and its time kept.
    again = _room_publish(client, incident, first, at + HOUR, HTTP_HX_REQUEST="true")
    assert again.status_code == 422
    assert "already published" in again.content.decode()
    assert promises.current(live_page).due_at == at.replace(second=0, microsecond=0)
    # Resolved meanwhile: refused in place, nothing published.
    second = approved_update("Another update.")
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    response = _room_publish(client, incident, second, at, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "The crisis page is resolved" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "approved"


def test_the_api_refuses_a_next_time_it_would_drop(
    live_page, incident, lead, approved_update, spokesperson
):
    api = token_client(spokesperson)
    url = f"/api/incidents/{incident.pk}/crisis-page/publish/"
    at = timezone.now() + 2 * HOUR
    statement = approved_update()
    api.post(url, {"statement": statement.pk, "next_update_at": at.isoformat()}, format="json")
    again = api.post(
        url, {"statement": statement.pk, "next_update_at": (at + HOUR).isoformat()}, format="json"
    )
    assert "already published" in assert_error(again, 400)
    assert promises.current(live_page).due_at == at
    other = approved_update("Another update.")
    actions.page_switch(page=live_page, actor=lead, action="resolve")
    refused = api.post(
        url, {"statement": other.pk, "next_update_at": at.isoformat()}, format="json"
    )
    assert "The crisis page is resolved" in assert_error(refused, 400)
    other.refresh_from_db()
    assert other.status == "approved"


def test_the_api_lists_the_promises_and_makes_one(live_page, incident, lead, observer):
    api = token_client(lead)
    base = f"/api/incidents/{incident.pk}/crisis-page/"
    body = api.get(base).json()
    assert body["next_update_at"] and [p["outcome"] for p in body["promises"]] == ["open"]
    at = (timezone.now() + 3 * HOUR).isoformat()
    body = api.post(base + "next-update/", {"at": at}, format="json").json()
    assert [p["outcome"] for p in body["promises"]] == ["open", "moved"]
    assert body["promises"][0]["made_by"] == "Camille Laurent"
    refused = api.post(
        base + "next-update/",
        {"at": (timezone.now() + datetime.timedelta(days=9)).isoformat()},
        format="json",
    )
    assert_error(refused, 400)
    assert "within the coming week" in refused.json()["detail"]
    assert_error(token_client(observer).post(base + "next-update/", {"at": at}, format="json"), 403)


def test_the_api_publishes_an_update_with_the_next_time(
    live_page, incident, approved_update, spokesperson
):
    statement = approved_update()
    api = token_client(spokesperson)
    url = f"/api/incidents/{incident.pk}/crisis-page/publish/"
    body = api.post(url, {"statement": statement.pk}, format="json").json()
    assert statement.pk in body["updates"]
    kept = body["promises"][1]
    assert (kept["outcome"], kept["kept_by"]) == ("kept", statement.pk)
    assert body["promises"][0]["announced_by"] == statement.pk


@pytest.mark.parametrize("kind, language", [("faq", "en"), ("reply", "en"), ("update", "de")])
def test_only_a_page_update_is_published_as_one_and_keeps_a_promise(
    live_page, incident, drafter, approver, spokesperson, kind, language
):
    """An FAQ answer, a reply, or an update in a language the pages do not speak is not an
    update the public sees: refused here (nothing published), and kept no promise."""
    extra = {"reply_to_account": "@someone"} if kind == "reply" else {}
    statement = statement_actions.statement_create(
        incident=incident, actor=drafter, kind=kind, channel="crisis_center",
        language=language, text="Not an update of the page.", **extra,
    )  # fmt: skip
    statement = approve(statement, author=drafter, approver=approver)
    url = f"/api/incidents/{incident.pk}/crisis-page/publish/"
    response = token_client(spokesperson).post(url, {"statement": statement.pk}, format="json")
    assert "Only an update of the crisis page" in assert_error(response, 400)
    statement.refresh_from_db()
    assert statement.status == "approved"
    assert not selectors.is_update(statement, live_page)


# --- Post-mortem and metrics ----------------------------------------------------------------


def test_the_post_mortem_counts_the_promises_kept(live_page, incident, lead, publish_update):
    publish_update("On time.")  # kept; announces the next
    push_into_the_past(promises.current(live_page), 3 * HOUR)
    publish_update("Late.")  # late; announces the next
    promises.sweep(now=promises.current(live_page).due_at + MINUTE)  # missed
    actions.page_next_update_set(page=live_page, actor=lead, at=timezone.now() + HOUR)
    actions.page_next_update_set(page=live_page, actor=lead, at=timezone.now() + 2 * HOUR)
    m = figures.report(incident).metrics
    assert (m.promises_due, m.promises_kept, m.promises_late, m.promises_missed) == (3, 1, 1, 1)
    assert m.promises_moved == 1
    assert figures.as_json(figures.report(incident))["metrics"]["promises_kept_share"] == 1 / 3
    from incidents.postmortems import actions as pm_actions

    pm_actions.postmortem_create(incident=incident, actor=lead)
    client = Client()
    client.force_login(lead)
    markdown = client.get(f"/incidents/{incident.pk}/postmortem/export.md").content.decode()
    assert "| Promised updates kept on time | 1 / 3 (33 %) · 1 late · 1 missed" in markdown
    page = client.get(f"/incidents/{incident.pk}/postmortem/").content.decode()
    assert "Promised updates kept on time" in page and "1 / 3 (33 %)" in page


def test_the_metrics_give_the_share_of_promises_kept(live_page, incident, lead, publish_update):
    filters = pm_metrics.Filters.default()
    empty = pm_metrics.report(lead, filters)
    assert empty.total.promises_due == 0 and empty.total.promises_kept_share is None
    client = Client()
    client.force_login(lead)
    assert "no promised update came due" in client.get("/metrics/").content.decode()
    publish_update("On time.")
    total = pm_metrics.report(lead, filters).total
    assert (total.promises_due, total.promises_kept, total.promises_kept_share) == (1, 1, 1.0)
    body = token_client(lead).get("/api/metrics/").json()
    assert body["total"]["promises_kept_share"] == 1.0
    csv_text = client.get("/metrics/export.csv").content.decode()
    assert "share kept" in csv_text.splitlines()[0]


def test_an_update_s_statement_page_publishes_it_on_the_crisis_page(
    live_page, approved_update, spokesperson, browser_client
):
    """The spokesperson was asked to copy the text, post it and give the post's URL, for a
    page the app hosts itself."""
    update = approved_update()
    client = browser_client.as_user(spokesperson)
    page = client.get(f"/statements/{update.pk}/").text
    assert "Publish on the crisis page" in page
    assert 'name="url"' not in page and "Copy the approved text" not in page
    done = client.post(f"/statements/{update.pk}/publish/", {"revision": update.revision})
    assert done.status_code == 302
    update.refresh_from_db()
    assert update.status == "published"


@pytest.mark.parametrize("page_state", ["none", "dark"])
def test_an_update_is_not_published_without_a_live_page(
    request, incident, approved_update, spokesperson, page_state
):
    """Published with no page, or a dark one, it went nowhere public, yet it met the
    first-response deadline (from a break-it pass)."""
    if page_state == "dark":
        request.getfixturevalue("dark_page")
    update = approved_update()
    with pytest.raises(TransitionNotAllowed, match="it can be published once the lead"):
        statement_actions.statement_publish(statement=update, actor=spokesperson)
    update.refresh_from_db()
    incident.refresh_from_db()
    assert update.status == "approved" and incident.first_response_at is None


def test_while_the_page_is_dark_its_update_is_not_offered_to_publish(
    dark_page, approved_update, approve_texts, lead, spokesperson, browser_client, api
):
    """The rule that refuses the publication also takes the Publish action away: "My
    approvals" does not list the update, its page says why instead of a publish box, the
    API offers no "publish". Once the page is live, all of them offer it."""
    update = approved_update()
    client = browser_client.as_user(spokesperson)
    api.as_user(spokesperson)

    inbox = client.get("/approvals/").text
    assert f'href="/statements/{update.pk}/#publish-box"' not in inbox
    assert "Nothing waits for you" in inbox
    page = client.get(f"/statements/{update.pk}/").text
    assert 'id="publish-box"' not in page
    assert "Approved. The crisis page is not live yet: it can be published once the lead" in page
    assert "waiting for" not in page  # not for the spokesperson: for the page
    assert "publish" not in api.get(f"/api/statements/{update.pk}/").json()["available_actions"]
    assert api.get("/api/to-publish/").json()["count"] == 0

    # Nobody was told it is ready to publish: it was not.
    told = Notification.objects.filter(user=spokesperson, kind="ready_to_publish")
    assert not told.exists()

    approve_texts(dark_page)
    actions.page_switch(page=dark_page, actor=lead, action="go_live")

    assert [n.url for n in told] == [f"/statements/{update.pk}/"]  # now it is
    inbox = client.get("/approvals/").text
    assert f'href="/statements/{update.pk}/#publish-box">Copy and publish</a>' in inbox
    page = client.get(f"/statements/{update.pk}/").text
    assert 'id="publish-box"' in page and "not publishable yet" not in page
    assert [s["id"] for s in api.get("/api/to-publish/").json()["results"]] == [update.pk]


def test_going_live_tells_of_each_waiting_update_for_a_few_queries_each(
    declare, lead, drafter, approver, spokesperson, playbook, next_update, policies
):
    """Each waiting update costs its notification only: the cell, the refusals and the
    incident are read once for all (a break-it pass counted 7 queries an update)."""

    def going_live(waiting: int) -> int:
        incident = declare(title=f"{waiting} updates waiting")
        for user, role, function in [
            (drafter, "drafter", ""),
            (approver, "approver", "other"),
            (spokesperson, "spokesperson", ""),
        ]:
            incident_actions.member_add(
                incident=incident, actor=lead, user=user, role=role, function=function
            )
        page = actions.page_prepare(
            incident=incident, actor=lead, playbook=playbook, next_update_at=next_update
        )
        for text in page.texts.select_related("statement"):
            approve(text.statement, author=lead, approver=approver)
        for n in range(waiting):
            update = statement_actions.statement_create(
                incident=incident,
                actor=drafter,
                kind="update",
                channel="crisis_center",
                language="en",
                text=f"Update {n}",
            )
            approve(update, author=drafter, approver=approver)
        with CaptureQueriesContext(connection) as ctx:
            actions.page_switch(page=page, actor=lead, action="go_live")
        told = Notification.objects.filter(
            user=spokesperson, kind="ready_to_publish", incident=incident
        )
        assert told.count() == waiting
        return len(ctx.captured_queries)

    one, five = going_live(1), going_live(5)
    assert five - one <= 4 * 4
