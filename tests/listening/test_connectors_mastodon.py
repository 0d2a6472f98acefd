"""The Mastodon collector against a local HTTP server answering like an instance: hashtag
timelines and search paged with min_id/max_id/limit the way Mastodon does, an instance
document for Mastodon.py's version check, and a 429 with rate-limit headers when told."""

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from incidents.listening.connectors import mastodon
from incidents.listening.connectors.common import Backoff, Stop
from incidents.listening.models import CollectorState, Mention
from tests.helpers import QuietHTTPServer

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class FakeInstance:
    def __init__(self):
        self.timelines = {}  # tag -> statuses, oldest first
        self.search_results = []
        self.requests = []  # (path, query, authorization)
        self.rate_limit_next = 0
        self.exhaust_next = 0  # answers leaving no request in the budget
        self.next_id = 110_000_000_000_000_000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)._replace(path=urlsplit(self.path).path.rstrip("/"))
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((parts.path, query, self.headers.get("Authorization")))
                if fake.rate_limit_next:
                    fake.rate_limit_next -= 1
                    reset = datetime.now(UTC) + timedelta(seconds=1)
                    return self.answer(
                        429,
                        {"error": "Too many requests"},
                        {
                            "X-RateLimit-Limit": "300",
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds"),
                        },
                    )
                if parts.path in ("/api/v1/instance", "/api/v2/instance"):
                    public = {"local": "public", "remote": "public"}
                    return self.answer(
                        200,
                        {
                            "domain": "fake.example",
                            "version": "4.5.0",
                            "api_versions": {"mastodon": 6},
                            "configuration": {"timelines_access": {"hashtag_feeds": public}},
                        },
                    )
                if parts.path.startswith("/api/v1/timelines/tag/"):
                    tag = parts.path.rsplit("/", 1)[1].lower()
                    headers = {}
                    if fake.exhaust_next:
                        fake.exhaust_next -= 1
                        reset = datetime.now(UTC) + timedelta(seconds=1)
                        headers = {
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds"),
                        }
                    statuses = fake.page(fake.timelines.get(tag, []), query)
                    return self.answer(200, statuses, headers)
                if parts.path == "/api/v2/search" and query.get("type") == "statuses":
                    if not self.headers.get("Authorization"):
                        return self.answer(401, {"error": "The access token is invalid"})
                    statuses = fake.page(fake.search_results, query)
                    return self.answer(200, {"accounts": [], "hashtags": [], "statuses": statuses})
                return self.answer(404, {"error": "Record not found"})

            def answer(self, code, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in dict(headers).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def page(statuses, query):
        """Mastodon's paging: min_id gives the oldest `limit` after it, max_id/none the
        newest; always answered newest first."""
        limit = int(query.get("limit", 20))
        if "min_id" in query:
            after = [s for s in statuses if int(s["id"]) > int(query["min_id"])]
            chosen = after[:limit]
        else:
            chosen = statuses[-limit:]
        return list(reversed(chosen))

    def status(self, text, *, tag="boycottlumiere", remote=False, **extra):
        self.next_id += 1
        number = self.next_id
        host = "other.example" if remote else "fake.example"
        status = {
            "id": str(number),
            "uri": f"https://{host}/users/jeanne/statuses/{number}",
            "url": f"https://{host}/@jeanne/{number}",
            "created_at": (START + timedelta(seconds=number % 100_000)).isoformat(),
            "content": text,
            "spoiler_text": "",
            "language": "fr",
            "visibility": "public",
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog": None,
            "replies_count": 2,
            "reblogs_count": 5,
            "favourites_count": 9,
            "account": {
                "id": "1",
                "acct": "jeanne@other.example" if remote else "jeanne",
                "username": "jeanne",
                "display_name": "Jeanne M.",
                "url": f"https://{host}/@jeanne",
                "followers_count": 312,
            },
            **extra,
        }
        if tag is not None:
            self.timelines.setdefault(tag, []).append(status)
        return status

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def tag_requests(self):
        return [q for path, q, _ in self.requests if path.startswith("/api/v1/timelines/tag/")]


@pytest.fixture
def instance():
    with FakeInstance() as fake:
        yield fake


def collector(fake, **config):
    instances = mastodon.instances_from([{"base_url": fake.base_url, **config}])
    return mastodon.MastodonCollector(
        instances, stop=Stop(), interval=0, backoff=Backoff(base=0.05, cap=0.1), timeout=5
    )


def stored_ids():
    ids = list(Mention.objects.filter(platform="mastodon").values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    return set(ids)


def test_a_watch_hashtag_timeline_is_polled_and_matching_statuses_stored(watch, instance):
    kept = instance.status(
        "<p>Ils ont supprimé les avis négatifs <a href='https://fake.example/tags/BoycottLumiere' "
        "class='mention hashtag'>#<span>BoycottLumiere</span></a> &amp; rien d&#39;autre</p>"
        "<p>Deuxième paragraphe<br>nouvelle ligne</p><script>alert(1)</script>"
    )
    vetoed = instance.status("<p>#BoycottLumiere la lumière du jour est plus belle</p>")
    remote = instance.status("<p>#BoycottLumiere partout</p>", remote=True)
    boost = instance.status("<p>#BoycottLumiere</p>", reblog={"id": "1"})

    collector(instance).run(once=True)

    assert stored_ids() == {kept["uri"], remote["uri"]}
    assert vetoed["uri"] not in stored_ids() and boost["uri"] not in stored_ids()
    mention = Mention.objects.get(external_id=kept["uri"])
    assert mention.text == (
        "Ils ont supprimé les avis négatifs #BoycottLumiere & rien d'autre\n"
        "Deuxième paragraphe\nnouvelle ligne"
    )
    assert mention.author_handle == "jeanne@fake.example"  # local account, named fully
    assert Mention.objects.get(external_id=remote["uri"]).author_handle == "jeanne@other.example"
    assert (mention.author_followers, mention.likes, mention.reposts, mention.replies) == (
        312,
        9,
        5,
        2,
    )
    assert mention.url == kept["url"] and mention.language == "fr"
    assert mention.source == "mastodon"
    assert instance.tag_requests() == [{"limit": "40"}]  # the first time: the newest page
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert state.state["tags"]["boycottlumiere"] == boost["id"]
    assert state.last_success_at is not None and state.last_error == ""


def test_a_backlog_is_walked_forward_with_min_id_without_gap(watch, instance):
    first = instance.status("<p>#BoycottLumiere premier</p>")
    collector(instance).run(once=True)
    # An outage: 95 statuses arrive meanwhile (more than two pages).
    backlog = [instance.status(f"<p>#BoycottLumiere numéro {n}</p>") for n in range(95)]

    collector(instance).run(once=True)  # a new process: the cursor comes from the database

    assert stored_ids() == {first["uri"], *(s["uri"] for s in backlog)}
    forward = instance.tag_requests()[1:]
    assert [q["min_id"] for q in forward] == [
        first["id"],
        backlog[39]["id"],
        backlog[79]["id"],
    ]
    # Nothing new: one request from the newest id, nothing stored twice.
    collector(instance).run(once=True)
    assert instance.tag_requests()[-1]["min_id"] == backlog[-1]["id"]
    assert len(stored_ids()) == 96


def test_a_429_is_waited_out_then_the_same_page_asked_again(watch, instance, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    instance.status("<p>#BoycottLumiere avant</p>")
    running = collector(instance)
    running.run(once=True)
    later = instance.status("<p>#BoycottLumiere après</p>")
    instance.rate_limit_next = 1

    running.run(once=True)  # the next pass of the same process

    assert later["uri"] in stored_ids()
    limited, retried = instance.tag_requests()[-2:]
    assert (
        instance.requests[-2][0]
        == instance.requests[-1][0]
        == "/api/v1/timelines/tag/boycottlumiere"
    )
    assert limited == retried  # the same cursor: nothing skipped
    assert any("rate limited" in r.getMessage() for r in caplog.records)


def test_a_spent_budget_is_waited_for_before_the_next_page(watch, instance, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    running = collector(instance)
    instance.status("<p>#BoycottLumiere avant</p>")
    running.run(once=True)
    backlog = [instance.status(f"<p>#BoycottLumiere numéro {n}</p>") for n in range(45)]
    instance.exhaust_next = 1  # the first page's answer spends the budget

    running.run(once=True)

    assert {s["uri"] for s in backlog} <= stored_ids()
    assert any("rate limit spent" in r.getMessage() for r in caplog.records)
    assert len(instance.tag_requests()) == 3  # no 429 was collected, nothing asked twice


def test_a_reply_to_a_brand_account_is_marked_from_what_the_status_carries(
    watch, watch_editor, instance
):
    from incidents.listening import actions

    # The brand's account on this instance, named as the fediverse does.
    actions.watch_update(
        watch=watch, actor=watch_editor, handles=[*watch.handles, "@MaisonLumiere@fake.example"]
    )
    brand = {"id": "77", "acct": "maisonlumiere", "url": "https://fake.example/@maisonlumiere"}
    other = {"id": "88", "acct": "paul@other.example", "url": "https://other.example/@paul"}
    to_brand = instance.status(
        "<p>#BoycottLumiere toujours pas remboursée</p>",
        in_reply_to_id="500",
        in_reply_to_account_id="77",
        mentions=[other, brand],
    )
    to_other = instance.status(
        "<p>#BoycottLumiere pareil pour moi</p>",
        in_reply_to_id="501",
        in_reply_to_account_id="88",
        mentions=[other, brand],
    )
    # The reply's author took the brand's @name out: the status no longer says whose
    # account 77 is, and nothing is asked of the instance for it.
    unnamed = instance.status(
        "<p>#BoycottLumiere sans la mention</p>", in_reply_to_id="502", in_reply_to_account_id="77"
    )
    plain = instance.status("<p>#BoycottLumiere tout court</p>")

    collector(instance).run(once=True)

    stored = {
        m.external_id: (m.reply_to_brand, m.in_reply_to)
        for m in Mention.objects.filter(platform="mastodon")
    }
    assert stored == {
        to_brand["uri"]: (True, "500"),
        to_other["uri"]: (False, "501"),
        unnamed["uri"]: (False, "502"),
        plain["uri"]: (False, ""),
    }
    assert len(instance.requests) == 2  # the instance document and one timeline page


def test_search_uses_the_configured_token_and_its_own_cursor(watch, instance):
    found = instance.status("<p>Maison Lumière rappelle sa crème de nuit</p>", tag=None)
    instance.search_results.append(found)

    collector(instance, access_token="token-from-env", search=["maison lumière"]).run(once=True)

    assert found["uri"] in stored_ids()
    searches = [(q, auth) for path, q, auth in instance.requests if path == "/api/v2/search"]
    assert searches[0][0]["q"] == "maison lumière" and searches[0][1] == "Bearer token-from-env"
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}").state
    assert state["search"]["maison lumière"] == found["id"]


def test_an_error_is_recorded_and_the_other_timelines_still_polled(watch, instance):
    instance.status("<p>#BoycottLumiere ok</p>")
    # Search without a token: the instance answers 401.
    collector(instance, search=["maison lumière"]).run(once=True)
    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert "search" in state.last_error and "401" in state.last_error
    assert len(stored_ids()) == 1


def test_a_timeline_failing_among_working_ones_is_warned_about(watch, instance, settings):
    # Each stored page of the working timeline counted as the instance's success: the
    # failing search never reached the Listening page's warnings.
    from django.utils import timezone

    from incidents.listening import selectors

    settings.LISTENING_MASTODON = [{"base_url": instance.base_url, "search": ["lumière"]}]
    instance.status("<p>#BoycottLumiere ok</p>")
    collector(instance, search=["maison lumière"]).run(once=True)

    state = CollectorState.objects.get(name=f"mastodon:{instance.base_url}")
    assert state.state["tags"]  # the working timeline's cursor is saved ...
    assert state.last_success_at is None  # ... but the instance did not work whole
    problems = selectors.source_problems(timezone.now())
    assert [(p.source, p.where) for p in problems] == [
        ("mastodon", urlsplit(instance.base_url).netloc)
    ]
    assert "401" in problems[0].error


def test_a_malformed_status_is_logged_and_the_others_stored(watch, instance, caplog):
    caplog.set_level(logging.WARNING, logger="incidents.listening.connectors")
    broken = instance.status("<p>#BoycottLumiere sans date</p>", created_at=None)
    hidden = instance.status("<p>#BoycottLumiere abonnés cachés</p>")
    hidden["account"] = dict(hidden["account"], followers_count=-1)  # hidden counts: -1

    collector(instance).run(once=True)

    assert stored_ids() == {hidden["uri"]}
    assert Mention.objects.get().author_followers is None
    assert any(broken["uri"] in r.getMessage() for r in caplog.records)


def test_the_command_polls_the_configured_instances_once(watch, instance, settings):
    settings.LISTENING_MASTODON = [{"base_url": instance.base_url}]
    instance.status("<p>#BoycottLumiere via la commande</p>")
    call_command("listen_mastodon", "--once")
    assert len(stored_ids()) == 1


@pytest.mark.parametrize(
    "config, error",
    [
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": "https://x", "hashtags": "oops"}, "hashtags"),
        ({"base_url": "https://x", "access_token": 3}, "access_token"),
    ],
)
def test_bad_configuration_says_what_is_wrong(config, error):
    with pytest.raises(ValueError, match=error):
        mastodon.instances_from([config])
