"""An empty mention stream says what to do (a new-user pass: a brand-new watch only said
"No mention matches these filters."): new posts arrive as they are collected; import a
file (the link only to those who may import); widen the filters when some are set."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from incidents.listening import actions
from incidents.listening.choices import Sentiment, Source
from incidents.listening.models import Mention, MentionMatch

pytestmark = pytest.mark.django_db

IMPORT_LINK = '<a href="/listening/import/">'


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def empty_state(html: str) -> str:
    found = re.search(r'<div class="empty-state muted stream-empty">(.*?)</div>', html, re.S)
    assert found, html
    return found.group(1)


def a_mention_on(watch):
    now = timezone.now() - timedelta(minutes=5)
    mention = Mention.objects.create(
        platform="bluesky",
        external_id="one",
        text="Maison Lumière, livraison ratée",
        posted_at=now,
        collected_at=now,
        language="fr",
        sentiment=Sentiment.NEGATIVE,
        source=Source.IMPORT,
    )
    MentionMatch.objects.create(
        mention=mention, watch=watch, posted_at=now, sentiment=mention.sentiment
    )


def test_no_mention_at_all_says_they_arrive_and_offers_the_import_to_importers(
    importer, reader, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    for page in ("/listening/", "/listening/panels/stream/"):  # the live refresh too
        said = empty_state(browser_client.as_user(importer).get(page).content.decode())
        assert "No mention yet: new posts appear here as the watches collect them." in said
        assert IMPORT_LINK + "import a file</a>" in said
        assert "filters" not in said
    said = empty_state(browser_client.as_user(reader).get("/listening/").content.decode())
    assert "No mention yet" in said and "/listening/import/" not in said


def test_a_new_watch_with_no_mention_yet_is_not_a_matter_of_filters(
    importer, reader, watch, watch_editor, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    a_mention_on(watch)
    new = actions.watch_create(actor=watch_editor, name="Kettles", brand="B", keywords=["kx-9"])
    client = browser_client.as_user(importer)
    for page in ("/listening/", "/listening/panels/stream/"):
        html = client.get(page, {"watch": new.pk, "chart": new.pk}).content.decode()
        said = text_of(empty_state(html))
        assert said == (
            "No mention on this watch yet: its new posts appear here as they are collected. "
            "To give it older posts, import a file. See every watch's mentions"
        )
        assert IMPORT_LINK in html and '<a href="/listening/">See every watch' in html
    # One who may not import is told to wait, and where the other watches' posts are.
    html = browser_client.as_user(reader).get("/listening/", {"watch": new.pk}).content.decode()
    said = text_of(empty_state(html))
    assert said == (
        "No mention on this watch yet: its new posts appear here as they are collected. "
        "See every watch's mentions"
    )


def test_filters_that_match_nothing_say_to_widen_or_clear_them(
    reader, watch, browser_client, settings
):
    settings.LANGUAGE_CODE = "en"
    a_mention_on(watch)  # negative
    client = browser_client.as_user(reader)
    for query in ({"sentiment": "positive"}, {"watch": watch.pk, "min_followers": 5000}):
        html = client.get("/listening/", query).content.decode()
        said = empty_state(html)
        assert text_of(said) == (
            "No mention matches these filters. Widen them (another watch, any tone, a lower "
            "reach, a later day), or clear them."
        )
        assert '<a href="/listening/">clear them</a>' in said
        assert "/listening/import/" not in said  # a reader who may not import


def test_the_empty_stream_reads_in_french(importer, watch, watch_editor, browser_client):
    new = actions.watch_create(actor=watch_editor, name="Kettles", brand="B", keywords=["kx-9"])
    client = browser_client.as_user(importer)
    fr = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    said = text_of(empty_state(client.get("/listening/", **fr).content.decode()))
    assert said == (
        "Aucune mention pour l’instant : les nouvelles publications apparaissent ici à mesure "
        "que les veilles les collectent. Des publications collectées ailleurs ou avant les "
        "veilles : importez un fichier."
    )
    said = text_of(empty_state(client.get("/listening/", {"watch": new.pk}, **fr).content.decode()))
    assert said.startswith("Aucune mention sur cette veille pour l’instant")
    assert said.endswith("importez un fichier. Voir les mentions de toutes les veilles")
    html = client.get("/listening/", {"sentiment": "positive"}, **fr).content.decode()
    assert text_of(empty_state(html)) == (
        "Aucune mention ne correspond à ces filtres. Élargissez-les (une autre veille, toutes "
        "les tonalités, une audience min. plus basse, une date plus tardive) ou effacez-les."
    )
