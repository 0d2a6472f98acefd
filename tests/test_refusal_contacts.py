"""Whom a refused page (403) names: the incident's lead(s) on an incident's pages (its
statements', evidence items' and exports' too, whose addresses carry their own id), only
to someone who may see the incident (an outsider reads what a missing incident would
give); elsewhere the site's administrators (CRISISCELL_ADMIN_CONTACT), else nobody."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from crisiscell.errors import INCIDENT_ROUTES
from crisiscell.settings import admin_contacts
from incidents import actions
from tests.helpers import refused_on

pytestmark = pytest.mark.django_db

ADMINS = (("Jeanne Martin", "jeanne.martin@example.com"), ("", "it@example.com"))
GENERIC = "An administrator of Crisis Cell gives access: ask them if you need it."
LEAD_NAMED = "The incident's lead: Camille Laurent."


@pytest.mark.parametrize("htmx", [False, True])
def test_a_member_is_told_the_incidents_lead(incident, observer, htmx):
    text = refused_on(f"/incidents/{incident.pk}/replies/review/", observer, htmx=htmx)
    assert "Ask the incident's lead if you need it" in text
    assert "The incident's lead: Camille Laurent." in text


def test_staff_outside_the_cell_may_see_the_incident_and_its_lead(incident, staff):
    assert "Camille Laurent" in refused_on(f"/incidents/{incident.pk}/", staff)


def test_a_reason_on_an_incidents_page_names_the_lead_after_it(incident, drafter):
    text = refused_on(f"/incidents/{incident.pk}/", drafter, htmx=True, reason="Not yours.")
    assert text == "Not yours. The incident's lead: Camille Laurent."


def test_an_outsider_learns_nothing_of_the_incident(incident, outsider, settings):
    settings.CRISISCELL_ADMIN_CONTACT = ADMINS
    seen = refused_on(f"/incidents/{incident.pk}/", outsider, htmx=True)
    missing = refused_on("/incidents/987654/", outsider, htmx=True)
    assert seen == missing  # the same answer as for an incident that does not exist
    assert "Camille" not in seen and "Jeanne" not in seen


def test_an_incident_without_a_lead_names_nobody(incident, observer, lead):
    incident.memberships.filter(user=lead).update(left_at=incident.declared_at)
    text = refused_on(f"/incidents/{incident.pk}/", observer, htmx=True)
    assert "Camille" not in text and "lead:" not in text


def test_the_lead_names_are_read_in_one_query(incident, observer, django_assert_num_queries):
    with django_assert_num_queries(1):
        refused_on(f"/incidents/{incident.pk}/", observer, htmx=True)


def test_elsewhere_the_administrators_of_the_setting_are_named(make_user, settings):
    settings.CRISISCELL_ADMIN_CONTACT = ADMINS
    client = Client()
    client.force_login(make_user("nobody"))
    page = client.get("/listening/import/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Administrators of Crisis Cell: Jeanne Martin (jeanne.martin@example.com), " in html
    assert "it@example.com." in html
    detail = client.get("/listening/import/", headers={"HX-Request": "true"}).json()["detail"]
    assert detail.endswith(
        "Administrators of Crisis Cell: Jeanne Martin (jeanne.martin@example.com), it@example.com."
    )


def test_without_the_setting_the_text_names_nobody(make_user, settings, django_assert_num_queries):
    settings.CRISISCELL_ADMIN_CONTACT = ()
    user = make_user("nobody")
    with django_assert_num_queries(0):
        text = refused_on("/notifications/settings/", user, htmx=True)
    assert text == "Your account does not allow this. " + GENERIC


def test_a_contact_is_escaped_on_the_page(make_user, settings):
    settings.CRISISCELL_ADMIN_CONTACT = (("<b>Ops</b>", "ops@example.com"),)
    html = refused_on("/notifications/settings/", make_user("nobody"))
    assert "&lt;b&gt;Ops&lt;/b&gt; (ops@example.com)" in html and "<b>Ops" not in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("Jeanne Martin <jeanne@example.com>", (("Jeanne Martin", "jeanne@example.com"),)),
        ("it@example.com", (("", "it@example.com"),)),
        (
            '"Martin, Jeanne" <j@example.com>, Ops <ops@example.com>',
            (("Martin, Jeanne", "j@example.com"), ("Ops", "ops@example.com")),
        ),
    ],
)
def test_the_setting_reads_names_and_addresses(value, expected):
    assert admin_contacts(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Service informatique",  # no address
        "a@example.com, b@example.com, c@example.com, d@example.com",  # more than 3
        f"{'x' * 101} <x@example.com>",
    ],
)
def test_a_malformed_setting_refuses_to_start(value):
    with pytest.raises(ImproperlyConfigured, match="CRISISCELL_ADMIN_CONTACT"):
        admin_contacts(value)


# --- Which incident a refused page belongs to (crisiscell.errors.incident_of) -------------

# The pages of one incident under its own address, one of each app's families.
INCIDENT_PAGES = [
    "",
    "members/",
    "statements/new/",
    "replies/review/",
    "replies/templates/",
    "evidence/",
    "evidence/exports/",
    "tasks/",
    "crisis-page/",
    "mentions/",
    "notifications/",
    "postmortem/",
    "postmortem/export.md",
]

# Every route of a statement of the incident, statements' and publishing's.
STATEMENT_PAGES = [
    "",
    "edit/",
    "submit/",
    "approve/",
    "request-changes/",
    "publish/",
    "withdraw/",
    "diff/",
    "publish-on/1/",
]

# Page routes with an id that belong to no one incident: a person's notifications and
# chat targets, the listening watches, signals and mentions (attached to any incidents),
# and the public crisis pages (a visitor is never told who leads).
NO_INCIDENTS = (
    "notifications/",
    "listening/",
    "crisis/",
)


def page_routes(resolver=None, prefix=""):
    """Every route of the site's pages (not the API's, not the admin's)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("api/", "admin/", "^api/")):
            continue
        if isinstance(pattern, URLResolver):
            yield from page_routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def test_every_page_with_an_id_belongs_to_an_incident_or_to_none():
    """A new family of an incident's pages (a record's id in its address) must say which
    incident it belongs to, or a refusal there would name the administrators."""
    starts = tuple(start for start, _model in INCIDENT_ROUTES)
    unsorted = [
        route
        for route in page_routes()
        if ("<id:" in route or "<slug:" in route or "(?P<" in route)
        and not route.lstrip("^").startswith(starts + NO_INCIDENTS)
    ]
    assert unsorted == []


@pytest.mark.parametrize("page", INCIDENT_PAGES)
def test_each_of_an_incidents_pages_names_its_lead(incident, observer, page):
    assert refused_on(f"/incidents/{incident.pk}/{page}", observer, htmx=True).endswith(LEAD_NAMED)


@pytest.mark.parametrize("page", STATEMENT_PAGES)
def test_a_statements_pages_name_its_incidents_lead(make_statement, observer, page):
    statement = make_statement()
    text = refused_on(f"/statements/{statement.pk}/{page}", observer, htmx=True)
    assert "Your role in this incident's cell does not allow this action." in text
    assert text.endswith(LEAD_NAMED)


def test_staff_outside_the_cell_is_told_a_statements_lead(make_statement, staff):
    assert LEAD_NAMED in refused_on(f"/statements/{make_statement().pk}/", staff)


def test_an_outsider_learns_nothing_of_a_statement(make_statement, outsider, settings):
    settings.CRISISCELL_ADMIN_CONTACT = ADMINS
    statement = make_statement()
    seen = refused_on(f"/statements/{statement.pk}/approve/", outsider, htmx=True)
    missing = refused_on("/statements/987654/approve/", outsider, htmx=True)
    assert seen == missing  # the same answer as for a statement that does not exist
    assert "Camille" not in seen and "Jeanne" not in seen


def test_a_statement_names_the_lead_of_its_own_incident(
    make_statement, declare, incident, observer, drafter, make_user
):
    """The incident is the statement's (its id is not the incident's), and its lead is
    named only to those in that incident's cell: the cell of another incident is nothing."""
    other_lead = make_user("other-lead", first_name="Ines", last_name="Moreau")
    other = declare(actor=other_lead, title="Another crisis")
    actions.member_add(incident=other, actor=other_lead, user=observer, role="observer")
    statement = make_statement(incident=other, author=other_lead)
    text = refused_on(f"/statements/{statement.pk}/", observer, htmx=True)
    assert text.endswith("The incident's lead: Ines Moreau.")
    assert "lead:" not in refused_on(f"/statements/{statement.pk}/", drafter, htmx=True)


def test_a_statements_lead_is_read_in_one_query(
    make_statement, observer, django_assert_num_queries
):
    statement = make_statement()
    with django_assert_num_queries(1):
        text = refused_on(f"/statements/{statement.pk}/edit/", observer, htmx=True)
    assert text.endswith(LEAD_NAMED)


def said(response) -> str:
    """What an error page says (its card: the rest carries per-request tokens)."""
    return re.search(r'<div class="empty-state card">.*?</div>', response.content.decode(), re.S)[0]


# --- An incident's pages gated by role (incidents.shortcuts.incident_or_404's `require`) ---

# Each page of an incident that asks a role besides seeing it, with the sentence of its
# rule and the members (and staff, who see every incident) it refuses.
ROLE_GATED_PAGES = [
    ("edit/", "Only the lead can edit the incident.", ["drafter", "approver", "observer"]),
    ("members/candidates/?q=x", "Only the lead can manage the cell.", ["drafter", "observer"]),
    ("statements/new/", "Only members of the cell who write draft statements", ["observer"]),
]
ROLE_GATED = [
    (page, sentence, who) for page, sentence, refused in ROLE_GATED_PAGES for who in refused
] + [(page, sentence, "staff") for page, sentence, _refused in ROLE_GATED_PAGES]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(("page", "sentence", "who"), ROLE_GATED)
def test_a_member_without_the_role_is_refused_and_told_the_lead(
    browser_client, incident, request, page, sentence, who, htmx
):
    """Someone who sees the incident is not told the page does not exist: 403, with the
    rule's sentence and the incident's lead."""
    headers = {"HX-Request": "true"} if htmx else {}
    client = browser_client.as_user(request.getfixturevalue(who))
    response = client.get(f"/incidents/{incident.pk}/{page}", headers=headers)
    assert response.status_code == 403
    text = response.json()["detail"] if htmx else response.content.decode()
    assert sentence in text
    assert LEAD_NAMED in text
    assert "does not exist" not in text


@pytest.mark.parametrize(("page", "_sentence", "_refused"), ROLE_GATED_PAGES)
def test_an_outsider_is_not_told_a_role_gated_page_exists(
    browser_client, incident, outsider, settings, page, _sentence, _refused
):
    settings.CRISISCELL_ADMIN_CONTACT = ADMINS
    client = browser_client.as_user(outsider)
    seen = client.get(f"/incidents/{incident.pk}/{page}")
    missing = client.get(f"/incidents/987654/{page}")
    assert seen.status_code == missing.status_code == 404
    assert said(seen) == said(missing)  # nothing tells the incident exists
    assert "Camille" not in said(seen)


@pytest.mark.parametrize(
    ("page", "who"),
    [("edit/", "lead"), ("members/candidates/?q=x", "lead"), ("statements/new/", "drafter")],
)
def test_the_role_a_page_asks_still_opens_it(browser_client, incident, request, page, who):
    client = browser_client.as_user(request.getfixturevalue(who))
    assert client.get(f"/incidents/{incident.pk}/{page}").status_code == 200


# --- The page not found (crisiscell.errors.not_found) --------------------------------------

NEXT_STEP = "If someone sent you this link, ask them to add you to the incident"


def test_a_page_not_found_says_whom_to_ask_and_nothing_of_the_incident(
    browser_client, incident, outsider, settings
):
    settings.CRISISCELL_ADMIN_CONTACT = ADMINS
    client = browser_client.as_user(outsider)
    seen = client.get(f"/incidents/{incident.pk}/")
    html = seen.content.decode()
    assert seen.status_code == 404
    assert NEXT_STEP in html.replace("&#x27;", "'")
    assert "Administrators of Crisis Cell: Jeanne Martin (jeanne.martin@example.com), " in html
    assert "Camille" not in html
    # The same page for an incident that does not exist, and for any missing page.
    assert said(client.get("/incidents/987654/")) == said(seen)
    assert said(client.get("/no-such-page/")) == said(seen)


def test_without_the_setting_a_page_not_found_names_nobody(browser_client, outsider, settings):
    settings.CRISISCELL_ADMIN_CONTACT = ()
    html = browser_client.as_user(outsider).get("/incidents/987654/").content.decode()
    assert NEXT_STEP in html.replace("&#x27;", "'")
    assert "Administrator" not in html
