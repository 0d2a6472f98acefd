"""The room's mentions panel: an "All" chip, current when no sentiment is chosen, the way
back from a chip; a chosen chip whose count fell to 0 (its only post detached) still shows
the way back (a new-user pass: "Neutral 0" stayed chosen with nothing to undo it)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from incidents.listening import actions
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention

from .conftest import grant

pytestmark = pytest.mark.django_db


def attach(incident, *sentiments):
    start = timezone.now() - timedelta(hours=1)
    Mention.objects.bulk_create(
        Mention(
            platform="bluesky",
            external_id=f"m{i}",
            text=f"Post {i} about Maison Lumière",
            posted_at=start + timedelta(minutes=i),
            collected_at=start + timedelta(minutes=i),
            language="fr",
            sentiment=sentiment,
            source=Source.IMPORT,
            incident=incident,
        )
        for i, sentiment in enumerate(sentiments)
    )


def chips(html: str) -> list[tuple[str, str, bool, str]]:
    """(class of the tone, text, current, href) of each chip, in order."""
    found = re.findall(
        r'<a class="chip chip-sentiment sentiment-(\w+)( is-current)?"( aria-current="true")?'
        r'\s+href="([^"]*)".*?>(.*?)</a>',
        html,
        re.S,
    )
    return [
        (tone, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip(), bool(cur), unescape(href))
        for tone, cur, aria, href, text in found
        if bool(cur) == bool(aria)  # current and aria-current go together
    ]


def test_the_all_chip_is_current_without_a_sentiment_and_leads_back_from_one(
    incident, lead, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    attach(incident, Sentiment.NEGATIVE, Sentiment.NEGATIVE, Sentiment.NEUTRAL)
    client = browser_client.as_user(lead)
    room = f"/incidents/{incident.pk}/"
    url = f"/incidents/{incident.pk}/mentions/"
    assert chips(client.get(url).content.decode()) == [
        ("all", "All 3", True, f"{room}#mentions-panel"),
        ("neutral", "Neutral 1", False, f"{room}?mentions_sentiment=neutral#mentions-panel"),
        ("negative", "Negative 2", False, f"{room}?mentions_sentiment=negative#mentions-panel"),
    ]
    html = client.get(url, {"mentions_sentiment": "negative"}).content.decode()
    shown = chips(html)
    assert shown[0] == ("all", "All 3", False, f"{room}#mentions-panel")
    assert shown[2][:3] == ("negative", "Negative 2", True)
    assert f'hx-get="{url}" hx-include="unset"' in html  # the All chip swaps the panel
    # A search is kept by "All", as by the other chips.
    html = client.get(url, {"mentions_sentiment": "negative", "mentions_q": "post lumière"})
    all_chip = chips(html.content.decode())[0]
    assert all_chip == (
        "all",
        "All 3",
        False,
        f"{room}?mentions_q=post%20lumi%C3%A8re#mentions-panel",
    )
    # The whole room page shows the same chips.
    page = client.get(room, {"mentions_sentiment": "neutral"}).content.decode()
    assert [chip[:3] for chip in chips(page)] == [
        ("all", "All 3", False),
        ("neutral", "Neutral 1", True),
        ("negative", "Negative 2", False),
    ]


def test_a_chosen_chip_left_at_zero_still_offers_the_way_back(
    incident, lead, browser_client, settings
):
    """The only neutral post detached while "Neutral" is chosen: the chip stays, at 0, and
    both "All" and the empty list's link lead back to every sentiment."""
    settings.LANGUAGE_CODE = "en"
    attach(incident, Sentiment.NEGATIVE, Sentiment.NEUTRAL)
    lead = grant(lead, "view_mention")
    neutral = Mention.objects.get(sentiment=Sentiment.NEUTRAL)
    actions.mention_detach(mention=neutral, incident=incident, actor=lead)
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/mentions/"
    room = f"/incidents/{incident.pk}/"
    html = client.get(url, {"mentions_sentiment": "neutral"}).content.decode()
    assert [chip[:3] for chip in chips(html)] == [
        ("all", "All 1", False),
        ("neutral", "Neutral 0", True),
        ("negative", "Negative 1", False),
    ]
    empty = re.search(r'<p class="empty-state muted small">(.*?)</p>', html, re.S).group(1)
    assert empty.startswith("No mention with this sentiment. ")
    assert f'<a href="{room}#mentions-panel" hx-get="{url}"' in empty
    assert "Show every sentiment</a>" in empty


def test_the_chips_read_in_french(incident, lead, browser_client):
    attach(incident, Sentiment.POSITIVE)
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/mentions/"
    html = client.get(url, {"mentions_sentiment": "neutral"}, HTTP_ACCEPT_LANGUAGE="fr")
    html = html.content.decode()
    assert [chip[:3] for chip in chips(html)] == [
        ("all", "Toutes 1", False),
        ("positive", "Positif 1", False),
        ("neutral", "Neutre 0", True),
    ]
    assert "Aucune mention avec cette tonalité." in html and "Voir toutes les tonalités" in html
