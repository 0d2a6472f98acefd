"""One "sort again" of a watch at a time (a break-it pass: five requests at once each read
the stored posts again): while one runs, another of the same watch is refused at once with
a sentence saying so (409 in the API, a warning on the edit page), and the one under way
ends with the watch as last saved. The claim is released at the end, whatever happens, and
one left by a process that died expires. Threads: run on SQLite and PostgreSQL alike."""

import threading
import time
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents.errors import Conflict
from incidents.listening import actions
from incidents.listening.models import Watch
from tests.helpers import run_concurrently

from .test_watch_pages import edit_url, page_form
from .test_watch_rematch import ingest as ingest_aged
from .test_watch_rematch import on_watch

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timezone.now().replace(microsecond=0)
POSTS = 12
CHUNK = 3


def ingest(*posts):
    """Store (external id, text) posts of an hour ago as a connector would."""
    ingest_aged(*[(external_id, text, 1) for external_id, text in posts])


@pytest.fixture
def colis(watch_editor, monkeypatch):
    """A watch whose keyword changed after POSTS posts were stored: sorting them again adds
    them all, CHUNK per page."""
    monkeypatch.setattr(actions, "REMATCH_CHUNK", CHUNK)
    watch = actions.watch_create(
        actor=watch_editor, name="Colis", brand="Maison Lumière", keywords=["lumière"]
    )
    ingest(*[(f"old-{i}", f"Mon colis {i} #OuEstMonColis") for i in range(POSTS)])
    return actions.watch_update(watch=watch, actor=watch_editor, keywords=["colis"])


class Pages:
    """Counts the pages the sorts write (the work done) and holds the first one until
    `release` is set: a sort under way."""

    def __init__(self, monkeypatch):
        self.written, self.started, self.release = [], threading.Event(), threading.Event()
        write = actions._rematch_chunk

        def chunk(watch, matcher, rows, result):
            self.written.append(len(rows))
            self.started.set()
            assert self.release.wait(60), "never released"
            return write(watch, matcher, rows, result)

        monkeypatch.setattr(actions, "_rematch_chunk", chunk)


def in_thread(call, into: list):
    def run():
        try:
            into.append(call())
        except Exception as error:  # the test reads it
            into.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_five_sorts_of_one_watch_at_once_sort_it_once(colis, watch_editor, monkeypatch):
    pages = Pages(monkeypatch)
    refused = []

    def sort():
        try:
            return actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
        except Conflict:
            refused.append(time.monotonic())
            if len(refused) == 4:  # every other one was refused: the first may go on
                pages.release.set()
            raise

    started = time.monotonic()
    results, conflicts, unexpected = run_concurrently([sort] * 5, errors=(Conflict,))

    assert not unexpected, unexpected
    assert len(results) == 1 and len(conflicts) == 4
    [result] = results
    assert (result.read, result.added) == (POSTS, POSTS)
    assert sum(pages.written) == POSTS  # each post read once, not five times
    assert on_watch(colis) == {f"old-{i}" for i in range(POSTS)}
    # Refused at once, not after waiting for the sort under way.
    assert all(at - started < 20 for at in refused)
    for conflict in conflicts:
        assert "are being sorted into “Colis” again since" in conflict.message
        assert "A sort usually takes under a minute: wait for it to finish" in conflict.message
    # Released at the end: the next one sorts.
    pages.release.set()
    again = actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    assert again.read == POSTS


def test_the_api_answers_409_while_a_sort_runs(colis, watch_editor, api, monkeypatch):
    pages = Pages(monkeypatch)
    first = []
    thread = in_thread(
        lambda: actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW), first
    )
    assert pages.started.wait(30)
    try:
        answer = api.as_user(watch_editor).post(
            f"/api/watches/{colis.pk}/rematch/", {"days": 1}, format="json"
        )
    finally:
        pages.release.set()
        thread.join(60)
    assert answer.status_code == 409, answer.content
    assert "are being sorted into “Colis” again since" in answer.json()["detail"]
    [result] = first
    assert result.read == POSTS and sum(pages.written) == POSTS


def test_a_save_refused_its_own_sort_is_taken_in_by_the_one_under_way(
    colis, watch_editor, browser_client, monkeypatch
):
    """Someone saves a change and asks for the posts to be sorted while another sort of the
    watch runs: theirs is refused (saved, with a warning), and the sort under way ends with
    their change."""
    pages = Pages(monkeypatch)
    first = []
    thread = in_thread(
        lambda: actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW), first
    )
    assert pages.started.wait(30)
    client = browser_client.as_user(watch_editor)
    try:
        data = page_form(client, edit_url(colis))
        data.update(keywords="", hashtags="OuEstMonColis", apply_since="7")
        response = client.post(edit_url(colis), data, follow=True)
    finally:
        pages.release.set()
        thread.join(60)
    text = unescape(response.content.decode())
    assert "message-warning" in text
    assert "Watch “Colis” saved. The posts already collected are being sorted into" in text
    assert Watch.objects.get(pk=colis.pk).hashtags == ["OuEstMonColis"]
    [result] = first
    assert not isinstance(result, Exception), result
    # The sort under way started again from the saved watch: every post holds the hashtag.
    assert result.read == POSTS
    assert on_watch(colis) == {f"old-{i}" for i in range(POSTS)}


def test_a_failed_sort_releases_the_watch(colis, watch_editor, monkeypatch):
    write = actions._rematch_chunk

    def failing(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(actions, "_rematch_chunk", failing)
    with pytest.raises(RuntimeError):
        actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    monkeypatch.setattr(actions, "_rematch_chunk", write)
    assert actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW).read == POSTS


def test_a_claim_left_by_a_process_that_died_expires(colis, watch_editor):
    # A process killed mid-sort never released its claim.
    left = timezone.now() - actions.REMATCH_CLAIM + timedelta(minutes=1)
    Watch.objects.filter(pk=colis.pk).update(sorting_since=left)
    with pytest.raises(Conflict, match="again since"):
        actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    Watch.objects.filter(pk=colis.pk).update(sorting_since=left - timedelta(minutes=2))
    result = actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    assert result.read == POSTS
    assert Watch.objects.get(pk=colis.pk).sorting_since is None


def test_a_claim_dated_ahead_of_now_is_not_believed(colis, watch_editor):
    # A clock set back since (or a bad row): it held the watch for as long as it was ahead.
    Watch.objects.filter(pk=colis.pk).update(sorting_since=timezone.now() + timedelta(hours=2))
    result = actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    assert result.read == POSTS
    assert Watch.objects.get(pk=colis.pk).sorting_since is None


def clock(moment) -> str:
    """A time as the messages say it: local hour and minute, and the zone."""
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {local.tzname()}"


def test_the_refusal_says_since_when_and_until_when_the_watch_is_held(
    colis, watch_editor, api, browser_client
):
    """A claim left by a process that died holds the watch for REMATCH_CLAIM: the refusal
    no longer says "wait a minute" only, but since when the sort runs and from when, at the
    latest, the watch can be sorted again (to the minute, rounded up), on the page and in
    the API's 409, which gives both instants too."""
    left = (timezone.now() - timedelta(minutes=3)).replace(second=20, microsecond=0)
    Watch.objects.filter(pk=colis.pk).update(sorting_since=left)
    expires = left + actions.REMATCH_CLAIM
    free_at = expires.replace(second=0) + timedelta(minutes=1)
    said = (
        f"again since {clock(left)}, with the watch as last saved. A sort usually takes under "
        "a minute: wait for it to finish, then look at its mentions (sort again only to go "
        "further back). If it was cut off (the server stopped), the watch can be sorted again "
        f"from {clock(free_at)}."
    )

    with pytest.raises(Conflict) as refused:
        actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW)
    assert said in refused.value.message

    answer = api.as_user(watch_editor).post(
        f"/api/watches/{colis.pk}/rematch/", {"days": 1}, format="json"
    )
    assert answer.status_code == 409, answer.content
    body = answer.json()
    assert said in body["detail"]
    assert parse_datetime(body["sorting_since"]) == left
    assert parse_datetime(body["claim_expires_at"]) == expires

    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(colis))
    data.update(hashtags="OuEstMonColis", apply_since="7")
    page = unescape(client.post(edit_url(colis), data, follow=True).content.decode())
    assert "message-warning" in page and "Watch “Colis” saved. The posts" in page
    assert said in page
    # Saved, not sorted: the claim is still the dead process's.
    assert Watch.objects.get(pk=colis.pk).sorting_since == left


def test_other_watches_sort_meanwhile(colis, watch_editor, monkeypatch):
    other = actions.watch_create(
        actor=watch_editor, name="Hashtag", brand="Maison Lumière", hashtags=["OuEstMonColis"]
    )
    pages = Pages(monkeypatch)
    first = []
    thread = in_thread(
        lambda: actions.watch_rematch(watch=colis, actor=watch_editor, days=7, now=NOW), first
    )
    assert pages.started.wait(30)
    second = []
    other_thread = in_thread(
        lambda: actions.watch_rematch(watch=other, actor=watch_editor, days=7, now=NOW), second
    )
    time.sleep(0.2)
    pages.release.set()
    thread.join(60)
    other_thread.join(60)
    assert [r.read for r in first] == [POSTS] and [r.read for r in second] == [POSTS]
