"""Action-item reminders: an open action item past or near its due date reminds its owner
(the bell, and an e-mail through the outbox), at most once per item and day whatever the
number of runs, after the incident is closed too, until it is done or dropped. `now` is
frozen: each run is given the moment it runs at."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from crisiscell.typography import french_spacing
from incidents import actions as incident_actions
from incidents.notifications.models import Notification
from incidents.outbox.models import OutboundMessage
from incidents.postmortems import actions, tasks


def at(day, hour=9):
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def item(postmortem, lead, drafter):
    drafter.email = "drafter@example.com"
    drafter.save(update_fields=["email"])
    return actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Pre-approve the holding templates",
        owner=drafter,
        due_date=timezone.localdate() + timedelta(days=5),
    )


def reminders(user):
    return Notification.objects.filter(user=user, kind="action_item_due")


def test_an_item_reminds_its_owner_once_a_day_from_two_days_before_until_done(item, lead, drafter):
    due = item.due_date
    assert actions.items_send_reminders(now=at(due - timedelta(days=3))) == 0
    assert actions.items_send_reminders(now=at(due - timedelta(days=2))) == 1
    # Again the same day (a second beat, a restarted worker): nothing more.
    assert actions.items_send_reminders(now=at(due - timedelta(days=2), 17)) == 0
    (note,) = reminders(drafter)
    assert note.subject == item.title
    assert note.url == f"/incidents/{item.postmortem.incident_id}/postmortem/#item-{item.pk}"
    emails = OutboundMessage.objects.filter(channel="email", recipient="drafter@example.com")
    assert emails.count() == 1
    assert not reminders(lead).exists()  # the owner only
    # Every day after, overdue included.
    assert actions.items_send_reminders(now=at(due)) == 1
    assert actions.items_send_reminders(now=at(due + timedelta(days=4))) == 1
    assert reminders(drafter).count() == 3
    # Done: never again.
    item.refresh_from_db()
    actions.item_update(item=item, actor=drafter, base_version=item.version, status="done")
    assert actions.items_send_reminders(now=at(due + timedelta(days=5))) == 0


def test_the_owner_reads_the_reminder_in_their_language(item, drafter):
    from incidents.notifications import actions as notifications

    notifications.preferences_update(actor=drafter, language="fr")
    actions.items_send_reminders(now=at(item.due_date + timedelta(days=1)))
    (mail,) = OutboundMessage.objects.filter(channel="email", recipient="drafter@example.com")
    assert french_spacing("Action en retard : « Pre-approve the holding templates »") in mail.body


def test_an_owner_removed_from_the_cell_is_no_longer_reminded(item, lead, drafter):
    """They were reminded daily, title and incident included, of an item they could no
    longer open (from a break-it pass)."""
    incident = item.postmortem.incident
    incident_actions.member_remove(incident=incident, actor=lead, user=drafter)
    assert actions.items_send_reminders(now=at(item.due_date)) == 0
    assert not reminders(drafter).exists()


def test_the_follow_up_outlives_the_incident_and_a_dropped_item_stops_it(item, lead, drafter):
    incident = item.postmortem.incident
    incident_actions.incident_transition(incident=incident, actor=lead, status="closed")
    later = item.due_date + timedelta(days=30)
    assert actions.items_send_reminders(now=at(later)) == 1
    item.refresh_from_db()
    actions.item_update(
        item=item, actor=lead, base_version=item.version, status="dropped", reason="Obsolete"
    )
    assert actions.items_send_reminders(now=at(later + timedelta(days=1))) == 0


def test_the_beat_runs_the_task(item, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["action-item-reminders"]["task"]
        == "incidents.postmortems.tasks.send_action_item_reminders"
    )
    assert tasks.send_action_item_reminders.apply().get() == 0  # due in 5 days: not yet


def test_a_run_after_the_day_s_reminders_only_reads(
    postmortem, lead, drafter, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            actions.item_add(
                postmortem=postmortem,
                actor=lead,
                title=f"Action {i}",
                owner=drafter,
                due_date=timezone.localdate(),
            )

    add(2)
    assert actions.items_send_reminders(now=at(timezone.localdate())) == 2
    # Already sent today: two reads, nothing written.
    with django_assert_max_num_queries(2):
        actions.items_send_reminders(now=at(timezone.localdate(), 18))
