"""An address that takes a form's submission, opened in a browser (a GET on a POST-only
view): a readable 405 page instead of an empty one (crisiscell.errors.method_not_allowed),
a sentence for htmx, JSON for the API; `Allow` kept."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_form_address_opened_in_the_browser_says_what_to_do(browser_client, incident, lead):
    freezes = incident.promotion_freezes.count()
    response = browser_client.as_user(lead).get(f"/incidents/{incident.pk}/promotion-freeze/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode().replace("&#x27;", "'")
    assert "This address takes a form's submission, not a visit: go back to the incident" in html
    assert f'href="/incidents/{incident.pk}/"' in html  # back to the incident
    assert incident.promotion_freezes.count() == freezes  # nothing done


def test_elsewhere_it_sends_back_to_the_page_before(browser_client, drafter, make_statement):
    statement = make_statement()
    response = browser_client.as_user(drafter).get(f"/statements/{statement.pk}/submit/")
    assert response.status_code == 405
    html = response.content.decode().replace("&#x27;", "'")
    assert "go back to the page you came from" in html


def test_htmx_gets_the_sentence_as_json(browser_client, incident, lead):
    response = browser_client.as_user(lead).get(
        f"/incidents/{incident.pk}/status/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 405
    assert response.json()["detail"].startswith("This address takes a form's submission")


def test_the_api_keeps_its_json(api, incident, lead):
    response = api.as_user(lead).get(f"/api/incidents/{incident.pk}/transition/")
    assert response.status_code == 405
    assert "detail" in response.json()
    assert "form's submission" not in response.content.decode()


def test_a_visitor_of_the_public_pages_is_not_shown_the_apps_page(client):
    response = client.post("/crisis/rumour/en/")
    assert response.status_code == 405
    assert b"Back to the incidents" not in response.content
