"""A refused term is found by its line: the message names the lines of the list as given
(the page's box, blank lines counted; the API's entries), decided once by the action's
rule; the refused box is marked invalid for assistive technology, pointing at its message.
A watch saved before the "two forms of one term" rule can still be changed elsewhere (page,
admin, API), and a change to that list says which lines to delete."""

import re

import pytest
from django.contrib.auth.models import Permission

from incidents.errors import InvalidInput
from incidents.listening import actions
from incidents.listening.matching import Matcher
from incidents.listening.models import Watch

from .conftest import assert_refused_beside, field_block
from .test_watch_hardening_lookalikes import full_width
from .test_watch_pages import NEW, edit_url, form_data, page_form

pytestmark = pytest.mark.django_db

WIDE = full_width("boycott")


def refusal(actor, **values) -> dict:
    with pytest.raises(InvalidInput) as refused:
        actions.watch_create(actor=actor, name="Kettles", brand="Lumière", **values)
    return refused.value.extra["errors"]


# --- The lines -----------------------------------------------------------------------------


def test_each_refusal_names_the_lines_of_its_terms(watch_editor):
    keywords = ["kettle", "lid", "x" * 101, "kx", WIDE, "maison", "boycott", "a"]
    errors = refusal(watch_editor, keywords=keywords)["keywords"]
    assert errors[0].startswith("Line 3: “" + "x" * 40)
    assert errors[1].startswith("Line 8: “a” is too short to search for")
    assert errors[2].startswith(f"Lines 5 and 7: “{WIDE}” and “boycott” are the same term")
    assert errors[2].endswith("Keep one of these lines and delete the other.")


def test_several_terms_of_one_problem_name_all_their_lines(watch_editor):
    [message] = refusal(watch_editor, keywords=["kettle", "a", "b", "lid", "c"])["keywords"]
    assert message.startswith("Lines 2, 3 and 5: “a”, “b” and “c” are too short")
    many = ["kettle", *"abcdefghijkl"]  # one letter each: too short, twelve
    [message] = refusal(watch_editor, keywords=many)["keywords"]
    assert message.startswith("Lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more: ")


def test_an_exclusion_cancelling_a_keyword_is_named_on_its_line(watch_editor):
    errors = refusal(watch_editor, keywords=["kettle"], exclusions=["concours", "Kettle"])
    assert errors["exclusions"] == [
        "Line 2: “Kettle” is also a keyword: as an exclusion it would hide every post the "
        "keyword finds."
    ]


def test_the_page_counts_the_lines_as_its_box_shows_them(watch_editor, browser_client):
    """Blank lines count: the message's line is the line the person sees."""
    client = browser_client.as_user(watch_editor)
    keywords = f"kettle\r\n\r\nlid\r\n  \r\n{WIDE}\r\nboycott\r\n\r\n"
    response = client.post(NEW, form_data(keywords=keywords))
    html = assert_refused_beside(response, "keywords", f"Lines 5 and 6: “{WIDE}” and “boycott”")
    assert not Watch.objects.exists()
    # The box keeps what was typed, blank lines and all, so the lines still match.
    assert re.search(r'<textarea name="keywords"[^>]*>\n?kettle\n\nlid\n', html.replace("\r", ""))


@pytest.mark.parametrize(
    "separator", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_lines_end_only_where_the_box_ends_them(separator, watch_editor, browser_client):
    """str.splitlines also broke lines at a form feed, U+2028…, which a textarea shows inside
    a line: "kettle<FF>lid" then "a" is two lines in the box, refused as "Line 3". Only CR
    LF, LF and a lone CR end one; the others are spaces inside the term, as any whitespace."""
    client = browser_client.as_user(watch_editor)
    response = client.post(NEW, form_data(keywords=f"kettle{separator}lid\r\na"))
    assert_refused_beside(response, "keywords", "Line 2: “a” is too short to search for")
    client.post(NEW, form_data(name="Lids", keywords=f"kettle{separator}lid\rboycott\nlumière"))
    assert Watch.objects.get(name="Lids").keywords == ["kettle lid", "boycott", "lumière"]


def test_the_refused_box_is_marked_invalid_and_points_at_its_message(watch_editor, browser_client):
    client = browser_client.as_user(watch_editor)
    response = client.post(NEW, form_data(keywords=f"kettle\r\n{WIDE}\r\nboycott"))
    block = field_block(response.content.decode(), "keywords")
    box = re.search(r"<textarea [^>]*>", block).group(0)
    assert 'aria-invalid="true"' in box
    described = re.search(r'aria-describedby="([^"]+)"', box).group(1).split()
    assert described == ["id_keywords_helptext", "id_keywords_error"]
    error = re.search(r'<div id="id_keywords_error"[^>]*>(.*?)</div>', block, re.S).group(1)
    assert "Lines 2 and 3: " in error
    assert 'id="id_keywords_helptext"' in block
    # A field that was not refused is neither marked nor pointed at an error.
    hashtags = re.search(r"<textarea [^>]*>", field_block(response.content.decode(), "hashtags"))
    assert "aria-invalid" not in hashtags.group(0)
    assert 'aria-describedby="id_hashtags_helptext"' in hashtags.group(0)


def test_the_api_names_the_entries_as_lines(watch_editor, api):
    answer = api.as_user(watch_editor).post(
        "/api/watches/",
        {"name": "Kettles", "brand": "Lumière", "keywords": ["kettle", WIDE, "boycott"]},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["keywords"][0].startswith("Lines 2 and 3: ")


# --- A keyword and a hashtag of one word ---------------------------------------------------


def test_a_keyword_and_a_hashtag_of_one_word_find_different_posts_so_both_are_kept(
    watch_editor,
):
    """The matcher reads "#boycott" as one token: the keyword "boycott" does not find it,
    nor does the hashtag find the plain word. Neither is redundant: both are saved."""
    watch = actions.watch_create(
        actor=watch_editor, name="K", brand="K", keywords=["boycott"], hashtags=["#boycott"]
    )
    keyword_only = Watch(id=1, keywords=["boycott"], exclusions=[], hashtags=[], handles=[])
    keyword_only.languages = keyword_only.platforms = []
    hashtag_only = Watch(id=2, keywords=[], exclusions=[], hashtags=["boycott"], handles=[])
    hashtag_only.languages = hashtag_only.platforms = []
    matcher = Matcher([keyword_only, hashtag_only])
    assert matcher.match(text="On #boycott Lumière", platform="x") == [2]
    assert matcher.match(text="Boycott Lumière", platform="x") == [1]
    assert (watch.keywords, watch.hashtags) == (["boycott"], ["boycott"])


# --- A watch saved before the rule ---------------------------------------------------------


@pytest.fixture
def old_watch(watch):
    """A watch holding two forms of one term, saved before they were refused."""
    Watch.objects.filter(pk=watch.pk).update(
        keywords=["maison lumière", "lumiere cosmetics", "Maison Lumiere"]
    )
    watch.refresh_from_db()
    return watch


def test_an_old_watch_is_changed_elsewhere_on_its_page(old_watch, watch_editor, browser_client):
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(old_watch))
    data["brand"] = "Lumière SA"
    assert client.post(edit_url(old_watch), data).status_code == 302
    old_watch.refresh_from_db()
    assert old_watch.brand == "Lumière SA"
    assert old_watch.keywords == ["maison lumière", "lumiere cosmetics", "Maison Lumiere"]


def test_changing_its_terms_says_which_lines_to_delete(old_watch, watch_editor, browser_client):
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(old_watch))
    data["keywords"] = "maison lumière\r\nlumiere cosmetics\r\nMaison Lumiere\r\nkx-200"
    response = client.post(edit_url(old_watch), data)
    assert_refused_beside(
        response,
        "keywords",
        "Lines 1 and 3: “maison lumière” and “Maison Lumiere” are the same term",
    )
    assert "Keep one of these lines and delete the other." in response.content.decode()
    data["keywords"] = "maison lumière\r\nlumiere cosmetics\r\nkx-200"  # line 3 deleted
    assert client.post(edit_url(old_watch), data).status_code == 302
    old_watch.refresh_from_db()
    assert old_watch.keywords == ["maison lumière", "lumiere cosmetics", "kx-200"]


def test_blank_lines_alone_change_nothing(old_watch, watch_editor, browser_client):
    """A blank line added to the box is no change of the list: the old watch saves."""
    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(old_watch))
    data["keywords"] = "\r\n".join(["maison lumière", "", "lumiere cosmetics", "Maison Lumiere"])
    data["name"] = "Lumière"
    assert client.post(edit_url(old_watch), data).status_code == 302
    old_watch.refresh_from_db()
    assert old_watch.name == "Lumière" and len(old_watch.keywords) == 3


def admin_form(watch, **changes):
    data = {
        "name": watch.name,
        "brand": watch.brand,
        **{name: "\r\n".join(getattr(watch, name)) for name in actions.TERM_LISTS},
        "languages": "",
        "platforms": "",
        "is_active": "on",
        "topic_watch": "",
        **{name: str(getattr(watch, name)) for name in actions.ALERT_RULES},
        "subscribers": [],
    }
    return {**data, **changes}


def test_the_admin_uses_the_same_rule_and_says_the_same(
    old_watch, watch_editor, client, browser_client
):
    watch_editor.is_staff = True
    watch_editor.save()
    watch_editor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="listening", codename="change_watch")
    )
    client.force_login(watch_editor)
    url = f"/admin/listening/watch/{old_watch.pk}/change/"
    # Another field changed: saved, the old list left as it is (not merged).
    response = client.post(url, admin_form(old_watch, brand="Lumière SA"))
    assert response.status_code == 302, response.content.decode()[:2000]
    old_watch.refresh_from_db()
    assert old_watch.brand == "Lumière SA" and len(old_watch.keywords) == 3

    # The list changed: refused with the page's message, its lines named.
    keywords = "\r\n".join([*old_watch.keywords, "kx-200"])
    response = client.post(url, admin_form(old_watch, keywords=keywords))
    assert response.status_code == 200
    html = response.content.decode()
    expected = "Lines 1 and 3: “maison lumière” and “Maison Lumiere” are the same term"
    assert expected in html and 'aria-invalid="true"' in html
    data = page_form(browser_client.as_user(watch_editor), edit_url(old_watch))
    data["keywords"] = keywords
    page = browser_client.post(edit_url(old_watch), data).content.decode()
    message = re.search(r"Lines 1 and 3: [^<]*", page).group(0)
    assert message in html
    old_watch.refresh_from_db()
    assert "kx-200" not in old_watch.keywords


def test_the_api_changes_an_old_watch_elsewhere(old_watch, watch_editor, api):
    client = api.as_user(watch_editor)
    answer = client.patch(f"/api/watches/{old_watch.pk}/", {"brand": "SA"}, format="json")
    assert answer.status_code == 200, answer.content
    answer = client.patch(
        f"/api/watches/{old_watch.pk}/",
        {"keywords": [*old_watch.keywords, "kx-200"]},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["keywords"][0].startswith("Lines 1 and 3: ")
