"""A malformed collector setting is said by `manage.py check` (and by migrate and
runserver), in the collector's own words, not only by a collector that stops on it: as a
warning, which stops no other command (the detector, the other collectors)."""

import io

import pytest
from django.core.management import CommandError, call_command

from incidents.listening.connectors.feeds import FeedCollector

pytestmark = pytest.mark.django_db


def check_output() -> str:
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    return out.getvalue()


def test_valid_collector_settings_pass(settings):
    settings.LISTENING_FEEDS = [{"url": "https://news.example/rss", "platform": "forum"}]
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example", "hashtags": ["kx200"]}]
    assert "System check identified no issues" in check_output()


@pytest.mark.parametrize(
    "feeds, said",
    [
        ({"url": "https://n.example/rss"}, "must be a JSON list of feeds"),
        (
            [{"url": "ftp://n.example/rss"}],
            "LISTENING_FEEDS, entry 1 of 1: url must be an http(s) URL.",
        ),
        ([{"url": "https://n.example/rss", "platform": ["press"]}], "platform must be one of"),
        ([{"url": "https://n.example/rss", "platform": "PRESS"}], "platform must be one of"),
    ],
)
def test_a_malformed_feeds_setting_is_said_by_the_check(settings, feeds, said):
    settings.LISTENING_FEEDS = feeds
    output = check_output()
    assert "listening.W001" in output and said in output


def test_a_malformed_mastodon_setting_is_said_by_the_check(settings):
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example", "hashtags": "kx200"}]
    output = check_output()
    assert "listening.W002" in output and "hashtags must be a list of texts" in output


def test_a_malformed_collector_setting_stops_no_other_command(settings):
    """The detector runs (its command checks the project first, as manage.py does)."""
    settings.LISTENING_FEEDS = [{"url": "ftp://n.example/rss"}]
    call_command("detect_signals", "--once", skip_checks=False, stdout=io.StringIO())


def test_an_address_python_cannot_split_is_said_naming_its_entry(settings):
    settings.LISTENING_FEEDS = [{"url": "http://[::1"}]
    settings.LISTENING_MASTODON = [{"base_url": "http://[::1"}]
    output = check_output()
    assert "LISTENING_FEEDS, entry 1 of 1: url must be an http(s) URL." in output
    assert "LISTENING_MASTODON, entry 1 of 1: base_url must be an http(s) URL." in output


FEED = {"url": "https://n.example/rss"}


@pytest.mark.parametrize(
    "second, said",
    [
        ({"platform": "forum"}, "url is missing."),
        ({"url": None}, "url is missing."),
        ({"url": "  "}, "url is empty."),
        ({"url": 42}, "url must be an http(s) URL."),
        ("https://n.example/atom", 'must be a JSON object with its "url", not a text.'),
        (["https://n.example/atom"], 'must be a JSON object with its "url", not a list.'),
    ],
)
def test_an_entry_is_named_by_its_place_counted_from_one(settings, second, said):
    """Said in words, not as `LISTENING_FEEDS[2]`, which an operator reads as Python's
    third item: the same words as the collector's, which refuses to start on it."""
    settings.LISTENING_FEEDS = [FEED, second, FEED]
    output = check_output()
    assert f"LISTENING_FEEDS, entry 2 of 3: {said}" in output
    with pytest.raises(CommandError) as refused:
        call_command("listen_feeds", "--once")
    assert str(refused.value) == f"LISTENING_FEEDS, entry 2 of 3: {said}"


def test_a_mastodon_instance_without_its_address_is_said_missing(settings):
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example"}, {"hashtags": ["x"]}]
    assert "LISTENING_MASTODON, entry 2 of 2: base_url is missing." in check_output()
    with pytest.raises(CommandError, match=r"^LISTENING_MASTODON, entry 2 of 2: base_url is"):
        call_command("listen_mastodon", "--once")


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x1b", "\x7f", "\x85", "\udcff"],
    ids=["nul", "escape", "delete", "c1", "non-utf8-byte"],
)
def test_an_address_with_a_character_no_database_stores_is_refused(settings, bad):
    """A NUL (JSON "\\u0000"), a control character, or a byte of the environment that is
    not UTF-8 (a lone surrogate in Python): not an http(s) URL, whatever urllib makes of
    it. The check says it, the collectors refuse it, and the address is not quoted."""
    settings.LISTENING_FEEDS = [FEED, {"url": f"https://a.example/{bad}rss"}]
    settings.LISTENING_MASTODON = [{"base_url": f"https://social.example{bad}"}]
    feeds = (
        "LISTENING_FEEDS, entry 2 of 2: url holds a control character or a byte that is not UTF-8."
    )
    instances = (
        "LISTENING_MASTODON, entry 1 of 1: base_url holds a control character or a byte that "
        "is not UTF-8."
    )
    output = check_output()
    assert feeds in output and instances in output
    assert "a.example" not in output and "social.example" not in output
    with pytest.raises(CommandError) as refused:
        call_command("listen_feeds", "--once")
    assert str(refused.value) == feeds
    with pytest.raises(CommandError) as refused:
        call_command("listen_mastodon", "--once")
    assert str(refused.value) == instances


def test_every_bad_entry_is_said_at_once_in_the_collector_s_words(settings):
    """An operator corrects them all in one run rather than one a run."""
    settings.LISTENING_FEEDS = [FEED, {"url": "ftp://n.example"}, FEED, {"platform": "forum"}]
    said = (
        "LISTENING_FEEDS, entry 2 of 4: url must be an http(s) URL.\n"
        "LISTENING_FEEDS, entry 4 of 4: url is missing."
    )
    assert said in check_output()
    with pytest.raises(CommandError) as refused:
        call_command("listen_feeds", "--once")
    assert str(refused.value) == said
    settings.LISTENING_MASTODON = [{"base_url": "https://s.example", "search": "x"}, {}]
    assert (
        "LISTENING_MASTODON, entry 1 of 2: search must be a list of texts.\n"
        "LISTENING_MASTODON, entry 2 of 2: base_url is missing."
    ) in check_output()


def test_past_ten_bad_entries_how_many_more_is_said(settings):
    settings.LISTENING_FEEDS = [{"url": "ftp://n.example"}] * 25
    output = check_output()
    assert output.count("url must be an http(s) URL.") == 10
    assert "LISTENING_FEEDS, entry 10 of 25: url must be an http(s) URL.\n" in output
    assert "entry 11 of 25" not in output
    assert "And 15 more entries with a problem." in output


def test_an_unknown_key_is_warned_of_and_the_collector_runs(settings, caplog, monkeypatch):
    """A misspelled "platfrom" would leave the feed as press without a word: said by the
    check (naming the key, not secret, and its entry), logged by the collector, which runs."""
    settings.LISTENING_FEEDS = [FEED, {"url": "https://n.example/atom", "platfrom": "forum"}]
    settings.LISTENING_MASTODON = [
        {"base_url": "https://social.example", "acces_token": "s3cr3t", "tags": ["x"]}
    ]
    feeds = (
        'LISTENING_FEEDS, entry 2 of 2: unknown key "platfrom", ignored (it reads url, platform).'
    )
    instances = (
        'LISTENING_MASTODON, entry 1 of 1: unknown keys "acces_token", "tags", ignored (it '
        "reads base_url, access_token, hashtags, search)."
    )
    output = check_output()
    assert "listening.W003" in output and feeds in output and instances in output
    assert "listening.W001" not in output and "s3cr3t" not in output
    assert "Its collector ignores them and runs" in output
    passes = []
    monkeypatch.setattr(FeedCollector, "run", lambda self, once: passes.append(self.feeds))
    with caplog.at_level("WARNING"):
        call_command("listen_feeds", "--once", stdout=io.StringIO())
    assert feeds in caplog.messages
    assert [[feed.platform for feed in feeds] for feeds in passes] == [["press", "press"]]


def test_an_unknown_key_is_shown_bounded_and_escaped(settings):
    settings.LISTENING_FEEDS = [{"url": "https://n.example/rss", "x\x00" + "y" * 100: 1}]
    output = check_output()
    assert 'unknown key "x\\u0000yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…", ignored' in output
    assert "\x00" not in output
