"""A malformed collector setting is said by `manage.py check` (and by migrate and
runserver), in the collector's own words, not only by a collector that stops on it: as a
warning, which stops no other command (the detector, the other collectors)."""

import io

import pytest
from django.core.management import CommandError, call_command

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
