"""The lead opens the post-mortem of a resolved incident in a real browser: it starts from
the room, finds the phases, metrics and reaction chart already filled in from the records,
writes a summary and adds an action item."""

import os
from datetime import timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest's skip-or-fail rule, applied at collection
    if os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from django.utils import timezone

from incidents.postmortems.models import ActionItem, Postmortem
from tests.postmortems.conftest import attach_mentions, sign_off, worked  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"


def test_the_lead_writes_the_post_mortem_from_the_prefilled_records(
    page,
    log_in,
    request,
    lead,
    drafter,
):
    incident = request.getfixturevalue("worked")()
    log_in(lead, PASSWORD)
    page.goto(f"/incidents/{incident.pk}/")
    page.get_by_role("link", name="Open the post-mortem").click()
    page.get_by_role("button", name="Write the post-mortem").click()

    expect(page.locator(".message-success")).to_contain_text("filled in from the records")
    phases = page.locator("#phases")
    for label in (
        "First mention",
        "Declared",
        "First public response",
        "Peak of volume",
        "Resolved",
    ):
        expect(phases).to_contain_text(label)
    expect(phases).to_contain_text("on time")
    expect(page.locator("#metrics")).to_contain_text("Time to first public response")
    expect(page.locator("#reaction svg.pm-chart")).to_be_visible()
    expect(page.locator("#reaction tbody tr")).to_have_count(1)

    page.fill("#id_summary", "A clumsy post, answered within the hour; tone back by evening.")
    page.get_by_role("button", name="Save the lessons").click()
    expect(page.locator(".message-success")).to_contain_text("Saved.")
    expect(page.locator("#id_summary")).to_have_value(
        "A clumsy post, answered within the hour; tone back by evening."
    )

    page.fill("#id_title", "Two people check every scheduled post")
    page.select_option("#id_owner", str(drafter.pk))
    page.fill("#id_due_date", (timezone.localdate() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#items")).to_contain_text("Two people check every scheduled post")

    postmortem = Postmortem.objects.get(incident=incident)
    assert postmortem.summary.startswith("A clumsy post")
    assert ActionItem.objects.get(postmortem=postmortem).owner == drafter


def test_a_drafter_shares_what_we_learned_from_the_signed_off_post_mortem(
    page, log_in, request, lead, drafter, approver
):
    from incidents.postmortems import actions
    from incidents.postmortems.models import LessonsStatement

    incident = request.getfixturevalue("worked")()
    postmortem = actions.postmortem_create(incident=incident, actor=lead)
    sign_off(postmortem, lead, approver, summary="The rumour was false.")
    log_in(drafter, PASSWORD)
    page.goto(f"/incidents/{incident.pk}/postmortem/")
    share = page.locator("#share")
    share.get_by_label("Language").select_option("en")
    share.get_by_role("button", name="Start the public statement").click()
    expect(page.locator(".message-success")).to_contain_text("started from the signed-off")
    expect(page.locator("body")).to_contain_text("The rumour was false.")
    link = LessonsStatement.objects.get(postmortem=postmortem)
    assert page.url.endswith(f"/statements/{link.statement_id}/")
    page.goto(f"/incidents/{incident.pk}/postmortem/")
    expect(share).to_contain_text("Update for the crisis page (English, from v1)")
    expect(share).to_contain_text("Draft")
    share.get_by_role("button", name="Start the public statement").click()
    expect(page.locator("body")).to_contain_text("already started")
    assert page.url.endswith(f"/statements/{link.statement_id}/")
    assert LessonsStatement.objects.count() == 1
