"""The statements API's reviews read as their declared fields say (the schema), in every
language and time zone: the review serializer builds its dicts directly."""

import zoneinfo

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from statements.api.serializers import ReviewSerializer
from statements.models import Review


@pytest.mark.parametrize("language, zone", [("en", "UTC"), ("fr", "America/St_Johns")])
def test_reviews_read_as_their_declared_fields(incident, make_statement, language, zone):
    make_statement(state="changes_requested")
    make_statement(state="approved")
    reviews = list(Review.objects.select_related("reviewer").order_by("id"))
    assert {r.decision for r in reviews} == {"changes_requested", "approved"}

    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for review in reviews:
            serializer = ReviewSerializer(review)
            declared = serializers.ModelSerializer.to_representation(serializer, review)
            assert list(serializer.data.items()) == list(declared.items())


def _representative(make_statement, make_policy, legal):
    """A draft, one in review with an approval, changes requested, approved, published,
    withdrawn, a reply and a correction, on X (weighted count) and a press release."""
    from statements import actions

    two = make_policy("Two approvers", [(1, ""), (1, "")])
    make_statement(state="draft", channel="press_release")
    reviewed = make_statement(state="in_review", approval_policy=two)
    actions.statement_approve(statement=reviewed, actor=legal, revision=1)
    make_statement(state="changes_requested")
    make_statement(state="approved")
    published = make_statement(state="published")
    make_statement(state="withdrawn")
    make_statement(
        state="draft",
        kind="reply",
        reply_to_account="@someone",
        reply_to_url="https://example.com/post/1",
    )
    make_statement(state="draft", kind="correction", corrects=published)


@pytest.mark.parametrize("language, zone", [("en", "UTC"), ("fr", "America/St_Johns")])
def test_the_list_reads_as_the_generic_serializer_did(
    api, lead, incident, make_statement, make_policy, legal, language, zone
):
    from statements import selectors
    from statements.api.serializers import StatementSerializer

    _representative(make_statement, make_policy, legal)
    with translation.override(language):
        response = api.as_user(lead).get(
            f"/api/incidents/{incident.pk}/statements/", HTTP_ACCEPT_LANGUAGE=language
        )
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 8
    assert {r["status"] for r in rows} >= {"draft", "in_review", "published", "withdrawn"}
    assert any(r["approvals"] for r in rows if r["status"] == "in_review")

    statements = selectors.with_progress(selectors.incident_statements(incident), incident)
    request = response.wsgi_request
    request.user = lead
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        serializer = StatementSerializer(context={"request": request})
        for statement in statements:
            direct = serializer.to_representation(statement)
            generic = serializers.ModelSerializer.to_representation(serializer, statement)
            assert list(direct.items()) == list(generic.items())


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_costs_the_same_queries_for_2_or_12_statements(
    api, lead, incident, make_statement, make_policy, legal, count, django_assert_num_queries
):
    from statements import actions

    two = make_policy("Two approvers", [(1, ""), (1, "")])
    for n in range(count):
        statement = make_statement(state="in_review", title=f"s{n}", approval_policy=two)
        if n % 2:
            actions.statement_approve(statement=statement, actor=legal, revision=1)
    client = api.as_user(lead)
    # The incident, the page, requirements, reviews, revisions, escalations, the cell.
    with django_assert_num_queries(7):
        response = client.get(f"/api/incidents/{incident.pk}/statements/")
    assert len(response.json()["results"]) == count
