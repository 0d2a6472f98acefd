"""Planned campaigns are declared in the admin, through the action."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from incidents.listening.models import ExpectedBurst

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_editor(watch_editor):
    watch_editor.is_staff = True
    watch_editor.save()
    watch_editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="listening", codename__endswith="expectedburst"
        )
    )
    return watch_editor


# A day in the future (a planned campaign must end after now), as the admin's fields take it.
DAY = (timezone.localdate() + timedelta(days=3)).isoformat()


def form(watch, starts, ends, size=""):
    return {
        "watch": watch.pk,
        "starts_at_0": starts[0],
        "starts_at_1": starts[1],
        "ends_at_0": ends[0],
        "ends_at_1": ends[1],
        "expected_size": size,
        "note": "Black Friday",
    }


def test_a_planned_campaign_is_saved_with_its_author(admin_editor, watch, client):
    client.force_login(admin_editor)
    response = client.post(
        "/admin/listening/expectedburst/add/",
        form(watch, (DAY, "08:00:00"), (DAY, "20:00:00")),
    )
    assert response.status_code == 302, response.content[:500]
    burst = ExpectedBurst.objects.get()
    assert (burst.created_by, burst.note) == (admin_editor, "Black Friday")
    assert burst.expected_size is None  # no size: its window raises no volume signal


def test_a_campaign_is_given_its_expected_size_within_bounds(admin_editor, watch, client):
    client.force_login(admin_editor)
    window = ((DAY, "08:00:00"), (DAY, "20:00:00"))
    response = client.post("/admin/listening/expectedburst/add/", form(watch, *window, "500"))
    assert response.status_code == 200
    assert "from 1 to 100 times the usual volume" in response.content.decode()
    response = client.post("/admin/listening/expectedburst/add/", form(watch, *window, "4"))
    assert response.status_code == 302, response.content[:500]
    assert ExpectedBurst.objects.get().expected_size == 4


def test_a_window_ending_before_it_starts_is_refused(admin_editor, watch, client):
    client.force_login(admin_editor)
    response = client.post(
        "/admin/listening/expectedburst/add/",
        form(watch, (DAY, "20:00:00"), (DAY, "08:00:00")),
    )
    assert response.status_code == 200
    assert "must end after it starts" in response.content.decode()
    assert not ExpectedBurst.objects.exists()


def test_the_admin_applies_the_actions_rule_and_keeps_an_ended_campaign(
    admin_editor, watch, client
):
    client.force_login(admin_editor)
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = client.post(
        "/admin/listening/expectedburst/add/",
        form(watch, (past, "08:00:00"), (past, "20:00:00")),
    )
    assert response.status_code == 200
    assert "already ended" in response.content.decode()
    ended = ExpectedBurst.objects.create(
        watch=watch,
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(days=1),
    )
    change = client.get(f"/admin/listening/expectedburst/{ended.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(f"/admin/listening/expectedburst/{ended.pk}/delete/", {"post": "yes"})
    assert ExpectedBurst.objects.filter(pk=ended.pk).exists()


def test_a_campaign_saved_during_a_freeze_is_saved_with_a_warning(
    admin_editor, watch, declare, client
):
    """As on the campaigns page: saved, not refused, and the one who saves is warned."""
    client.force_login(admin_editor)
    window = ((DAY, "08:00:00"), (DAY, "20:00:00"))
    response = client.post("/admin/listening/expectedburst/add/", form(watch, *window), follow=True)
    assert "promotion freeze" not in response.content.decode()
    declare(actor=admin_editor, title="Cracked lids", severity=3)
    response = client.post("/admin/listening/expectedburst/add/", form(watch, *window), follow=True)
    assert response.redirect_chain and ExpectedBurst.objects.count() == 2
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "A promotion freeze is in force" in warnings[0]


def watch_form(**changes):
    data = {
        "name": "Admin watch",
        "brand": "Lumière",
        "keywords": "lumière",
        "exclusions": "",
        "hashtags": "",
        "handles": "",
        "languages": "fr",
        "platforms": "bluesky",
        "is_active": "on",
        "volume_deviations": "4",
        "volume_min_count": "10",
        "tone_shift_points": "25",
        "tone_min_scored": "25",
    }
    return {**data, **changes}


def test_a_watch_and_its_alerted_people_are_saved_through_the_action(
    admin_editor, reader, outsider, client
):
    from incidents.listening.models import Watch

    admin_editor.user_permissions.add(Permission.objects.get(codename="add_watch"))
    client.force_login(admin_editor)
    # Only the people an alert may reach are offered; another one is refused by the form.
    page = client.get("/admin/listening/watch/add/").content.decode()
    assert f'value="{reader.pk}"' in page and f'value="{outsider.pk}"' not in page
    refused = client.post("/admin/listening/watch/add/", watch_form(subscribers=[outsider.pk]))
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert not Watch.objects.exists()
    response = client.post("/admin/listening/watch/add/", watch_form(subscribers=[reader.pk]))
    assert response.status_code == 302, response.content[:2000]
    watch = Watch.objects.get()
    assert list(watch.subscribers.all()) == [reader] and watch.created_by == admin_editor
