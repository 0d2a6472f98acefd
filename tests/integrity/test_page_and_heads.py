"""The staff page of integrity findings, and the signed heads handed out in exports."""

import io
import json
import zipfile

import pytest
from django.db import connection, transaction
from django.urls import reverse

from incidents import chains, selectors
from incidents.models import TimelineEntry


def _break_timeline(incident, n=1):
    """Delete the last n timeline entries, triggers off (see test_tamper.attack)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for entry in TimelineEntry.objects.filter(incident=incident).order_by("-seq")[:n]:
            cursor.execute("DELETE FROM incidents_timelineentry WHERE id = %s", [entry.pk])


@pytest.mark.parametrize("persona", [None, "lead", "outsider", "observer"])
def test_only_staff_see_the_page(browser_client, incident, request, persona):
    if persona:
        browser_client.as_user(request.getfixturevalue(persona))
    assert browser_client.get(reverse("integrity")).status_code == 404


def test_staff_see_no_finding_and_the_link(browser_client, incident, staff):
    client = browser_client.as_user(staff)
    page = client.get(reverse("integrity"))
    assert page.status_code == 200
    assert b"No finding" in page.content
    assert reverse("integrity").encode() in client.get(reverse("dashboard")).content


def test_members_get_no_link(browser_client, incident, lead):
    page = browser_client.as_user(lead).get(reverse("dashboard"))
    assert reverse("integrity").encode() not in page.content


def test_findings_are_listed_and_paginated(browser_client, declare, staff, monkeypatch):
    incidents = [declare(title=f"Crisis {n}") for n in range(3)]
    for incident in incidents:
        _break_timeline(incident)
    client = browser_client.as_user(staff)
    from incidents.integrity import views

    monkeypatch.setattr(views, "FINDINGS_PER_PAGE", 2)
    first = client.get(reverse("integrity"))
    second = client.get(reverse("integrity"), {"page": 2})
    only = client.get(reverse("integrity"), {"incident": incidents[1].pk, "files": "1"})
    assert b"6 findings" in first.content  # per incident: empty timeline + checkpoint count
    assert b"Page 1 of 3" in first.content and b"Page 2 of 3" in second.content
    assert b"page=2" in first.content
    assert b"2 findings" in only.content and f"incident={incidents[1].pk}".encode() in only.content
    assert client.get(reverse("integrity"), {"incident": 999}).status_code == 404


def test_chain_head_follows_every_append(incident, lead):
    from incidents import actions

    before = selectors.chain_head(incident)
    entry = actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="x")
    after = selectors.chain_head(incident)
    assert (after.count, after.hash, after.verified) == (before.count + 1, entry.hash, True)


def test_a_forged_checkpoint_does_not_verify(incident):
    head = selectors.chain_head(incident)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE incidents_chaincheckpoint SET count = count + 1 WHERE chain = %s",
            [f"timeline:{incident.pk}"],
        )
    assert selectors.chain_head(incident).verified is False
    assert head.verified is True


def test_the_export_prints_the_signed_heads(incident, lead, attach, export_bundle):
    item = attach()
    export = export_bundle(incident, lead)
    with export.file.open("rb") as out:
        archive = zipfile.ZipFile(io.BytesIO(out.read()))
    manifest = json.loads(archive.read("manifest.json"))
    exported = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
    assert exported.kind == "evidence_exported"
    timeline = manifest["anchors"][f"timeline:{incident.pk}"]
    # The head when the bundle's content was read: the export's own entry, written when the
    # bundle was ready, comes after it (right after, here: nobody wrote in between).
    assert (timeline["count"], timeline["head"]) == (exported.seq - 1, exported.prev_hash)
    assert chains.signature_valid(
        f"timeline:{incident.pk}", timeline["count"], timeline["head"], timeline["signature"]
    )
    custody = manifest["anchors"][f"custody:{item.pk}"]
    # The item's custody as the bundle shows it: its `exported` event comes after.
    assert custody["head"] == item.custody.get(seq=custody["count"]).hash
    assert item.custody.order_by("-seq").first().prev_hash == custody["head"]
    assert f"evidence:{incident.pk}" in manifest["anchors"]
    readme = archive.read("README.txt").decode()
    assert timeline["head"] in readme and custody["head"] in readme
    assert timeline["head"] in archive.read("report.html").decode()
