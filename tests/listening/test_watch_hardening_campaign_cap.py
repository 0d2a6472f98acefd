"""A watch takes at most MAX_OPEN_BURSTS planned campaigns running or to come (a break-it
pass: they were not capped, while detection reads at most 100 of them): one more is
refused with a sentence saying the cap and what to do, by the action, the API, the
campaigns page and the admin alike; ended ones do not count."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from incidents.errors import Conflict
from incidents.listening import actions
from incidents.listening.models import MAX_OPEN_BURSTS, ExpectedBurst
from tests.helpers import assert_error, run_concurrently

pytestmark = pytest.mark.django_db

REFUSED = (
    f"This watch already has {MAX_OPEN_BURSTS} planned campaigns running or to come, the most "
    "it takes: delete one that is no longer planned, or wait for one to end, before adding "
    "another."
)


def new(watch, days=2, **fields):
    start = timezone.now() + timedelta(days=days)
    return ExpectedBurst(watch=watch, starts_at=start, ends_at=start + timedelta(hours=6), **fields)


def plan(watch, actor, count, *, running=0):
    """`count` campaigns on the watch through the action, `running` of them running now."""
    bursts = []
    for i in range(count):
        burst = new(watch, days=1 + i % 300, note=f"c{i}")
        if i < running:
            burst.starts_at = timezone.now() - timedelta(hours=1)
        bursts.append(actions.expected_burst_save(burst=burst, actor=actor))
    return bursts


def ended(watch, count):
    end = timezone.now() - timedelta(days=1)
    ExpectedBurst.objects.bulk_create(
        ExpectedBurst(watch=watch, starts_at=end - timedelta(hours=3), ends_at=end)
        for _ in range(count)
    )


def test_one_more_than_the_cap_is_refused_ended_ones_aside(watch, watch_editor):
    ended(watch, 5)  # the record of past campaigns: not counted
    bursts = plan(watch, watch_editor, MAX_OPEN_BURSTS, running=3)

    with pytest.raises(Conflict) as refused:
        actions.expected_burst_save(burst=new(watch, note="one too many"), actor=watch_editor)

    assert refused.value.message == REFUSED
    assert not ExpectedBurst.objects.filter(note="one too many").exists()
    # Those it has can still be changed.
    bursts[-1].note = "renamed"
    actions.expected_burst_save(burst=bursts[-1], actor=watch_editor, fields=["note"])
    # One deleted (or ended), one may be added.
    actions.expected_burst_delete(burst=bursts[-1], actor=watch_editor)
    actions.expected_burst_save(burst=new(watch, note="fits"), actor=watch_editor)
    actions.expected_burst_delete(burst=bursts[0], actor=watch_editor)  # running: ended now
    assert actions.expected_burst_save(burst=new(watch, note="fits too"), actor=watch_editor).pk
    # Another watch has its own.
    other = actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
    assert actions.expected_burst_save(burst=new(other), actor=watch_editor).pk


def test_the_api_the_page_and_the_admin_say_the_cap(
    watch, watch_editor, api, browser_client, monkeypatch
):
    plan(watch, watch_editor, MAX_OPEN_BURSTS)
    start = timezone.now() + timedelta(days=3)
    answer = api.as_user(watch_editor).post(
        f"/api/watches/{watch.pk}/expected-bursts/",
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert assert_error(answer, 409) == REFUSED

    client = browser_client.as_user(watch_editor)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = client.post(
        f"/listening/watches/{watch.pk}/campaigns/",
        {"starts_at": f"{day}T08:00", "ends_at": f"{day}T20:00", "note": "page"},
    )
    assert page.status_code == 422
    assert REFUSED in page.content.decode()

    watch_editor.is_staff = True
    watch_editor.save()
    watch_editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="listening", codename__endswith="expectedburst"
        )
    )
    admin = client.post(
        "/admin/listening/expectedburst/add/",
        {
            "watch": watch.pk,
            "starts_at_0": day,
            "starts_at_1": "08:00:00",
            "ends_at_0": day,
            "ends_at_1": "20:00:00",
            "expected_size": "",
            "note": "admin",
        },
    )
    assert admin.status_code == 200
    assert REFUSED in admin.content.decode()
    assert ExpectedBurst.objects.filter(watch=watch).count() == MAX_OPEN_BURSTS


@pytest.mark.django_db(transaction=True)
def test_two_added_at_once_at_the_last_place_take_it_once(watch, watch_editor):
    plan(watch, watch_editor, MAX_OPEN_BURSTS - 1)

    def add(note):
        return lambda: actions.expected_burst_save(burst=new(watch, note=note), actor=watch_editor)

    results, refused, unexpected = run_concurrently(
        [add("first"), add("second")], errors=(Conflict,)
    )

    assert not unexpected, unexpected
    assert (len(results), len(refused)) == (1, 1)
    assert refused[0].message == REFUSED
    assert ExpectedBurst.objects.filter(watch=watch).count() == MAX_OPEN_BURSTS
