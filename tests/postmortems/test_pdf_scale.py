"""The PDF export of a long incident is a summary, not a page per entry: with 10,000
timeline entries, every one a key event, it lists the first ones (their text cut), says
how many there are, and costs the queries of a short incident's."""

import io

import pytest
from django.utils import timezone

from incidents import chains
from incidents.models import ChainCheckpoint, TimelineEntry
from incidents.postmortems import actions
from incidents.postmortems.views import PRINTED_KEY_EVENTS

ENTRIES = 10_000
PAGES_AT_MOST = 16  # the same bound for 100 entries and for 10,000
QUERIES_AT_MOST = 28  # the exports' bound (tests/postmortems/test_postmortem.py)


def append_key_events(incident, actor, count: int) -> None:
    """`count` key events after the last entry, chained and checkpointed as the actions
    do, in bulk (the actions would take minutes for 10,000)."""
    last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    seq, prev = last.seq, last.hash
    now = timezone.now()
    rows = []
    for n in range(count):
        seq += 1
        entry = TimelineEntry(
            incident=incident,
            seq=seq,
            kind="key_event",
            text=f"Event {n}: the post was shared again by a large account. " * 8,
            actor=actor,
            occurred_at=now,
            recorded_at=now,
            key_event=True,
            prev_hash=prev,
        )
        entry.hash = prev = entry.compute_hash()
        rows.append(entry)
    TimelineEntry.objects.bulk_create(rows, batch_size=1000)
    chain = chains.chain_name(chains.TIMELINE, incident.pk)
    ChainCheckpoint.objects.filter(chain=chain).update(
        count=seq, head=prev, signature=chains.sign(chain, seq, prev), signed_at=now
    )


def pdf_of(client, incident, django_assert_max_num_queries):
    from pypdf import PdfReader

    with django_assert_max_num_queries(QUERIES_AT_MOST):
        response = client.get(f"/incidents/{incident.pk}/postmortem/export.pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    return len(reader.pages), text


@pytest.mark.parametrize("entries", [100, ENTRIES])
def test_a_long_timeline_makes_a_summarised_pdf_in_bounded_pages_and_queries(
    entries, declare, lead, client, django_assert_max_num_queries
):
    incident = declare(title=f"Long crisis {entries}")
    append_key_events(incident, lead, entries)
    actions.postmortem_create(incident=incident, actor=lead)
    client.force_login(lead)
    pages, text = pdf_of(client, incident, django_assert_max_num_queries)
    assert pages <= PAGES_AT_MOST, pages
    total = TimelineEntry.objects.filter(incident=incident, key_event=True).count()
    assert total > entries
    assert f"The first {PRINTED_KEY_EVENTS} of {total} key events." in text
    assert "Event 0:" in text and f"Event {PRINTED_KEY_EVENTS}:" not in text
    head = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    assert head.hash in text.replace(" ", "")  # the chain's head, whole
