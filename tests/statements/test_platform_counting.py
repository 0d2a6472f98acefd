"""Lengths count the way each platform counts, after Unicode NFC, on the server and in the
editor's live counter alike (one rule: statements/limits.py); a thread never cuts a URL."""

import unicodedata

import pytest

from incidents.errors import InvalidInput
from statements import actions
from statements.limits import length, split_thread

pytestmark = pytest.mark.django_db

LONG_URL = "https://example.com/recall/" + "a" * 300


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("Hello", 5),
        ("é", 1),  # one character, composed or not
        (unicodedata.normalize("NFD", "é"), 1),
        ("😀", 2),  # emoji count 2
        ("👍🏽", 2),  # an emoji with its skin tone modifier is one emoji
        ("中", 2),  # CJK counts 2
        ("こんにちは", 10),
        (f"Read {LONG_URL}", 5 + 23),  # every URL counts 23, whatever its length
        ("http://a.co", 23),
        ("Ünïcödé", 7),  # Latin-1 supplement and extended Latin count 1
    ],
)
def test_x_counts_as_x_does(text, weighted):
    assert length(text, "x") == weighted


def test_other_channels_count_characters_after_nfc():
    assert length("😀" * 10, "facebook") == 10
    assert length(unicodedata.normalize("NFD", "Crème brûlée"), "linkedin") == len("Crème brûlée")


@pytest.mark.parametrize("text", ["😀" * 150, "中" * 150])
def test_x_refuses_what_x_would_refuse(make_statement, drafter, text):
    with pytest.raises(InvalidInput, match="20 characters over the 280-character limit"):
        actions.statement_submit(statement=make_statement(text=text), actor=drafter)


def test_x_accepts_a_short_post_with_a_long_url(make_statement, drafter):
    statement = make_statement(text=f"Our answer: {LONG_URL}")
    statement = actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "in_review" and statement.text.endswith(LONG_URL)


def test_the_thread_suggestion_never_cuts_a_url():
    text = " ".join(["Words of the statement that go on for a while."] * 8 + [LONG_URL] * 3)
    posts = split_thread(text, 280, "x")
    assert all(length(post, "x") <= 280 for post in posts)
    assert sum(post.count(LONG_URL) for post in posts) == 3  # each URL whole in one post


def test_the_thread_suggestion_counts_emoji_as_x_does():
    posts = split_thread("😀 " * 200, 280, "x")
    assert len(posts) >= 3 and all(length(post, "x") <= 280 for post in posts)


def test_decomposed_text_is_the_same_text(make_statement, drafter, approver):
    composed = "Nous présentons nos excuses : le visuel était déplacé."
    statement = make_statement(text=composed)
    statement = actions.statement_submit(statement=statement, actor=drafter)
    statement = actions.statement_approve(statement=statement, actor=approver, revision=1)
    pasted = unicodedata.normalize("NFD", composed)
    assert pasted != composed
    statement = actions.statement_edit(
        statement=statement, actor=drafter, text=pasted, base_revision=1
    )
    assert statement.revision == 1  # no new revision: the approval stands
    assert statement.status == "approved"
    assert statement.text == composed


def test_the_live_counter_asks_the_same_rule(client, drafter, incident):
    client.force_login(drafter)
    response = client.post("/statements/length/", {"text": "😀" * 150, "channel": "x"})
    assert response.json() == {"length": 300, "limit": 280, "over": 20}
    response = client.post("/statements/length/", {"text": f"a {LONG_URL}", "channel": "x"})
    assert response.json() == {"length": 25, "limit": 280, "over": 0}
    response = client.post("/statements/length/", {"text": "abc", "channel": "email"})
    assert response.json() == {"length": 3, "limit": None, "over": 0}


def test_the_live_counter_refuses_bad_input(client, drafter):
    client.force_login(drafter)
    assert client.post("/statements/length/", {"text": "a", "channel": "fax"}).status_code == 400
    huge = "a" * 100_001
    assert client.post("/statements/length/", {"text": huge, "channel": "x"}).status_code == 400
    assert client.get("/statements/length/").status_code == 405
    client.logout()
    assert client.post("/statements/length/", {"text": "a", "channel": "x"}).status_code == 302


def test_the_api_reports_the_length_as_the_channel_counts(api, make_statement, drafter):
    statement = make_statement(text="😀" * 150)
    body = api.as_user(drafter).get(f"/api/statements/{statement.pk}/").json()
    assert body["length"] == 300  # as X counts, like the editor's counter and submit
