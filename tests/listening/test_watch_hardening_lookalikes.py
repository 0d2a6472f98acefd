"""Look-alike watch names and terms (a break-it pass): invisible and text-direction
characters are refused, compatibility forms (full-width, mathematical bold) are the plain
letters for terms and posts alike, a word mixing look-alike alphabets is refused, and two
names differing only by such tricks are one. One rule (actions.clean_watch): the action,
the API, the watch page and the admin say the same."""

import pytest
from django.contrib.auth.models import Permission

from incidents.errors import InvalidInput
from incidents.listening import actions
from incidents.listening.models import Watch

from .conftest import assert_refused_beside
from .test_watch_pages import NEW, edit_url, form_data, page_form
from .test_watch_rematch import ingest as ingest_aged
from .test_watch_rematch import on_watch

pytestmark = pytest.mark.django_db

ZERO_WIDTH_SPACE = "\u200b"
RIGHT_TO_LEFT_OVERRIDE = "\u202e"
BYTE_ORDER_MARK = "\ufeff"
BELL = "\x07"
CYRILLIC_KA = "\u041a"  # looks like a Latin K
CYRILLIC_A = "\u0430"  # looks like a Latin a
GREEK_OMICRON = "\u03bf"  # looks like a Latin o


def full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms ("KX" -> U+FF2B U+FF38)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def bold(text: str) -> str:
    """Latin letters as MATHEMATICAL BOLD letters, digits as bold digits (fancy-font posts)."""
    out = []
    for c in text:
        if "A" <= c <= "Z":
            out.append(chr(0x1D400 + ord(c) - ord("A")))
        elif "a" <= c <= "z":
            out.append(chr(0x1D41A + ord(c) - ord("a")))
        elif "0" <= c <= "9":
            out.append(chr(0x1D7CE + ord(c) - ord("0")))
        else:
            out.append(c)
    return "".join(out)


def create(actor, **values):
    return actions.watch_create(
        actor=actor, **{"name": "Kettles", "brand": "Maison Lumière", **values}
    )


def refusal(actor, **values) -> dict:
    with pytest.raises(InvalidInput) as refused:
        create(actor, **values)
    return refused.value.extra["errors"]


def ingest(*posts):
    """Store (external id, text) posts of an hour ago as a connector would."""
    ingest_aged(*[(external_id, text, 1) for external_id, text in posts])


# --- Invisible and text-direction characters ---------------------------------------------


@pytest.mark.parametrize(
    "hidden", [ZERO_WIDTH_SPACE, RIGHT_TO_LEFT_OVERRIDE, BYTE_ORDER_MARK, BELL], ids=repr
)
@pytest.mark.parametrize("field", ["keywords", "exclusions", "hashtags", "handles"])
def test_a_term_holding_an_invisible_or_direction_character_is_refused(watch_editor, field, hidden):
    values = {"keywords": ["kettle"], field: [f"boy{hidden}cott"]}
    errors = refusal(watch_editor, **values)
    [message] = errors[field]
    # The character is named by its code, never written as is (an override would turn
    # the sentence around it).
    code = f"U+{ord(hidden):04X}"
    assert f"boy⟨{code}⟩cott" in message and hidden not in message
    assert "invisible or text-direction character" in message
    assert "type it again without it" in message
    assert not Watch.objects.exists()


def test_several_such_terms_are_named_at_once(watch_editor):
    errors = refusal(watch_editor, keywords=[f"a{ZERO_WIDTH_SPACE}b", f"c{BYTE_ORDER_MARK}d"])
    [message] = errors["keywords"]
    assert "“a⟨U+200B⟩b” and “c⟨U+FEFF⟩d” hold invisible or text-direction characters" in (message)


@pytest.mark.parametrize("hidden", [ZERO_WIDTH_SPACE, RIGHT_TO_LEFT_OVERRIDE, BELL], ids=repr)
@pytest.mark.parametrize("field", ["name", "brand"])
def test_a_name_or_brand_holding_one_is_refused(watch_editor, field, hidden):
    errors = refusal(watch_editor, keywords=["kettle"], **{field: f"Kett{hidden}les"})
    [message] = errors[field]
    assert "holds an invisible or text-direction character" in message
    assert "type it again without it" in message


def test_the_api_the_page_and_the_admin_say_the_same(watch_editor, api, browser_client):
    term = f"boy{RIGHT_TO_LEFT_OVERRIDE}cott"
    answer = api.as_user(watch_editor).post(
        "/api/watches/",
        {"name": "Kettles", "brand": "Lumière", "keywords": [term]},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert "boy⟨U+202E⟩cott" in answer.json()["errors"]["keywords"][0]

    client = browser_client.as_user(watch_editor)
    response = client.post(NEW, form_data(keywords=f"kettle\r\n{term}"))
    assert_refused_beside(response, "keywords", "boy⟨U+202E⟩cott")

    watch_editor.is_staff = True
    watch_editor.save()
    watch_editor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="listening", codename="add_watch")
    )
    admin = client.post(
        "/admin/listening/watch/add/",
        {
            "name": f"Kett{ZERO_WIDTH_SPACE}les",
            "brand": "Lumière",
            "keywords": "kettle",
            "volume_deviations": "4",
            "volume_min_count": "10",
            "tone_shift_points": "25",
            "tone_min_scored": "25",
        },
    )
    assert admin.status_code == 200
    assert "holds an invisible or text-direction character" in admin.content.decode()
    assert not Watch.objects.exists()


# --- Compatibility forms -------------------------------------------------------------------


def test_a_full_width_term_is_stored_and_matched_as_its_plain_form(watch_editor):
    watch = create(
        watch_editor,
        keywords=[full_width("KX200"), "kettle"],
        hashtags=[full_width("#BoycottLumiere")],  # the full-width "#" taken off too
        handles=[full_width("@maisonlumiere.bsky.social")],
    )
    assert watch.keywords == ["KX200", "kettle"]  # as the matcher reads it
    assert watch.hashtags == ["BoycottLumiere"]
    assert watch.handles == ["maisonlumiere.bsky.social"]

    ingest(
        ("plain", "My KX200 leaks"),
        ("wide", f"My {full_width('KX200')} leaks"),
        ("bold", f"{bold('KX200')} {bold('LEAKS')} everywhere"),  # a fancy-font post
        ("bold-tag", f"Enough {bold('#BoycottLumiere')}"),
        ("other", "My KX300 is fine"),
    )
    assert on_watch(watch) == {"plain", "wide", "bold", "bold-tag"}


def test_a_post_with_invisible_characters_inside_a_word_still_matches(watch_editor):
    watch = create(watch_editor, keywords=["maison lumière", "boycott"])
    ingest(
        ("split", f"Maison Lu{ZERO_WIDTH_SPACE}mière a raté ma livraison"),
        ("soft-hyphen", "Je dis boy\u00adcott"),
        ("turned", f"{RIGHT_TO_LEFT_OVERRIDE}boycott"),
        ("other", "Maison Lune"),
    )
    assert on_watch(watch) == {"split", "soft-hyphen", "turned"}


# --- Look-alike alphabets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "term", "shown", "odd"),
    [
        ("keywords", f"{CYRILLIC_KA}ettle", f"“{CYRILLIC_KA}ettle”", "Cyrillic"),
        (
            "keywords",
            f"maison lumiere {CYRILLIC_KA}X200",
            f"“maison lumiere {CYRILLIC_KA}X200”",
            "Cyrillic",
        ),
        ("exclusions", f"c{GREEK_OMICRON}ncours", f"“c{GREEK_OMICRON}ncours”", "Greek"),
        ("hashtags", f"Boycott{CYRILLIC_A}", f"“#Boycott{CYRILLIC_A}”", "Cyrillic"),
        (
            "handles",
            f"m{CYRILLIC_A}isonlumiere.bsky.social",
            f"“@m{CYRILLIC_A}isonlumiere",
            "Cyrillic",
        ),
        # A full-width Latin K beside a Cyrillic letter: compared as the plain K.
        ("keywords", f"{full_width('K')}{CYRILLIC_A}ttle", f"“K{CYRILLIC_A}ttle”", "Cyrillic"),
    ],
)
def test_a_term_mixing_look_alike_alphabets_is_refused_naming_it(
    watch_editor, field, term, shown, odd
):
    errors = refusal(watch_editor, **{"keywords": ["kettle"], field: [term]})
    [message] = errors[field]
    assert shown in message
    # The letter that is not what it looks like is named, with its alphabet: on screen the
    # word looks like any other.
    assert "mixes alphabets in" in message and f"” is {odd}" in message
    assert "Type it again in one alphabet" in message


@pytest.mark.parametrize(
    "term",
    ["µTorrent", "5µm", "10kΩ", "ΔT", "\u062f\u06cc\u062c\u06cc\u200c\u06a9\u0627\u0644\u0627"],
)  # Digikala
def test_real_names_with_a_micro_sign_a_greek_letter_or_a_joiner_are_accepted(watch_editor, term):
    # µ and Ω are Greek once normalised, but look like no Latin letter; Persian and Indic
    # scripts need the zero-width (non-)joiner, which folding drops on both sides.
    watch = create(watch_editor, keywords=[term])
    assert len(watch.keywords) == 1


@pytest.mark.parametrize(
    "term",
    [
        "Kettl\u034f\u0435",  # an invisible grapheme joiner splitting a mixed word
        "Kettles\ufe0f",  # a variation selector
        "Kettl\u0483\u0435",  # a combining mark splitting a mixed word
    ],
)
def test_marks_that_show_nothing_hide_no_look_alike(watch_editor, term):
    errors = refusal(watch_editor, keywords=[term])
    assert errors["keywords"]


@pytest.mark.parametrize(
    "hidden", ["\ufe0f", "\ufe00", "\U000e0100", "\U0001d173", "\u180b", "\u3164"]
)
def test_a_post_holding_a_mark_that_shows_nothing_still_matches(watch_editor, hidden):
    watch = create(watch_editor, keywords=["boycott"])
    ingest(("post", f"On appelle au boy{hidden}cott de la marque"))
    assert on_watch(watch) == {"post"}


def test_words_each_in_one_alphabet_are_accepted(watch_editor):
    watch = create(
        watch_editor,
        keywords=["чайник kettle", "Κεντρικό", "Lumière"],
        hashtags=["чайник"],
    )
    assert watch.keywords == ["чайник kettle", "Κεντρικό", "Lumière"]


# --- Names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "maison lumière",
        "Maison Lumiere",
        full_width("Maison") + " Lumière",
        bold("Maison Lumiere"),
    ],
)
def test_names_differing_only_by_such_tricks_are_one_watch(watch, watch_editor, api, name):
    errors = refusal(watch_editor, name=name, keywords=["kettle"])
    assert errors["name"] == ["A watch named “Maison Lumière” already exists."]
    answer = api.as_user(watch_editor).post(
        "/api/watches/", {"name": name, "brand": "x", "keywords": ["kettle"]}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["name"] == ["A watch named “Maison Lumière” already exists."]
    assert Watch.objects.count() == 1


def test_a_name_mixing_look_alike_alphabets_is_refused(watch_editor):
    errors = refusal(watch_editor, name=f"Maison {CYRILLIC_KA}ettles", keywords=["kettle"])
    [message] = errors["name"]
    assert f"“{CYRILLIC_KA}ettles”" in message and "in one alphabet" in message
    # A name in another alphabet, or two words in two, is a name.
    assert create(watch_editor, name="Чайники Kettles", keywords=["kettle"]).pk


def test_renaming_to_a_look_alike_of_another_watch_is_refused(watch, watch_editor):
    other = create(watch_editor, name="Kettles", keywords=["kettle"])
    with pytest.raises(InvalidInput, match="“Maison Lumière” already exists"):
        actions.watch_update(watch=other, actor=watch_editor, name=full_width("MAISON LUMIERE"))
    # Its own name, written differently: still its own.
    renamed = actions.watch_update(watch=other, actor=watch_editor, name="KETTLES")
    assert renamed.name == "KETTLES"


# --- One term written in two forms ------------------------------------------------------
# A full-width "boycott" beside the plain one was merged into one term on save, and nobody
# was told: both are refused, named, so that the person keeps the one they mean.


SAME = "are the same term: each finds the same posts"


@pytest.mark.parametrize(
    ("field", "written", "named"),
    [
        (
            "keywords",
            [full_width("boycott"), "boycott"],
            f"“{full_width('boycott')}” and “boycott”",
        ),
        (
            "exclusions",
            [full_width("concours"), "concours"],
            f"“{full_width('concours')}” and “concours”",
        ),
        (
            "hashtags",
            [full_width("#BoycottLumiere"), "#BoycottLumiere"],
            f"“#{full_width('BoycottLumiere')}” and “#BoycottLumiere”",
        ),
        (
            "handles",
            [full_width("@maisonlumiere"), "maisonlumiere"],
            f"“@{full_width('maisonlumiere')}” and “@maisonlumiere”",
        ),
        # The case, the accents and (in a keyword) the punctuation between words do not
        # count either.
        ("keywords", ["Maison Lumière", "maison lumiere"], "“Maison Lumière” and “maison lumiere”"),
        ("keywords", ["KX-200", "kx 200", "KX 200"], "“KX-200”, “kx 200” and “KX 200”"),
        (
            "hashtags",
            ["BoycottLumiere", "#boycottlumiere"],
            "“#BoycottLumiere” and “#boycottlumiere”",
        ),
        ("handles", ["@MaisonLumiere", "maisonlumiere"], "“@MaisonLumiere” and “@maisonlumiere”"),
    ],
)
def test_one_term_written_in_two_forms_is_refused_naming_both(watch_editor, field, written, named):
    values = {"keywords": ["kettle"], field: written}
    errors = refusal(watch_editor, **values)
    [message] = errors[field]
    # Where they are first: the lines of the list as given (the page's box).
    lines = "Lines 1, 2 and 3" if len(written) == 3 else "Lines 1 and 2"
    assert message.startswith(f"{lines}: {named} {SAME}")
    others = "the other 2" if len(written) == 3 else "the other"
    assert message.endswith(f"Keep one of these lines and delete {others}.")
    assert not Watch.objects.exists()


def test_the_message_says_what_does_not_count(watch_editor):
    keyword = refusal(watch_editor, keywords=["Boycott", "boycott"])["keywords"][0]
    assert "(case, accents, punctuation between words and character width do not count)" in (
        keyword
    )
    hashtag = refusal(watch_editor, keywords=["kx"], hashtags=["Boycott", "boycott"])["hashtags"][0]
    assert "(case, accents and character width do not count)" in hashtag


def test_the_same_entry_twice_is_kept_once_unsaid(watch_editor):
    """Nothing to choose between: the same entry twice (a list pasted twice, a hashtag with
    and without its #) is one term, saved."""
    watch = create(
        watch_editor,
        keywords=["boycott", "  boycott ", "maison  lumière", "maison lumière"],
        hashtags=["#BoycottLumiere", "BoycottLumiere", full_width("#") + "BoycottLumiere"],
        handles=["@maisonlumiere", "maisonlumiere"],
    )
    assert watch.keywords == ["boycott", "maison lumière"]
    assert (watch.hashtags, watch.handles) == (["BoycottLumiere"], ["maisonlumiere"])


def test_canonically_equal_entries_are_one_entry_and_joiners_are_shown(watch_editor):
    """ "café" typed and "cafe" + a combining accent (pasted from a Mac) are the same text:
    one entry, not two "same terms" that look identical; a ZWJ, invisible but kept, is
    written as its code when it alone tells two named forms apart. The Kelvin sign is K."""
    watch = create(watch_editor, keywords=["café", "cafe\u0301", "\u212aettle", "Kettle"])
    assert watch.keywords == ["café", "Kettle"]
    errors = refusal(watch_editor, keywords=["kx\u200d200", "kx200", "lid"])
    assert errors["keywords"][0].startswith(f"Lines 1 and 2: “kx⟨U+200D⟩200” and “kx200” {SAME}")


def test_every_term_written_in_several_forms_is_said_at_once(watch_editor):
    errors = refusal(watch_editor, keywords=["Boycott", "boycott", "KX200", "kx200", "kettle"])
    assert errors["keywords"] == [
        f"Lines 1 and 2: “Boycott” and “boycott” {SAME} (case, accents, punctuation between "
        "words and character width do not count). Keep one of these lines and delete the other.",
        f"Lines 3 and 4: “KX200” and “kx200” {SAME} (case, accents, punctuation between words "
        "and character width do not count). Keep one of these lines and delete the other.",
    ]
    many = [f"term{i}" for i in range(7)] + [f"TERM{i}" for i in range(7)]
    errors = refusal(watch_editor, keywords=many)
    assert len(errors["keywords"]) == actions.TERMS_NAMED + 1
    assert errors["keywords"][-1] == (
        "2 more terms are written in several forms: keep one form of each."
    )


def test_a_term_refused_for_another_reason_is_not_named_twice(watch_editor):
    long = "x" * 101
    errors = refusal(watch_editor, keywords=[long, long.upper(), "kettle"])
    [message] = errors["keywords"]
    assert "is longer than 100 characters" in message


def test_an_edit_the_api_and_the_page_say_the_same(watch, watch_editor, api, browser_client):
    """The one rule (clean_watch): adding a term's other form to a saved watch is refused
    through the action, the API and the watch's page alike; nothing is saved."""
    wide = full_width("maison lumière")
    with pytest.raises(InvalidInput, match=SAME):
        actions.watch_update(watch=watch, actor=watch_editor, keywords=[*watch.keywords, wide])

    answer = api.as_user(watch_editor).patch(
        f"/api/watches/{watch.pk}/", {"keywords": [*watch.keywords, wide]}, format="json"
    )
    assert answer.status_code == 400, answer.content
    [message] = answer.json()["errors"]["keywords"]
    assert message.startswith(f"Lines 1 and 3: “maison lumière” and “{wide}” {SAME}")

    client = browser_client.as_user(watch_editor)
    data = page_form(client, edit_url(watch))
    data["keywords"] = "\r\n".join([*watch.keywords, wide])
    response = client.post(edit_url(watch), data)
    assert_refused_beside(
        response, "keywords", f"Lines 1 and 3: “maison lumière” and “{wide}” {SAME}"
    )
    watch.refresh_from_db()
    assert watch.keywords == ["maison lumière", "lumiere cosmetics"]
