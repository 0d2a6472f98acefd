"""Handling advice per author type (French and English) and known ambassadors: edited with
the playbook in the admin, carried by the JSON file, copied into the incident when it is
applied, and handed to the reply queue through incidents.extensions."""

import pytest

from incidents import extensions
from incidents.playbooks import actions, portable
from incidents.playbooks.models import MAX_ADVICE, Contact, PlaybookAdvice
from tests.playbooks.test_admin import ADD, playbook_form

pytestmark = pytest.mark.django_db

TROLL_EN = "Do not feed them: no answer, and keep the evidence."
TROLL_FR = "Ne pas les nourrir : aucune réponse, et garder les preuves."


@pytest.fixture
def advised(make_playbook):
    playbook = make_playbook(name="Advised", contacts=0)
    PlaybookAdvice.objects.create(
        playbook=playbook, author_type="troll", text_en=TROLL_EN, text_fr=TROLL_FR
    )
    PlaybookAdvice.objects.create(playbook=playbook, author_type="defender", text_fr="Merci !")
    Contact.objects.create(
        playbook=playbook, kind="ambassador", name="Dana", handle="Dana.bsky.social",
        platform="bluesky",
    )  # fmt: skip
    Contact.objects.create(playbook=playbook, kind="ambassador", name="No handle")
    Contact.objects.create(playbook=playbook, kind="stakeholder", name="Shop", handle="@shop")
    return playbook


def test_the_admin_saves_the_advice_with_the_playbook(admin_browser, policies):
    advice = [{"author_type": "troll", "text_en": TROLL_EN, "text_fr": TROLL_FR}]

    response = admin_browser.post(ADD, playbook_form(advice=advice))

    assert response.status_code == 302, response.context and response.context["errors"]
    row = PlaybookAdvice.objects.get()
    assert (row.author_type, row.text_en, row.text_fr) == ("troll", TROLL_EN, TROLL_FR)
    assert row.texts() == {"en": TROLL_EN, "fr": TROLL_FR}


@pytest.mark.parametrize(
    "advice, message",
    [
        ([{"author_type": "troll", "text_en": "x" * (MAX_ADVICE + 1)}], str(MAX_ADVICE)),
        (
            [{"author_type": "troll", "text_en": "a"}, {"author_type": "troll", "text_fr": "b"}],
            "The author type “Troll” has more than one handling advice: keep one.",
        ),
        ([{"author_type": "spammer", "text_en": "a"}], "spammer"),
    ],
)
def test_the_admin_refuses_bad_advice_and_saves_nothing(admin_browser, policies, advice, message):
    response = admin_browser.post(ADD, playbook_form(advice=advice))

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][4].formset
    assert message in str(formset.errors) + str(formset.non_form_errors())
    assert not PlaybookAdvice.objects.exists()


def test_the_playbook_page_offers_the_advice_inline(admin_browser, advised):
    page = admin_browser.get(f"/admin/playbooks/playbook/{advised.pk}/change/").content.decode()

    assert 'name="advice-TOTAL_FORMS"' in page
    assert TROLL_FR in page


# --- The JSON file ----------------------------------------------------------------------------


def test_export_and_import_round_trip_the_advice(advised):
    data = portable.export_playbook(advised)
    assert data["advice"] == [
        {"author_type": "defender", "text_en": "", "text_fr": "Merci !"},
        {"author_type": "troll", "text_en": TROLL_EN, "text_fr": TROLL_FR},
    ]
    text = portable.dumps(data)
    advised.delete()

    [result] = actions.playbooks_import(actor=None, data=portable.read_json(text.encode()))

    assert portable.dumps(portable.export_playbook(result.playbook)) == text
    # Replacing with the same file changes nothing; with other advice, exactly that.
    [same] = actions.playbooks_import(actor=None, data=data, replace=True)
    assert same.outcome == portable.Outcome.UNCHANGED
    data["advice"] = [{"author_type": "press", "text_en": "Send them to the spokesperson."}]
    [replaced] = actions.playbooks_import(actor=None, data=data, replace=True)
    assert replaced.outcome == portable.Outcome.REPLACED
    assert list(PlaybookAdvice.objects.values_list("author_type", "text_en", "text_fr")) == [
        ("press", "Send them to the spokesperson.", "")
    ]


def test_a_file_without_advice_imports_with_none(make_playbook):
    data = portable.export_playbook(make_playbook(name="Old file"))
    del data["advice"]
    data["name"] = "Old file, imported"

    [result] = actions.playbooks_import(actor=None, data=data)

    assert portable.export_playbook(result.playbook)["advice"] == []


@pytest.mark.parametrize(
    "advice, expected",
    [
        (
            [{"author_type": "troll", "text_fr": "x" * (MAX_ADVICE + 1)}],
            f"“text_fr”: Ensure this value has at most {MAX_ADVICE} characters",
        ),
        ([{"author_type": "spammer"}], "“author_type”: Value 'spammer' is not a valid choice."),
        ([{"author_type": "troll", "text_en": 3}], "“text_en” must be text."),
        ([{"author_type": "troll", "colour": "red"}], "unknown key “colour”"),
        (
            [{"author_type": "troll"}, {"author_type": "troll", "text_en": "b"}],
            "The author type “Troll” has more than one handling advice: keep one.",
        ),
        ({"author_type": "troll"}, "“advice” must be a list."),
    ],
)
def test_bad_advice_in_a_file_is_refused_and_nothing_is_written(make_playbook, advice, expected):
    data = portable.export_playbook(make_playbook(name="Base"))
    data.update(name="With bad advice", advice=advice)

    with pytest.raises(portable.PlaybookFileError) as caught:
        actions.playbooks_import(actor=None, data=data)

    assert any(expected in error for error in caught.value.errors), caught.value.errors
    assert not PlaybookAdvice.objects.exists()


# --- The incident's copy and the extension points ----------------------------------------------


def test_applying_copies_the_advice_and_the_queue_reads_the_copy(incident, lead, advised):
    assert extensions.handling_advice(incident) == {}
    assert extensions.ambassadors_of(incident) == []

    actions.playbook_apply(incident=incident, actor=lead, playbook=advised)
    # Editing the playbook later changes no running incident.
    PlaybookAdvice.objects.filter(author_type="troll").update(text_en="Changed later")

    assert extensions.handling_advice(incident) == {
        "troll": {"en": TROLL_EN, "fr": TROLL_FR},
        "defender": {"fr": "Merci !"},  # a blank language is left out: the default shows
    }
    # Ambassadors with a handle only; stakeholders are not ambassadors.
    [dana] = extensions.ambassadors_of(incident)
    assert (dana.name, dana.handle, dana.platform) == ("Dana", "Dana.bsky.social", "bluesky")
    assert dana.contact_id == incident.contacts.get(name="Dana").pk


def test_the_extension_points_cost_one_query_each(
    incident, lead, advised, django_assert_num_queries
):
    actions.playbook_apply(incident=incident, actor=lead, playbook=advised)

    with django_assert_num_queries(1):
        extensions.handling_advice(incident)
    with django_assert_num_queries(1):
        extensions.ambassadors_of(incident)
