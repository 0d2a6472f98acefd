"""Text people type: NFC everywhere, titles that show something, a bound on every text."""

import unicodedata

import pytest

from incidents import actions
from incidents.errors import InvalidInput
from incidents.text import SUMMARY_MAX, is_visible

pytestmark = pytest.mark.django_db


def declare(lead, **fields):
    values = {"title": "Bad buzz", "category": "brand", "origin": "online"} | fields
    return actions.incident_declare(actor=lead, **values)


@pytest.mark.parametrize(
    "title",
    ["\u200b\u200b", "\u2060", "\ufeff \u200d", "\u3164\u3164", "\u2800", " \t ", "\u034f"],
)
def test_a_title_of_invisible_characters_is_refused(lead, title):
    with pytest.raises(InvalidInput, match="visible characters"):
        declare(lead, title=title)


def test_visible_titles_pass():
    assert is_visible("é") and is_visible("中") and is_visible("😀") and is_visible("x\u200b")


def test_a_summary_over_the_limit_is_refused_with_its_size(lead):
    with pytest.raises(InvalidInput, match="5,000 characters"):
        declare(lead, summary="a" * (SUMMARY_MAX + 1))
    assert declare(lead, summary="a" * SUMMARY_MAX).summary == "a" * SUMMARY_MAX


def test_the_api_refuses_a_megabyte_summary(api, lead):
    api.force_authenticate(lead)
    body = {"title": "T", "category": "brand", "origin": "online", "summary": "a" * 1_000_000}
    response = api.post("/api/incidents/", body, format="json")
    assert response.status_code == 400 and "summary" in response.json()["errors"]


def test_texts_are_stored_in_nfc(lead):
    decomposed = unicodedata.normalize("NFD", "Crème brûlée à l'hôtel")
    incident = declare(lead, title=decomposed, summary=decomposed)
    composed = unicodedata.normalize("NFC", decomposed)
    assert incident.title == composed and incident.summary == composed
    entry = actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=decomposed)
    assert entry.text == composed


def test_a_note_of_invisible_characters_is_refused(lead):
    incident = declare(lead)
    with pytest.raises(InvalidInput):
        actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="\u200b")


def test_catching_up_with_after_is_paged_too(api, client, lead):
    incident = declare(lead)
    for n in range(250):
        actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text=f"n{n}")
    api.force_authenticate(lead)
    url = f"/api/incidents/{incident.pk}/timeline/?after=0"
    first = api.get(url).json()
    assert len(first["results"]) == 100 and first["results"][0]["seq"] == 1
    seen = [entry["seq"] for entry in first["results"]]
    following = first["next"]
    while following:
        page = api.get(following).json()
        seen += [entry["seq"] for entry in page["results"]]
        following = page["next"]
    assert seen == list(range(1, 252))  # the declaration, then the 250 notes, each once
    small = api.get(url + "&page_size=2").json()
    assert [e["seq"] for e in small["results"]] == [1, 2] and "after=2" in small["next"]

    client.force_login(lead)
    html = client.get(f"/incidents/{incident.pk}/timeline/?after=0")
    assert html["X-Timeline-More"] == "true" and html.content.count(b'<li class="entry ') == 200
    rest = client.get(f"/incidents/{incident.pk}/timeline/?after=200")
    assert rest["X-Timeline-More"] == "false" and rest.content.count(b'<li class="entry ') == 51
