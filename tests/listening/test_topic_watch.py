"""A watch's topic watch (the conversation it is part of, for the post-mortem's share of
voice): one level, checked once by actions.clean_watch for the API, the page and the admin."""

from functools import partial

import pytest

from incidents.errors import InvalidInput
from incidents.listening import actions
from tests.helpers import assert_error, run_concurrently

from .test_admin import watch_form
from .test_watch_pages import edit_url, field_block, page_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(watch_editor):
    return actions.watch_create(
        actor=watch_editor, name="Cosmetics", brand="Cosmetics", keywords=["cosmetics"]
    )


def refused(**values) -> str:
    with pytest.raises(InvalidInput) as error:
        actions.watch_update(**values)
    assert list(error.value.extra["errors"]) == ["topic_watch"]
    return error.value.message


def test_a_topic_is_one_level_active_or_not(watch, topic, watch_editor):
    other = actions.watch_create(actor=watch_editor, name="Rival", brand="Rival", keywords=["rv"])
    actions.watch_update(watch=topic, actor=watch_editor, is_active=False)
    actions.watch_update(watch=watch, actor=watch_editor, topic_watch=topic.pk)
    watch.refresh_from_db()
    assert watch.topic_watch == topic  # a stopped watch may still be the topic

    assert "its own topic" in refused(watch=other, actor=watch_editor, topic_watch=other.pk)
    # Not a chain, either way: a brand watch is no topic, a topic has no topic.
    assert "has a topic watch itself" in refused(watch=other, actor=watch_editor, topic_watch=watch)
    assert "is the topic watch of other watches" in refused(
        watch=topic, actor=watch_editor, topic_watch=other.pk
    )
    assert "no watch with the id 999999" in refused(
        watch=other, actor=watch_editor, topic_watch=999999
    )
    assert "a watch's id" in refused(watch=other, actor=watch_editor, topic_watch="cosmetics")
    actions.watch_update(watch=watch, actor=watch_editor, topic_watch=None)
    watch.refresh_from_db()
    assert watch.topic_watch is None


def test_the_api_shows_and_sets_it(watch, topic, watch_editor, api):
    editor = api.as_user(watch_editor)
    assert editor.get(f"/api/watches/{watch.pk}/").json()["topic_watch"] is None
    response = editor.patch(f"/api/watches/{watch.pk}/", {"topic_watch": topic.pk}, format="json")
    assert response.status_code == 200 and response.json()["topic_watch"] == topic.pk
    listed = {w["id"]: w["topic_watch"] for w in editor.get("/api/watches/").json()["results"]}
    assert listed == {watch.pk: topic.pk, topic.pk: None}
    chain = editor.patch(f"/api/watches/{topic.pk}/", {"topic_watch": watch.pk}, format="json")
    assert "has a topic watch itself" in assert_error(chain, 400)
    assert chain.json()["errors"]["topic_watch"]
    cleared = editor.patch(f"/api/watches/{watch.pk}/", {"topic_watch": None}, format="json")
    assert cleared.json()["topic_watch"] is None


def test_the_watch_page_sets_it_and_shows_a_refusal_beside_it(
    watch, topic, watch_editor, browser_client
):
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(watch))
    html = client.get(edit_url(watch)).content.decode()
    assert f'<option value="{topic.pk}">Cosmetics</option>' in field_block(html, "topic_watch")
    data["topic_watch"] = str(topic.pk)
    assert client.post(edit_url(watch), data).status_code == 302
    watch.refresh_from_db()
    assert watch.topic_watch == topic

    data = page_form(client, edit_url(topic))
    data["topic_watch"] = str(watch.pk)  # not offered (it has a topic), posted all the same
    response = client.post(edit_url(topic), data)
    assert response.status_code == 422
    assert "is not one of the available choices" in field_block(
        response.content.decode(), "topic_watch"
    )
    # Offered, but the topic of another watch cannot have a topic itself: the action says so.
    other = actions.watch_create(actor=watch_editor, name="Rival", brand="Rival", keywords=["rv"])
    data["topic_watch"] = str(other.pk)
    blocked = client.post(edit_url(topic), data).content.decode()
    assert "is the topic watch of other watches" in field_block(blocked, "topic_watch")
    topic.refresh_from_db()
    assert topic.topic_watch is None


def test_the_admin_checks_it_through_the_action(watch, topic, watch_editor, client):
    watch_editor.is_staff = True
    watch_editor.save()
    client.force_login(watch_editor)
    url = f"/admin/listening/watch/{topic.pk}/change/"
    itself = client.post(url, watch_form(name="Cosmetics", topic_watch=topic.pk))
    assert "its own topic watch" in itself.content.decode()
    saved = client.post(
        f"/admin/listening/watch/{watch.pk}/change/",
        watch_form(name="Maison Lumière", topic_watch=topic.pk),
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    watch.refresh_from_db()
    assert watch.topic_watch == topic


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mutual", [False, True])
def test_two_saves_at_once_never_make_a_chain(watch_editor, mutual):
    # A's topic becomes B while C's becomes A (or B's becomes C while C's becomes B): one of
    # the two is refused whatever the order, each reading the other's row under its lock,
    # and neither waits on the other in a cycle.
    def new(name):
        return actions.watch_create(actor=watch_editor, name=name, brand=name, keywords=[name])

    for round_ in range(4):
        a, b, c = (new(f"{name}{round_}") for name in "abc")
        first, second = ((b, c), (c, b)) if mutual else ((a, b), (c, a))
        saves = [
            partial(actions.watch_update, watch=watch, actor=watch_editor, topic_watch=topic.pk)
            for watch, topic in (first, second)[:: -1 if round_ % 2 else 1]
        ]
        done, refusals, unexpected = run_concurrently(saves, errors=(InvalidInput,))
        assert unexpected == [] and len(done) == len(refusals) == 1
        for watch in (a, b, c):
            watch.refresh_from_db()
        assert len([watch for watch in (a, b, c) if watch.topic_watch_id]) == 1
