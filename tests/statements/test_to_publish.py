"""The spokesperson's part of "My approvals": approved statements waiting for them to
publish, across their incidents, the longest waiting first; the same list through
`GET /api/to-publish/`. Who sees one there is who may publish it (rules.available_actions)."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.crisiscenter import actions as crisis_page
from incidents.crisiscenter.models import PageText
from statements import actions, selectors
from statements.models import Statement
from tests.helpers import POST_URL
from tests.statements.conftest import bulk_statements


def listed(response) -> list[int]:
    """The statements under "Approved, to publish" on the page, in order."""
    found = re.search(r'<ul class="statement-list card to-publish">(.*?)</ul>', response.text, re.S)
    if not found:
        return []
    return [int(pk) for pk in re.findall(r'href="/statements/(\d+)/"', found.group(1))]


def test_the_spokesperson_sees_what_is_approved_oldest_first_and_nothing_else(
    make_statement, browser_client, api, declare, lead, spokesperson, second_approver, approver
):
    first = make_statement(text="First approved", title="First", state="approved")
    make_statement(text="Draft", title="A draft")
    make_statement(text="Waiting", title="In review", state="in_review")
    make_statement(text="Out already", title="Published", state="published")
    second = make_statement(text="Second approved", title="Second", state="approved")
    elsewhere = declare(title="Another incident")  # the spokesperson is not in its cell
    incident_actions.member_add(
        incident=elsewhere, actor=lead, user=second_approver, role="approver", function="other"
    )
    make_statement(incident=elsewhere, author=lead, reviewer=second_approver, state="approved")

    response = browser_client.as_user(spokesperson).get("/approvals/")

    assert response.status_code == 200
    assert "Approved, to publish" in response.text
    assert listed(response) == [first.pk, second.pk]
    assert "Nothing waits for you" not in response.text
    # Straight to the publish box: copy the approved text, record where it went.
    assert f'href="/statements/{first.pk}/#publish-box">Copy and publish</a>' in response.text

    body = api.as_user(spokesperson).get("/api/to-publish/").json()
    assert body["count"] == 2
    assert [s["id"] for s in body["results"]] == [first.pk, second.pk]
    assert all("publish" in s["available_actions"] for s in body["results"])

    # Published, it leaves the list.
    actions.statement_publish(statement=first, actor=spokesperson, url=POST_URL)
    assert listed(browser_client.get("/approvals/")) == [second.pk]
    assert [s["id"] for s in api.get("/api/to-publish/").json()["results"]] == [second.pk]


def test_only_those_who_may_publish_see_it(
    make_statement, make_policy, browser_client, api, lead, approver, drafter, observer
):
    make_statement(state="approved")
    for user in (lead, approver, drafter, observer):
        assert listed(browser_client.as_user(user).get("/approvals/")) == []
        assert api.as_user(user).get("/api/to-publish/").json()["count"] == 0

    # The lead publishes too where the policy lets them.
    lenient = make_policy("Lead may publish", [(1, "")], allow_lead_publish=True)
    theirs = make_statement(approval_policy=lenient, state="approved")
    assert listed(browser_client.as_user(lead).get("/approvals/")) == [theirs.pk]
    assert [s["id"] for s in api.as_user(lead).get("/api/to-publish/").json()["results"]] == [
        theirs.pk
    ]


def test_a_spokesperson_who_left_the_cell_sees_nothing(
    make_statement, browser_client, incident, lead, spokesperson
):
    make_statement(state="approved")
    incident_actions.member_remove(incident=incident, actor=lead, user=spokesperson)
    response = browser_client.as_user(spokesperson).get("/approvals/")
    assert listed(response) == [] and "Nothing waits for you" in response.text


def test_the_list_costs_the_same_queries_for_2_or_12_statements(
    make_statement, browser_client, api, declare, lead, drafter, approver, spokesperson
):
    other = declare(title="Second incident")
    for user, role in [
        (drafter, "drafter"),
        (approver, "approver"),
        (spokesperson, "spokesperson"),
    ]:
        incident_actions.member_add(
            incident=other,
            actor=lead,
            user=user,
            role=role,
            function="other" if role == "approver" else "",
        )

    def make(count):
        for i in range(count):
            make_statement(incident=other if i % 2 else None, text=f"Ready {i}", state="approved")

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    client = browser_client.as_user(spokesperson)
    make(2)
    client.get("/approvals/")
    small, _ = count("/approvals/")
    api.as_user(spokesperson)
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/to-publish/")
    small_api = len(ctx.captured_queries)

    make(10)
    big, response = count("/approvals/")
    assert len(listed(response)) == 12
    assert big <= small
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/to-publish/").json()["count"] == 12
    assert len(ctx.captured_queries) <= small_api


def test_what_nobody_publishes_never_takes_the_place_of_what_waits(
    monkeypatch, make_statement, default_policy, incident, declare, lead, drafter, approver
):
    """The list is cut at MAX_TO_PUBLISH after leaving out what the rule refuses by role or
    kind: a crisis page's texts (approved for good: shown on approval) and, for a lead, the
    statements of an incident whose policy does not let the lead publish."""
    monkeypatch.setattr(selectors, "MAX_TO_PUBLISH", 3)
    page = crisis_page.page_prepare(
        incident=incident, actor=lead, next_update_at=timezone.now() + timedelta(hours=2)
    )
    long_ago = timezone.now() - timedelta(days=1)
    approved = {"status": "approved", "approved_at": long_ago, "submitted_at": long_ago}
    sections = bulk_statements(
        incident, drafter, default_policy, 3, channel="crisis_center", **approved
    )
    PageText.objects.bulk_create(
        PageText(page=page, section="faq", order=n, statement=s) for n, s in enumerate(sections)
    )
    bulk_statements(incident, drafter, default_policy, 3, **approved)  # the lead may not
    # The lead is the spokesperson of another incident, where one statement waits for them.
    other = declare(actor=drafter, title="Another incident")
    incident_actions.member_add(incident=other, actor=drafter, user=lead, role="spokesperson")
    incident_actions.member_add(
        incident=other, actor=drafter, user=approver, role="approver", function="other"
    )
    waiting = make_statement(incident=other, author=drafter, text="Waiting", state="approved")
    assert Statement.objects.filter(status="approved").count() == 7

    assert [s.pk for s in selectors.to_publish(lead)] == [waiting.pk]


def test_updates_waiting_for_their_crisis_page_never_take_the_place_of_what_waits(
    monkeypatch, make_statement, default_policy, incident, drafter, spokesperson
):
    """Crisis page updates approved while the incident has no live page are refused to
    publish: left out before the list is cut, not after (from a break-it pass)."""
    monkeypatch.setattr(selectors, "MAX_TO_PUBLISH", 3)
    long_ago = timezone.now() - timedelta(days=1)
    approved = {"status": "approved", "approved_at": long_ago, "submitted_at": long_ago}
    bulk_statements(incident, drafter, default_policy, 3, channel="crisis_center", **approved)
    waiting = make_statement(text="Ready for X", state="approved")

    assert [s.pk for s in selectors.to_publish(spokesperson)] == [waiting.pk]
