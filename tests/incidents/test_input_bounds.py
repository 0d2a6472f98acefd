"""Odd input gets a clear 4xx, never a 500 or a record that breaks a page forever."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from incidents import actions
from incidents.errors import InvalidInput
from incidents.models import TimelineEntry
from tests.helpers import assert_error


def test_an_observation_from_year_one_is_refused(incident, drafter):
    ancient = timezone.make_aware(datetime(1, 1, 2))
    with pytest.raises(InvalidInput, match="too far in the past"):
        actions.timeline_add_entry(
            incident=incident, actor=drafter, kind="note", text="x", occurred_at=ancient
        )
    assert not TimelineEntry.objects.filter(text="x").exists()


def test_a_detection_time_more_than_a_year_back_is_refused(declare):
    with pytest.raises(InvalidInput, match="too far in the past"):
        declare(detected_at=timezone.now() - timedelta(days=400))


def test_an_incident_title_is_kept_on_one_line(declare):
    assert declare(title="  Bad\nbuzz\t today ").title == "Bad buzz today"


@pytest.mark.parametrize("before", ["²", "-1", "9" * 40])
def test_odd_timeline_cursors_are_ignored(browser_client, incident, lead, before):
    client = browser_client.as_user(lead)
    assert client.get(f"/incidents/{incident.pk}/?before={before}").status_code == 200
    assert client.get(f"/incidents/{incident.pk}/timeline/?before={before}").status_code == 200


def test_odd_correction_ids_are_ignored(browser_client, incident, drafter):
    response = browser_client.as_user(drafter).get(
        f"/incidents/{incident.pk}/statements/new/?corrects=²"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("body", ["5", "null", "[{}]"])
def test_a_patch_body_that_is_not_an_object_is_a_400(api, incident, lead, body):
    response = api.as_user(lead).patch(
        f"/api/incidents/{incident.pk}/", body, content_type="application/json"
    )
    assert_error(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/{huge}/",
        "/api/incidents/{pk}/members/{huge}/",
        "/api/statements/{huge}/",
        "/incidents/{huge}/",
    ],
)
def test_absurdly_large_ids_are_not_found(api, incident, lead, path):
    url = path.format(pk=incident.pk, huge="9" * 30)
    assert api.as_user(lead).get(url).status_code == 404


def test_an_absurd_actor_filter_is_a_400(api, incident, lead):
    response = api.as_user(lead).get(f"/api/incidents/{incident.pk}/timeline/?actor={'9' * 30}")
    assert_error(response, 400)
