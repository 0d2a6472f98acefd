"""The feed collector against a local HTTP server serving an Atom feed and an RSS feed
with ETag/Last-Modified, answering 304 to a matching conditional GET."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.listening.connectors import feeds
from incidents.listening.connectors.common import Stop
from incidents.listening.models import CollectorState, Mention
from tests.helpers import QuietHTTPServer

ATOM_ENTRY = """
  <entry>
    <title>{title}</title>
    <link href="https://news.example/{slug}"/>
    <id>tag:news.example,2026:{slug}</id>
    <published>{published}</published>
    <author><name>Rédaction Éco</name></author>
    <summary type="html">{summary}</summary>
  </entry>"""

ENTRIES = [
    dict(
        slug="rappel",
        title="Maison Lumière rappelle une crème de nuit",
        published="2026-11-30T09:15:00+01:00",
        summary="&lt;p&gt;Le lot &lt;b&gt;L-2291&lt;/b&gt; est concerné.&lt;/p&gt;",
    ),
    dict(
        slug="meteo",
        title="La lumière du jour baisse",
        published="2026-11-30T07:00:00Z",
        summary="Rien à voir.",
    ),
    dict(
        slug="sans-date",
        title="Maison Lumière : sans date",
        published="",
        summary="Une brève non datée.",
    ),
]


def atom(entries):
    body = "".join(ATOM_ENTRY.format(**e).replace("<published></published>", "") for e in entries)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Le fil éco</title><id>tag:news.example,2026:feed</id>"
        f"<updated>2026-11-30T10:00:00Z</updated>{body}</feed>"
    ).encode()


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Forum beaute</title><link>https://forum.example/</link>
<item><title>Quelqu'un a eu une reaction avec Lumiere Cosmetics ?</title>
<link>https://forum.example/t/123</link><guid>https://forum.example/t/123</guid>
<pubDate>Mon, 30 Nov 2026 11:30:00 +0200</pubDate>
<description>Depuis hier, rougeurs partout.</description></item>
</channel></rss>"""


class FakeFeeds:
    def __init__(self):
        self.documents = {"/atom.xml": [atom(ENTRIES[:2]), '"v1"'], "/forum.rss": [RSS, '"r1"']}
        self.requests = []  # (path, If-None-Match, If-Modified-Since)
        self.fail_next = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(
                    (
                        self.path,
                        self.headers.get("If-None-Match"),
                        self.headers.get("If-Modified-Since"),
                    )
                )
                if fake.fail_next:
                    code, body = fake.fail_next
                    fake.fail_next = None
                    return self.answer(code, body, {})
                if self.path not in fake.documents:
                    return self.answer(404, b"not found", {})
                body, etag = fake.documents[self.path]
                validators = {"ETag": etag, "Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"}
                if self.headers.get("If-None-Match") == etag:
                    return self.answer(304, b"", validators)
                return self.answer(200, body, validators)

            def answer(self, code, body, headers):
                self.send_response(code)
                self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                if code != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if code != 304:
                    self.wfile.write(body)

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    with FakeFeeds() as fake:
        yield fake


def collector(server, *paths_and_platforms):
    config = [{"url": server.base + path, "platform": p} for path, p in paths_and_platforms]
    return feeds.FeedCollector(feeds.feeds_from(config), stop=Stop(), interval=0, timeout=5)


def test_matching_entries_are_stored_then_a_304_costs_nothing(watch, server):
    running = collector(server, ("/atom.xml", "press"))
    running.run(once=True)

    mention = Mention.objects.get()
    assert mention.external_id == "tag:news.example,2026:rappel"
    assert mention.platform == "press" and mention.source == "feed"
    assert mention.text == "Maison Lumière rappelle une crème de nuit\nLe lot L-2291 est concerné."
    assert mention.posted_at == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)  # +01:00 kept
    assert mention.url == "https://news.example/rappel"
    assert mention.author_handle == "Rédaction Éco"
    assert (mention.in_reply_to, mention.reply_to_brand) == ("", False)  # feeds have no replies
    state = CollectorState.objects.get(name=f"feed:{server.base}/atom.xml")
    assert state.state == {"etag": '"v1"', "last_modified": "Mon, 30 Nov 2026 10:00:00 GMT"}

    running.run(once=True)  # unchanged: a conditional GET answered 304
    assert server.requests[-1] == ("/atom.xml", '"v1"', "Mon, 30 Nov 2026 10:00:00 GMT")
    assert Mention.objects.count() == 1

    # The feed changes: the new entry is stored, the old one not twice, the undated skipped.
    new = dict(ENTRIES[0], slug="suite", title="Maison Lumière : la suite du rappel")
    server.documents["/atom.xml"] = [atom([new, *ENTRIES]), '"v2"']
    running.run(once=True)
    assert set(Mention.objects.values_list("external_id", flat=True)) == {
        "tag:news.example,2026:rappel",
        "tag:news.example,2026:suite",
    }
    assert CollectorState.objects.get(name=f"feed:{server.base}/atom.xml").state["etag"] == '"v2"'


def test_an_rss_feed_on_a_forum_and_its_time_zone(watch, server):
    collector(server, ("/forum.rss", "forum")).run(once=True)
    mention = Mention.objects.get()
    assert (mention.platform, mention.external_id) == ("forum", "https://forum.example/t/123")
    assert mention.posted_at == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "failure, expected",
    [((500, b"oops"), "HTTP 500"), ((200, b"\x00\x01 not a feed at all"), "not a feed")],
)
def test_a_failing_feed_is_recorded_and_the_others_still_read(watch, server, failure, expected):
    server.fail_next = failure
    running = collector(server, ("/atom.xml", "press"), ("/forum.rss", "forum"))
    running.run(once=True)

    failed = CollectorState.objects.get(name=f"feed:{server.base}/atom.xml")
    assert expected in failed.last_error and failed.last_success_at is None
    assert Mention.objects.get().platform == "forum"
    # The next pass reads it (no validators were saved for the failed fetch).
    running.run(once=True)
    assert Mention.objects.count() == 2
    assert CollectorState.objects.get(name=f"feed:{server.base}/atom.xml").last_error == ""


def test_a_pass_costs_the_same_queries_whatever_the_number_of_entries(watch, server):
    def entries(prefix, n):
        return [
            dict(ENTRIES[0], slug=f"{prefix}-{i}", title=f"Maison Lumière, article {i}")
            for i in range(n)
        ]

    def queries(document):
        server.documents["/atom.xml"] = [document, f'"{len(document)}"']
        with CaptureQueriesContext(connection) as captured:
            collector(server, ("/atom.xml", "press")).run(once=True)
        return len(captured)

    queries(atom(entries("first", 1)))  # the feed's state is created once
    few, many = queries(atom(entries("a", 2))), queries(atom(entries("b", 40)))
    assert Mention.objects.count() == 43
    assert few == many


def test_the_command_reads_the_configured_feeds_once(watch, server, settings):
    settings.LISTENING_FEEDS = [{"url": server.base + "/atom.xml"}]
    call_command("listen_feeds", "--once")
    assert Mention.objects.get().platform == "press"


@pytest.mark.parametrize(
    "config, error",
    [
        ([{"url": "file:///etc/passwd"}], "url"),
        ([{"url": "https://x.example/feed", "platform": "myspace"}], "platform"),
        ({"url": "https://x.example/feed"}, "list"),
    ],
)
def test_bad_configuration_says_what_is_wrong(config, error):
    with pytest.raises(ValueError, match=error):
        feeds.feeds_from(config)
