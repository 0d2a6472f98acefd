"""Applying a playbook to an incident: tasks and due times, copies that later edits leave
alone, approval policy by severity, templates, tasks and contacts on the timeline."""

from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from incidents.errors import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from incidents.models import EntryKind, TimelineEntry
from incidents.playbooks import actions, selectors
from incidents.playbooks.models import Task, TaskStatus
from incidents.playbooks.templating import check_template, render_template, values_for

pytestmark = pytest.mark.django_db


def last_entry(incident):
    return TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()


class TestApplying:
    def test_due_times_count_from_the_declaration_across_a_dst_change(self, lead, playbook):
        # Paris springs forward at 01:00 UTC on 29 March 2026: wall-clock times jump an hour.
        declared = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
        with mock.patch("django.utils.timezone.now", return_value=declared):
            incident = actions.incident_declare_from_playbook(
                actor=lead,
                playbook=playbook,
                title="Joke about the floods",
                category="public_statement",
                origin="online",
                severity=3,
            )
        tasks = list(Task.objects.filter(incident=incident).order_by("due_at"))
        assert [t.due_at - declared for t in tasks] == [
            timedelta(minutes=15),
            timedelta(minutes=30),
            timedelta(minutes=60),
            timedelta(minutes=180),
        ]
        publish = tasks[2].due_at.astimezone(ZoneInfo("Europe/Paris"))
        assert (publish.hour, publish.minute) == (3, 30)  # 01:30 CET + 1 h = 03:30 CEST
        assert all(t.due_at.tzinfo is not None for t in tasks)

    def test_applied_later_still_counts_from_the_declaration(self, incident, lead, playbook):
        actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
        first = Task.objects.filter(incident=incident).order_by("due_at").first()
        assert first.due_at == incident.declared_at + timedelta(minutes=15)

    def test_everything_is_copied_and_logged(self, followed, lead):
        assert Task.objects.filter(incident=followed).count() == 4
        assert selectors.templates_of(followed).count() == 2
        assert [c.name for c in selectors.contacts_of(followed)] == ["Julie B.", "Marc Durand"]
        entry = last_entry(followed)
        assert entry.kind == EntryKind.PLAYBOOK_APPLIED
        assert entry.data["tasks"] == 4 and entry.data["version"] == 1

    def test_editing_the_playbook_leaves_running_incidents_unchanged(self, followed, playbook):
        before = list(Task.objects.filter(incident=followed).values_list("title", "due_at"))
        step = playbook.steps.first()
        step.title, step.due_minutes = "Changed", 1
        step.save()
        playbook.steps.all().delete()
        template = playbook.templates.first()
        template.text = "Changed {{ brand }}"
        template.save()
        playbook.contacts.update(name="Changed")
        playbook.brand = "Other brand"
        playbook.save()
        assert list(Task.objects.filter(incident=followed).values_list("title", "due_at")) == before
        assert "Changed" not in selectors.templates_of(followed).first().text
        assert "Changed" not in {c.name for c in selectors.contacts_of(followed)}
        assert selectors.applied_playbook(followed).brand == "Maison Durand"

    def test_only_the_lead_applies(self, incident, drafter, playbook):
        with pytest.raises(NotAllowed):
            actions.playbook_apply(incident=incident, actor=drafter, playbook=playbook)
        assert not Task.objects.exists()

    def test_one_playbook_per_incident(self, followed, lead, playbook):
        with pytest.raises(Conflict):
            actions.playbook_apply(incident=followed, actor=lead, playbook=playbook)

    def test_a_playbook_for_another_category_or_severity_is_refused(self, declare, lead, playbook):
        rumour = declare(category="rumour")
        with pytest.raises(InvalidInput, match="not meant for"):
            actions.playbook_apply(incident=rumour, actor=lead, playbook=playbook)
        low = declare(severity=1)
        with pytest.raises(InvalidInput):
            actions.playbook_apply(incident=low, actor=lead, playbook=playbook)

    def test_an_inactive_playbook_is_refused(self, incident, lead, playbook):
        playbook.is_active = False
        playbook.save()
        with pytest.raises(InvalidInput, match="not available"):
            actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)

    def test_statements_follow_the_policy_for_the_severity(
        self, declare, lead, drafter, playbook, policies, make_statement
    ):
        critical = declare(severity=4)
        actions.playbook_apply(incident=critical, actor=lead, playbook=playbook)
        from incidents import actions as incident_actions

        incident_actions.member_add(incident=critical, actor=lead, user=drafter, role="drafter")
        statement = make_statement(incident=critical, author=drafter, text="Hi.")
        assert statement.policy == policies["ordered"]


class TestTemplates:
    def test_placeholders_are_filled_in(self, followed):
        draft = selectors.draft_from_template(followed, selectors.templates_of(followed).first().pk)
        assert draft["kind"] == "holding" and draft["channel"] == "x"
        assert followed.title in draft["text"] and "Maison Durand" in draft["text"]
        assert "{{" not in draft["text"]

    @pytest.mark.parametrize(
        "text",
        [
            "{{ incident.__class__ }}",
            "{{ incident.declared_by.password }}",
            "{{ settings.SECRET_KEY }}",
            "{{ brand|upper }}",
            "{% load static %}",
            "{# comment #}",
        ],
    )
    def test_anything_but_the_whitelist_is_refused(self, text):
        with pytest.raises(InvalidInput):
            check_template(text)

    def test_values_are_inserted_once_as_plain_text(self, declare):
        incident = declare(title="{{ brand }} <script>alert(1)</script>")
        values = values_for(incident, brand="ACME", language="en")
        assert render_template("Re: {{ incident.title }}", values) == (
            "Re: {{ brand }} <script>alert(1)</script>"
        )

    def test_a_template_shown_in_a_page_is_escaped(self, followed, browser_client, drafter):
        followed.title = "<b>bold</b>"  # rendered into the draft, then into the form
        followed.save()
        template = selectors.templates_of(followed).first()
        page = browser_client.as_user(drafter).get(
            f"/incidents/{followed.pk}/statements/new/?template={template.pk}"
        )
        assert page.status_code == 200
        html = page.content.decode()
        assert "Start from a template" in html
        assert "We have seen the reactions to &lt;b&gt;bold&lt;/b&gt;." in html  # the textarea
        assert "<b>bold</b>" not in html


class TestTasks:
    def test_completing_logs_and_schedules_the_next_update(self, followed, drafter):
        update = Task.objects.get(incident=followed, repeat_minutes=180)
        now = timezone.now()
        with mock.patch("django.utils.timezone.now", return_value=now):
            actions.task_complete(task=update, actor=drafter, note="Posted on X")
        update.refresh_from_db()
        assert update.status == TaskStatus.DONE and update.completed_by == drafter
        following = Task.objects.get(incident=followed, occurrence=2)
        assert following.due_at == now + timedelta(minutes=180)
        entry = last_entry(followed)
        assert entry.kind == EntryKind.TASK_COMPLETED and entry.text == "Posted on X"
        assert entry.data["next_due_at"] == following.due_at.isoformat()

    def test_no_next_update_once_resolved(self, followed, lead, drafter):
        from incidents import actions as incident_actions

        incident_actions.incident_transition(incident=followed, actor=lead, status="active")
        incident_actions.incident_transition(incident=followed, actor=lead, status="resolved")
        update = Task.objects.get(incident=followed, repeat_minutes=180)
        actions.task_complete(task=update, actor=drafter)
        assert not Task.objects.filter(incident=followed, occurrence=2).exists()

    def test_done_twice_is_refused(self, followed, drafter):
        task = Task.objects.filter(incident=followed).first()
        actions.task_complete(task=task, actor=drafter)
        with pytest.raises(TransitionNotAllowed):
            actions.task_complete(task=task, actor=drafter)

    def test_observers_cannot_complete(self, followed, observer):
        with pytest.raises(NotAllowed):
            actions.task_complete(
                task=Task.objects.filter(incident=followed).first(), actor=observer
            )

    def test_assigning(self, followed, lead, drafter, approver, observer):
        task = Task.objects.filter(incident=followed).first()
        actions.task_assign(task=task, actor=lead, assignee=drafter)
        assert last_entry(followed).kind == EntryKind.TASK_ASSIGNED
        with pytest.raises(NotAllowed):
            actions.task_assign(task=task, actor=drafter, assignee=approver)
        actions.task_assign(task=task, actor=approver, assignee=approver)  # taking it
        with pytest.raises(InvalidInput):
            actions.task_assign(task=task, actor=lead, assignee=observer)
        task.refresh_from_db()
        assert task.assignee == approver


class TestContacts:
    def test_briefed_and_thanked_are_logged(self, followed, drafter):
        julie = selectors.contacts_of(followed).get(name="Julie B.")
        actions.contact_mark(contact=julie, actor=drafter, what="briefed", done=True)
        assert last_entry(followed).kind == EntryKind.CONTACT_BRIEFED
        actions.contact_mark(contact=julie, actor=drafter, what="briefed", done=True)  # no-op
        actions.contact_mark(contact=julie, actor=drafter, what="thanked", done=True)
        julie.refresh_from_db()
        assert julie.briefed_at and julie.thanked_at
        kinds = list(
            TimelineEntry.objects.filter(incident=followed)
            .order_by("-seq")
            .values_list("kind", flat=True)[:3]
        )
        assert kinds == ["contact_thanked", "contact_briefed", "playbook_applied"]

    def test_observers_cannot(self, followed, observer):
        julie = selectors.contacts_of(followed).get(name="Julie B.")
        with pytest.raises(NotAllowed):
            actions.contact_mark(contact=julie, actor=observer, what="briefed", done=True)


class TestGuidance:
    def test_markdown_is_rendered_and_sanitized(self):
        from incidents.templatetags.crisis import guidance_html

        html = guidance_html(
            "**Be quick.**\n\n- one\n- two\n\n[site](https://example.com) "
            "[bad](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)>"
        )
        assert "<strong>Be quick.</strong>" in html and "<li>one</li>" in html
        assert 'href="https://example.com"' in html
        assert 'href="javascript' not in html  # left as harmless text
        assert "<script>" not in html and "<img" not in html
