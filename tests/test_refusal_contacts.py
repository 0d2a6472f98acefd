"""Whom a refused page (403) names: the incident's lead(s) on an incident's pages, only
to someone who may see the incident (an outsider reads what a missing incident would
give); elsewhere the site's administrators (CRISISCELL_ADMIN_CONTACT), else nobody."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.test import Client, RequestFactory
from django.urls import resolve

from crisiscell.errors import permission_denied
from crisiscell.settings import admin_contacts

pytestmark = pytest.mark.django_db

ADMINS = (("Jeanne Martin", "jeanne.martin@example.com"), ("", "it@example.com"))
GENERIC = "An administrator of Crisis Cell gives access: ask them if you need it."


def refused_on(path, user, *, htmx=False, reason=""):
    """What the handler of a refusal raised on `path` answers `user`: its text."""
    headers = {"HX-Request": "true"} if htmx else {}
    request = RequestFactory().get(path, headers=headers)
    request.user = user
    request.resolver_match = resolve(path)
    response = permission_denied(request, PermissionDenied(reason))
    assert response.status_code == 403
    if htmx:
        return json.loads(response.content)["detail"]
    return response.content.decode()


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
