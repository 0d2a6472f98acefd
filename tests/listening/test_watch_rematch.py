"""Sorting stored mentions again after a watch changed ("Sort again" on its edit page,
POST /api/watches/{id}/rematch/): what joins and leaves the watch, what stays as it was,
who may, and what it costs."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.errors import InvalidInput, NotAllowed
from incidents.listening import actions
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention, MentionMatch
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ingest(*posts):
    """Store (external id, text, hours ago[, language]) posts as a connector would."""
    actions.mentions_ingest(
        mentions=[
            MentionData(
                platform="bluesky",
                external_id=external_id,
                text=text,
                posted_at=NOW - timedelta(hours=hours),
                language=language[0] if language else "",
                author_handle=f"someone-{external_id}.bsky.social",
            )
            for external_id, text, hours, *language in posts
        ],
        source="bluesky",
        actor=None,
        now=NOW,
    )


def on_watch(watch) -> set[str]:
    """The external ids of the mentions the watch holds."""
    return set(Mention.objects.filter(watches=watch).values_list("external_id", flat=True))


@pytest.fixture
def stored(watch):
    ingest(
        ("recent-keyword", "Maison Lumière a encore raté ma livraison", 2),
        ("recent-newtag", "Trois semaines sans colis #OuEstMonColis", 5),
        ("recent-spam", "Maison Lumière concours gagnez un sac", 30),
        ("week-old-newtag", "Toujours rien #OuEstMonColis", 24 * 8),
        ("week-old-spam", "Maison Lumière concours du printemps", 24 * 8),
    )
    return watch


def test_the_saved_watch_sorts_the_stored_mentions_as_if_it_had_always_been_so(
    stored, watch_editor
):
    assert on_watch(stored) == {"recent-keyword", "recent-spam", "week-old-spam"}
    actions.watch_update(
        watch=stored, actor=watch_editor, hashtags=["OuEstMonColis"], exclusions=["concours"]
    )
    assert on_watch(stored) == {"recent-keyword", "recent-spam", "week-old-spam"}  # not yet

    result = actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)

    assert (result.read, result.added, result.removed, result.capped) == (3, 1, 1, False)
    assert result.since == NOW - timedelta(days=7)
    # Older than the week asked: as they were.
    assert on_watch(stored) == {"recent-keyword", "recent-newtag", "week-old-spam"}
    joined = MentionMatch.objects.get(watch=stored, mention__external_id="recent-newtag")
    mention = Mention.objects.get(external_id="recent-newtag")
    assert (joined.posted_at, joined.sentiment) == (mention.posted_at, mention.sentiment)
    assert Mention.objects.count() == 5  # nothing deleted, only the watch's links

    again = actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)
    assert (again.read, again.added, again.removed) == (3, 0, 0)


def test_the_days_asked_bound_what_is_read(stored, watch_editor):
    actions.watch_update(watch=stored, actor=watch_editor, hashtags=["OuEstMonColis"])
    result = actions.watch_rematch(watch=stored, actor=watch_editor, days=1, now=NOW)
    assert (result.read, result.added) == (2, 1)  # 2 and 5 hours old; not the one of 30
    result = actions.watch_rematch(
        watch=stored, actor=watch_editor, days=3, now=NOW + timedelta(days=2, hours=20)
    )
    assert result.read == 1  # 3 days back from then: NOW - 4 h, so only the post of NOW - 2 h


def test_languages_and_other_watches(stored, watch_editor):
    ingest(("english", "Maison Lumière lost my parcel again", 1, "en"))
    other = actions.watch_create(
        actor=watch_editor, name="Colis", brand="Maison Lumière", keywords=["colis"]
    )
    ingest(("colis", "Mon colis Maison Lumière est perdu", 1))
    assert on_watch(other) == {"colis"}
    actions.watch_update(watch=stored, actor=watch_editor, languages=["fr"])

    actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)

    assert "english" not in on_watch(stored)
    assert "colis" in on_watch(stored)
    assert on_watch(other) == {"colis"}  # another watch's links are not touched


def test_who_may_and_what_is_refused(stored, watch_editor, reader):
    with pytest.raises(NotAllowed):
        actions.watch_rematch(watch=stored, actor=reader, days=7)
    with pytest.raises(InvalidInput) as refused:
        actions.watch_rematch(watch=stored, actor=watch_editor, days=30)
    assert refused.value.extra == {"errors": {"days": ["One of 1, 3, 7."]}}
    actions.watch_update(watch=stored, actor=watch_editor, is_active=False)
    with pytest.raises(InvalidInput, match="stopped"):
        actions.watch_rematch(watch=stored, actor=watch_editor, days=7)


def test_the_newest_are_read_first_up_to_the_cap(stored, watch_editor, monkeypatch):
    monkeypatch.setattr(actions, "REMATCH_MAX", 2)
    monkeypatch.setattr(actions, "REMATCH_CHUNK", 1)
    actions.watch_update(
        watch=stored, actor=watch_editor, hashtags=["OuEstMonColis"], exclusions=["concours"]
    )
    result = actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)
    assert (result.read, result.added, result.removed, result.capped) == (2, 1, 0, True)
    assert "recent-spam" in on_watch(stored)  # 30 hours old: beyond the cap, as it was


def test_queries_do_not_grow_with_the_mentions_of_a_chunk(watch, watch_editor):
    def queries(count):
        ingest(*[(f"p{count}-{i}", f"Maison Lumière colis {i}", 1) for i in range(count)])
        with CaptureQueriesContext(connection) as captured:
            actions.watch_rematch(watch=watch, actor=watch_editor, days=1, now=NOW)
        return len(captured)

    assert queries(5) == queries(60)


# The page and the API


def edit_url(watch):
    return f"/listening/watches/{watch.pk}/edit/"


def test_the_edit_page_offers_it_and_says_what_it_did(client, stored, watch_editor):
    client.force_login(watch_editor)
    html = client.get(edit_url(stored)).content.decode()
    assert f'action="/listening/watches/{stored.pk}/rematch/"' in html
    assert "data-confirm=" in html and "Sort again" in html
    actions.watch_update(watch=stored, actor=watch_editor, hashtags=["OuEstMonColis"])

    response = client.post(f"/listening/watches/{stored.pk}/rematch/", {"days": "7"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/listening/?chart={stored.pk}"
    text = response.content.decode()
    assert "3 mentions posted since" in text and "1 joined the watch, 0 left it" in text
    assert "recent-newtag" in on_watch(stored)


def test_the_page_refuses_readers_bad_days_and_stopped_watches(
    client, stored, watch_editor, reader
):
    url = f"/listening/watches/{stored.pk}/rematch/"
    client.force_login(reader)
    assert client.post(url, {"days": "7"}).status_code == 403
    client.force_login(watch_editor)
    assert client.get(url).status_code == 405
    response = client.post(url, {"days": "30"}, follow=True)
    assert response.redirect_chain[-1][0] == edit_url(stored)
    assert "Choose how many days back" in response.content.decode()
    actions.watch_update(watch=stored, actor=watch_editor, is_active=False)
    html = client.get(edit_url(stored)).content.decode()
    assert "Sort again" not in html  # a stopped watch matches nothing
    response = client.post(url, {"days": "7"}, follow=True)
    assert "resume it before" in response.content.decode()
    assert client.post("/listening/watches/999999/rematch/", {"days": "7"}).status_code == 404


def test_the_api(client, stored, watch_editor, reader):
    url = f"/api/watches/{stored.pk}/rematch/"
    client.force_login(reader)
    assert client.post(url, {"days": 7}, content_type="application/json").status_code == 403
    client.force_login(watch_editor)
    actions.watch_update(watch=stored, actor=watch_editor, exclusions=["concours"])

    answer = client.post(url, {}, content_type="application/json")  # 7 days by default

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["read"], body["added"], body["removed"], body["capped"]) == (3, 0, 1, False)
    assert "since" in body
    bad = client.post(url, {"days": "soon"}, content_type="application/json")
    assert bad.status_code == 400 and "days" in bad.json()["errors"]
    assert (
        client.post("/api/watches/999999/rematch/", {}, content_type="application/json").status_code
        == 404
    )
    actions.watch_update(watch=stored, actor=watch_editor, is_active=False)
    stopped = client.post(url, {"days": 7}, content_type="application/json")
    assert stopped.status_code == 400 and "stopped" in str(stopped.json())


@pytest.mark.django_db(transaction=True)
def test_several_at_once_and_an_ingest_meanwhile_end_as_one(watch_editor):
    """Three people sort again while a connector stores posts: no error ("database is
    locked" on SQLite), no link twice, and the watch holds what it matches."""
    watch = actions.watch_create(
        actor=watch_editor, name="Lumière", brand="Maison Lumière", keywords=["lumière"]
    )
    ingest(*[(f"old-{i}", f"Mon colis {i}", 1) for i in range(300)])  # no "lumière"
    actions.watch_update(watch=watch, actor=watch_editor, keywords=["colis"])
    calls = [
        lambda: actions.watch_rematch(watch=watch, actor=watch_editor, days=7, now=NOW)
        for _ in range(3)
    ]
    calls.append(lambda: ingest(*[(f"new-{i}", f"Encore mon colis {i}", 1) for i in range(300)]))

    results, _expected, unexpected = run_concurrently(calls)

    assert not unexpected, unexpected
    assert sum(r.added for r in results if r) >= 300  # each old post joined, once or more
    links = MentionMatch.objects.filter(watch=watch)
    assert links.count() == len(set(links.values_list("mention_id", flat=True))) == 600
