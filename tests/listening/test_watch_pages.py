"""A watch's pages (new, edit) and their buttons on the Listening page: who may, what is
saved through the actions, how refused input is shown, and what they cost."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.listening import actions
from incidents.listening.ingest import MentionData
from incidents.listening.models import ExpectedBurst, Mention, Watch

from .conftest import assert_refused_beside, field_block, grant

pytestmark = pytest.mark.django_db

NEW = "/listening/watches/new/"


def edit_url(watch):
    return f"/listening/watches/{watch.pk}/edit/"


def form_data(**changes):
    """A complete page form, as the browser posts it."""
    data = {
        "name": "Rappel Lumière",
        "brand": "Maison Lumière",
        "keywords": "rappel lumière\r\n  lumiere recall  \r\n\r\n",
        "hashtags": "#RappelLumiere\r\nRappelLumiere",
        "handles": "@maisonlumiere.bsky.social",
        "exclusions": "lumière du jour",
        "languages": ["fr", "en"],
        "other_languages": "DE, es",
        "platforms": ["bluesky", "mastodon"],
        "volume_deviations": "3.5",
        "volume_min_count": "12",
        "tone_shift_points": "20",
        "tone_min_scored": "30",
        "subscribers": [],
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def page_form(client, url) -> dict:
    """What the page's form would post as it is shown (the edit page's current values)."""
    html = client.get(url).content.decode()
    data = form_data()
    for name in ("name", "brand", "other_languages", *actions.ALERT_RULES):
        tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        value = re.search(r'value="([^"]*)"', tag)
        data[name] = value.group(1) if value else ""
    for name in (*actions.TERM_LISTS,):
        found = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.S)
        data[name] = found.group(1)
    for name in ("languages", "platforms", "subscribers"):
        data[name] = re.findall(rf'name="{name}" value="([^"]+)"[^>]*checked', html)
    if re.search(r'name="is_active"[^>]*checked', html) is None:
        del data["is_active"]
    shown = re.search(r'name="shown" value="([^"]*)"', html)
    if shown:
        data["shown"] = unescape(shown.group(1))
    return data


def test_a_watch_editor_sets_up_a_watch_from_the_listening_page(
    watch_editor, reader, browser_client
):
    client = browser_client.as_user(watch_editor)
    listening = client.get("/listening/").content.decode()
    assert f'href="{NEW}"' in listening and "New watch" in listening
    page = client.get(NEW)
    assert page.status_code == 200
    html = page.content.decode()
    # Defaults shown (a whole threshold as "4", not "4.0"); every platform a checkbox; the
    # alerted people are listening readers.
    assert 'name="volume_deviations" value="4"' in html and 'name="is_active"' in html
    assert html.count('name="platforms"') >= 8
    assert f'value="{reader.pk}"' in html and "never deleted" in html
    # Whoever sets it up is alerted unless they untick themselves; nobody else is ticked.
    subscribers = page.context["form"]["subscribers"]
    assert [str(pk) for pk in subscribers.value()] == [str(watch_editor.pk)]
    assert f'value="{watch_editor.pk}" id="id_subscribers_' in html

    response = client.post(NEW, form_data(subscribers=[reader.pk, watch_editor.pk]))

    watch = Watch.objects.get(name="Rappel Lumière")
    assert response.status_code == 302
    assert response["Location"] == f"/listening/?chart={watch.pk}"
    assert watch.keywords == ["rappel lumière", "lumiere recall"]
    assert watch.hashtags == ["RappelLumiere"] and watch.handles == ["maisonlumiere.bsky.social"]
    assert watch.languages == ["fr", "en", "de", "es"]
    assert watch.platforms == ["bluesky", "mastodon"]
    assert (watch.volume_deviations, watch.volume_min_count) == (3.5, 12)
    assert (watch.tone_shift_points, watch.tone_min_scored) == (20, 30)
    assert watch.is_active and watch.created_by == watch_editor
    assert set(watch.subscribers.all()) == {reader, watch_editor}
    after = client.get(response["Location"]).content.decode()
    assert "Watch “Rappel Lumière” created" in after
    assert f'id="watch-{watch.pk}"' in after and f'href="{edit_url(watch)}"' in after


def test_a_new_watch_says_when_it_can_first_alert(watch, watch_editor, browser_client):
    """The detector compares an hour with the hour before it: a watch set up during an
    emerging crisis is silent for its first two hours, and its line says until when. Older
    posts imported give it that history at once."""
    client = browser_client.as_user(watch_editor)
    line = f'id="watch-{watch.pk}"'

    def shown():
        html = client.get("/listening/").content.decode()
        item = html[html.index(line) : html.index("</li>", html.index(line))]
        return "Learning its usual volume: alerts from" in item

    assert shown()
    older = MentionData(
        platform="bluesky",
        external_id="older",
        text="Maison Lumière, commande reçue",
        posted_at=timezone.now() - timedelta(hours=3),
        author_handle="alice",
    )
    actions.mentions_ingest(mentions=[older], source="test", actor=None)
    assert not shown()
    # Without that post, a watch created two hours ago has its hour before the last.
    Mention.objects.all().delete()
    assert shown()
    Watch.objects.filter(pk=watch.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert not shown()


def test_editing_shows_the_watch_and_changes_only_what_was_changed(
    watch, watch_editor, reader, browser_client
):
    actions.watch_update(watch=watch, actor=watch_editor, subscribers=[reader], languages=["it"])
    burst = ExpectedBurst.objects.create(
        watch=watch,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=2),
        created_by=watch_editor,
    )
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(watch))
    assert data["keywords"] == "maison lumière\nlumiere cosmetics"
    assert data["hashtags"] == "BoycottLumiere" and data["other_languages"] == "it"
    assert data["subscribers"] == [str(reader.pk)] and data["languages"] == []

    data["keywords"] += "\nlumière rappel"
    response = client.post(edit_url(watch), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    watch.refresh_from_db()
    assert watch.keywords == ["maison lumière", "lumiere cosmetics", "lumière rappel"]
    # What the page did not change stays as it was.
    assert watch.exclusions == ["lumière du jour"] and watch.languages == ["it"]
    assert list(watch.subscribers.all()) == [reader] and watch.is_active
    assert ExpectedBurst.objects.get() == burst and burst.created_by == watch_editor
    assert "Watch “Maison Lumière” saved." in client.get(response["Location"]).content.decode()


def test_stopping_a_watch_is_said_and_nothing_is_deleted(watch, watch_editor, browser_client):
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(watch))
    del data["is_active"]
    response = client.post(edit_url(watch), data, follow=True)
    watch.refresh_from_db()
    assert not watch.is_active and Watch.objects.count() == 1
    html = response.content.decode()
    assert "stopped: it no longer collects mentions nor alerts anyone" in html
    assert "(stopped)" in html
    data = page_form(client, edit_url(watch))  # the page as it now shows the watch
    data["is_active"] = "on"
    resumed = client.post(edit_url(watch), data, follow=True).content.decode()
    assert "resumed" in resumed
    watch.refresh_from_db()
    assert watch.is_active


def test_a_subscriber_who_lost_access_does_not_block_an_unrelated_edit(
    watch, watch_editor, make_user, browser_client
):
    former = grant(make_user("former"), "view_mention")
    actions.watch_update(watch=watch, actor=watch_editor, subscribers=[former])
    former.user_permissions.clear()
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(watch))
    assert data["subscribers"] == [str(former.pk)]  # still listed, so not dropped
    data["brand"] = "Lumière SA"
    assert client.post(edit_url(watch), data).status_code == 302
    watch.refresh_from_db()
    assert watch.brand == "Lumière SA" and list(watch.subscribers.all()) == [former]


def test_a_reader_who_may_not_change_watches_gets_403_and_no_button(watch, reader, browser_client):
    client = browser_client.as_user(reader)
    html = client.get("/listening/").content.decode()
    assert "Maison Lumière" in html
    assert NEW not in html and edit_url(watch) not in html and "/admin/" not in html
    assert edit_url(watch) not in client.get("/listening/panels/watches/").content.decode()
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403
    assert client.get(edit_url(watch)).status_code == 403
    assert client.post(edit_url(watch), form_data(name="Taken over")).status_code == 403
    assert Watch.objects.get().name == "Maison Lumière"


def test_people_without_listening_access_are_refused_as_on_the_listening_page(
    watch, outsider, lead, client
):
    for user in (outsider, lead):
        client.force_login(user)
        assert client.get("/listening/").status_code == 403
        assert client.get(NEW).status_code == 403
        assert client.post(edit_url(watch), form_data()).status_code == 403
    client.logout()
    assert client.get(NEW)["Location"].startswith("/accounts/login/")
    assert Watch.objects.count() == 1


def test_the_edit_links_follow_the_live_refresh_of_the_watches_panel(
    watch, watch_editor, browser_client
):
    html = browser_client.as_user(watch_editor).get("/listening/panels/watches/").content
    assert edit_url(watch) in html.decode()


def test_an_unknown_watch_is_404(watch_editor, browser_client):
    response = browser_client.as_user(watch_editor).get("/listening/watches/999/edit/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "Maison Lumière"}, "name", "already exists"),
        ({"keywords": "", "hashtags": "#", "handles": ""}, "keywords", "at least one keyword"),
        ({"keywords": "x" * 101}, "keywords", "is longer than 100 characters"),
        ({"exclusions": "a b c d e f g"}, "exclusions", "has more than 6 words"),
        ({"hashtags": "#kx-200"}, "hashtags", "“#kx-200” cannot be found: a hashtag is"),
        ({"handles": "@brand name"}, "handles", "“@brand name” is not a handle"),
        ({"handles": "@a b\n@c d"}, "handles", "“@a b” and “@c d” are not handles"),
        ({"hashtags": "#a-b\n#c-d"}, "hashtags", "“#a-b” and “#c-d” cannot be found"),
        (
            {"keywords": "!!\n🔥🔥\na\nb\nc\nd\nkettle"},
            "keywords",
            "“!!”, “🔥🔥”, “a”, “b”, “c” and 1 more are too short to search for",
        ),
        ({"exclusions": "\n".join(f"e{i}" for i in range(201))}, "exclusions", "At most 200"),
        ({"other_languages": "fr, french"}, "other_languages", "“french” is not a language code"),
        ({"volume_deviations": "0"}, "volume_deviations", "must be a number from 1 to 100."),
        (
            {"other_languages": "zz, english, 12"},
            "other_languages",
            "“zz”, “english” and “12” are not language codes",
        ),
        ({"tone_shift_points": "abc"}, "tone_shift_points", "Enter a whole number."),
        ({"platforms": ["myspace"]}, "platforms", "Select a valid choice."),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
    watch, watch_editor, browser_client, changes, field, message
):
    client = browser_client.as_user(watch_editor)
    before = list(Watch.objects.values())
    for url in (NEW, edit_url(watch)):
        data = form_data(**changes) if url == NEW else {**page_form(client, url), **changes}
        if url != NEW and field == "name" and "already" in message:
            actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
            before = list(Watch.objects.values())
            data["name"] = "Other"
        assert_refused_beside(client.post(url, data), field, message)
        assert list(Watch.objects.values()) == before


def test_every_refused_field_is_shown_at_once(watch, watch_editor, browser_client):
    """A new-user pass typed four mistakes and was told of one at a time."""
    client = browser_client.as_user(watch_editor)
    data = form_data(
        name=watch.name.upper(),  # taken, whatever the case
        keywords="",
        hashtags="",
        handles="",
        other_languages="xx, german",
        volume_min_count="-3",
    )
    response = client.post(NEW, data)
    assert_refused_beside(response, "name", "already exists")
    html = response.content.decode()
    assert "at least one keyword" in field_block(html, "keywords")
    assert "“xx” and “german” are not language codes" in field_block(html, "other_languages")
    assert "must be a whole number from 1" in field_block(html, "volume_min_count")
    assert Watch.objects.count() == 1


def test_every_problem_of_one_list_is_said_at_once(watch_editor, browser_client):
    # A keyword too long hid one too short (and a phrase too wordy) until the next save.
    client = browser_client.as_user(watch_editor)
    keywords = "\n".join(["x", "k" * 101, "l" * 102, "a b c d e f g", "kettle"])
    response = client.post(NEW, form_data(keywords=keywords))
    assert response.status_code == 422
    block = field_block(response.content.decode(), "keywords")
    assert f"“{'k' * 40}…” and “{'l' * 40}…” are longer than 100 characters" in block
    assert "“x” is too short to search for" in block
    assert "“a b c d e f g” has more than 6 words" in block
    assert Watch.objects.count() == 0
    # An exclusion that cancels a keyword is said with them, not on the next save.
    response = client.post(NEW, form_data(keywords="x\nKX-300", exclusions="KX-300"))
    html = response.content.decode()
    assert "“x” is too short" in field_block(html, "keywords")
    assert "“KX-300” is also a keyword" in field_block(html, "exclusions")


def test_a_field_the_form_refuses_does_not_hide_the_others_refusals(
    watch, watch_editor, browser_client
):
    # A blank brand (the form's own "required") and a keyword of no letters (the action's
    # rule): both said on the first save, for a new watch and an edit.
    client = browser_client.as_user(watch_editor)
    for url in (NEW, edit_url(watch)):
        changes = {"brand": "   ", "keywords": "!!", "volume_deviations": "x"}
        data = form_data(**changes) if url == NEW else {**page_form(client, url), **changes}
        response = client.post(url, data)
        assert_refused_beside(response, "brand", "This field is required.")
        html = response.content.decode()
        assert "“!!” is too short to search for" in field_block(html, "keywords")
        assert "Enter a number." in field_block(html, "volume_deviations")
    assert Watch.objects.count() == 1


def test_a_subscriber_who_may_not_read_listening_is_refused(
    watch, watch_editor, outsider, browser_client
):
    client = browser_client.as_user(watch_editor)
    for url in (NEW, edit_url(watch)):
        data = form_data() if url == NEW else page_form(client, url)
        response = client.post(url, {**data, "subscribers": [outsider.pk]})
        assert response.status_code == 422
        block = field_block(response.content.decode(), "subscribers")
        assert f"The person with the id {outsider.pk} may not read listening data" in block
    ghost = client.post(NEW, form_data(subscribers=["987654"])).content.decode()
    assert "There is no person with the id 987654." in field_block(ghost, "subscribers")
    assert Watch.objects.count() == 1 and not watch.subscribers.exists()


def test_the_form_pages_cost_the_same_whatever_the_number_of_people(
    watch, watch_editor, make_user, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(watch_editor)
    with CaptureQueriesContext(connection) as new_page:
        assert client.get(NEW).status_code == 200
    with CaptureQueriesContext(connection) as edit_page:
        assert client.get(edit_url(watch)).status_code == 200
    people = [grant(make_user(f"reader{i}"), "view_mention") for i in range(30)]
    actions.watch_update(watch=watch, actor=watch_editor, subscribers=people[:20])
    with django_assert_max_num_queries(len(new_page.captured_queries)):
        html = client.get(NEW).content.decode()
    assert html.count('name="subscribers"') == 31  # the editor and the 30 readers
    with django_assert_max_num_queries(len(edit_page.captured_queries)):
        html = client.get(edit_url(watch)).content.decode()
    assert len(re.findall(r'name="subscribers" value="\d+"[^>]*checked', html)) == 20
    # Session, user, permissions, the readers, the watch and its subscribers.
    assert len(new_page.captured_queries) <= 8 and len(edit_page.captured_queries) <= 10


def test_the_people_listed_are_bounded(watch_editor, make_user, browser_client, monkeypatch):
    from incidents.listening import forms

    monkeypatch.setattr(forms, "MAX_SUBSCRIBER_CHOICES", 3)
    for i in range(5):
        grant(make_user(f"reader{i}"), "view_mention")
    html = browser_client.as_user(watch_editor).get(NEW).content.decode()
    assert html.count('name="subscribers"') == 3
    assert "Only the first 3 people by name are listed." in html


def test_two_editors_saving_the_same_watch_keep_each_their_change(
    watch, watch_editor, make_user, browser_client
):
    """Both open the Edit page; one saves its languages, then the other its keywords from
    the page opened before: compared with the watch as stored at save time, the second
    save read the first one's languages as its own change and put them back (a concurrency
    break-it pass)."""
    from .conftest import grant

    other = grant(make_user("second-lead"), "view_mention", "change_watch")
    url = f"/listening/watches/{watch.pk}/edit/"
    first = page_form(browser_client.as_user(watch_editor), url)
    second = page_form(browser_client.as_user(other), url)
    second.update(languages=["fr", "en"], other_languages="de")
    assert browser_client.post(url, second).status_code == 302
    first.update(keywords="maison lumière\r\nlumiere cosmetics\r\nkx-200")
    assert browser_client.as_user(watch_editor).post(url, first).status_code == 302
    watch.refresh_from_db()
    assert watch.languages == ["fr", "en", "de"]
    assert watch.keywords == ["maison lumière", "lumiere cosmetics", "kx-200"]


@pytest.mark.django_db(transaction=True)
def test_two_changes_at_once_cannot_make_a_watch_its_rules_refuse(watch_editor):
    """A keyword and an equal exclusion sent at once, each valid alone, were both saved
    (each checked against the watch as it read it): the row is locked, the second is
    checked against the first's result and refused. Repeated, as a race would be."""
    from functools import partial

    from incidents.errors import InvalidInput
    from tests.helpers import run_concurrently

    for round_ in range(5):
        watch = actions.watch_create(
            actor=watch_editor, name=f"Race {round_}", brand="b", keywords=["kx"]
        )
        # Each with the watch as it read it before the other saved (its own copy).
        first, second = (Watch.objects.get(pk=watch.pk) for _ in range(2))
        calls = [
            partial(
                actions.watch_update, watch=first, actor=watch_editor, keywords=["kx", "clash"]
            ),
            partial(actions.watch_update, watch=second, actor=watch_editor, exclusions=["clash"]),
        ]
        results, refused, unexpected = run_concurrently(calls, errors=(InvalidInput,))
        assert unexpected == [] and len(results) == 1 and len(refused) == 1
        watch.refresh_from_db()
        assert not {"clash"} <= set(watch.keywords) & set(watch.exclusions)


@pytest.mark.django_db(transaction=True)
def test_a_refused_field_beside_a_topic_watch_is_said_not_a_server_error(
    watch, watch_editor, browser_client
):
    # The form checks the other fields with the action's rule outside any transaction:
    # the topic watch's row lock (a save's) raised on PostgreSQL.
    client = browser_client.as_user(watch_editor)
    data = form_data(name="", topic_watch=str(watch.pk))
    response = client.post(NEW, data)
    assert_refused_beside(response, "name", "This field is required.")
    assert Watch.objects.count() == 1
