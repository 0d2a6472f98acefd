"""Issue 15's story in four browsers at once, over the real WebSocket (uvicorn in a thread):
a drafter works the reply queue followers first, triages, claims and writes three free
replies (one to a persistent hater); two approvers (the incident's policy: legal, then
communications) approve the three in one batch each; the spokesperson posts the hater's
reply through the brand's account on the local fake Mastodon server and records the URL of
the two others; the drafter marks a troll "no answer" and thanks a defender. Coverage
changes on the pages the others keep open, without a reload, and the timeline tells the
story in order.

The pre-approved template step of the issue is its own test on the same incident: legal then
communications approve a reply template's exact text in advance on the templates page, the
drafter answers an unhappy customer on Mastodon from it, submits it unchanged and it is
approved at once (no approval click), and the spokesperson posts it on the fake Mastodon."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from crisiscell.celery import app as celery_app
from incidents import actions as incident_actions
from incidents.listening import actions as listening_actions
from incidents.listening.choices import Source
from incidents.listening.ingest import MentionData
from incidents.listening.models import Mention
from incidents.publishing import actions as publishing_actions
from incidents.publishing.models import BrandAccount
from incidents.replies.models import Reply, Triage
from statements import actions as statement_actions
from statements.models import Statement
from tests.browser.conftest import PASSWORD
from tests.helpers import ensure_policy, outside_the_browser_loop
from tests.publishing.fakes import MASTODON_TOKEN, FakeMastodon

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest decides between skipping and failing
    expect = None

pytestmark = pytest.mark.browser

HATER_POST = "https://mastodon.example/@hugo_h/113400000000000001"
HATER_POST_LOCAL_ID = "109000000000000042"  # what the brand's instance calls that post

# Who wrote, in the order they posted (oldest first). The queue must show them followers
# of the brand first (Lou, then Dee), then by reach (Hugo 5 000, Carla 800, Tom 20).
PEOPLE = {
    "hugo": {
        "platform": "mastodon",
        "author_handle": "@hugo_h@mastodon.example",
        "author_name": "Hugo H.",
        "author_followers": 5000,
        "author_follows_brand": False,
        "url": HATER_POST,
        "text": "Third time I say it: this brand lies about its kettles. Worst company ever.",
    },
    "carla": {
        "platform": "instagram",
        "author_handle": "@carla.cuisine",
        "author_name": "Carla",
        "author_followers": 800,
        "author_follows_brand": False,
        "url": "https://www.instagram.com/p/carla-lid/",
        "text": "My KX-200 lid cracked after ten days. Who do I contact for a replacement?",
    },
    "tom": {
        "platform": "x",
        "author_handle": "@tom_lolz",
        "author_name": "Tom",
        "author_followers": 20,
        "author_follows_brand": False,
        "url": "https://x.com/tom_lolz/status/1",
        "text": "lol kettles exploding, buy a pot, idiots",
    },
    "dee": {
        "platform": "x",
        "author_handle": "@dee_bakes",
        "author_name": "Dee",
        "author_followers": 50,
        "author_follows_brand": True,
        "url": "https://x.com/dee_bakes/status/2",
        "text": "Mine has worked for three years and their support replaced a lid in two days.",
    },
    "lou": {
        "platform": "x",
        "author_handle": "@loyal_lou",
        "author_name": "Lou",
        "author_followers": 120,
        "author_follows_brand": True,
        "url": "https://x.com/loyal_lou/status/3",
        "text": "Love this brand but my KX-200 lid split today. What should I do?",
    },
}
QUEUE_ORDER = ["lou", "dee", "hugo", "carla", "tom"]

REPLIES = {
    "hugo": "@hugo_h We hear you. Cracked KX-200 lids are replaced free of charge; "
    "what we know so far is on our crisis page, updated every hour.",
    "lou": "@loyal_lou Thank you for staying with us, Lou. Please stop using it: send us "
    "your order number in a private message and we replace the lid this week.",
    "carla": "@carla.cuisine We are sorry, Carla. Send us your order number in a private "
    "message and a new lid ships this week, free of charge.",
}
PUBLISHED_URLS = {
    "lou": "https://x.com/brand/status/1800000000000000001",
    "carla": "https://www.instagram.com/p/brand-reply-carla/",
}
TROLL_REASON = "Troll: no facts, only insults. Not answered."


@dataclass
class Story:
    incident: object
    users: dict
    mentions: dict  # key of PEOPLE -> Mention
    mastodon: FakeMastodon


def _prepare(django_user_model, mastodon_url: str) -> tuple:
    def user(username, first, **extra):
        return django_user_model.objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name="Test", **extra
        )

    users = {
        "lead": user("camille", "Camille"),
        "drafter": user("dana", "Dana"),
        "legal": user("lena", "Lena"),
        "comms": user("colin", "Colin"),
        "spokesperson": user("sasha", "Sasha"),
        "admin": user("adam", "Adam", is_staff=True),
    }
    users["admin"].user_permissions.add(
        *Permission.objects.filter(content_type__app_label="publishing")
    )
    admin = django_user_model.objects.get(pk=users["admin"].pk)  # permissions cache
    incident = incident_actions.incident_declare(
        actor=users["lead"],
        title="Complaint wave: kettle lids cracking",
        category="product",
        origin="online",
        platforms=["x", "instagram", "mastodon"],
        severity=2,
        activate=True,
    )
    for key, role, function in [
        ("drafter", "drafter", ""),
        ("legal", "approver", "legal"),
        ("comms", "approver", "communications"),
        ("spokesperson", "spokesperson", ""),
    ]:
        incident_actions.member_add(
            incident=incident, actor=users["lead"], user=users[key], role=role, function=function
        )
    # The demo's policy for this kind of incident (demo/replies.py): legal, then
    # communications, each a different person from the author (four-eyes).
    ensure_policy("One approver", [(1, "")], is_default=True, mode="all")
    ordered = ensure_policy(
        "Legal, then communications", [(1, "legal"), (2, "communications")], mode="all"
    )
    statement_actions.incident_policy_set(incident=incident, actor=users["lead"], policy=ordered)
    publishing_actions.account_save(
        account=BrandAccount(
            platform="mastodon", label="Brand on Mastodon", base_url=mastodon_url, handle="@brand"
        ),
        actor=admin,
        secret=MASTODON_TOKEN,
    )
    now = timezone.now()
    data = [
        MentionData(
            external_id=f"story-{key}",
            posted_at=now - timedelta(minutes=50 - 5 * n),
            language="en",
            **fields,
        )
        for n, (key, fields) in enumerate(PEOPLE.items())
    ]
    listening_actions.mentions_ingest(mentions=data, source=Source.API, actor=None)
    mentions = {m.external_id.removeprefix("story-"): m for m in Mention.objects.all()}
    # Attached as the listening page does (a mention's incident is listening's to set).
    Mention.objects.filter(pk__in=[m.pk for m in mentions.values()]).update(incident=incident)
    return incident, users, mentions


@pytest.fixture
def story(transactional_db, django_user_model, settings, asgi_server):
    settings.PUBLISHING_KEY = ""
    settings.PUBLISHING_TIMEOUT = 5
    mastodon = FakeMastodon()
    mastodon.remote[HATER_POST] = HATER_POST_LOCAL_ID
    # The outbox's worker posts inline, within the request, as in embedded mode.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        incident, users, mentions = outside_the_browser_loop(
            lambda: _prepare(django_user_model, mastodon.url)
        )
        yield Story(incident, users, mentions, mastodon)
    finally:
        celery_app.conf.task_always_eager = eager
        mastodon.close()


def _live(tab, url):
    tab.goto(url)
    expect(tab.locator("body")).to_have_attribute("data-live", "live")
    tab.evaluate("window.__sameDocument = true")  # lost on any reload


def _figure(coverage, term):
    """The value of one figure of a coverage block (replies/_coverage.html)."""
    return (
        coverage.locator(".reply-coverage > div")
        .filter(has=coverage.page.get_by_role("term").filter(has_text=re.compile(rf"^{term}$")))
        .locator("dd")
    )


def _item(tab, mention):
    return tab.locator(f"#mention-{mention.pk}")


def _triage(tab, mention, author_type, needs_answer):
    item = _item(tab, mention)
    item.locator(f"#type-{mention.pk}").select_option(author_type)
    item.locator(f"#needs-{mention.pk}").select_option(needs_answer)
    item.locator("details.reply-triage").get_by_role("button").click()
    expect(_item(tab, mention)).to_have_count(0)  # triaged: no longer "to triage"
    # Back at its neighbour, not at the top of the page: the message is said there too.
    if tab.locator(".reply-item").count():
        assert re.search(r"#mention-\d+$", tab.url)
        expect(tab.locator("#toasts .toast", has_text="Triage saved.")).to_be_visible()


def _statement_of(mention) -> Statement:
    return outside_the_browser_loop(
        lambda: Reply.objects.select_related("statement").get(triage__mention=mention).statement
    )


def test_a_drafter_two_approvers_and_a_spokesperson_work_the_reply_queue(signed_in, story):
    incident, users, m = story.incident, story.users, story.mentions
    queue_url = f"/incidents/{incident.pk}/replies/"
    drafter = signed_in(users["drafter"])
    legal = signed_in(users["legal"])
    comms = signed_in(users["comms"])
    spokesperson = signed_in(users["spokesperson"])

    # The approver keeps the queue open; the spokesperson keeps the room open.
    _live(legal, queue_url)
    _live(spokesperson, f"/incidents/{incident.pk}/")
    legal_coverage = legal.locator(".reply-summary")
    room_coverage = spokesperson.locator("#replies-panel")
    expect(_figure(legal_coverage, "To triage")).to_have_text("5")
    expect(_figure(room_coverage, "To triage")).to_have_text("5")

    # 1. The drafter triages, followers of the brand first.
    drafter.goto(f"{queue_url}?view=to_triage")
    order = drafter.locator(".reply-list > li.reply-item")
    expect(order).to_have_count(5)
    assert order.evaluate_all("els => els.map(e => +e.dataset.mention)") == [
        m[key].pk for key in QUEUE_ORDER
    ]
    expect(order.first.locator(".reply-badge-follows")).to_have_text("Follows the brand")
    expect(_item(drafter, m["hugo"]).locator(".reply-badge-follows")).to_have_count(0)

    _triage(drafter, m["lou"], "unhappy_customer", "yes")
    # Live for the others, without a reload.
    expect(_figure(legal_coverage, "To triage")).to_have_text("4")
    expect(_figure(room_coverage, "To triage")).to_have_text("4")
    _triage(drafter, m["dee"], "defender", "no")
    _triage(drafter, m["hugo"], "hater_persistent", "yes")
    _triage(drafter, m["carla"], "unhappy_customer", "yes")
    expect(order).to_have_count(1)  # the troll, still to triage
    expect(_figure(legal_coverage, "To triage")).to_have_text("1")
    expect(_figure(legal_coverage, "Handled")).to_contain_text("0 of 3")

    # 2. To answer: the same order (followers first, then reach). The drafter claims the
    # hater, and the approver sees who is answering him.
    drafter.goto(f"{queue_url}?view=to_answer")
    expect(order).to_have_count(3)
    assert order.evaluate_all("els => els.map(e => +e.dataset.mention)") == [
        m[key].pk for key in ("lou", "hugo", "carla")
    ]
    _item(drafter, m["hugo"]).get_by_role("button", name="I'm answering").click()
    expect(_item(drafter, m["hugo"])).to_contain_text("You are answering this person.")
    expect(_item(legal, m["hugo"])).to_contain_text("Dana Test is answering")

    # 3. Three free replies, each a draft statement bound to its mention, opened on its
    # page and submitted there; back to the queue for the next one.
    statements = {}
    for key in ("hugo", "lou", "carla"):
        item = _item(drafter, m[key])
        item.locator("details.reply-write summary").click()
        item.locator(f"#reply-text-{m[key].pk}").fill(REPLIES[key])
        item.get_by_role("button", name="Draft the reply").click()
        expect(drafter.locator(".messages")).to_contain_text("Reply drafted")
        expect(drafter).to_have_url(re.compile(r"/statements/\d+/$"))
        statements[key] = _statement_of(m[key])
        assert drafter.url.endswith(f"/statements/{statements[key].pk}/")
        drafter.get_by_role("button", name="Submit for approval").click()
        expect(drafter.locator(".messages")).to_contain_text("Submitted for approval.")
        drafter.goto(f"{queue_url}?view=to_answer")
        expect(_item(drafter, m[key]).locator(".reply-statement")).to_contain_text("In review")
    assert {k: s.channel for k, s in statements.items()} == {
        "hugo": "mastodon",
        "lou": "x",
        "carla": "instagram",
    }
    expect(_item(legal, m["carla"]).locator(".reply-statement")).to_contain_text("In review")

    # 4. Legal, then communications, each approve the three in one batch.
    for approver in (legal, comms):
        approver.goto(f"/incidents/{incident.pk}/replies/review/")
        rows = approver.locator(".review-row")
        expect(rows).to_have_count(3)
        for statement in statements.values():
            approver.locator(f"#pick-{statement.pk}").check()
        posts = []
        approver.on("request", lambda r, posts=posts: r.method == "POST" and posts.append(r.url))
        approver.get_by_role("button", name="Apply to the ticked replies").click()
        # One request for the three, and no reply refused.
        expect(approver.locator(".messages")).to_have_text("3 replies reviewed.")
        assert len(posts) == 1, posts
    expect(comms.locator("main")).to_contain_text("No reply is waiting for review.")
    approved = outside_the_browser_loop(
        lambda: {k: Statement.objects.get(pk=s.pk).status for k, s in statements.items()}
    )
    assert approved == {"hugo": "approved", "lou": "approved", "carla": "approved"}

    # The approver goes back to the queue and keeps it open from now on.
    _live(legal, queue_url)
    expect(_figure(legal_coverage, "Handled")).to_contain_text("0 of 3")

    # 5. The spokesperson posts the hater's reply through the brand's Mastodon account,
    # as a reply to his post, on the local fake server.
    spokesperson.goto(f"/statements/{statements['hugo'].pk}/")
    spokesperson.get_by_role("link", name="Publish on Brand on Mastodon").click()
    expect(spokesperson.locator("#id_in_reply_to")).to_have_value(HATER_POST)
    spokesperson.get_by_role("button", name="Post now on Brand on Mastodon").click()
    # The eager worker has posted by the time the page is back, and the message says so.
    expect(spokesperson.locator(".messages")).to_contain_text("Posted on Brand on Mastodon.")
    expect(spokesperson.locator("#publish-api .publication-sent")).to_contain_text("Posted")
    expect(spokesperson.locator(".chip.stmt-published")).to_have_text("Published")
    assert story.mastodon.posts == 1
    (posted,) = story.mastodon.statuses
    assert posted["text"] == REPLIES["hugo"]
    assert posted["in_reply_to_id"] == HATER_POST_LOCAL_ID
    # Live on the approver's queue.
    expect(_figure(legal_coverage, "Handled")).to_contain_text("1 of 3")
    expect(_item(legal, m["hugo"])).to_have_count(0)  # answered: out of "to answer"

    # The two others by copy-and-open: post by hand, record the URL.
    for key in ("lou", "carla"):
        spokesperson.goto(f"/statements/{statements[key].pk}/")
        expect(spokesperson.locator("#approved-copy")).to_have_value(REPLIES[key])
        spokesperson.fill("#id_url", PUBLISHED_URLS[key])
        spokesperson.get_by_role("button", name="Mark as published").click()
        expect(spokesperson.locator(".messages")).to_contain_text("Marked as published.")
    expect(_figure(legal_coverage, "Handled")).to_contain_text("3 of 3")
    expect(_figure(legal_coverage, "Handled")).to_contain_text("100 %")
    # The spokesperson is back in the room, and keeps it open from now on.
    _live(spokesperson, f"/incidents/{incident.pk}/")
    expect(_figure(room_coverage, "Handled")).to_contain_text("3 of 3")
    expect(_figure(room_coverage, "To triage")).to_have_text("1")

    # 6. The drafter marks the troll "no answer", with a reason, and thanks the defender.
    drafter.goto(f"{queue_url}?view=to_triage")
    troll = _item(drafter, m["tom"])
    troll.locator("details.reply-decide summary").click()
    troll.locator(f"#outcome-{m['tom'].pk}").select_option("no_answer")
    troll.locator(f"#reason-{m['tom'].pk}").fill(TROLL_REASON)
    troll.get_by_role("button", name="Record the decision").click()
    expect(drafter.locator(".reply-list")).to_have_count(0)  # nobody left to triage
    expect(_figure(legal_coverage, "To triage")).to_have_text("0")
    expect(_figure(room_coverage, "To triage")).to_have_text("0")

    drafter.goto(f"{queue_url}?view=defenders")
    defender = _item(drafter, m["dee"])
    defender.locator(f"#thank-note-{m['dee'].pk}").fill("Replied with thanks")
    defender.get_by_role("button", name="Thanked").click()
    expect(_item(drafter, m["dee"]).locator(".reply-outcome")).to_contain_text("Thanked")

    outcomes = outside_the_browser_loop(
        lambda: dict(Triage.objects.filter(incident=incident).values_list("mention_id", "outcome"))
    )
    assert {key: outcomes[mention.pk] for key, mention in m.items()} == {
        "hugo": "answered",
        "lou": "answered",
        "carla": "answered",
        "tom": "no_answer",
        "dee": "thanked",
    }
    # Nobody reloaded the pages they kept open.
    assert legal.evaluate("window.__sameDocument") is True
    assert spokesperson.evaluate("window.__sameDocument") is True
    expect(_figure(room_coverage, "Handled")).to_contain_text("3 of 3")

    # 7. The timeline tells the story, in order (the API, as the drafter reads it).
    response = drafter.request.get(f"/api/incidents/{incident.pk}/timeline/?page_size=500")
    assert response.ok, response.text()
    entries = response.json()["results"]
    assert response.json()["next"] is None

    def who(entry):
        return (entry["data"].get("mention") or {}).get("author")

    handle = {key: PEOPLE[key]["author_handle"] for key in PEOPLE}
    story_steps = [
        ("mention_triaged", handle["lou"]),
        ("mention_triaged", handle["dee"]),
        ("mention_triaged", handle["hugo"]),
        ("mention_triaged", handle["carla"]),
        ("mention_claimed", handle["hugo"]),
        ("statement_drafted", statements["hugo"].pk),
        ("statement_submitted", statements["hugo"].pk),
        # Writing a reply claims the person, after the draft is made.
        ("statement_drafted", statements["lou"].pk),
        ("mention_claimed", handle["lou"]),
        ("statement_submitted", statements["lou"].pk),
        ("statement_drafted", statements["carla"].pk),
        ("mention_claimed", handle["carla"]),
        ("statement_submitted", statements["carla"].pk),
        ("statement_approved", statements["hugo"].pk),  # legal's batch
        ("statement_approved", statements["hugo"].pk),  # communications' batch
        ("statement_published", statements["hugo"].pk),
        ("reply_decided", handle["hugo"]),
        ("statement_published", statements["lou"].pk),
        ("reply_decided", handle["lou"]),
        ("statement_published", statements["carla"].pk),
        ("reply_decided", handle["carla"]),
        ("reply_decided", handle["tom"]),
        ("defender_thanked", handle["dee"]),
    ]

    def key_of(entry):
        if entry["kind"].startswith("statement_"):
            return entry["kind"], entry["data"].get("statement")
        return entry["kind"], who(entry)

    keys = [key_of(e) for e in entries]
    position = -1
    for step in story_steps:
        assert step in keys[position + 1 :], (step, keys)
        position = keys.index(step, position + 1)

    by_key = {}
    for entry in entries:
        by_key.setdefault(key_of(entry), []).append(entry)
    (troll_entry,) = by_key["reply_decided", handle["tom"]]
    assert troll_entry["data"]["outcome"] == "no_answer"
    assert troll_entry["data"]["reason"] == TROLL_REASON
    assert [e["actor"]["username"] for e in by_key["statement_approved", statements["lou"].pk]] == [
        "lena",
        "colin",
    ]
    (hater_answered,) = by_key["reply_decided", handle["hugo"]]
    assert hater_answered["data"]["outcome"] == "answered"
    assert hater_answered["data"]["url"] == f"{story.mastodon.url}/@brand/{posted['id']}"
    for key in ("lou", "carla"):
        (answered,) = by_key["reply_decided", handle[key]]
        assert answered["data"]["url"] == PUBLISHED_URLS[key]
    # The room's timeline shows the same story to people.
    spokesperson.goto(f"/incidents/{incident.pk}/")
    timeline = spokesperson.locator("#timeline")
    decided = timeline.locator("li.entry", has_text="Reply decided")
    expect(decided).to_have_count(4)  # newest first: the troll, then the three answered
    expect(decided.first).to_contain_text(f"Deliberately not answered — {TROLL_REASON}")
    expect(decided.first).to_contain_text(PEOPLE["tom"]["author_handle"])
    for n, key in enumerate(("carla", "lou", "hugo"), start=1):
        expect(decided.nth(n)).to_contain_text("Answered — the reply")
        expect(decided.nth(n)).to_contain_text(PEOPLE[key]["author_handle"])
        expect(decided.nth(n).get_by_role("link", name="the reply")).to_have_attribute(
            "href", f"/statements/{statements[key].pk}/"
        )
    thanked = timeline.locator("li.entry", has_text="Defender thanked")
    expect(thanked).to_contain_text("Thanked — Replied with thanks")
    expect(thanked).to_contain_text(PEOPLE["dee"]["author_handle"])


CUSTOMER_POST = "https://mastodon.example/@mia_m/113400000000000009"
CUSTOMER_POST_LOCAL_ID = "109000000000000077"
TEMPLATE_TEXT = (
    "{{ author.handle }} We are sorry about this, and thank you for telling us. Please send "
    "us a private message with your order number: we will look into your case today."
)


def _customer_and_template(incident):
    from incidents.playbooks.models import IncidentTemplate

    template = IncidentTemplate.objects.create(
        incident=incident,
        order=1,
        name="Unhappy customer (Mastodon)",
        kind="reply",
        channel="mastodon",
        language="en",
        text=TEMPLATE_TEXT,
    )
    listening_actions.mentions_ingest(
        mentions=[
            MentionData(
                platform="mastodon",
                external_id="story-mia",
                posted_at=timezone.now() - timedelta(minutes=5),
                language="en",
                author_handle="mia_m@mastodon.example",
                author_name="Mia M.",
                author_followers=300,
                author_follows_brand=True,
                url=CUSTOMER_POST,
                text="Second KX-200 lid cracked this month. Refund or replacement, please?",
            )
        ],
        source=Source.API,
        actor=None,
    )
    mention = Mention.objects.get(external_id="story-mia")
    Mention.objects.filter(pk=mention.pk).update(incident=incident)
    return template, mention


def test_a_drafter_answers_an_unhappy_customer_from_a_preapproved_template(signed_in, story):
    incident, users = story.incident, story.users
    template, mia = outside_the_browser_loop(lambda: _customer_and_template(incident))
    story.mastodon.remote[CUSTOMER_POST] = CUSTOMER_POST_LOCAL_ID
    queue_url = f"/incidents/{incident.pk}/replies/"
    templates_url = f"{queue_url}templates/"
    drafter = signed_in(users["drafter"])
    legal = signed_in(users["legal"])
    comms = signed_in(users["comms"])
    spokesperson = signed_in(users["spokesperson"])

    # 1. Legal, then communications, approve the template's exact text in advance.
    comms.goto(templates_url)
    row = comms.locator(f"#template-{template.pk}")
    expect(row).to_contain_text("Not approved in advance")
    expect(row).to_contain_text("The approval policy awaits Legal for this template now.")
    for approver in (legal, comms):
        approver.goto(templates_url)
        row = approver.locator(f"#template-{template.pk}")
        row.get_by_role("button", name="Approve this exact text in advance").click()
        expect(approver.locator(".messages")).to_contain_text("Template approved in advance")
    row = comms.locator(f"#template-{template.pk}")
    expect(row.locator(".preapproval-badge")).to_have_text("Approved in advance")
    expect(row).to_contain_text("Approved in advance by Lena Test (Legal)")
    expect(row).to_contain_text("Approved in advance by Colin Test (Communications)")

    # 2. The drafter triages the customer and starts the reply from the template.
    drafter.goto(f"{queue_url}?view=to_triage")
    _triage(drafter, mia, "unhappy_customer", "yes")
    drafter.goto(f"{queue_url}?view=to_answer")
    item = _item(drafter, mia)
    item.locator("details.reply-write summary").click()
    choice = item.locator(f"#reply-template-{mia.pk}")
    expect(choice.locator("option")).to_have_text(
        ["Unhappy customer (Mastodon) — approved in advance"]
    )
    item.get_by_role("button", name="Start from this template").click()
    expect(drafter.locator(".messages")).to_contain_text("from a template approved in advance")
    expect(drafter.locator("[data-preapproval]")).to_contain_text(
        "submitted as it is, it is approved at once"
    )
    expected = TEMPLATE_TEXT.replace("{{ author.handle }}", "@mia_m@mastodon.example")
    statement = _statement_of(mia)
    assert statement.text == expected

    # 3. Submitted unchanged: approved at once, nobody clicks "Approve".
    drafter.get_by_role("button", name="Submit (approved in advance)").click()
    expect(drafter.locator(".messages")).to_contain_text("approved in advance: ready to publish")
    expect(drafter.locator(".chip.stmt-approved")).to_have_text("Approved")
    expect(drafter.locator(".review-list")).to_contain_text("Approved in advance")

    # 4. The spokesperson posts it on the brand's Mastodon account, as a reply to Mia.
    spokesperson.goto(f"/statements/{statement.pk}/")
    spokesperson.get_by_role("link", name="Publish on Brand on Mastodon").click()
    expect(spokesperson.locator("#id_in_reply_to")).to_have_value(CUSTOMER_POST)
    spokesperson.get_by_role("button", name="Post now on Brand on Mastodon").click()
    expect(spokesperson.locator(".messages")).to_contain_text("Posted on Brand on Mastodon.")
    expect(spokesperson.locator(".chip.stmt-published")).to_have_text("Published")
    (posted,) = story.mastodon.statuses
    assert posted["text"] == expected and posted["in_reply_to_id"] == CUSTOMER_POST_LOCAL_ID

    # The timeline tells it: two advance approvals, then the reply approved in advance
    # (no approver acted on it), then published; the customer is answered.
    def story_of_the_reply():
        from incidents.models import TimelineEntry

        entries = TimelineEntry.objects.filter(incident=incident).order_by("seq")
        return [
            (e.kind, e.actor.username if e.actor else None, e.text)
            for e in entries
            if e.kind.startswith("template_") or e.data.get("statement") == statement.pk
        ], Triage.objects.get(mention=mia).outcome

    entries, outcome = outside_the_browser_loop(story_of_the_reply)
    assert [(kind, actor) for kind, actor, _text in entries] == [
        ("template_preapproved", "lena"),
        ("template_preapproved", "colin"),
        ("statement_drafted", "dana"),
        ("statement_submitted", "dana"),
        ("statement_approved", None),
        ("statement_published", "sasha"),
        ("reply_decided", "sasha"),  # answered
    ]
    assert entries[4][2] == (
        "Approved in advance by Lena Test (Legal) and Colin Test (Communications) "
        "(template “Unhappy customer (Mastodon)”)."
    )
    assert outcome == "answered"
