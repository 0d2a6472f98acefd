"""The page and the API: same rules, plain forms (POST-redirect-GET), 404 for what is not
yours to see, nothing written when refused; the race for a claim."""

import re

import pytest

from incidents.models import TimelineEntry
from incidents.replies.models import Triage
from tests.helpers import assert_error, run_concurrently, token_client

pytestmark = pytest.mark.django_db


def page_url(incident, suffix=""):
    return f"/incidents/{incident.pk}/replies/{suffix}"


def api_url(incident, suffix=""):
    return f"/api/incidents/{incident.pk}/replies/{suffix}"


def test_the_page_triages_claims_and_decides_with_plain_forms(
    incident, mention, browser_client, drafter
):
    client = browser_client.as_user(drafter)
    html = client.get(page_url(incident, "?view=to_triage")).content.decode()
    assert f'id="mention-{mention.pk}"' in html
    assert "Suggested:" in html and "Unhappy customer" in html
    assert 'data-panel="reply-queue"' in html

    response = client.post(
        page_url(incident, f"{mention.pk}/triage/"),
        {
            "author_type": "unhappy_customer",
            "needs_answer": "yes",
            "note": "",
            "back": page_url(incident),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(incident) + f"#mention-{mention.pk}"
    response = client.post(page_url(incident, f"{mention.pk}/claim/"), follow=True)
    assert "You are answering this person" in response.content.decode()
    response = client.post(
        page_url(incident, f"{mention.pk}/decide/"),
        {"outcome": "private", "reason": ""},
        follow=True,
    )
    assert "Why" in response.content.decode()  # the form's error, as a message
    assert Triage.objects.get(mention=mention).outcome == "open"
    client.post(
        page_url(incident, f"{mention.pk}/decide/"), {"outcome": "private", "reason": "DM sent"}
    )
    assert Triage.objects.get(mention=mention).outcome == "private"
    kinds = list(
        TimelineEntry.objects.filter(
            incident=incident, kind__in=["mention_triaged", "mention_claimed", "reply_decided"]
        )
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == ["mention_triaged", "mention_claimed", "reply_decided"]
    room = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="replies-panel"' in room and "Open the reply queue" in room
    assert (
        "Answered privately" in room
        or "Handled" in client.get(page_url(incident, "?view=handled")).content.decode()
    )


def test_the_timeline_tells_it_in_words(incident, mention, browser_client, drafter):
    client = browser_client.as_user(drafter)
    client.post(
        page_url(incident, f"{mention.pk}/triage/"), {"author_type": "troll", "needs_answer": "no"}
    )
    client.post(
        page_url(incident, f"{mention.pk}/decide/"),
        {"outcome": "no_answer", "reason": "Provocation"},
    )
    html = client.get(f"/incidents/{incident.pk}/timeline/").content.decode()
    assert "Troll" in html and "Deliberately not answered" in html and "Provocation" in html
    html = client.get(
        f"/incidents/{incident.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Volontairement sans réponse" in html and "(troll)" not in html


def test_a_suggestion_without_any_signal_says_so_instead_of_an_empty_why(
    incident, attach_mentions, browser_client, drafter
):
    # A language the sentiment model does not read, no follower count: no reason at all.
    (mention,) = attach_mentions(
        incident, {"text": "Heute Wasserkocher gekauft. " * 20, "language": "de"}
    )
    assert mention.sentiment_score is None and mention.author_followers is None
    client = browser_client.as_user(drafter)
    html = client.get(page_url(incident, "?view=to_triage")).content.decode()
    assert f'id="mention-{mention.pk}"' in html
    assert "Why: ." not in html and "Why:" not in html
    assert "No signal in the text or about the author" in html


def test_times_follow_the_language_and_say_their_zone(
    incident, mention, browser_client, drafter, lead
):
    from datetime import UTC, datetime

    from incidents.replies import actions

    actions.triage_set(
        incident=incident, mention=mention, actor=drafter, author_type="neutral", needs_answer="yes"
    )
    actions.claim(incident=incident, mention=mention, actor=drafter)
    at = datetime(2026, 11, 30, 20, 22, tzinfo=UTC)
    Triage.objects.filter(mention=mention).update(claimed_at=at)
    mention.__class__.objects.filter(pk=mention.pk).update(posted_at=at)
    client = browser_client.as_user(lead)
    client.cookies["tz"] = "Europe/Paris"
    html = client.get(page_url(incident)).content.decode()
    # The post's time as the listening stream shows it: the month named, a 24-hour clock,
    # the zone.
    assert "30 Nov 2026, 21:22 CET</time>" in html
    assert "is answering (since 21:22 CET)" in html
    html = client.get(page_url(incident), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "30 nov. 2026 21:22 CET</time>" in html and "(depuis 21:22 CET)" in html


def test_an_observer_sees_the_queue_without_buttons_and_cannot_post(
    incident, mention, browser_client, observer, api
):
    client = browser_client.as_user(observer)
    html = client.get(page_url(incident, "?view=to_triage")).content.decode()
    assert f'id="mention-{mention.pk}"' in html
    assert "/claim/" not in html and "/triage/" not in html
    client.post(page_url(incident, f"{mention.pk}/claim/"))
    assert_error(api.as_user(observer).post(api_url(incident, f"{mention.pk}/claim/")), 403)
    assert not Triage.objects.exists()


def test_outsiders_and_other_cells_get_404_and_learn_nothing(
    incident, mention, browser_client, outsider, declare, make_user, api, attach_mentions
):
    assert browser_client.as_user(outsider).get(page_url(incident)).status_code == 404
    assert (
        browser_client.as_user(outsider)
        .post(page_url(incident, f"{mention.pk}/claim/"))
        .status_code
        == 404
    )
    assert_error(api.as_user(outsider).get(api_url(incident)), 404)
    # The lead of another incident: their own queue never shows this incident's mentions,
    # and this incident's mention through their incident's URL is a 404.
    other_lead = make_user("other-lead")
    other = declare(actor=other_lead, title="Another incident")
    (theirs,) = attach_mentions(other, {"text": "Their own post"})
    body = api.as_user(other_lead).get(api_url(other, "?view=to_triage")).json()
    assert [r["mention"]["id"] for r in body["results"]] == [theirs.pk]
    assert_error(api.as_user(other_lead).post(api_url(other, f"{mention.pk}/claim/")), 404)
    assert (
        browser_client.as_user(other_lead).post(page_url(other, f"{mention.pk}/claim/")).status_code
        == 404
    )
    assert not Triage.objects.filter(mention=mention).exists()


def test_the_api_works_the_queue(incident, mention, api, drafter, approver):
    client = api.as_user(drafter)
    item = client.get(api_url(incident, f"{mention.pk}/triage/")).json()
    assert item["triage"] is None
    assert item["suggestion"]["author_type"] == "unhappy_customer" and item["suggestion"]["reason"]
    assert item["available_actions"] == ["triage", "claim", "decide", "reply"]

    item = client.put(
        api_url(incident, f"{mention.pk}/triage/"),
        {"author_type": "unhappy_customer", "needs_answer": "yes", "note": "VIP"},
        format="json",
    ).json()
    assert item["triage"]["author_type"] == "unhappy_customer" and item["triage"]["note"] == "VIP"
    body = client.get(api_url(incident)).json()
    assert body["count"] == 1 and body["results"][0]["mention"]["id"] == mention.pk

    item = client.post(api_url(incident, f"{mention.pk}/claim/")).json()
    assert item["triage"]["claimed_by"]["name"] == "drafter"
    refused = api.as_user(approver).post(api_url(incident, f"{mention.pk}/claim/"))
    assert assert_error(refused, 409) and refused.json()["claimed_by"] == "drafter"
    client = api.as_user(drafter)
    client.post(api_url(incident, f"{mention.pk}/release/"))
    item = client.post(
        api_url(incident, f"{mention.pk}/decide/"),
        {"outcome": "customer_service", "reason": "Ticket 42"},
        format="json",
    ).json()
    assert item["triage"]["outcome"] == "customer_service"
    coverage = client.get(api_url(incident, "coverage/")).json()
    assert (coverage["needing"], coverage["answered"], coverage["percent"]) == (1, 1, 100)


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("put", "triage/", {"author_type": "villain", "needs_answer": "yes"}),
        ("put", "triage/", {"author_type": "troll", "needs_answer": "no", "note": "x" * 501}),
        ("post", "decide/", {"outcome": "no_answer"}),
        ("post", "decide/", {"outcome": "delete", "reason": "no"}),
        ("post", "thank/", {}),  # not a defender
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(
    incident, mention, api, drafter, method, suffix, data
):
    before = TimelineEntry.objects.filter(incident=incident).count()
    response = getattr(api.as_user(drafter), method)(
        api_url(incident, f"{mention.pk}/{suffix}"), data, format="json"
    )
    assert_error(response, 400)
    assert TimelineEntry.objects.filter(incident=incident).count() == before


def test_a_mention_not_attached_to_this_incident_is_a_404(incident, api, drafter, attach_mentions):
    (loose,) = attach_mentions(None, {"text": "Not attached"})
    assert_error(api.as_user(drafter).post(api_url(incident, f"{loose.pk}/claim/")), 404)
    assert_error(api.as_user(drafter).get(api_url(incident, f"{loose.pk}/triage/")), 404)


def test_bad_filters_are_400(incident, api, drafter):
    assert_error(api.as_user(drafter).get(api_url(incident, "?view=everything")), 400)
    assert_error(api.as_user(drafter).get(api_url(incident, "?platform=myspace")), 400)


@pytest.mark.parametrize("size", [5, 50])
def test_the_page_and_the_api_cost_constant_queries(
    incident, attach_mentions, drafter, browser_client, api, size, django_assert_max_num_queries
):
    from incidents.replies import actions

    mentions = attach_mentions(incident, *[{"text": "Refund?"} for _ in range(size)])
    for m in mentions:
        actions.triage_set(
            incident=incident,
            mention=m,
            actor=drafter,
            author_type="unhappy_customer",
            needs_answer="yes",
        )
    client = browser_client.as_user(drafter)
    # One query each for the page's replies and its evidence captures, whatever the size;
    # one for the incident's reply templates ("Start from a template": none here); one for
    # the promotion freeze banner (on every page); two for the live claims and replies on
    # their way (an author is one person).
    with django_assert_max_num_queries(21):
        response = client.get(page_url(incident))
    assert response.content.decode().count('class="card reply-item') == min(size, 20)
    with django_assert_max_num_queries(12):
        body = api.as_user(drafter).get(api_url(incident, "?page_size=100")).json()
    assert len(body["results"]) == size


@pytest.mark.django_db(transaction=True)
def test_two_people_claiming_at_once_one_wins_the_other_is_told_who(
    incident, mention, drafter, approver, lead
):
    url = api_url(incident, f"{mention.pk}/claim/")
    people = [drafter, approver, lead]
    responses, _, unexpected = run_concurrently(
        [lambda user=user: token_client(user).post(url, {}, format="json") for user in people]
    )
    assert unexpected == []
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409]
    winner = Triage.objects.get(mention=mention).claimed_by
    for response in responses:
        if response.status_code == 409:
            assert response.json()["claimed_by"] == (winner.get_full_name() or winner.username)
    assert TimelineEntry.objects.filter(incident=incident, kind="mention_claimed").count() == 1


def test_triaging_in_to_triage_lands_on_the_next_item_not_the_top(
    incident, attach_mentions, browser_client, drafter
):
    first, middle, last = attach_mentions(
        incident,
        *({"text": f"My KX-200 lid cracked ({n}), refund?", "language": "en"} for n in range(3)),
    )
    client = browser_client.as_user(drafter)
    tab = page_url(incident, "?view=to_triage")
    html = client.get(tab).content.decode()
    order = [int(pk) for pk in re.findall(r'id="mention-(\d+)"', html)]
    assert sorted(order) == sorted([first.pk, middle.pk, last.pk])
    neighbours = {
        int(a): int(b)
        for a, b in re.findall(
            r'/replies/(\d+)/triage/">\s*<input type="hidden" name="csrfmiddlewaretoken"[^>]*>'
            r'<input type="hidden" name="back"[^>]*><input type="hidden" name="neighbour" '
            r'value="(\d+)">',
            html,
        )
    }
    # Each item's forms name the one after it; the last, the one before.
    assert neighbours == {order[0]: order[1], order[1]: order[2], order[2]: order[1]}

    def triage(pk, **extra):
        data = {"author_type": "unhappy_customer", "needs_answer": "yes", "back": tab}
        return client.post(page_url(incident, f"{pk}/triage/"), {**data, **extra})

    # Triaged, it leaves "To triage": back at its neighbour.
    response = triage(order[1], neighbour=neighbours[order[1]])
    assert response["Location"] == f"{tab}#mention-{order[2]}"
    # A form that names no usable neighbour: the tab's top.
    assert triage(order[2], neighbour="²")["Location"] == tab
    # Still in the tab it was on (the note changed in "To answer"): at the item itself.
    to_answer = page_url(incident, "?view=to_answer")
    response = triage(order[1], back=to_answer, note="Called back", neighbour=order[0])
    assert response["Location"] == f"{to_answer}#mention-{order[1]}"


@pytest.mark.parametrize(
    "back",
    [
        "/incidents/{pk}/replies/../../../admin/",
        "/incidents/{pk}/replies/%2e%2e/%2e%2e/",
        "/incidents/{other}/replies/",
        "/incidents/{pk}/replies/review/",
        "//evil.example/incidents/{pk}/replies/",
        "https://evil.example/incidents/{pk}/replies/",
        "/incidents/{pk}/replies/?view=to_answer" + "&a" * 1200,
    ],
    ids=["dots", "encoded-dots", "other-incident", "review-page", "other-host", "scheme", "fields"],
)
def test_a_form_comes_back_only_to_this_queue(
    incident, mention, browser_client, drafter, declare, back
):
    """`back` names one of this queue's tabs; anything else comes back to the queue itself
    (after the action ran: never an error page for it)."""
    other = declare(title="Other incident")
    response = browser_client.as_user(drafter).post(
        page_url(incident, f"{mention.pk}/triage/"),
        {
            "author_type": "unhappy_customer",
            "needs_answer": "yes",
            "back": back.format(pk=incident.pk, other=other.pk),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(incident) + f"#mention-{mention.pk}"
    assert Triage.objects.get(mention=mention).author_type == "unhappy_customer"


def test_a_fragment_in_back_does_not_hide_the_item(incident, mention, browser_client, drafter):
    response = browser_client.as_user(drafter).post(
        page_url(incident, f"{mention.pk}/triage/"),
        {
            "author_type": "unhappy_customer",
            "needs_answer": "yes",
            "back": page_url(incident, "?view=to_answer#top"),
        },
    )
    assert response["Location"] == page_url(incident, f"?view=to_answer#mention-{mention.pk}")


def test_a_hater_answered_on_one_post_is_not_suggested_an_answer_on_the_next(
    incident, attach_mentions, api, drafter
):
    """The default playbooks: "the hater: one answer, one only, calm". Once one of their
    posts is answered, the suggestion for the others says no answer, and why."""
    first, second, _third, stranger = attach_mentions(
        incident,
        {"text": "Encore eux. Des menteurs, une honte.", "author_handle": "@Anti_KX"},
        {"text": "Toujours des menteurs. Une honte.", "author_handle": "anti_kx"},
        {"text": "Menteurs. Honte à eux.", "author_handle": "@anti_kx"},
        {"text": "Une honte, cette marque.", "author_handle": "@someone_else"},
    )
    client = api.as_user(drafter)

    def suggested(mention):
        return client.get(api_url(incident, f"{mention.pk}/triage/")).json()["suggestion"]

    before = suggested(second)
    assert (before["author_type"], before["needs_answer"]) == ("hater_persistent", "yes")
    Triage.objects.create(
        incident=incident, mention=first, author_type="hater_persistent", outcome="answered"
    )
    after = suggested(second)
    assert (after["author_type"], after["needs_answer"]) == ("hater_persistent", "no")
    assert "already answered on another post" in after["reasons"]
    # Its own answer is not "another post"; someone else is another person.
    assert "already answered" not in suggested(first)["reason"]
    assert suggested(stranger)["needs_answer"] == "yes"


def test_a_reply_to_a_post_detached_since_holds_nobody(
    incident, attach_mentions, api, drafter, lead
):
    """A reply drafted to a post later detached from the incident neither blocks a reply to
    the author's other post nor counts as an answer (from a break-it pass)."""
    from incidents.listening import actions as listening_actions
    from incidents.replies import actions as reply_actions

    first, second = attach_mentions(
        incident,
        {"text": "Refund? Still nothing.", "author_handle": "@pat"},
        {"text": "Refund? Still nothing, again.", "author_handle": "@pat"},
    )
    reply_actions.reply_write(
        incident=incident, mention=first, actor=drafter, text="@pat We are on it.", channel="x"
    )
    listening_actions.mention_detach(mention=first, incident=incident, actor=lead)

    item = api.as_user(drafter).get(api_url(incident, f"{second.pk}/triage/")).json()
    assert "already answered on another post" not in item["suggestion"]["reasons"]
    assert "reply" in item["available_actions"]
