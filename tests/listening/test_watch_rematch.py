"""Sorting stored mentions again after a watch changed ("Sort again" on its edit page,
POST /api/watches/{id}/rematch/): what joins and leaves the watch, what stays as it was,
who may, and what it costs."""

import re
import threading
import time
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.listening import actions
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention, MentionMatch, Signal, Watch
from incidents.listening.views import rematch_message
from tests.helpers import run_concurrently

from .conftest import field_block
from .test_watch_pages import edit_url, form_data, page_form

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

    queries(1)  # the first sort also records how far back the watch's volume is known
    assert queries(5) == queries(60)


# The page and the API


def test_the_edit_page_applies_a_change_to_the_stored_posts_when_asked(
    client, stored, watch_editor
):
    client.force_login(watch_editor)
    url = edit_url(stored)
    html = client.get(url).content.decode()
    assert "Apply the changes to the posts already collected" in html
    assert 'name="apply_since"' in html and "No: from now on only" in html
    new = client.get("/listening/watches/new/").content.decode()
    assert "Sort the posts already collected into it" in new and 'name="apply_since"' in new
    # New: the last 24 hours by default; an edit changes nothing stored unless asked.
    assert re.search(r'<option value="1" selected>Yes: the last 24 hours</option>', new)
    assert not re.search(r'<option value="[137]" selected>', html)

    data = page_form(client, url)
    data.update(hashtags="#BoycottLumiere\r\nOuEstMonColis", apply_since="")
    response = client.post(url, data)  # as before: from now on only
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "recent-newtag" not in on_watch(stored)

    data = page_form(client, url)
    data.update(exclusions="lumière du jour\r\nconcours", apply_since="7")
    response = client.post(url, data, follow=True)

    # The stream shows the watch's mentions, where those that joined now are.
    assert response.redirect_chain[-1][0] == f"/listening/?chart={stored.pk}&watch={stored.pk}"
    text = unescape(response.content.decode())
    said = re.search(r"Watch “[^”]*” saved\. Sorted again: [^<]*", text).group(0)
    assert said.startswith(f"Watch “{stored.name}” saved. Sorted again: 3 posts published since")
    assert said.rstrip().endswith(" CET; 1 joined the watch, 1 left it (still stored)."), said
    assert on_watch(stored) == {"recent-keyword", "recent-newtag", "week-old-spam"}


def test_a_new_watch_takes_the_posts_already_collected_when_asked(client, stored, watch_editor):
    client.force_login(watch_editor)
    data = form_data(
        name="Où est mon colis",
        keywords=None,
        hashtags="OuEstMonColis",
        exclusions="",
        languages=[],
        other_languages="",
        platforms=[],
    )
    response = client.post("/listening/watches/new/", {**data, "apply_since": "7"}, follow=True)
    new = Watch.objects.get(name="Où est mon colis")
    assert response.redirect_chain[-1][0] == f"/listening/?chart={new.pk}&watch={new.pk}"
    text = unescape(response.content.decode())
    said = (
        "Watch “Où est mon colis” created: it collects new posts from now on. 1 post of those "
        "collected since"
    )
    assert said in text and "(3 read) matches it: it joined the watch." in text
    assert on_watch(new) == {"recent-newtag"}  # the week-old one is older than the 7 days
    # Without it, the watch starts empty and the message says how to give it its history.
    client.post("/listening/watches/new/", {**data, "name": "Vide", "apply_since": "0"})
    assert on_watch(Watch.objects.get(name="Vide")) == set()
    # Posts read, none matching: said so, not "0 posts ... they joined the watch".
    response = client.post(
        "/listening/watches/new/",
        {**data, "name": "Rien", "hashtags": "NothingLikeThis", "apply_since": "7"},
        follow=True,
    )
    text = unescape(response.content.decode())
    assert "(3 read) matches it yet." in text and "joined the watch" not in text


def test_the_page_says_when_nothing_could_be_sorted(client, stored, watch_editor):
    client.force_login(watch_editor)
    url = edit_url(stored)
    data = page_form(client, url)
    data.update(apply_since="7")
    del data["is_active"]  # stopped in the same save: nothing to sort
    text = unescape(client.post(url, data, follow=True).content.decode())
    said = re.search(r'class="message message-(\w+)">([^<]*)', text)
    assert said.group(1) == "warning"  # saved, but not sorted
    assert "stopped: it no longer collects" in said.group(2)
    assert "resume it before sorting" in said.group(2)
    data = page_form(client, url)
    data.update(apply_since="30")  # not offered
    response = client.post(url, data)
    assert response.status_code == 422
    assert "Select a valid choice" in field_block(response.content.decode(), "apply_since")


def test_the_message_agrees_with_its_counts_in_french(stored, watch_editor):
    from django.utils import translation

    from incidents.listening.actions import RematchResult
    from incidents.listening.views import rematch_message

    with translation.override("fr"):
        one = rematch_message(RematchResult(since=NOW, read=1, added=1, removed=0))
        many = rematch_message(RematchResult(since=NOW, read=1500, added=2, removed=1))
        none = rematch_message(RematchResult(since=NOW))
    assert "1 publication publiée" in one and "1 est entrée dans la veille" in one
    assert "0 en est sortie (toujours stockée)" in one
    assert (
        "2 sont entrées" in many and "1 en est sortie" in many and "publications publiées" in many
    )
    assert "Aucune publication" in none


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


def _open_signal(watch, hours_ago):
    started = NOW - timedelta(hours=hours_ago)
    return Signal.objects.create(
        watch=watch,
        kind="volume",
        severity=2,
        opened_at=started + timedelta(minutes=30),
        started_at=started,
        updated_at=started + timedelta(minutes=30),
        observed=12,
        expected=2,
        summary={"trigger": {"minutes": 60, "mentions": 12, "expected": 2.0}},
    )


def test_an_open_signal_left_without_its_posts_is_closed(client, watch, watch_editor):
    ingest(
        ("contest-1", "Maison Lumière concours : gagnez un sac", 3),
        ("contest-2", "Maison Lumière concours du jour", 2),
        ("complaint", "Maison Lumière a raté ma livraison", 10),
    )
    raised_by_the_contest = _open_signal(watch, hours_ago=4)
    actions.watch_update(watch=watch, actor=watch_editor, exclusions=["concours"])

    result = actions.watch_rematch(watch=watch, actor=watch_editor, days=1, now=NOW)

    assert (result.removed, result.signals_closed) == (2, 1)
    raised_by_the_contest.refresh_from_db()
    assert raised_by_the_contest.status == "closed" and raised_by_the_contest.closed_at == NOW
    assert raised_by_the_contest.observed == 12  # its recorded figures stay
    assert "1 open signal held only posts the watch no longer matches: it is closed." in (
        rematch_message(result)
    )
    # Sorting again finds nothing more to close.
    again = actions.watch_rematch(watch=watch, actor=watch_editor, days=1, now=NOW)
    assert (again.removed, again.signals_closed) == (0, 0)


def test_an_open_signal_keeps_the_posts_still_matched_in_its_summary(watch, watch_editor):
    ingest(
        ("contest-1", "Maison Lumière concours : gagnez un sac", 3),
        ("complaint", "Maison Lumière a raté ma livraison, colis perdu", 2),
    )
    signal = _open_signal(watch, hours_ago=4)
    actions.watch_update(watch=watch, actor=watch_editor, exclusions=["concours"])

    result = actions.watch_rematch(watch=watch, actor=watch_editor, days=1, now=NOW)

    signal.refresh_from_db()
    assert result.signals_closed == 0 and signal.status == "open"
    complaint = Mention.objects.get(external_id="complaint")
    assert signal.summary["samples"] == [complaint.pk]
    assert sum(signal.summary["sentiment"].values()) == 1
    assert signal.summary["trigger"] == {"minutes": 60, "mentions": 12, "expected": 2.0}


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

    # A second sort of the watch while one runs is refused (Conflict): the running one
    # applies the watch as saved.
    results, _expected, unexpected = run_concurrently(calls, errors=(Conflict,))

    assert not unexpected, unexpected
    assert sum(r.added for r in results if r) >= 300  # each old post joined, once or more
    links = MentionMatch.objects.filter(watch=watch)
    assert links.count() == len(set(links.values_list("mention_id", flat=True))) == 600


def pausing_after_the_first_page(monkeypatch, meanwhile):
    """Sort page by page (one post each), running `meanwhile(watch)` before each page's
    write: what someone else does while the sort is under way."""
    monkeypatch.setattr(actions, "REMATCH_CHUNK", 1)
    write = actions._rematch_chunk

    def chunk(watch, matcher, rows, result):
        meanwhile(watch)
        return write(watch, matcher, rows, result)

    monkeypatch.setattr(actions, "_rematch_chunk", chunk)


def test_a_change_saved_meanwhile_is_what_the_sort_ends_with(stored, watch_editor, monkeypatch):
    """Break-it pass: a sort that read the watch before someone added a hashtag removed the
    links the ingest had made with it; now it starts again from the watch as saved."""
    pages = []

    def meanwhile(watch):
        pages.append(watch.hashtags)
        if len(pages) == 2:  # after the first page was written
            actions.watch_update(watch=watch, actor=watch_editor, hashtags=["OuEstMonColis"])
            ingest(("meanwhile", "Et le mien ? #OuEstMonColis", 3))  # linked by the ingest

    pausing_after_the_first_page(monkeypatch, meanwhile)
    result = actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)

    assert {"recent-newtag", "meanwhile"} <= on_watch(stored)
    assert pages[2] == ["OuEstMonColis"]  # the pass that counts read the saved watch
    assert (result.read, result.removed) == (4, 0)


def test_a_watch_that_keeps_changing_or_stops_meanwhile(stored, watch_editor, monkeypatch):
    def always(watch):
        actions.watch_update(watch=watch, actor=watch_editor, keywords=[*watch.keywords, "x1"])

    pausing_after_the_first_page(monkeypatch, always)
    with pytest.raises(Conflict, match="kept changing"):
        actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)

    def stop(watch):
        actions.watch_update(watch=watch, actor=watch_editor, is_active=False)

    pausing_after_the_first_page(monkeypatch, stop)
    with pytest.raises(InvalidInput, match="stopped"):
        actions.watch_rematch(watch=stored, actor=watch_editor, days=7, now=NOW)
    assert (
        not MentionMatch.objects.filter(watch=stored)
        .exclude(mention__external_id__in=["recent-keyword", "recent-spam", "week-old-spam"])
        .exists()
    )  # nothing written for a stopped watch


def test_an_ingest_reads_the_watches_again_for_each_batch(watch_editor, monkeypatch):
    """A long import started before a save matches its later batches with the saved terms
    (it matched them all with the terms of its start: break-it pass)."""
    watch = actions.watch_create(
        actor=watch_editor, name="Alpha", brand="Alpha", keywords=["alpha"]
    )
    monkeypatch.setattr(actions, "BATCH", 10)
    read = actions.ActiveWatches.current
    batches = []

    def current(self):
        batches.append(1)
        if len(batches) == 2:  # between the first batch and the second
            actions.watch_update(watch=watch, actor=watch_editor, keywords=["beta"])
        return read(self)

    monkeypatch.setattr(actions.ActiveWatches, "current", current)
    ingest(*[(f"m{i}", f"beta {i}" if i >= 10 else f"alpha {i}", 1) for i in range(20)])

    assert on_watch(watch) == {f"m{i}" for i in range(20)}  # the second batch: beta matched
    assert len(batches) == 2


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_the_batch_that_read_the_old_terms(watch_editor, monkeypatch):
    """A batch that matched with the old terms is written before the save (PostgreSQL: its
    share lock on the watches; SQLite: its write transaction), so the save's sorting again
    sees its posts: the watch ends as if its terms had always been the saved ones."""
    watch = actions.watch_create(
        actor=watch_editor, name="Alpha", brand="Alpha", keywords=["alpha"]
    )
    monkeypatch.setattr(actions, "BATCH", 10)
    read = actions.ActiveWatches.current
    in_batch, go_on = threading.Event(), threading.Event()
    batches = []

    def current(self):
        matcher = read(self)
        batches.append(1)
        if len(batches) == 2:  # the second batch has read the old terms: hold it open
            in_batch.set()
            go_on.wait(30)
        return matcher

    monkeypatch.setattr(actions.ActiveWatches, "current", current)

    def save_and_apply():
        in_batch.wait(30)
        actions.watch_update(watch=watch, actor=watch_editor, keywords=["beta"])
        return actions.watch_rematch(watch=watch, actor=watch_editor, days=1, now=NOW)

    def release():
        in_batch.wait(30)
        time.sleep(0.5)  # the save is waiting by now
        go_on.set()

    calls = [lambda: ingest(*[(f"m{i}", f"alpha {i}", 1) for i in range(20)]), save_and_apply]
    _results, _expected, unexpected = run_concurrently([*calls, release])

    assert not unexpected, unexpected
    assert on_watch(watch) == set()  # "alpha" posts only: none matches "beta"
