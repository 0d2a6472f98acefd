"""The committee roster: structured roles, approver functions and backups on a playbook's
committee contacts, copied into the incident, in the admin and the JSON format, and
matched to site accounts by e-mail for `incidents.extensions.roster_of`."""

import pytest

from incidents import extensions
from incidents.playbooks import actions, defaults, portable
from incidents.playbooks.defaults import ensure_default_playbooks
from incidents.playbooks.models import Contact, IncidentContact, Playbook
from tests.playbooks.test_admin import ADD, CONTACT, playbook_form

pytestmark = pytest.mark.django_db

ROSTER = [
    # name, e-mail, role, function, backup, backup e-mail
    ("Camille Laurent", "camille@example.com", "lead", "", "Nadia Roux", "nadia@example.com"),
    ("David Keller", "David.Keller@Example.com", "approver", "communications", "Camille", ""),
    ("Inès Bernard", "ines@example.com", "approver", "legal", "Claire", "claire@example.com"),
    ("Sam Moreau", "sam@example.com", "drafter", "", "", ""),
    ("Léa Martin", "", "spokesperson", "", "", ""),
]


@pytest.fixture
def rostered(make_playbook):
    """A playbook whose committee is ROSTER (plus a stakeholder, never on the roster)."""
    playbook = make_playbook(contacts=0, categories=["public_statement"])
    for order, (name, email, role, function, backup, backup_email) in enumerate(ROSTER):
        Contact.objects.create(
            playbook=playbook,
            kind="committee",
            order=order,
            name=name,
            email=email,
            role=role,
            function=function,
            backup=backup,
            backup_email=backup_email,
        )
    Contact.objects.create(
        playbook=playbook, kind="stakeholder", name="Insurer", email="camille@example.com"
    )
    return playbook


@pytest.fixture
def applied(incident, lead, rostered):
    actions.playbook_apply(incident=incident, actor=lead, playbook=rostered)
    return incident


def test_the_roster_fields_are_copied_to_the_incident(applied):
    copies = IncidentContact.objects.filter(incident=applied, kind="committee").order_by("order")
    assert [(c.name, c.role, c.function, c.backup, c.backup_email) for c in copies] == [
        (name, role, function, backup, backup_email)
        for name, _email, role, function, backup, backup_email in ROSTER
    ]


def test_roster_of_matches_accounts_by_email(applied, make_user):
    camille = make_user("camille", email="CAMILLE@example.com")
    david = make_user("david", email="david.keller@example.com")
    nadia = make_user("nadia", email="nadia@example.com")
    make_user("ines-old", email="ines@example.com", is_active=False)
    entries = extensions.roster_of(applied)
    assert [e.name for e in entries] == [row[0] for row in ROSTER]  # no stakeholder
    by_name = {e.name: e for e in entries}
    assert by_name["Camille Laurent"].user == camille
    assert by_name["Camille Laurent"].backup_user == nadia
    assert by_name["Camille Laurent"].backup_name == "Nadia Roux"
    assert by_name["David Keller"].user == david
    assert (by_name["David Keller"].role, by_name["David Keller"].function) == (
        "approver",
        "communications",
    )
    assert by_name["Inès Bernard"].user is None  # only an inactive account
    assert by_name["Léa Martin"].user is None  # no e-mail
    assert by_name["Sam Moreau"].backup_user is None


def test_an_email_shared_by_two_accounts_matches_nobody(applied, make_user):
    make_user("sam1", email="sam@example.com")
    make_user("sam2", email="SAM@example.com")
    sam = next(e for e in extensions.roster_of(applied) if e.name == "Sam Moreau")
    assert sam.user is None


def test_one_query_for_all_accounts(applied, make_user, django_assert_num_queries):
    for n in range(5):
        make_user(f"u{n}", email=f"u{n}@example.com")
    with django_assert_num_queries(2):  # the committee, the accounts
        entries = extensions.roster_of(applied)
    assert len(entries) == len(ROSTER)


def test_no_playbook_no_roster(incident, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert extensions.roster_of(incident) == []


# --- The admin and the JSON file --------------------------------------------------------------


def test_the_admin_saves_role_function_and_backup_email(admin_browser, policies):
    contact = {
        **CONTACT,
        "role": "approver",
        "function": "legal",
        "backup": "Claire",
        "backup_email": "claire@example.com",
    }
    response = admin_browser.post(ADD, playbook_form(contacts=[contact]))
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Contact.objects.get(name=CONTACT["name"])
    assert (saved.role, saved.function, saved.backup_email) == (
        "approver",
        "legal",
        "claire@example.com",
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": "approver", "function": ""}, "function", "Say what this approver signs off"),
        ({"role": "drafter", "function": "legal"}, "function", "Only an approver has"),
        ({"kind": "stakeholder", "role": "drafter"}, "role", "Only crisis committee members"),
    ],
)
def test_the_admin_refuses_an_inconsistent_roster_entry(
    admin_browser, policies, changes, field, message
):
    response = admin_browser.post(ADD, playbook_form(contacts=[{**CONTACT, **changes}]))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][3].formset.errors[0]
    assert message in errors[field][0]
    assert not Playbook.objects.exists()


def test_export_and_import_carry_the_roster(rostered):
    data = portable.export_playbook(rostered)
    david = next(c for c in data["contacts"] if c["name"] == "David Keller")
    assert (david["role"], david["function"], david["backup_email"]) == (
        "approver",
        "communications",
        "",
    )
    data["name"] = "Copy"
    [result] = actions.playbooks_import(actor=None, data=data)
    assert portable.export_playbook(result.playbook) == data


def test_an_older_file_without_the_roster_fields_still_imports(rostered):
    data = portable.export_playbook(rostered)
    data["name"] = "Older"
    for contact in data["contacts"]:
        for key in ("role", "function", "backup_email"):
            contact.pop(key)
    for step in data["steps"]:
        step.pop("completes_on")
    [result] = actions.playbooks_import(actor=None, data=data)
    contacts = result.playbook.contacts.all()
    assert contacts and all((c.role, c.function, c.backup_email) == ("", "", "") for c in contacts)
    assert all(step.completes_on == "" for step in result.playbook.steps.all())


def test_a_file_with_an_inconsistent_roster_is_refused_with_reasons(rostered):
    data = portable.export_playbook(rostered)
    data["name"] = "Broken"
    data["contacts"][0].update(role="approver", function="")
    data["contacts"][1].update(role="chef")
    data["steps"][0]["completes_on"] = "never"
    with pytest.raises(portable.PlaybookFileError) as refused:
        actions.playbooks_import(actor=None, data=data)
    text = "\n".join(refused.value.errors)
    assert "“function”: Say what this approver signs off for" in text
    assert "“role”" in text and "chef" in text
    assert "“completes_on”" in text and "never" in text
    assert not Playbook.objects.filter(name="Broken").exists()


# --- The default playbooks ---------------------------------------------------------------------

EXPECTED = {
    "Camille Laurent": ("lead", ""),
    "David Keller": ("approver", "communications"),
    "Inès Bernard": ("approver", "legal"),
    "Sam Moreau": ("drafter", ""),
    "Léa Martin": ("spokesperson", ""),
    "Paul Durand": ("approver", "executive"),
}


def test_the_default_playbooks_have_a_structured_roster(db):
    ensure_default_playbooks()
    for name in defaults.FILES:
        playbook = Playbook.objects.get(name=name)
        committee = playbook.contacts.filter(kind="committee")
        assert {c.name: (c.role, c.function) for c in committee} == EXPECTED, name
        for contact in committee:
            assert contact.backup and contact.backup_email.endswith("@example.com"), contact
        assert not playbook.contacts.exclude(kind="committee").exclude(role="").exists()
        steps = {s.title: s.completes_on for s in playbook.steps.all()}
        completing = {title: on for title, on in steps.items() if on}
        assert completing == {
            "Suspendre les publications programmées / Pause scheduled posts": "promotion_frozen",
            "Publier la déclaration d’attente / Publish the holding statement": "holding_published",
            "Point de situation régulier / Regular update": "update_published",
        }, name
