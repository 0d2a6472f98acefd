"""Attaching many mentions at once from the Listening page's stream ("Attach selected to
incident…"): a plain two-step form (the incident named before anything is written), one
action call and one timeline entry, the action's rule for mentions already attached to
another incident (left there, named) shared with the API."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.errors import InvalidInput
from incidents.listening import actions
from incidents.listening.models import Mention
from incidents.models import TimelineEntry

from .conftest import grant
from .test_pages import bulk_mentions

pytestmark = pytest.mark.django_db


@pytest.fixture
def listening_cell(incident, lead, drafter, observer, outsider):
    """The incident's lead, drafter and observer, and an outsider, all listening readers."""
    return {u.username: grant(u, "view_mention") for u in (lead, drafter, observer, outsider)}


URL = "/listening/mentions/attach/"


def entries(incident):
    return TimelineEntry.objects.filter(incident=incident, kind="mentions_attached")


def send(client, incident, mentions, *, confirm=False, follow=False):
    data = {"incident": incident.pk, "mentions": [m.pk for m in mentions], "next": "/listening/"}
    if confirm:
        data["confirm"] = "1"
    return client.post(URL, data, follow=follow)


def test_the_stream_offers_the_selection_to_those_who_can_attach(
    incident, listening_cell, watch, browser_client
):
    mentions = bulk_mentions(3, watch=watch)
    drafter = browser_client.as_user(listening_cell["drafter"])
    page = drafter.get("/listening/").content.decode()
    assert 'id="attach-selected"' in page and "Attach selected to incident…" in page
    assert page.count('form="attach-selected"') == 3
    assert f'name="mentions" value="{mentions[0].pk}" form="attach-selected"' in page
    # Each checkbox is named for a screen reader as the mention names its author: a news
    # site without a handle is its name, not "unknown author".
    Mention.objects.filter(pk=mentions[1].pk).update(author_handle="", author_name="Conso News")
    page = drafter.get("/listening/").content.decode()
    assert "Select the mention by Conso News" in page
    # An observer everywhere (no incident to write to) gets no checkbox and no form.
    observer = browser_client.as_user(listening_cell["observer"])
    page = observer.get("/listening/").content.decode()
    assert 'form="attach-selected"' not in page and 'id="attach-selected"' not in page


def test_many_mentions_in_one_request_are_one_timeline_entry(
    incident, listening_cell, watch, browser_client
):
    mentions = bulk_mentions(30, watch=watch)
    client = browser_client.as_user(listening_cell["drafter"])
    summary = send(client, incident, mentions)
    html = summary.content.decode()
    assert summary.status_code == 200
    assert "30 mentions will be attached to:" in html and incident.title in html
    assert f"Attach 30 mentions to “{incident.title}”" in html
    assert html.count('type="hidden" name="mentions"') == 30
    assert not entries(incident).exists()  # nothing is written before the confirmation
    assert not Mention.objects.filter(incident=incident).exists()

    done = send(client, incident, mentions, confirm=True, follow=True)
    assert done.redirect_chain == [("/listening/", 302)]
    assert f"30 mentions attached to “{incident.title}”." in done.content.decode()
    (entry,) = entries(incident)
    assert entry.data["count"] == 30 and len(entry.data["mentions"]) == actions.MAX_NAMED
    assert Mention.objects.filter(incident=incident).count() == 30


def test_observers_outsiders_and_people_without_listening_access_write_nothing(
    incident, listening_cell, approver, watch, browser_client
):
    mentions = bulk_mentions(4, watch=watch)
    observer = browser_client.as_user(listening_cell["observer"])
    for confirm in (False, True):
        refused = send(observer, incident, mentions, confirm=confirm)
        assert refused.status_code == 403
        assert "Nothing was attached." in refused.content.decode()
    # Reads listening data, not in the cell.
    outsider = browser_client.as_user(listening_cell["outsider"])
    for confirm in (False, True):
        hidden = send(outsider, incident, mentions, confirm=confirm)
        assert hidden.status_code == 404 and incident.title not in hidden.content.decode()
    no_listening = browser_client.as_user(approver)  # in the cell, no listening permission
    for confirm in (False, True):
        assert send(no_listening, incident, mentions, confirm=confirm).status_code == 403
    assert not entries(incident).exists()
    assert not Mention.objects.filter(incident__isnull=False).exists()


def test_over_the_limit_is_refused_with_a_clear_error(
    incident, listening_cell, watch, browser_client, api
):
    mentions = bulk_mentions(actions.MAX_ATTACH + 1, watch=watch)
    client = browser_client.as_user(listening_cell["drafter"])
    for confirm in (False, True):
        refused = send(client, incident, mentions, confirm=confirm)
        assert refused.status_code == 422
        html = refused.content.decode()
        assert f"{actions.MAX_ATTACH + 1} mentions are selected: at most 200 can be" in html
    nothing = client.post(URL, {"incident": incident.pk, "next": "/listening/"})
    assert nothing.status_code == 422 and "Tick at least one mention." in nothing.content.decode()
    no_incident = client.post(URL, {"mentions": [mentions[0].pk]})
    assert no_incident.status_code == 422 and "Choose an incident." in no_incident.content.decode()
    over = api.as_user(listening_cell["drafter"]).post(
        f"/api/incidents/{incident.pk}/mentions/",
        {"mentions": [m.pk for m in mentions]},
        format="json",
    )
    assert over.status_code == 400
    assert not entries(incident).exists()
    assert not Mention.objects.filter(incident__isnull=False).exists()


def test_mentions_attached_elsewhere_are_named_and_left_there_by_page_and_api(
    incident, listening_cell, declare, lead, watch, browser_client, api
):
    other = declare(title="Another crisis the drafter is not in")
    mentions = bulk_mentions(6, watch=watch)
    elsewhere, already, fresh = mentions[:2], mentions[2:3], mentions[3:]
    Mention.objects.filter(pk__in=[m.pk for m in elsewhere]).update(incident=other)
    Mention.objects.filter(pk__in=[m.pk for m in already]).update(incident=incident)
    client = browser_client.as_user(listening_cell["drafter"])

    summary = send(client, incident, mentions).content.decode()
    assert "3 mentions will be attached to:" in summary
    assert "1 selected mention is already attached to this incident." in summary
    assert "Left where they are (2)" in summary
    assert summary.count("Attached to an incident you are not in") == 2
    assert other.title not in summary  # the drafter is not in its cell
    # The lead, in both cells, is told which incident holds them.
    lead_view = browser_client.as_user(grant(lead, "view_mention"))
    assert summary.count("data-mention=") == 5
    assert f"Attached to “{other.title}”" in send(lead_view, incident, mentions).content.decode()

    client = browser_client.as_user(listening_cell["drafter"])
    done = send(client, incident, mentions, confirm=True, follow=True).content.decode()
    assert f"3 mentions attached to “{incident.title}”." in done
    assert "2 mentions were left where they were: already attached to another incident" in done
    assert elsewhere[0].author_handle in done
    assert set(Mention.objects.filter(incident=other)) == set(elsewhere)
    assert set(Mention.objects.filter(incident=incident)) == {*already, *fresh}
    (entry,) = entries(incident)
    assert entry.data["count"] == 3

    # The API follows the same rule: attached, and left elsewhere, in one answer.
    more = bulk_mentions(2, watch=watch, prefix="q")
    answer = api.as_user(listening_cell["drafter"]).post(
        f"/api/incidents/{incident.pk}/mentions/",
        {"mentions": [m.pk for m in (*more, *elsewhere)]},
        format="json",
    )
    assert answer.status_code == 200
    assert sorted(answer.json()["attached"]) == sorted(m.pk for m in more)
    assert sorted(answer.json()["attached_elsewhere"]) == sorted(m.pk for m in elsewhere)
    assert set(Mention.objects.filter(incident=other)) == set(elsewhere)
    # One mention asked alone cannot be attached: that is an error, not a silent no-op.
    with pytest.raises(InvalidInput):
        actions.mention_attach(
            mention=elsewhere[0], incident=incident, actor=listening_cell["drafter"]
        )


def test_the_query_count_does_not_grow_with_the_selection(
    incident, listening_cell, watch, browser_client
):
    client = browser_client.as_user(listening_cell["drafter"])
    few = bulk_mentions(2, watch=watch, prefix="a")
    many = bulk_mentions(actions.MAX_ATTACH, watch=watch, prefix="b")
    counts = {}
    for name, selection in (("few", few), ("many", many)):
        with CaptureQueriesContext(connection) as summary:
            assert send(client, incident, selection).status_code == 200
        with CaptureQueriesContext(connection) as confirm:
            assert send(client, incident, selection, confirm=True).status_code == 302
        counts[name] = (len(summary), len(confirm))
    assert counts["many"] == counts["few"], counts
    assert Mention.objects.filter(incident=incident).count() == 2 + actions.MAX_ATTACH
    assert entries(incident).count() == 2


def test_the_attach_is_published_live_once(
    incident, listening_cell, watch, browser_client, listener, django_capture_on_commit_callbacks
):
    mentions = bulk_mentions(12, watch=watch)
    client = browser_client.as_user(listening_cell["drafter"])
    with django_capture_on_commit_callbacks(execute=True):
        send(client, incident, mentions)
    assert listener() == []  # the summary writes and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        send(client, incident, mentions, confirm=True)
    (message,) = listener()
    assert message["event"] == "timeline.mentions_attached"
    payload = json.loads(message["text"])
    assert payload["entry"]["data"]["count"] == 12
    assert {"mentions", "listening-stream"} <= set(payload["panels"])


@pytest.mark.parametrize(
    "next_url",
    ["/\\evil.example", "/\\t/evil.example", "/\t/evil.example", "//evil.example", "https://e.x/"],
)
def test_next_is_a_path_of_this_site_only(
    incident, listening_cell, watch, browser_client, next_url
):
    """The confirmation's links and the redirect after it go back to `next` only when it
    is a path here: to a browser `/\\evil.example` is another site."""
    *mentions, single = bulk_mentions(3, watch=watch)
    client = browser_client.as_user(listening_cell["drafter"])
    data = {"incident": incident.pk, "mentions": [m.pk for m in mentions], "next": next_url}
    confirm = client.post(URL, data)
    assert confirm.status_code == 200 and confirm.context["back"] == "/listening/"
    assert "evil" not in confirm.content.decode()
    done = client.post(URL, {**data, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == "/listening/"
    one = client.post(f"/listening/mentions/{single.pk}/attach/", data)
    assert one.status_code == 302 and one["Location"] == "/listening/"
    kept = client.post(URL, {**data, "next": "/listening/?watch=1"})
    assert kept.context["back"] == "/listening/?watch=1"
