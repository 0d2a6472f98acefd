"""Mentions attached to the persona incident, stored through the listening ingest action
(language and sentiment computed as in production) and attached as the listening page
does (a mention's incident is listening's to set)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.listening import actions as listening_actions
from incidents.listening.choices import Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention

_ids = iter(range(1, 1_000_000))


@pytest.fixture
def attach_mentions():
    def attach(incident, *posts):
        """Store posts (dicts of MentionData fields; `text` required) and attach them to
        `incident` (None: stored only). Returns the mentions in the order given."""
        now = timezone.now()
        data = []
        for n, post in enumerate(posts):
            fields = {
                "platform": "x",
                "external_id": f"t-{next(_ids)}",
                "posted_at": now - timedelta(minutes=60 - n),
                "author_handle": f"@author{n}",
                "url": "https://example.com/post",
                **post,
            }
            data.append(MentionData(**fields))
        listening_actions.mentions_ingest(mentions=data, source=Source.API, actor=None)
        keys = [(d.platform, d.external_id) for d in data]
        found = {(m.platform, m.external_id): m for m in Mention.objects.all()}
        mentions = [found[key] for key in keys]
        if incident is not None:
            Mention.objects.filter(pk__in=[m.pk for m in mentions]).update(incident=incident)
            for m in mentions:
                m.incident = incident
        return mentions

    return attach


@pytest.fixture
def mention(incident, attach_mentions):
    (m,) = attach_mentions(
        incident, {"text": "My KX-200 lid cracked, how do I get a refund?", "language": "en"}
    )
    return m
