"""A refused page of an incident's evidence names the incident's lead, as its other pages
do (crisiscell.errors.incident_of): an item's pages and an export's file carry the item's
or the export's id, not the incident's."""

import pytest
from django.test import Client

from tests.helpers import refused_on

pytestmark = pytest.mark.django_db

LEAD_NAMED = "The incident's lead: Camille Laurent."


@pytest.mark.parametrize("page", ["", "file/", "thumbnail/", "preview/"])
def test_an_items_pages_name_its_incidents_lead(attach, observer, page):
    item = attach()
    assert refused_on(f"/evidence/{item.pk}/{page}", observer, htmx=True).endswith(LEAD_NAMED)


def test_an_outsider_learns_nothing_of_an_item(attach, outsider):
    item = attach()
    seen = refused_on(f"/evidence/{item.pk}/", outsider, htmx=True)
    assert seen == refused_on("/evidence/987654/", outsider, htmx=True)
    assert "Camille" not in seen


def test_an_export_refused_to_another_member_names_the_lead_after_why(
    attach, incident, lead, drafter, export_bundle
):
    attach()
    export = export_bundle(incident, lead)
    client = Client()
    client.force_login(drafter)
    page = client.get(f"/evidence/exports/{export.pk}/file/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "Only the person who asked for this export may download it." in html
    assert LEAD_NAMED in html
    detail = client.get(
        f"/evidence/exports/{export.pk}/file/", headers={"HX-Request": "true"}
    ).json()["detail"]
    assert detail == f"Only the person who asked for this export may download it. {LEAD_NAMED}"
