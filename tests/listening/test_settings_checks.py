"""A malformed collector setting is said by `manage.py check` (run before migrate and
runserver), in the collector's own words, not only by a collector that stops on it."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

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
        ([{"url": "ftp://n.example/rss"}], "LISTENING_FEEDS[1]: url must be an http(s) URL"),
        ([{"url": "https://n.example/rss", "platform": ["press"]}], "platform must be one of"),
        ([{"url": "https://n.example/rss", "platform": "PRESS"}], "platform must be one of"),
    ],
)
def test_a_malformed_feeds_setting_stops_the_check(settings, feeds, said):
    settings.LISTENING_FEEDS = feeds
    with pytest.raises(SystemCheckError) as refused:
        check_output()
    assert "listening.E001" in str(refused.value) and said in str(refused.value)


def test_a_malformed_mastodon_setting_stops_the_check(settings):
    settings.LISTENING_MASTODON = [{"base_url": "https://social.example", "hashtags": "kx200"}]
    with pytest.raises(SystemCheckError) as refused:
        check_output()
    message = str(refused.value)
    assert "listening.E002" in message and "hashtags must be a list of texts" in message
