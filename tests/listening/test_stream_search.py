"""Searching the mention stream: words folded as the watches' terms are, on the Listening
page and through the API, each page reading a bounded number of posts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.listening import selectors
from incidents.listening.choices import Sentiment, Source
from incidents.listening.matching import TextSearch, fold, fold_with_offsets
from incidents.listening.models import Mention, MentionMatch
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def stored(texts, *, watch=None, start=None, handle="user{i}.bsky.social", incident=None):
    """One mention per text, a minute apart (the last newest), written directly."""
    start = start or timezone.now() - timedelta(minutes=len(texts) + 1)
    rows = [
        Mention(
            platform="bluesky",
            external_id=f"s{start.timestamp():.0f}-{i}",
            text=text,
            posted_at=start + timedelta(minutes=i),
            collected_at=start + timedelta(minutes=i),
            author_handle=handle.format(i=i),
            author_name=f"Author {i}",
            language="fr",
            sentiment=Sentiment.NEGATIVE,
            source=Source.IMPORT,
            incident=incident,
        )
        for i, text in enumerate(texts)
    ]
    Mention.objects.bulk_create(rows)
    saved = list(Mention.objects.filter(external_id__startswith=f"s{start.timestamp():.0f}-"))
    if watch is not None:
        MentionMatch.objects.bulk_create(
            MentionMatch(mention=m, watch=watch, posted_at=m.posted_at, sentiment=m.sentiment)
            for m in saved
        )
    return sorted(saved, key=lambda m: m.posted_at)


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("rembours", "Toujours pas de REMBOURSEMENT après 3 semaines", True),
        ("remboursé", "Je n'ai jamais été rembourse", True),  # accents either way
        ("colis rembours", "Colis perdu, pas de remboursement", True),  # any order
        ("colis rembours", "Colis perdu, service client muet", False),  # every word
        ("ours", "Toujours pas de remboursement", False),  # a word's start, not its middle
        ("ecoclean", "Le scandale #EcoClean continue", True),
        ("@lumiere", "Merci @lumiere.bsky.social pour rien", True),
        ("l'oréal", "L'Oreal répond enfin", True),  # punctuation typed is ignored
        ("coeur", "Le cœur n'y est plus", True),  # œ and æ as two letters
        ("Œuvre", "Une oeuvre de charité", True),
        ("kx200", "Mon KX-200 fuit", True),  # letters then digits, any sign or none
        ("kx-200", "Mon KX200 fuit", True),
        ("200", "Mon KX200 fuit", True),
        ("dupont", "Vu par @l_dupont_conso", True),  # "_" separates words
        ("-cracked", "The lid cracked", False),  # an exclusion
        ("lid -cracked", "The lid is fine", True),
        ("lid OR couvercle", "Le couvercle a fondu", True),  # either
        ("kettle lid OR couvercle", "kettle only", False),  # kettle AND (lid OR couvercle)
        ('"cracked lid"', "the lid cracked", False),  # a phrase: in order
        ('"cracked lid"', "a cracked, lid", True),
    ],
)
def test_each_word_typed_begins_a_word_of_the_post(query, text, found):
    assert TextSearch(query).matches(text) is found


def test_nothing_searchable_is_no_search():
    for query in ("", "  ,;! ", "OR", "-", '""', "🔥"):
        assert not TextSearch(query), query
    many = TextSearch(" ".join(f"w{i}" for i in range(20)))
    assert many.truncated and many.matches(" ".join(f"w{i}" for i in range(8)))
    assert not TextSearch("a b c").truncated


@pytest.mark.parametrize(
    ("query", "text", "marked"),
    [
        ("rembours colis", "Colis perdu, pas de REMBOURSEMENT", ["Colis", "REMBOURSEMENT"]),
        ("decu", "Très DÉÇU, très déçu", ["DÉÇU", "déçu"]),  # accents: the letters as written
        ("coeur", "Un cœur brisé", ["cœur"]),  # one letter written, two typed
        ("kx200", "Le KX-200 a chauffé", ["KX-200"]),
        ('"pas de" -merci', "Toujours pas  de nouvelles", ["pas  de"]),
        ("colis OR carton", "Cartons abîmés", ["Cartons"]),  # to the end of the word
        ("colis -carton", "Colis et carton", ["Colis"]),  # an exclusion is not marked
        ("ecoclean", "Le #EcoClean, l'ecoclean", ["EcoClean", "ecoclean"]),
        ("re remb", "remboursement", ["remboursement"]),  # overlapping finds are one mark
        ("kettle", "Kettle\u0301\u0301 lid", ["Kettle\u0301\u0301"]),  # its accents too
    ],
)
def test_the_words_found_are_marked_where_they_are_written(query, text, marked):
    assert [text[a:b] for a, b in TextSearch(query).spans(text)] == marked


def test_folding_knows_where_each_folded_letter_comes_from():
    text = "Œuvre, e\u0301te\u0301, Straße, İstanbul, ﬁne, ASCII"
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text) and len(offsets) == len(folded)
    assert [text[offsets[i]] for i in range(3)] == ["Œ", "Œ", "u"]


def test_the_page_finds_the_posts_with_the_other_filters(reader, watch, browser_client):
    stored(
        [
            "Livraison en retard, aucun remboursement",
            "Super produit, merci",
            "Remboursé en deux jours, bravo",
            "Colis jamais arrivé",
        ],
        watch=watch,
    )
    client = browser_client.as_user(reader)
    page = client.get("/listening/", {"q": "rembours"})
    assert [m.text[:10] for m in page.context["mentions"]] == ["Remboursé ", "Livraison "]
    html = page.content.decode()
    assert 'name="q"' in html and 'value="rembours"' in html and "Clear" in html
    assert "aucun <mark>remboursement</mark>" in html and "<mark>Remboursé</mark> en" in html
    # The search keeps the other filters, and they keep it.
    both = client.get("/listening/", {"q": "rembours", "watch": watch.pk}).context
    assert len(both["mentions"]) == 2 and "q=rembours" in both["stream_query"]
    # The author is searched too, and marked where the page names them.
    by_author = client.get("/listening/", {"q": "user1"})
    assert len(by_author.context["mentions"]) == 1
    assert "<mark>user1</mark>" in by_author.content.decode()
    none = client.get("/listening/", {"q": "fromage"})
    assert none.context["mentions"] == [] and "No mention matches these filters." in (
        none.content.decode()
    )


def test_search_pages_go_back_and_end(reader, watch, browser_client):
    texts = [f"Post {i} " + ("remboursement" if i % 2 else "rien") for i in range(60)]
    stored(texts, watch=watch)
    client = browser_client.as_user(reader)
    first = client.get("/listening/", {"q": "rembours"}).context
    assert len(first["mentions"]) == 25 and first["searched_to"] is None
    second = client.get(f"/listening/?{first['older_query']}").context
    assert len(second["mentions"]) == 5 and second["older_query"] is None
    assert second["newest_query"] == "q=rembours"  # "Newest mentions": the search kept
    seen = [m.pk for m in first["mentions"] + second["mentions"]]
    assert len(set(seen)) == 30
    assert all("remboursement" in m.text for m in first["mentions"] + second["mentions"])


def test_a_page_reads_a_bounded_number_of_posts_then_offers_to_go_on(
    reader, watch, browser_client, monkeypatch
):
    monkeypatch.setattr(selectors, "SEARCH_SCAN", 40)
    monkeypatch.setattr(selectors, "SEARCH_CHUNK", 15)
    old = stored(
        ["Une vieille histoire de remboursement"], start=timezone.now() - timedelta(days=3)
    )
    stored([f"Post {i} sans rapport" for i in range(100)])
    client = browser_client.as_user(reader)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/listening/", {"q": "rembours"})
    assert first.context["mentions"] == [] and first.context["searched_to"]
    html = first.content.decode()
    assert "No match in 40 posts, back to" in html and "Search older mentions" in html
    assert "No mention matches" not in html
    scans = [q for q in queries.captured_queries if "SUBSTR" in q["sql"].upper()]
    assert len(scans) == 3  # 15 + 15 + 10 posts read
    # Going on: the next 40 posts, then the old post at the end of the stream.
    second = client.get(f"/listening/?{first.context['older_query']}").context
    assert second["mentions"] == [] and second["searched_to"] < first.context["searched_to"]
    third = client.get(f"/listening/?{second['older_query']}").context
    assert [m.pk for m in third["mentions"]] == [old[0].pk]
    assert third["searched_to"] is None and third["older_query"] is None


def test_the_api_searches_with_its_own_cursor(reader, watch, incident, lead, api):
    stored([f"Post {i} remboursement" for i in range(7)] + ["Rien à voir"], watch=watch)
    client = api.as_user(reader)
    first = client.get("/api/mentions/", {"q": "REMBOURS", "page_size": 5}).json()
    assert len(first["results"]) == 5 and first["previous"] is None and first["next"]
    assert first["results"][0]["text"] == "Post 6 remboursement"
    # The first page counts, as the pages do ("7 posts match").
    assert first["search"] == {
        "matched": 7,
        "counted_all": True,
        "counted_to": None,
        "searched_to": None,
    }
    second = client.get(first["next"]).json()
    assert [m["text"] for m in second["results"]] == [
        "Post 1 remboursement",
        "Post 0 remboursement",
    ]
    assert second["next"] is None
    assert second["search"]["matched"] is None and second["search"]["counted_all"] is None
    assert "search" not in client.get("/api/mentions/").json()  # no q, no search summary
    # Other filters apply with it; the incident's list searches only its mentions.
    assert (
        client.get("/api/mentions/", {"q": "rembours", "sentiment": "positive"}).json()["results"]
        == []
    )
    stored(["Remboursement promis dans la salle"], incident=incident)
    room = api.as_user(lead).get(f"/api/incidents/{incident.pk}/mentions/", {"q": "rembours"})
    assert [m["text"] for m in room.json()["results"]] == ["Remboursement promis dans la salle"]


@pytest.mark.parametrize(
    "params", [{"q": "x" * 201}, {"q": "colis", "cursor": "garbage"}, {"q": "🔥 !!"}]
)
def test_bad_searches_are_400(reader, api, params):
    assert_error(api.as_user(reader).get("/api/mentions/", params), 400)


def test_the_api_search_costs_a_bounded_number_of_queries(reader, watch, api, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_SCAN", 300)
    monkeypatch.setattr(selectors, "SEARCH_CHUNK", 100)
    stored([f"Post {i} sans rapport" for i in range(20)], watch=watch)
    client = api.as_user(reader)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/mentions/", {"q": "rembours"})
    stored(
        [f"Post {i} sans rapport" for i in range(1000)], start=timezone.now() - timedelta(days=2)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/mentions/", {"q": "rembours"})
    assert response.json()["next"] and response.json()["results"] == []
    summary = response.json()["search"]  # counted what it read, and says how far back
    assert summary["matched"] == 0 and not summary["counted_all"]
    assert summary["counted_to"] and summary["searched_to"] == summary["counted_to"]

    def reads(queries):
        return sum("SUBSTR" in q["sql"].upper() for q in queries.captured_queries)

    assert reads(few) == 1 and reads(many) == 3  # 20 posts in one read; 300 in three, no more


def test_the_room_searches_its_mentions_and_keeps_the_search_live(incident, lead, browser_client):
    stored(
        ["Remboursement refusé", "Colis perdu", "Remboursé enfin", "Rien à dire"],
        incident=incident,
        start=incident.declared_at,
    )
    Mention.objects.filter(text="Remboursé enfin").update(sentiment=Sentiment.POSITIVE)
    stored(["Remboursement ailleurs"])  # not attached: never in this room
    client = browser_client.as_user(lead)
    url = f"/incidents/{incident.pk}/mentions/"
    response = client.get(url, {"mentions_q": " rembours "})
    context = response.context
    assert [m.text for m in context["mentions"]] == ["Remboursé enfin", "Remboursement refusé"]
    html = response.content.decode()
    # The live refresh asks the same search again; chips and pages keep it.
    state = html[html.index('id="mentions-state"') :].split("</div>")[0]
    assert 'name="mentions_q" value="rembours"' in state
    chips = {value: query for value, _label, _n, query in context["mention_counts"]}
    assert chips["negative"] == "mentions_sentiment=negative&mentions_q=rembours"
    both = client.get(f"{url}?{chips['negative']}").context["mentions"]
    assert [m.text for m in both] == ["Remboursement refusé"]
    assert "<mark>Remboursement</mark> refusé" in html
    none = client.get(url, {"mentions_q": "fromage"}).content.decode()
    assert "No mention matches this search." in none
    # With a sentiment chip on, the empty answer says so and offers every sentiment.
    colis = client.get(url, {"mentions_q": "colis", "mentions_sentiment": "positive"})
    said = colis.content.decode()
    assert "No “Positive” mention matches this search." in said
    assert f'hx-get="{url}?mentions_q=colis"' in said
    # An older page is the page the live refresh asks for again.
    paged = client.get(url, {"mentions_q": "rembours", "mentions_before": "1-1"}).content.decode()
    state = paged[paged.index('id="mentions-state"') :].split("</div>")[0]
    assert 'name="mentions_before" value="1-1"' in state
    # The room page itself opens on the search from its address.
    room = client.get(f"/incidents/{incident.pk}/", {"mentions_q": "colis"}).content.decode()
    assert 'value="colis"' in room and "<mark>Colis</mark> perdu" in room
    assert "Rien à dire" not in room


def test_a_refused_filter_is_shown_and_the_others_still_apply(reader, watch, browser_client):
    stored(["Remboursement refusé", "Colis perdu"], watch=watch)
    client = browser_client.as_user(reader)
    page = client.get("/listening/", {"q": "rembours", "min_followers": "-1"})
    assert [m.text for m in page.context["mentions"]] == ["Remboursement refusé"]
    html = page.content.decode()
    assert "Not applied: A number of followers, 0 or more." in html and "Clear" in html
    too_long = client.get("/listening/", {"q": "x" * 201, "platform": "tiktok"})
    assert too_long.context["mentions"] == []  # the platform still applies
    html = too_long.content.decode()
    # The note is the field's description for assistive technologies (Django's id for it).
    assert 'aria-describedby="id_q_error"' in html
    assert '<p class="form-error small" id="id_q_error">Not applied:' in html


def test_the_room_says_a_search_too_long_is_not_applied(incident, lead, browser_client):
    stored(["Remboursement refusé", "Colis perdu"], incident=incident, start=incident.declared_at)
    url = f"/incidents/{incident.pk}/mentions/"
    response = browser_client.as_user(lead).get(url, {"mentions_q": "rembours " + "x" * 200})
    assert len(response.context["mentions"]) == 2  # the whole panel, not a cut search
    html = response.content.decode()
    assert "Not applied: Ensure this value has at most 200 characters" in html
    assert 'name="mentions_q"' not in html.split('id="mentions-state"')[1].split("</div>")[0]


def test_a_search_with_no_word_says_so(reader, watch, browser_client):
    stored(["Colis perdu"], watch=watch)
    page = browser_client.as_user(reader).get("/listening/", {"q": "🔥 !!!"})
    html = page.content.decode()
    assert "Nothing to search in what was typed" in html and "Clear" in html
    assert len(page.context["mentions"]) == 1


def test_the_first_page_counts_the_matches_among_the_posts_it_reads(
    reader, watch, browser_client, monkeypatch
):
    """How many people ask for a refund: the first page reads on to the budget to count;
    all of them when it reached the oldest post, else "of the N latest"."""
    stored([f"Post {i} " + ("remboursement" if i % 3 == 0 else "rien") for i in range(90)])
    client = browser_client.as_user(reader)
    first = client.get("/listening/", {"q": "rembours"})
    found = first.context["search_found"]
    assert (found.matched, found.counted_all) == (30, True)
    assert "30 posts match." in first.content.decode()
    later = client.get(f"/listening/?{first.context['older_query']}").context["search_found"]
    assert later.matched is None  # a later page stops at a full page: no count
    monkeypatch.setattr(selectors, "SEARCH_SCAN", 60)
    monkeypatch.setattr(selectors, "SEARCH_CHUNK", 25)
    partial = client.get("/listening/", {"q": "rembours"})
    found = partial.context["search_found"]
    assert (found.matched, found.counted_all) == (20, False) and found.counted_to
    assert "20 of the 60 latest posts match, back to" in partial.content.decode()
    assert len(partial.context["mentions"]) == 20 and partial.context["older_query"]


def test_a_marked_post_is_still_escaped(reader, watch, browser_client):
    stored(['<script>alert("remboursement")</script> & <b>rembourse</b>'], watch=watch)
    html = browser_client.as_user(reader).get("/listening/", {"q": "rembours"}).content.decode()
    assert "<script>alert" not in html and "<b>" not in html
    assert (
        "&lt;script&gt;alert(&quot;<mark>remboursement</mark>&quot;)&lt;/script&gt; &amp; "
        "&lt;b&gt;<mark>rembourse</mark>&lt;/b&gt;"
    ) in html


def test_a_word_found_far_in_a_long_post_is_shown_marked(reader, watch, browser_client):
    stored(["Maison Lumière " + "lorem ipsum " * 58 + "introuvable"], watch=watch)
    html = browser_client.as_user(reader).get("/listening/", {"q": "introuvable"}).content
    assert "<mark>introuvable</mark>" in html.decode()  # at character 700, past the 600 shown


def test_a_stream_of_exactly_the_posts_a_page_reads_is_read_to_its_end(
    reader, watch, browser_client, api, monkeypatch
):
    monkeypatch.setattr(selectors, "SEARCH_SCAN", 30)
    monkeypatch.setattr(selectors, "SEARCH_CHUNK", 15)
    stored(["Remboursement refusé"] + [f"Post {i} sans rapport" for i in range(29)], watch=watch)
    page = browser_client.as_user(reader).get("/listening/", {"q": "rembours"})
    assert page.context["searched_to"] is None and page.context["older_query"] is None
    assert "1 post matches." in page.content.decode()
    answer = api.as_user(reader).get("/api/mentions/", {"q": "rembours"}).json()
    assert answer["next"] is None
    assert answer["search"] == {
        "matched": 1,
        "counted_all": True,
        "counted_to": None,
        "searched_to": None,
    }
    # One post more: the reading stops short of the end, and says so.
    stored(["Plus ancien"], watch=watch, start=timezone.now() - timedelta(days=3))
    answer = api.as_user(reader).get("/api/mentions/", {"q": "rembours"}).json()
    assert answer["next"] and answer["search"]["counted_all"] is False
