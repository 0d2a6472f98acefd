"""Two people write a reply to the same person at the same moment, each in their own thread
and database connection (released together by a barrier), one through the API and one
through the queue page's form: one wins, the other is told who is answering, and nothing
half-written is left (one draft, one binding, one claim, their entries). Runs on SQLite
(embedded) and PostgreSQL (production), where the incident lock serializes them."""

import pytest
from django.test import Client

from incidents.models import TimelineEntry
from incidents.replies.models import Reply, Triage
from statements.models import Revision, Statement
from tests.helpers import assert_chain_intact, run_concurrently, token_client

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = {
    "drafter": "@author0 We are sorry: send us your order number and we replace the lid.",
    "lead": "@author0 Sorry about the lid: a replacement ships today, free of charge.",
}


def write_through_the_api(incident, mention, user):
    client = token_client(user)
    url = f"/api/incidents/{incident.pk}/replies/{mention.pk}/reply/"

    def call():
        response = client.post(url, {"text": TEXTS[user.username]}, format="json")
        if response.status_code == 201:
            return user, "won", response.json()["statement"]
        assert response.status_code == 409, response.content
        return user, "refused", response.json()

    return call


def write_through_the_page(incident, mention, user):
    client = Client()
    client.force_login(user)  # before the barrier: the session is written here
    url = f"/incidents/{incident.pk}/replies/{mention.pk}/reply/"
    back = f"/incidents/{incident.pk}/replies/"

    def call():
        response = client.post(url, {"text": TEXTS[user.username], "back": back}, follow=True)
        assert response.status_code == 200
        path = response.redirect_chain[-1][0]
        if "/statements/" in path:
            return user, "won", int(path.rstrip("/").rsplit("/", 1)[1])
        assert path.startswith(back), path
        messages = [str(m) for m in response.context["messages"]]
        return user, "refused", {"detail": " ".join(messages)}

    return call


def test_two_people_writing_to_the_same_person_at_once_one_wins_the_other_is_told_who(
    incident, mention, drafter, lead
):
    results, _, unexpected = run_concurrently(
        [
            write_through_the_api(incident, mention, drafter),
            write_through_the_page(incident, mention, lead),
        ]
    )
    assert unexpected == []
    assert sorted(outcome for _, outcome, _ in results) == ["refused", "won"]
    (winner, _, statement_id) = next(r for r in results if r[1] == "won")
    (loser, _, refusal) = next(r for r in results if r[1] == "refused")
    winner_name = winner.get_full_name() or winner.username
    # Told who has it: the winner's name, whichever door the loser came through.
    assert winner_name in refusal["detail"], refusal
    assert "is answering this person" in refusal["detail"], refusal
    if loser == drafter:  # the API's refusal: a 409 naming the claimer in a field too
        assert refusal["claimed_by"] == winner_name

    # Nothing half-written: the winner's draft, bound and claimed; nothing of the loser's.
    statement = Statement.objects.get()
    assert statement.pk == statement_id
    assert (statement.author, statement.kind, statement.status) == (winner, "reply", "draft")
    assert statement.text == TEXTS[winner.username]
    assert Revision.objects.filter(statement=statement).count() == 1
    reply = Reply.objects.get()
    assert (reply.statement_id, reply.created_by) == (statement.pk, winner)
    triage = Triage.objects.get(mention=mention)
    assert (triage.claimed_by, triage.outcome) == (winner, "open")
    entries = TimelineEntry.objects.filter(incident=incident)
    drafted = entries.filter(kind="statement_drafted")
    claimed = entries.filter(kind="mention_claimed")
    assert [(e.actor, e.data["statement"]) for e in drafted] == [(winner, statement.pk)]
    assert [(e.actor, e.data["reply"]) for e in claimed] == [(winner, statement.pk)]
    assert not entries.filter(actor=loser).exclude(kind__in=["declared", "member_added"]).exists()
    assert_chain_intact(incident)
