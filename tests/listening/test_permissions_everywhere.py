"""One rule per right (rules.py), asked by the pages, the API and the admin alike: the
admin's own model permissions give no more than the pages; a tool's account that may only
send mentions sends them without reading anything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.listening.models import ExpectedBurst, Mention, Watch

from .conftest import grant, ndjson, post

pytestmark = pytest.mark.django_db

DAY = (timezone.localdate() + timedelta(days=3)).isoformat()


def burst_form(watch):
    return {
        "watch": watch.pk,
        "starts_at_0": DAY,
        "starts_at_1": "08:00:00",
        "ends_at_0": DAY,
        "ends_at_1": "20:00:00",
        "expected_size": "",
        "note": "Sales",
    }


@pytest.fixture
def staff_with_admin_rights_only(make_user):
    """Staff given the admin's campaign and watch-adding permissions, not the right to
    change watches (nor to read listening data)."""
    user = make_user("staffburst", is_staff=True)
    return grant(
        user,
        "add_expectedburst",
        "change_expectedburst",
        "delete_expectedburst",
        "view_expectedburst",
        "add_watch",
        "view_signal",
    )


def test_the_admins_model_permissions_alone_give_nothing(
    staff_with_admin_rights_only, watch, client
):
    client.force_login(staff_with_admin_rights_only)
    # Refused (403), never a 500 from the action's refusal after the form validated.
    response = client.post("/admin/listening/expectedburst/add/", burst_form(watch))
    assert response.status_code == 403
    response = client.post("/admin/listening/watch/add/", {"name": "X", "brand": "X"})
    assert response.status_code == 403
    assert client.get("/admin/listening/signal/").status_code == 403
    assert client.get("/admin/listening/mention/").status_code == 403
    assert not ExpectedBurst.objects.exists()
    assert Watch.objects.count() == 1


def test_changing_watches_without_reading_them_is_refused_in_the_admin_too(
    make_user, watch, client
):
    editor = grant(make_user("blind", is_staff=True), "change_watch", "view_watch")
    client.force_login(editor)
    # The watch page and the API refuse them: so does the admin.
    assert client.get(f"/listening/watches/{watch.pk}/edit/").status_code == 403
    response = client.post(
        f"/admin/listening/watch/{watch.pk}/change/",
        {"name": watch.name, "brand": "Changed", "volume_deviations": 4},
    )
    assert response.status_code == 403
    watch.refresh_from_db()
    assert watch.brand == "Maison Lumière"


def test_a_watch_editor_uses_the_admin(watch_editor, watch, client):
    watch_editor.is_staff = True
    watch_editor.save()
    client.force_login(watch_editor)
    assert client.get("/admin/listening/watch/").status_code == 200
    assert client.get(f"/admin/listening/watch/{watch.pk}/change/").status_code == 200
    response = client.post("/admin/listening/expectedburst/add/", burst_form(watch))
    assert response.status_code == 302, response.content[:500]
    assert ExpectedBurst.objects.get().created_by == watch_editor


def test_a_reader_reads_mentions_and_signals_in_the_admin_and_changes_nothing(
    reader, watch, client
):
    reader.is_staff = True
    reader.save()
    client.force_login(reader)
    assert client.get("/admin/listening/mention/").status_code == 200
    assert client.get("/admin/listening/signal/").status_code == 200
    assert client.get("/admin/listening/watch/").status_code == 200
    assert client.get(f"/admin/listening/watch/{watch.pk}/change/").status_code == 200
    response = client.post("/admin/listening/expectedburst/add/", burst_form(watch))
    assert response.status_code == 403


def test_a_tools_account_sends_mentions_with_the_right_to_send_alone(
    make_user, watch, send_bulk, browser_client
):
    tool = grant(make_user("webhook"), "add_mention")
    response = send_bulk(tool, ndjson(post("tool-1"), post("tool-2")))
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 2
    assert Mention.objects.count() == 2
    # It reads nothing, and the import page (whose report leads to the stream) is not its.
    assert browser_client.as_user(tool).get("/api/mentions/").status_code == 403
    assert browser_client.as_user(tool).get("/listening/import/").status_code == 403


def test_a_refused_subscriber_is_named_by_id_only(watch_editor, outsider, make_user, api):
    """A watch editor trying ids learns no one's name; a deactivated reader is said so."""
    client = api.as_user(watch_editor)
    body = {"name": "Probe", "brand": "x", "keywords": ["yy"], "subscribers": [outsider.pk]}
    refused = client.post("/api/watches/", body, format="json")
    assert refused.status_code == 400
    message = refused.json()["errors"]["subscribers"]
    assert f"The person with the id {outsider.pk} may not read" in str(message)
    assert "outsider" not in str(refused.json())
    gone = grant(make_user("gone"), "view_mention")
    gone.is_active = False
    gone.save()
    refused = client.post("/api/watches/", {**body, "subscribers": [gone.pk]}, format="json")
    assert f"The account with the id {gone.pk} is deactivated" in str(refused.json())
