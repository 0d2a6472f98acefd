"""`load_demo`: idempotent, its accounts are the default playbooks' crisis committee (so a
new user can staff a cell from the roster and play the golden hour), and the README's login
table names every account it creates."""

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from demo.management.commands import load_demo
from incidents.models import Incident, Membership, TimelineEntry
from incidents.playbooks import defaults
from incidents.playbooks.actions import incident_declare_from_playbook
from incidents.playbooks.models import Playbook
from incidents.playbooks.selectors import roster_rows

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[1] / "README.md"
# Who each committee e-mail of the default playbooks is in the demo.
COMMITTEE = {
    "camille.laurent@example.com": "lead",
    "david.keller@example.com": "comms",
    "ines.bernard@example.com": "approver",
    "sam.moreau@example.com": "drafter",
    "lea.martin@example.com": "spokesperson",
    "paul.durand@example.com": "ceo",
}


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def load():
        out = io.StringIO()
        call_command("load_demo", stdout=out)
        return out.getvalue()

    return load


def test_load_demo_twice_changes_nothing_the_second_time(demo):
    first = demo()
    state = (
        sorted(get_user_model().objects.values_list("username", "email")),
        Incident.objects.count(),
        Membership.objects.count(),
        TimelineEntry.objects.count(),
        Playbook.objects.count(),
    )
    second = demo()
    assert "Demo data ready (3 incident(s) created)" in first
    assert "Demo data ready (0 incident(s) created)" in second
    assert "Default playbooks ready (0 created)" in second
    assert (
        sorted(get_user_model().objects.values_list("username", "email")),
        Incident.objects.count(),
        Membership.objects.count(),
        TimelineEntry.objects.count(),
        Playbook.objects.count(),
    ) == state
    # The password the README announces still opens every account.
    for user in get_user_model().objects.all():
        assert user.check_password(load_demo.DEMO_PASSWORD), user.username


def test_the_demo_accounts_are_the_default_playbooks_committee(demo):
    demo()
    for name in defaults.FILES:
        committee = [c for c in defaults.read_default(name)["contacts"] if c["kind"] == "committee"]
        assert {c["email"] for c in committee} == set(COMMITTEE), name
    users = {u.email: u.username for u in get_user_model().objects.filter(is_active=True)}
    assert {email: users.get(email) for email in COMMITTEE} == COMMITTEE


def test_the_demo_lead_staffs_a_new_incident_from_the_roster_in_one_step(demo, client):
    demo()
    lead = get_user_model().objects.get(username="lead")
    playbook = Playbook.objects.get(name=defaults.PRODUCT_DEFECT)
    incident = incident_declare_from_playbook(
        actor=lead,
        playbook=playbook,
        title="Kettle lids cracking",
        category="product",
        origin="online",
        severity=3,
    )
    rows = roster_rows(incident)
    # Everyone but the lead (already in the cell) has an account and can be ticked.
    assert {r.contact.email: r.account.username for r in rows} == COMMITTEE
    assert [r.contact.email for r in rows if not r.selectable] == ["camille.laurent@example.com"]

    client.force_login(lead)
    url = reverse("incident-roster", args=[incident.pk])
    page = client.get(url).content.decode()
    ticked = re.findall(r'name="pick" value="(\d+)"[^>]*checked', page)
    form = {"pick": ticked}
    for row in rows:
        form[f"role-{row.contact.pk}"] = row.contact.role
        form[f"function-{row.contact.pk}"] = row.contact.function
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]

    cell = {
        m.user.username: (m.role, m.function)
        for m in Membership.objects.active().filter(incident=incident).select_related("user")
    }
    assert cell == {
        "lead": ("lead", ""),
        "drafter": ("drafter", ""),
        "approver": ("approver", "legal"),
        "comms": ("approver", "communications"),
        "spokesperson": ("spokesperson", ""),
        "ceo": ("approver", "executive"),
    }


def test_the_readme_lists_every_demo_login():
    table = README.read_text().split("| username |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([a-z]+)`", table))
    assert listed == {username for username, *_rest in load_demo.USERS}


def test_the_demo_listens_to_the_kettle_and_its_spike_came_with_the_incident(demo):
    from incidents.listening.models import ExpectedBurst, Mention, Signal
    from incidents.postmortems import figures

    demo()
    kettle = Incident.objects.get(title__startswith="Complaint wave: kettle lids")
    assert 600 <= Mention.objects.count() <= 1100  # the brand's and the kettle market's
    assert set(Mention.objects.values_list("language", flat=True)) == {"fr", "en"}
    signal = Signal.objects.get()
    assert signal.incident == kettle and signal.first_mention.incident == kettle
    # Its watches were set up before it opened, as the detector would have it (a signal is
    # never opened at a minute before its watch existed).
    assert signal.watch.created_at <= signal.started_at <= signal.opened_at
    assert signal.watch.topic_watch.created_at <= signal.started_at
    attached = Mention.objects.filter(incident=kettle)
    assert attached.filter(sentiment="negative").count() > attached.count() / 2
    lead = get_user_model().objects.get(username="lead")
    assert lead.has_perm("listening.add_mention") and lead.has_perm("listening.change_watch")
    # The communications director may be chosen among the alerted people (a new-user pass).
    comms = get_user_model().objects.get(username="comms")
    assert comms.has_perm("listening.view_mention")
    # Its signals alert someone: the lead (and the community manager on the brand's watch).
    assert set(signal.watch.subscribers.values_list("username", flat=True)) == {"lead", "drafter"}
    assert signal.watch.topic_watch.subscribers.get() == lead
    # The KX-200 watch has the kettle market as its topic: the post-mortem's share of voice.
    metrics = figures.report(kettle).metrics
    assert 0 < metrics.share_of_voice < 1 and metrics.share_of_voice_conversation > 200
    # A planned campaign is declared with its size: it will not hide a crisis beyond it.
    campaign = ExpectedBurst.objects.get()
    assert campaign.expected_size == 3 and campaign.starts_at > timezone.now()


def test_the_demo_queue_shows_the_playbooks_advice_and_a_known_ambassador(demo, client):
    from django.utils import translation

    from incidents.replies.choices import ADVICE

    demo()
    kettle = Incident.objects.get(title__startswith="Complaint wave: kettle lids")
    client.force_login(get_user_model().objects.get(username="drafter"))

    page = client.get(
        reverse("reply-queue", args=[kettle.pk]) + "?view=defenders", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    # Dana (@dana.bsky.social) is the product defect playbook's "Dana.bsky.social" on Bluesky.
    dana = kettle.contacts.get(name="Dana Whitfield")
    assert page.count("Known ambassador:") == 1 and "Known ambassador: Dana Whitfield" in page
    assert f"#contact-{dana.pk}" in page
    # The playbook writes its own advice for defenders, the default stays for the others.
    assert "A customer who stood up for us: thank them by name" in page
    with translation.override("en"):
        assert str(ADVICE["defender"]) not in page


def test_the_resolved_rumour_has_a_signed_off_post_mortem(demo, client):
    from incidents.postmortems.models import Postmortem

    demo()
    postmortem = Postmortem.objects.get(incident__title__startswith="Rumeur")
    assert postmortem.incident.status == "resolved" and postmortem.status == "signed_off"
    assert postmortem.versions.count() == 1
    assert postmortem.summary and postmortem.went_wrong and postmortem.factors
    assert sorted(postmortem.items.values_list("status", flat=True)) == ["done", "dropped", "open"]
    client.force_login(get_user_model().objects.get(username="lead"))
    page = client.get(f"/incidents/{postmortem.incident_id}/postmortem/").content.decode()
    assert "<svg" in page and "Reaction to each statement" in page


def test_the_rumour_incident_s_crisis_page_is_a_bilingual_archive_and_another_playbook_a_dark_site(
    demo,
):
    """The incident is resolved: so is its page, kept online after its final update, and
    promising nothing (a helper pass found it "Live", counting down to the next update)."""
    from incidents.crisiscenter import selectors as crisis_selectors
    from incidents.crisiscenter.models import CrisisPage, CrisisPageTemplate

    demo()
    page = CrisisPage.objects.get(incident__category="rumour")
    assert page.incident.status == "resolved"
    assert page.state == "resolved" and page.slug == "rumeur-usines"
    public = crisis_selectors.public_page(page)
    assert public.languages == ["fr", "en"]
    for language in ("fr", "en"):
        version = public.versions[language]
        assert version.title and version.doing and version.help
        assert len(version.faq) == 2
        assert len(version.updates) == 4
        assert version.updates[0].published_at <= page.resolved_at
    assert public.next_update_at is None
    # Promises kept: the replayed updates kept the earlier promises (on time, late, on
    # time), and the last one ended with the crisis.
    outcomes = list(page.promises.order_by("made_at").values_list("outcome", flat=True))
    assert outcomes == ["kept", "kept", "late", "kept", "withdrawn"]
    defect = Playbook.objects.get(name__startswith="Défaut produit")
    assert set(
        CrisisPageTemplate.objects.filter(playbook=defect).values_list("language", flat=True)
    ) == {"fr", "en"}


def test_the_demo_has_a_reply_template_approved_in_advance(demo, client):
    from statements import preapproval

    demo()
    kettle = Incident.objects.get(title__startswith="Complaint wave: kettle lids")
    [state] = [s for s in preapproval.template_states(kettle) if s.preapproved]
    assert state.template.language == "en" and "{{ author.handle }}" in state.template.text
    assert {s.approver.username for s in state.signers} == {"approver", "comms"}
    client.force_login(get_user_model().objects.get(username="drafter"))
    page = client.get(
        reverse("reply-queue", args=[kettle.pk]) + "?view=to_answer", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Start from this template" in page and "— approved in advance</option>" in page
