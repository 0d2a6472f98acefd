"""A resolved incident with a record worth a post-mortem: statements published through the
real actions, mentions attached before and after them (sentiment computed as in
production), a defender triaged, a key event; then the lead's post-mortem."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import actions as incident_actions
from incidents.postmortems import actions
from incidents.replies import actions as reply_actions
from tests.replies.conftest import attach_mentions  # noqa: F401 (a fixture)

NEGATIVE = "This brand is a disgrace, terrible and dangerous, I hate it."
POSITIVE = "Great answer from the brand, thank you, well done and very helpful."


@pytest.fixture
def worked(incident, lead, approver, make_statement, attach_mentions):  # noqa: F811
    """The persona incident, worked and resolved: `mentions` negative posts before the
    holding statement and positive ones after it. Returns a function so tests can size it."""

    def work(mentions=6, statements=1):
        now = timezone.now()
        posts = [
            {
                "text": NEGATIVE,
                "language": "en",
                "posted_at": now - timedelta(minutes=50 - i),
                "author_handle": f"@angry{i % 3}",
                "author_followers": 100 * (i + 1),
            }
            for i in range(mentions)
        ] + [
            {
                "text": POSITIVE,
                "language": "en",
                "posted_at": now + timedelta(minutes=1 + i),
                "author_handle": "@fan",
                "author_followers": 5000,
            }
            for i in range(mentions)
        ]
        found = attach_mentions(incident, *posts)
        reply_actions.triage_set(
            incident=incident,
            mention=found[-1],
            actor=lead,
            author_type="defender",
            needs_answer="no",
        )
        for _ in range(statements):
            make_statement(state="published")
        incident_actions.timeline_add_entry(
            incident=incident, actor=lead, kind="key_event", text="Journalist called"
        )
        for status in ("active", "resolved"):
            incident_actions.incident_transition(incident=incident, actor=lead, status=status)
        return incident

    return work


@pytest.fixture
def postmortem(worked, lead):
    incident = worked()
    return actions.postmortem_create(incident=incident, actor=lead)


def sign_off(postmortem, lead, approver, **parts):
    """The lead saves `parts`, asks for sign-off, the approver signs: the first or next
    frozen version. Returns the post-mortem, fresh."""
    postmortem.refresh_from_db()
    actions.postmortem_write(
        postmortem=postmortem, actor=lead, base_version=postmortem.text_version, **parts
    )
    actions.postmortem_submit(postmortem=postmortem, actor=lead)
    postmortem.refresh_from_db()
    actions.postmortem_review(
        postmortem=postmortem, actor=approver, revision=postmortem.revision, decision="approved"
    )
    postmortem.refresh_from_db()
    return postmortem
