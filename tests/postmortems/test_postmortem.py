"""The post-mortem: pre-filled from the records, written by the lead with optimistic
concurrency, signed off under an approval policy into frozen versions, exported; who may
read and write it; constant query counts."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from incidents.errors import Conflict, InvalidInput, NotAllowed, StaleRevision
from incidents.listening import actions as listening_actions
from incidents.models import AppendOnlyError, TimelineEntry
from incidents.postmortems import actions, figures
from incidents.postmortems.models import PostmortemVersion
from tests.helpers import assert_error, token_client
from tests.listening.conftest import grant

TODAY = timezone.localdate


def url(incident, tail=""):
    return f"/incidents/{incident.pk}/postmortem/{tail}"


def api_url(incident, tail=""):
    return f"/api/incidents/{incident.pk}/postmortem/{tail}"


# Pre-filled from the records --------------------------------------------------------------


def test_the_report_holds_phases_metrics_and_the_reaction_to_each_statement(postmortem):
    report = figures.report(postmortem.incident)
    keys = [p.key for p in report.phases]
    for key in (
        "first_mention",
        "detected",
        "declared",
        "acknowledged",
        "first_response",
        "peak",
        "resolved",
    ):
        assert key in keys
    m = report.metrics
    assert m.first_response_met is True
    assert m.statements_total == 1 and m.statements_by_kind[0].value == "holding"
    assert [a.approvals for a in m.approvers] == [1]
    assert m.mentions == 12
    assert m.detect_seconds is not None and m.detect_seconds > 0
    # Negative posts before the holding statement, positive ones after.
    (statement,) = report.statements
    assert statement.before.mentions == 6 and statement.before.negative_share == 1
    assert statement.after.mentions == 6 and statement.after.negative_share == 0
    # Hourly buckets split these posts differently depending on the minute the test runs:
    # the recovery itself is checked on a series of its own below.
    assert m.peak_negative_share is not None and m.baseline_negative_share is not None
    assert [d.handle for d in report.defenders] == ["@fan"]
    assert report.detractors[0].handle == "@angry2"  # the most followed
    assert any(e.text == "Journalist called" for e in report.key_events)
    assert (
        report.head_hash
        == TimelineEntry.objects.filter(incident=postmortem.incident).order_by("-seq").first().hash
    )


def test_key_events_are_listed_in_the_order_they_happened(postmortem, lead, browser_client):
    """An observation noted later and back-dated came after the events that followed it."""
    from incidents import actions as incident_actions

    incident = postmortem.incident
    incident_actions.timeline_add_entry(
        incident=incident,
        actor=lead,
        kind="key_event",
        text="First article in the press",
        occurred_at=incident.detected_at - timedelta(minutes=5),
    )
    events = figures.report(incident).key_events
    times = [e.at for e in events]
    assert times == sorted(times) and len(events) >= 3
    texts = [e.text for e in events]
    assert texts.index("First article in the press") < texts.index("Journalist called")
    # A status change says from what to what ("Status changed" alone did not).
    changes = [e.change for e in events if e.kind == "status_changed"]
    assert changes == ["Detected → Active", "Active → Resolved"]
    page = browser_client.as_user(lead).get(url(incident)).text
    assert "Status changed</strong> — Active → Resolved" in page


def test_recovery_runs_from_the_peak_of_the_negative_share_back_to_the_baseline(incident):
    start = incident.detected_at.replace(minute=0, second=0, microsecond=0)
    hour = timedelta(hours=1)
    shares = [(10, 2), (10, 9), (10, 6), (4, 0), (10, 2)]  # (scored, negative) per hour
    series = [figures.Bucket(start + i * hour, n, neg, n) for i, (n, neg) in enumerate(shares)]
    signal = type("Signal", (), {"baseline_negative_share": 0.2})()
    metrics = figures.Metrics()
    figures._recovery(metrics, series, signal, incident)
    # The peak is the second hour (90 %); the fourth has too few scored mentions to count.
    assert metrics.peak_negative_share == 0.9
    assert metrics.recovered is True and metrics.recovery_seconds == 3 * 3600
    metrics = figures.Metrics()
    figures._recovery(metrics, series[:3], signal, incident)
    assert metrics.recovered is False and metrics.recovery_seconds is None


def test_an_incident_without_mentions_says_so_instead_of_guessing(incident, lead):
    report = figures.report(incident)
    assert report.series == [] and report.has_mentions is False
    assert report.metrics.recovered is None and report.metrics.detect_seconds is None


def test_the_page_shows_the_prefilled_post_mortem_with_its_chart(client, postmortem, lead):
    client.force_login(lead)
    page = client.get(url(postmortem.incident)).content.decode()
    assert "<svg" in page and "First public response" in page and "Journalist called" in page
    assert "Save the lessons" in page
    # The browser refuses a past due date before sending it (the action refuses it anyway).
    assert f'min="{timezone.localdate().isoformat()}"' in page


def test_the_chart_is_drawn_in_french_too(client, postmortem, lead):
    """French writes 226,5: the chart's coordinates came out so, and the browser drew
    nothing (84 errors "Expected length")."""
    client.force_login(lead)
    page = client.get(url(postmortem.incident), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert re.search(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="[^"]*\d,\d', svg) is None
    assert re.search(r'\by1="\d+\.\d+"', svg)  # decimals written with a dot


# Who may read and write ------------------------------------------------------------------


def test_only_the_lead_starts_it_and_again_is_the_same_one(incident, lead, drafter):
    with pytest.raises(NotAllowed):
        actions.postmortem_create(incident=incident, actor=drafter)
    first = actions.postmortem_create(incident=incident, actor=lead)
    assert actions.postmortem_create(incident=incident, actor=lead).pk == first.pk
    assert incident.timeline.filter(kind="postmortem_started").count() == 1


@pytest.mark.parametrize("who", ["drafter", "approver", "spokesperson", "observer", "staff"])
def test_the_cell_and_staff_read_it_but_do_not_write_it(request, client, postmortem, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    page = client.get(url(postmortem.incident))
    assert page.status_code == 200 and "Save the lessons" not in page.content.decode()
    api = token_client(user)
    assert api.get(api_url(postmortem.incident)).status_code == 200
    response = api.patch(api_url(postmortem.incident), {"base_version": 1, "summary": "x"})
    assert_error(response, 403)
    assert client.get(url(postmortem.incident, "export.md")).status_code == 200


def test_outsiders_find_nothing(client, postmortem, outsider):
    client.force_login(outsider)
    for tail in ("", "print/", "export.md", "export.pdf"):
        assert client.get(url(postmortem.incident, tail)).status_code == 404
    assert client.post(url(postmortem.incident, "write/")).status_code == 404
    assert token_client(outsider).get(api_url(postmortem.incident)).status_code == 404


# Written parts and optimistic concurrency ------------------------------------------------


def test_two_editors_never_overwrite_each_other(postmortem, lead):
    base = postmortem.text_version
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=base, summary="A")
    with pytest.raises(StaleRevision) as refused:
        actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=base, summary="B")
    assert refused.value.status_code == 409
    postmortem.refresh_from_db()
    assert postmortem.summary == "A" and postmortem.text_version == base + 1


def test_saving_the_same_text_from_an_old_version_writes_nothing(postmortem, lead):
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="A")
    same = actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="A")
    assert same.text_version == 2


def test_the_parts_are_bounded(postmortem, lead):
    with pytest.raises(InvalidInput):
        actions.postmortem_write(
            postmortem=postmortem, actor=lead, base_version=1, went_wrong="x" * 5001
        )


def test_a_conflicting_save_on_the_page_keeps_what_was_typed(client, postmortem, lead):
    client.force_login(lead)
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="First")
    response = client.post(
        url(postmortem.incident, "write/"), {"base_version": 1, "summary": "My own words"}
    )
    assert response.status_code == 409
    assert "My own words" in response.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.summary == "First"


def test_the_api_answers_409_with_the_current_version(postmortem, lead):
    api = token_client(lead)
    ok = api.patch(api_url(postmortem.incident), {"base_version": 1, "summary": "A"}, format="json")
    assert ok.status_code == 200 and ok.json()["text_version"] == 2
    stale = api.patch(
        api_url(postmortem.incident), {"base_version": 1, "summary": "B"}, format="json"
    )
    assert_error(stale, 409)
    assert stale.json()["current_version"] == 2


# Action items ----------------------------------------------------------------------------


def test_an_action_item_needs_an_owner_from_the_cell_and_a_date_not_past(
    postmortem, lead, drafter, outsider
):
    tomorrow = TODAY() + timedelta(days=1)
    with pytest.raises(InvalidInput):
        actions.item_add(
            postmortem=postmortem, actor=lead, title="Fix", owner=outsider, due_date=tomorrow
        )
    with pytest.raises(InvalidInput):
        actions.item_add(
            postmortem=postmortem,
            actor=lead,
            title="Fix",
            owner=drafter,
            due_date=TODAY() - timedelta(days=1),
        )
    with pytest.raises(NotAllowed):
        actions.item_add(
            postmortem=postmortem, actor=drafter, title="Fix", owner=drafter, due_date=tomorrow
        )
    item = actions.item_add(
        postmortem=postmortem, actor=lead, title="Fix", owner=drafter, due_date=tomorrow
    )
    assert item.status == "open"


def _form_values(page: str, name: str) -> str:
    """The value of the add form's field `name` as the page renders it."""
    form = page[page.index('class="pm-item-add"') :]
    if name == "owner":
        return re.search(r'<option value="(\d+)" selected>', form).group(1)
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', form).group(1)


@pytest.mark.parametrize(
    "title, due, field_error",
    [
        ("Brief the support team", -1, "The due date cannot be in the past."),
        ("x" * 301, 1, "at most 300 characters"),
    ],
)
def test_a_refused_action_item_keeps_what_was_typed_with_the_error_beside_its_field(
    client, postmortem, lead, drafter, title, due, field_error
):
    client.force_login(lead)
    due_date = (TODAY() + timedelta(days=due)).isoformat()
    response = client.post(
        url(postmortem.incident, "items/"),
        {"title": title, "owner": drafter.pk, "due_date": due_date},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The action item was not added" in page
    field = page[page.index('class="pm-item-add"') :]
    assert 'class="field has-error"' in field and field_error in field
    assert _form_values(page, "title") == title
    assert _form_values(page, "due_date") == due_date
    assert _form_values(page, "owner") == str(drafter.pk)
    assert not postmortem.items.exists()
    # Corrected, it is added, and the page is back to an empty form.
    response = client.post(
        url(postmortem.incident, "items/"),
        {"title": "Brief the support team", "owner": drafter.pk, "due_date": TODAY().isoformat()},
        follow=True,
    )
    assert postmortem.items.get().title == "Brief the support team"
    assert "has-error" not in response.content.decode()


def test_the_api_names_the_refused_field_of_an_action_item(postmortem, lead, drafter):
    yesterday = (TODAY() - timedelta(days=1)).isoformat()
    response = token_client(lead).post(
        api_url(postmortem.incident, "items/"),
        {"title": "Fix", "owner": drafter.pk, "due_date": yesterday},
        format="json",
    )
    assert "past" in assert_error(response, 400)
    assert response.json()["errors"] == {"due_date": ["The due date cannot be in the past."]}


def test_the_owner_closes_their_item_and_dropping_needs_a_reason(
    postmortem, lead, drafter, observer
):
    item = actions.item_add(
        postmortem=postmortem, actor=lead, title="Train the team", owner=drafter, due_date=TODAY()
    )
    with pytest.raises(NotAllowed):
        actions.item_update(item=item, actor=observer, base_version=1, status="done")
    with pytest.raises(InvalidInput, match="not an observer"):  # observers are read-only
        actions.item_add(
            postmortem=postmortem, actor=lead, title="Watch", owner=observer, due_date=TODAY()
        )
    with pytest.raises(InvalidInput):
        actions.item_update(item=item, actor=drafter, base_version=1, status="dropped")
    dropped = actions.item_update(
        item=item, actor=drafter, base_version=1, status="dropped", reason="Covered elsewhere"
    )
    assert dropped.status == "dropped" and dropped.reason == "Covered elsewhere"
    with pytest.raises(StaleRevision):
        actions.item_update(item=item, actor=lead, base_version=1, status="open")
    entry = postmortem.incident.timeline.filter(kind="action_item_closed").get()
    assert entry.data["reason"] == "Covered elsewhere"


# Sign-off and versions -------------------------------------------------------------------


def _signed(postmortem, lead, approver):
    actions.postmortem_write(
        postmortem=postmortem,
        actor=lead,
        base_version=postmortem.text_version,
        summary="We answered fast.",
    )
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    return actions.postmortem_review(
        postmortem=postmortem, actor=approver, revision=postmortem.revision, decision="approved"
    )


def test_asking_for_sign_off_tells_the_approvers(postmortem, lead, approver):
    """They had no way to know: no bell, no e-mail, nothing in "My approvals"."""
    from incidents.notifications.models import Notification

    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    postmortem.refresh_from_db()
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)  # again: nothing more
    asked = Notification.objects.filter(
        kind="review_requested", url=f"/incidents/{postmortem.incident_id}/postmortem/"
    )
    [told] = asked
    assert told.user == approver
    assert told.subject == f"Post-mortem of “{postmortem.incident.title}” (revision 2)"


def test_a_post_mortem_to_sign_is_in_my_approvals(
    postmortem, lead, approver, drafter, browser_client, django_assert_max_num_queries
):
    """It waited for legal's sign-off, and "My approvals" said "Nothing waits for you"."""
    inbox = browser_client.as_user(approver)
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    postmortem.refresh_from_db()
    assert "Post-mortem (revision" not in inbox.get("/approvals/").text
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with django_assert_max_num_queries(20):
        page = inbox.get("/approvals/").text
    assert f"Post-mortem (revision {postmortem.revision})" in page
    assert f'href="/incidents/{postmortem.incident_id}/postmortem/"' in page
    assert "Nothing waits for you" not in page
    # Not for someone who cannot sign it; gone once signed.
    assert "Post-mortem (revision" not in browser_client.as_user(drafter).get("/approvals/").text
    actions.postmortem_review(
        postmortem=postmortem, actor=approver, revision=postmortem.revision, decision="approved"
    )
    assert "Post-mortem (revision" not in inbox.get("/approvals/").text


def test_my_approvals_lists_statements_then_post_mortems_under_their_own_headings(
    postmortem, lead, approver, make_statement, browser_client
):
    """The statements sat under "Post-mortems and other sign-offs" (from a new-user pass)."""
    make_statement(state="in_review", title="Holding for X")
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    page = browser_client.as_user(approver).get("/approvals/").text
    order = [
        page.index(text)
        for text in (
            "<h2>Statements to sign off</h2>",
            "Holding for X",
            "<h2>Post-mortems and other sign-offs</h2>",
            "Post-mortem (revision",
        )
    ]
    assert order == sorted(order)


def test_the_api_lists_a_post_mortem_to_sign_as_my_approvals_does(
    postmortem, lead, approver, drafter, django_assert_max_num_queries
):
    """`GET /api/approvals/` listed statements only: a client saw nothing to sign while the
    post-mortem waited (from a new-user pass)."""
    api = token_client(approver)
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    assert api.get("/api/approvals/").json()["others"] == []
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with django_assert_max_num_queries(20):
        body = api.get("/api/approvals/").json()
    assert body["results"] == []
    [item] = body["others"]
    incident = postmortem.incident
    assert item == {
        "kind": "postmortem",
        "what": f"Post-mortem (revision {postmortem.revision})",
        "incident_id": incident.pk,
        "incident": incident.title,
        "revision": postmortem.revision,
        "url": url(incident),
        "api_url": api_url(incident),
        "since": item["since"],
    }
    assert item["since"]
    assert token_client(drafter).get("/api/approvals/").json()["others"] == []
    # Bounded, as every response: at most outlets.MAX_AWAITING, the oldest.
    from statements import outlets

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outlets, "MAX_AWAITING", 0)
        assert api.get("/api/approvals/").json()["others"] == []
    review = api.post(
        item["api_url"] + "review/",
        {"revision": item["revision"], "decision": "approved"},
        format="json",
    )
    assert review.status_code == 200
    assert api.get("/api/approvals/").json()["others"] == []


def test_changes_asked_go_back_to_the_lead(postmortem, lead, approver):
    """The lead heard nothing, and the post-mortem sat in draft (from a new-user pass)."""
    from incidents.notifications.models import Notification

    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    postmortem.refresh_from_db()
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    actions.postmortem_review(
        postmortem=postmortem,
        actor=approver,
        revision=postmortem.revision,
        decision="changes_requested",
        comment="Name the second wave.",
    )
    told = Notification.objects.get(user=lead, kind="changes_requested")
    assert told.url == f"/incidents/{postmortem.incident_id}/postmortem/"
    assert told.subject == (
        f"Post-mortem of “{postmortem.incident.title}” (revision {postmortem.revision})"
    )


def test_each_step_of_an_ordered_policy_is_asked_in_turn_and_the_lead_hears_of_the_sign_off(
    postmortem, lead, policies, make_user
):
    """Under "Legal, then communications", communications was never told the post-mortem
    waited for them once legal had signed, and the lead learnt of the sign-off only by
    reloading the page."""
    from incidents import actions as incident_actions
    from incidents.notifications.models import Notification
    from statements import actions as statement_actions

    incident = postmortem.incident
    legal, comms = make_user("legal"), make_user("comms")
    for user, function in ((legal, "legal"), (comms, "communications")):
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role="approver", function=function
        )
    statement_actions.incident_policy_set(incident=incident, actor=lead, policy=policies["ordered"])
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()

    def asked(user):
        return Notification.objects.filter(user=user, kind="review_requested").count()

    assert (asked(legal), asked(comms)) == (1, 0)
    actions.postmortem_review(
        postmortem=postmortem, actor=legal, revision=postmortem.revision, decision="approved"
    )
    assert (asked(legal), asked(comms)) == (1, 1)
    assert not Notification.objects.filter(user=lead, kind="signed_off").exists()
    actions.postmortem_review(
        postmortem=postmortem, actor=comms, revision=postmortem.revision, decision="approved"
    )
    told = Notification.objects.get(user=lead, kind="signed_off")
    assert told.url == f"/incidents/{incident.pk}/postmortem/"
    assert told.subject == f"Post-mortem of “{incident.title}” (revision {postmortem.revision})"
    assert not Notification.objects.filter(user__in=[legal, comms], kind="signed_off").exists()


def _ordered(postmortem, lead, policies, make_user):
    """The incident under "Legal, then communications", with one approver of each and an
    executive the policy does not ask for; the post-mortem written. Returns the three."""
    from incidents import actions as incident_actions
    from statements import actions as statement_actions

    incident = postmortem.incident
    people = [make_user(name) for name in ("legal", "comms", "executive")]
    for user, function in zip(people, ("legal", "communications", "executive"), strict=True):
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role="approver", function=function
        )
    statement_actions.incident_policy_set(incident=incident, actor=lead, policy=policies["ordered"])
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    return people


def test_resubmitted_unchanged_after_changes_asked_it_is_asked_again(
    postmortem, lead, policies, make_user
):
    """Changes asked, then resubmitted without an edit (the same revision): it left "My
    approvals" and the API's list, nobody was asked again, and a second request for changes
    never reached the lead (their keys were per revision; from a break-it pass)."""
    from incidents.notifications.models import Notification
    from incidents.postmortems.selectors import awaiting_sign_off

    legal, _comms, _executive = _ordered(postmortem, lead, policies, make_user)
    for comment in ("Name the second wave.", "And the press call."):
        actions.postmortem_submit(postmortem=postmortem, actor=lead)
        postmortem.refresh_from_db()
        assert [a.revision for a in awaiting_sign_off(legal)] == [postmortem.revision]
        actions.postmortem_review(
            postmortem=postmortem,
            actor=legal,
            revision=postmortem.revision,
            decision="changes_requested",
            comment=comment,
        )
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    assert [a.revision for a in awaiting_sign_off(legal)] == [postmortem.revision]
    asked = Notification.objects.filter(user=legal, kind="review_requested")
    assert asked.count() == 3
    told = Notification.objects.filter(user=lead, kind="changes_requested")
    assert told.count() == 2
    actions.postmortem_review(
        postmortem=postmortem, actor=legal, revision=postmortem.revision, decision="approved"
    )
    assert awaiting_sign_off(legal) == []


def test_resubmitted_after_a_later_step_asked_for_changes_it_asks_that_step_again(
    postmortem, lead, policies, make_user
):
    """Legal signed, communications asked for changes, the lead resubmitted unchanged:
    legal was asked again (who had signed) and communications, whose turn it was, was not;
    and legal, having signed, could not send it back (a 200 that recorded nothing; from a
    break-it pass)."""
    from incidents.notifications.models import Notification

    legal, comms, _executive = _ordered(postmortem, lead, policies, make_user)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    revision = postmortem.revision
    actions.postmortem_review(
        postmortem=postmortem, actor=legal, revision=revision, decision="approved"
    )
    actions.postmortem_review(
        postmortem=postmortem,
        actor=comms,
        revision=revision,
        decision="changes_requested",
        comment="The tone.",
    )

    def asked(user):
        return Notification.objects.filter(user=user, kind="review_requested").count()

    assert (asked(legal), asked(comms)) == (1, 1)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    assert postmortem.revision == revision
    assert (asked(legal), asked(comms)) == (1, 2)
    # Legal, who signed this revision, may still send it back (a late concern).
    back = actions.postmortem_review(
        postmortem=postmortem,
        actor=legal,
        revision=revision,
        decision="changes_requested",
        comment="Wait: a legal issue.",
    )
    assert back.status == "draft"
    told = Notification.objects.filter(user=lead, kind="changes_requested")
    assert told.count() == 2
    # Her objection withdrew her signature (a new revision): resubmitted unchanged, it is
    # hers to give again (it was counted, and communications' approval signed it off over
    # her objection; from a break-it pass).
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    assert postmortem.revision == revision + 1
    assert (asked(legal), asked(comms)) == (2, 2)
    from incidents.postmortems.selectors import state_of

    state = state_of(postmortem.incident)
    assert state.actions_for(legal, postmortem.incident) == ["approve", "request_changes"]
    assert "approve" not in state.actions_for(comms, postmortem.incident)
    with pytest.raises(NotAllowed, match="comes at step 2"):
        actions.postmortem_review(
            postmortem=postmortem, actor=comms, revision=revision + 1, decision="approved"
        )
    for person in (legal, comms):
        actions.postmortem_review(
            postmortem=postmortem, actor=person, revision=revision + 1, decision="approved"
        )
    postmortem.refresh_from_db()
    assert postmortem.status == "signed_off"
    signed = PostmortemVersion.objects.get(postmortem=postmortem).content["approvals"]
    assert [a["function"] for a in signed] == ["legal", "communications"]


def test_an_approver_leaving_a_post_mortem_in_review_with_nobody_to_sign_is_said(
    postmortem, lead, policies, make_user, browser_client
):
    """Communications left while it waited for them: it stayed in review, waiting on
    nobody, with no word (statements say it; from a break-it pass)."""
    from incidents import actions as incident_actions
    from incidents.notifications.models import Notification

    legal, comms, _executive = _ordered(postmortem, lead, policies, make_user)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    assert token_client(lead).get(api_url(postmortem.incident)).json()["approval_stall"] is None
    incident_actions.member_remove(incident=postmortem.incident, actor=lead, user=comms)
    why = "Nobody in the cell can sign off for: Communications. Add an approver first."
    assert token_client(lead).get(api_url(postmortem.incident)).json()["approval_stall"] == why
    assert why in browser_client.as_user(lead).get(url(postmortem.incident)).text
    told = Notification.objects.get(user=lead, kind="escalated")
    assert told.url == url(postmortem.incident)
    assert not Notification.objects.filter(user=legal, kind="escalated").exists()


def test_only_an_approver_the_policy_asks_for_may_send_it_back(
    postmortem, lead, policies, make_user
):
    """The executive, whom "Legal, then communications" does not ask, could not sign but
    could send it back to draft (statements refuse it; from a break-it pass)."""
    from incidents.postmortems.selectors import state_of

    legal, comms, executive = _ordered(postmortem, lead, policies, make_user)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with pytest.raises(NotAllowed, match="does not ask"):
        actions.postmortem_review(
            postmortem=postmortem,
            actor=executive,
            revision=postmortem.revision,
            decision="changes_requested",
            comment="Not like this.",
        )
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review"
    state = state_of(postmortem.incident)
    assert "request_changes" not in state.actions_for(executive, postmortem.incident)
    # Communications, asked at step 2, may already send it back (as for a statement).
    assert "request_changes" in state.actions_for(comms, postmortem.incident)
    assert state.actions_for(legal, postmortem.incident) == ["approve", "request_changes"]


def test_an_approver_whose_step_comes_later_is_told_why_they_cannot_sign_yet(
    postmortem, lead, policies, make_user, browser_client
):
    """Communications saw "Ask for changes" and no "Sign off", with no word why (from a
    new-user pass); the action refuses it in the same words."""
    legal, comms, _executive = _ordered(postmortem, lead, policies, make_user)
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    why = "Your sign-off (Communications) comes at step 2, once step 1 is complete"
    page = browser_client.as_user(comms).get(url(postmortem.incident)).text
    assert why in page and "it waits now for Legal." in page
    assert 'value="approved"' not in page
    with pytest.raises(NotAllowed, match=re.escape(why)):
        actions.postmortem_review(
            postmortem=postmortem, actor=comms, revision=postmortem.revision, decision="approved"
        )
    actions.postmortem_review(
        postmortem=postmortem, actor=legal, revision=postmortem.revision, decision="approved"
    )
    page = browser_client.as_user(legal).get(url(postmortem.incident)).text
    assert "You signed off this revision." in page
    page = browser_client.as_user(comms).get(url(postmortem.incident)).text
    assert 'value="approved"' in page and why not in page


def test_signing_settles_the_approvers_request(postmortem, lead, approver):
    from incidents.notifications.models import Notification

    _signed(postmortem, lead, approver)
    about = Notification.objects.filter(
        user=approver, url=f"/incidents/{postmortem.incident_id}/postmortem/"
    )
    assert about.exists() and not about.filter(read_at__isnull=True).exists()


def test_sign_off_freezes_a_version_and_later_edits_make_a_new_one(postmortem, lead, approver):
    signed = _signed(postmortem, lead, approver)
    assert signed.status == "signed_off"
    (v1,) = PostmortemVersion.objects.filter(postmortem=postmortem)
    assert v1.content["parts"]["summary"] == "We answered fast."
    assert v1.content["figures"]["metrics"]["first_response_met"] is True
    entry = postmortem.incident.timeline.get(kind="postmortem_signed_off")
    assert entry.key_event and entry.data["content_hash"] == v1.content_hash
    with pytest.raises(AppendOnlyError), transaction.atomic():
        v1.content = {}
        v1.save()
    edited = actions.postmortem_write(
        postmortem=signed, actor=lead, base_version=signed.text_version, summary="Second look."
    )
    assert edited.status == "draft"
    _signed(edited, lead, approver)
    assert list(
        PostmortemVersion.objects.filter(postmortem=postmortem).values_list("number", flat=True)
    ) == [1, 2]
    v1.refresh_from_db()
    assert v1.content["parts"]["summary"] == "We answered fast."


def test_an_approval_is_of_the_revision_read(postmortem, lead, approver):
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="S")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with pytest.raises(StaleRevision):
        actions.postmortem_review(
            postmortem=postmortem,
            actor=approver,
            revision=postmortem.revision - 1,
            decision="approved",
        )


def test_changes_requested_go_back_to_draft_and_need_a_comment(postmortem, lead, approver):
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="S")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with pytest.raises(InvalidInput):
        actions.postmortem_review(
            postmortem=postmortem,
            actor=approver,
            revision=postmortem.revision,
            decision="changes_requested",
        )
    back = actions.postmortem_review(
        postmortem=postmortem,
        actor=approver,
        revision=postmortem.revision,
        decision="changes_requested",
        comment="Name the supplier.",
    )
    assert back.status == "draft"


def test_only_approvers_sign_off_and_a_summary_comes_first(postmortem, lead, drafter):
    with pytest.raises(InvalidInput):
        actions.postmortem_submit(postmortem=postmortem, actor=lead)
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="S")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    with pytest.raises(NotAllowed):
        actions.postmortem_review(
            postmortem=postmortem, actor=drafter, revision=postmortem.revision, decision="approved"
        )


def test_a_policy_nobody_in_the_cell_can_meet_is_refused_at_submission(postmortem, lead, policies):
    from statements import actions as statement_actions

    statement_actions.incident_policy_set(
        incident=postmortem.incident, actor=lead, policy=policies["ordered"]
    )
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="S")
    with pytest.raises(Conflict, match="Legal"):
        actions.postmortem_submit(postmortem=postmortem, actor=lead)


def test_the_api_signs_off_and_serves_the_frozen_version(postmortem, lead, approver):
    api = token_client(lead)
    api.patch(api_url(postmortem.incident), {"base_version": 1, "summary": "S"}, format="json")
    submitted = api.post(api_url(postmortem.incident, "submit/"))
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    revision = submitted.json()["revision"]
    review = token_client(approver).post(
        api_url(postmortem.incident, "review/"),
        {"revision": revision, "decision": "approved"},
        format="json",
    )
    assert review.status_code == 200 and review.json()["status"] == "signed_off"
    version = api.get(api_url(postmortem.incident, "versions/1/")).json()
    assert version["content"]["parts"]["summary"] == "S"
    assert api.get(api_url(postmortem.incident, "versions/9/")).status_code == 404


# Exports ---------------------------------------------------------------------------------


def test_the_exports_hold_the_whole_key_event_timeline_and_the_head_hash(
    client, postmortem, lead, drafter
):
    actions.postmortem_write(
        postmortem=postmortem,
        actor=lead,
        base_version=1,
        summary="Summary with *stars* and | pipes",
    )
    actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Brief the night shift",
        owner=drafter,
        due_date=TODAY(),
    )
    client.force_login(lead)
    markdown = client.get(url(postmortem.incident, "export.md")).content.decode()
    head = TimelineEntry.objects.filter(incident=postmortem.incident).order_by("-seq").first()
    keys = TimelineEntry.objects.filter(incident=postmortem.incident, key_event=True)
    assert head.hash in markdown
    for entry in keys:
        assert f"#{entry.seq} " in markdown
    assert "data:image/svg+xml;base64," in markdown
    assert r"\*stars\*" in markdown and r"\| pipes" in markdown
    assert "Brief the night shift" in markdown and "Time to first public response" in markdown
    printable = client.get(url(postmortem.incident, "print/")).content.decode()
    assert "<svg" in printable and head.hash in printable and "@media print" not in printable
    assert re.search(r"css/postmortem\.(\w+\.)?css", printable)  # its print rules


# Query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3])
def test_the_page_and_api_cost_the_same_whatever_the_size(
    size, worked, lead, drafter, client, django_assert_max_num_queries, make_user
):
    # A brand watch with a topic watch: the share of voice is computed (one query).
    editor = grant(make_user("watcher"), "view_mention", "view_watch", "change_watch")
    topic = listening_actions.watch_create(
        actor=editor, name="Topic", brand="Topic", keywords=["great", "disgrace"]
    )
    listening_actions.watch_create(
        actor=editor, name="Brand", brand="Brand", keywords=["brand"], topic_watch=topic
    )
    incident = worked(mentions=4 * size, statements=size)
    assert figures.report(incident).metrics.share_of_voice == 1
    pm = actions.postmortem_create(incident=incident, actor=lead)
    for n in range(size):
        actions.item_add(
            postmortem=pm, actor=lead, title=f"Item {n}", owner=drafter, due_date=TODAY()
        )
    client.force_login(lead)
    # The same bounds for one statement, one item and 8 mentions as for three times that.
    for path, most in [
        (url(incident), 36),  # the promotion freeze banner: one query on every page
        (url(incident, "export.md"), 30),
        (url(incident, "print/"), 30),
    ]:
        with django_assert_max_num_queries(most):
            assert client.get(path).status_code == 200
    api = token_client(lead)
    with django_assert_max_num_queries(34):
        assert api.get(api_url(incident)).status_code == 200


def test_signing_off_completes_the_checklist_step_that_waits_for_it(
    postmortem, lead, approver, client
):
    from incidents.playbooks.models import Task

    task = Task.objects.create(
        incident=postmortem.incident,
        title="Post-mortem",
        role="lead",
        due_at=timezone.now() + timedelta(days=7),
        completes_on="postmortem_signed_off",
    )
    _signed(postmortem, lead, approver)
    task.refresh_from_db()
    assert task.status == "done"
    client.force_login(lead)
    room = client.get(f"/incidents/{postmortem.incident_id}/").content.decode()
    assert "post-mortem signed off by" in room


def test_the_pdf_holds_the_lessons_and_the_metrics(client, postmortem, lead):
    import io

    from pypdf import PdfReader

    actions.postmortem_write(
        postmortem=postmortem, actor=lead, base_version=1, summary="We answered within the hour."
    )
    client.force_login(lead)
    response = client.get(url(postmortem.incident, "export.pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in (
        "We answered within the hour.",
        "Time to first public response",
        "Reaction to each statement",
        "Journalist called",
    ):
        assert expected in text


def test_without_pango_the_pdf_link_explains_and_offers_the_printable_page(
    client, postmortem, lead, monkeypatch
):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name.startswith("weasyprint"):
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    client.force_login(lead)
    response = client.get(url(postmortem.incident, "export.pdf"), follow=True)
    assert response.status_code == 200
    assert "cannot make PDFs" in response.content.decode()


def test_the_lead_asks_and_the_approver_signs_off_on_the_page(client, postmortem, lead, approver):
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="S")
    client.force_login(lead)
    assert "Ask for sign-off" in client.get(url(postmortem.incident)).content.decode()
    client.post(url(postmortem.incident, "submit/"))
    postmortem.refresh_from_db()
    assert postmortem.status == "in_review"
    client.force_login(approver)
    page = client.get(url(postmortem.incident)).content.decode()
    assert "Sign off" in page and "Ask for sign-off" not in page
    response = client.post(
        url(postmortem.incident, "review/"),
        {"revision": postmortem.revision, "decision": "approved"},
        follow=True,
    )
    assert "Your decision is recorded." in response.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.status == "signed_off"
    assert "v1" in client.get(url(postmortem.incident)).content.decode()


def test_printing_a_pdf_leaves_the_evidence_upload_check_whole(client, postmortem, lead):
    """Importing WeasyPrint made Pillow accept truncated images in the whole process: after
    a post-mortem was printed, a cut JPEG passed the evidence locker's check."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.errors import InvalidInput
    from incidents.evidence.files import inspect_upload
    from tests.evidence.conftest import jpeg_bytes

    client.force_login(lead)
    assert client.get(url(postmortem.incident, "export.pdf")).status_code == 200
    data = jpeg_bytes(400, 300)
    cut = SimpleUploadedFile("cut.jpg", data[: len(data) // 2], content_type="image/jpeg")
    with pytest.raises(InvalidInput, match="corrupt or truncated"):
        inspect_upload(cut, name="cut.jpg")
    # The whole image still passes.
    inspect_upload(SimpleUploadedFile("whole.jpg", data, content_type="image/jpeg"), name="w.jpg")


def test_empty_choices_say_what_to_choose(postmortem, lead, browser_client):
    """Selects started on Django's bare "---------" (the action item's owner, the statement
    a correction corrects)."""
    client = browser_client.as_user(lead)
    incident = postmortem.incident
    pages = [url(incident), f"/incidents/{incident.pk}/statements/new/"]
    for address in pages:
        page = client.get(address).text
        assert "---------" not in page, address
    assert "— Choose the owner —" in client.get(pages[0]).text
    assert "— Not a correction —" in client.get(pages[1]).text


def test_a_person_without_a_display_name_is_named_once(postmortem, lead, browser_client):
    """ "@angry2 @angry2 · X / Twitter": the handle stood in for the missing name, then was
    repeated beside it (from a new-user pass)."""
    page = browser_client.as_user(lead).get(url(postmortem.incident)).text
    assert re.search(r"<li>@angry2 <span class=\"muted small\">[^<]*Twitter", page)
    assert '@angry2 <span class="muted small">@angry2' not in page


def test_my_approvals_says_just_now_for_what_was_submitted_this_minute(
    postmortem, lead, approver, make_statement, browser_client
):
    """ "submitted 0 minutes ago" (from a new-user pass)."""
    make_statement(state="in_review")
    actions.postmortem_write(postmortem=postmortem, actor=lead, base_version=1, summary="Fast.")
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    page = browser_client.as_user(approver).get("/approvals/").text
    assert page.count("submitted just now") == 2
    assert "0 minutes" not in page
