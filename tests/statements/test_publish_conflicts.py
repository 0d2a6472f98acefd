"""Publishing a published statement: the same person at the same address is a double click
(200, nothing changes); anyone or anything else is refused with who published it and where
(409 in the API, the same sentence as the page's error message). An empty body is a 400."""

import pytest
from django.contrib.messages import get_messages

from incidents.models import EntryKind, TimelineEntry
from statements import actions
from tests.helpers import assert_error

FIRST = "https://x.com/brand/status/1"
OTHER = "https://x.com/brand/status/2"


@pytest.fixture
def published(approved, spokesperson):
    return actions.statement_publish(statement=approved, actor=spokesperson, url=FIRST)


def publications(incident):
    return TimelineEntry.objects.filter(incident=incident, kind=EntryKind.STATEMENT_PUBLISHED)


def test_the_same_person_at_the_same_address_is_a_double_click(
    api, published, incident, spokesperson
):
    response = api.as_user(spokesperson).post(
        f"/api/statements/{published.pk}/publish/", {"url": FIRST}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["published_url"] == FIRST
    assert publications(incident).count() == 1


@pytest.mark.parametrize("persona", ["spokesperson", "lead"])
def test_another_address_or_another_person_gets_409_with_who_and_where(
    api, published, incident, spokesperson, lead, persona, policies
):
    published.policy.allow_lead_publish = True
    published.policy.save()
    user, url = {"spokesperson": (spokesperson, OTHER), "lead": (lead, FIRST)}[persona]
    response = api.as_user(user).post(
        f"/api/statements/{published.pk}/publish/", {"url": url}, format="json"
    )
    detail = assert_error(response, 409)
    assert FIRST in detail and "spokesperson" in detail
    body = response.json()
    assert body["published_url"] == FIRST
    assert body["published_by"] == spokesperson.pk
    assert body["published_at"]
    assert publications(incident).count() == 1


def test_the_page_says_the_same_as_the_api(browser_client, api, published, spokesperson):
    url = f"/statements/{published.pk}/publish/"
    page = browser_client.as_user(spokesperson).post(url, {"revision": 1, "url": OTHER})
    flashed = [(m.level_tag, m.message) for m in get_messages(page.wsgi_request)]
    response = api.as_user(spokesperson).post(
        f"/api/statements/{published.pk}/publish/", {"url": OTHER}, format="json"
    )
    assert ("error", response.json()["detail"]) in flashed


@pytest.mark.parametrize("persona", ["spokesperson", "observer", "drafter"])
def test_an_empty_publish_body_is_a_400_not_a_crash(api, approved, persona, request):
    user = request.getfixturevalue(persona)
    response = api.as_user(user).post(f"/api/statements/{approved.pk}/publish/", {}, format="json")
    assert assert_error(response, 400)
    approved.refresh_from_db()
    assert approved.status == "approved"
