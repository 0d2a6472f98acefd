"""A watch's planned campaigns (expected bursts), declared by whoever may change watches on
the watch's page and through the API: what is listed, added, changed and deleted through
the actions, how refused input is shown, who may, and what it costs."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.listening import actions
from incidents.listening.models import ExpectedBurst
from tests.helpers import assert_error, dt

from .conftest import assert_refused_beside, field_block, grant

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def campaigns_url(watch):
    return f"/listening/watches/{watch.pk}/campaigns/"


def edit_url(burst):
    return f"/listening/watches/{burst.watch_id}/campaigns/{burst.pk}/edit/"


def delete_url(burst):
    return f"/listening/watches/{burst.watch_id}/campaigns/{burst.pk}/delete/"


def api_url(watch, burst=None):
    tail = f"{burst.pk}/" if burst else ""
    return f"/api/watches/{watch.pk}/expected-bursts/{tail}"


def local(days, hour):
    """A wall-clock time `days` from today at `hour`:00, as the page's field takes it."""
    day = timezone.localdate() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def planned(watch, actor, *, start_in=timedelta(days=2), length=timedelta(hours=12), **fields):
    start = timezone.now() + start_in
    return actions.expected_burst_save(
        burst=ExpectedBurst(watch=watch, starts_at=start, ends_at=start + length, **fields),
        actor=actor,
    )


def ended(watch, **fields):
    """A campaign that ended yesterday (the action refuses to declare one)."""
    end = timezone.now() - timedelta(days=1)
    return ExpectedBurst.objects.create(
        watch=watch, starts_at=end - timedelta(hours=6), ends_at=end, **fields
    )


# --- The actions -------------------------------------------------------------------------


def test_the_actions_keep_an_ended_campaign_and_check_each_field(watch, watch_editor, reader):
    burst = planned(watch, watch_editor, note="  Black Friday  ")
    assert burst.note == "Black Friday" and burst.created_by == watch_editor
    with pytest.raises(NotAllowed):
        actions.expected_burst_delete(burst=burst, actor=reader)
    past = ended(watch)
    past.note = "rewritten"
    with pytest.raises(Conflict, match="has ended"):
        actions.expected_burst_save(burst=past, actor=watch_editor)
    with pytest.raises(Conflict, match="has ended"):
        actions.expected_burst_delete(burst=past, actor=watch_editor)
    assert ExpectedBurst.objects.get(pk=past.pk).note == ""
    bad = ExpectedBurst(
        watch=watch,
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=40),
        expected_size=0.5,
        note="x" * 201,
    )
    with pytest.raises(InvalidInput) as refused:
        actions.expected_burst_save(burst=bad, actor=watch_editor)
    assert set(refused.value.extra["errors"]) == {"note", "expected_size", "ends_at"}
    assert "at most 31 days" in refused.value.extra["errors"]["ends_at"][0]
    actions.expected_burst_delete(burst=burst, actor=watch_editor)
    actions.expected_burst_delete(burst=burst, actor=watch_editor)  # already gone: nothing
    assert list(ExpectedBurst.objects.all()) == [past]


def test_str_shows_the_window_in_the_sites_zone(watch, settings):
    burst = ExpectedBurst(
        watch=watch,
        starts_at=datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 27, 19, 0, tzinfo=UTC),
    )
    with translation.override("en"):
        assert str(burst) == "Maison Lumière: 27 Nov 2026, 08:00 \u2013 20:00 CET"
        burst.ends_at = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
        assert burst.window_shown() == "27 Nov 2026, 08:00 \u2013 29 Nov 2026, 20:00 CET"
    with translation.override("fr"):
        assert burst.window_shown() == "27 nov. 2026 08:00 \u2013 29 nov. 2026 20:00 CET"


# --- The pages ---------------------------------------------------------------------------


def test_a_lead_finds_the_campaigns_from_the_watch_and_adds_one(
    watch, watch_editor, browser_client
):
    client = browser_client.as_user(watch_editor)
    client.cookies["tz"] = "America/New_York"
    edit = client.get(f"/listening/watches/{watch.pk}/edit/").content.decode()
    assert f'href="{campaigns_url(watch)}"' in edit and "0 running or upcoming" in edit
    empty = client.get(campaigns_url(watch))
    assert empty.status_code == 200
    assert "No campaign planned." in empty.content.decode()
    assert "America/New_York" in empty.content.decode()

    response = client.post(
        campaigns_url(watch),
        {"starts_at": local(3, 8), "ends_at": local(3, 20), "expected_size": "4", "note": "Promo"},
    )

    assert response.status_code == 302 and response["Location"] == campaigns_url(watch)
    burst = ExpectedBurst.objects.get()
    york = ZoneInfo("America/New_York")
    assert burst.starts_at.astimezone(york).hour == 8 and burst.ends_at.astimezone(york).hour == 20
    assert (burst.expected_size, burst.note, burst.created_by) == (4, "Promo", watch_editor)
    html = client.get(campaigns_url(watch)).content.decode()
    day = (timezone.localdate() + timedelta(days=3)).strftime("%-d %b %Y")
    assert "Planned campaign saved" in html and f"{day}, 08:00 \u2013 20:00 E" in html
    assert "expects 4\u00d7 the usual volume" in html and "Promo" in html
    assert f'action="{delete_url(burst)}" data-confirm="Delete the planned campaign' in html
    edit = client.get(f"/listening/watches/{watch.pk}/edit/").content.decode()
    assert "1 running or upcoming" in edit


def test_a_campaign_years_ahead_is_refused_on_the_page_and_in_the_api(
    watch, watch_editor, browser_client, api
):
    """Year 9999 in New York is past what a date holds once in UTC: it was a 500, and a
    far one stored through the API broke the campaigns page east of Paris."""
    client = browser_client.as_user(watch_editor)
    client.cookies["tz"] = "America/New_York"
    far = {"starts_at": "9999-12-31T00:00", "ends_at": "9999-12-31T23:00", "expected_size": "4"}
    response = client.post(campaigns_url(watch), far)
    assert response.status_code in (200, 422)
    assert "starts within a year from now" in response.content.decode()
    refused = api.as_user(watch_editor).post(
        f"/api/watches/{watch.pk}/expected-bursts/",
        {"starts_at": "9999-12-30T00:00:00+01:00", "ends_at": "9999-12-31T23:59:00+01:00"},
        format="json",
    )
    assert refused.status_code == 400 and "within a year" in str(refused.json())
    assert not ExpectedBurst.objects.exists()


def test_upcoming_first_then_the_recent_past_read_only(watch, watch_editor, browser_client):
    later = planned(watch, watch_editor, start_in=timedelta(days=5), note="Later")
    sooner = planned(watch, watch_editor, start_in=timedelta(days=1), note="Sooner")
    running = planned(watch, watch_editor, start_in=-timedelta(hours=1), note="Running")
    past = ended(watch, note="Last week's")
    html = browser_client.as_user(watch_editor).get(campaigns_url(watch)).content.decode()
    order = [html.index(f'id="campaign-{b.pk}"') for b in (running, sooner, later, past)]
    assert order == sorted(order)
    assert "running" in html[order[0] : order[1]]
    assert "silences volume alerts" in html
    assert edit_url(running) in html and edit_url(later) in html
    assert edit_url(past) not in html and delete_url(past) not in html


def test_a_lead_changes_and_deletes_a_campaign(watch, watch_editor, browser_client):
    burst = planned(watch, watch_editor, expected_size=3, note="Launch")
    client = browser_client.as_user(watch_editor)
    form = client.get(edit_url(burst)).content.decode()
    assert 'value="3"' in form and 'value="Launch"' in form
    response = client.post(
        edit_url(burst),
        {"starts_at": local(4, 9), "ends_at": local(5, 18), "expected_size": "", "note": "Moved"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    burst.refresh_from_db()
    assert burst.starts_at.astimezone(PARIS).hour == 9 and burst.expected_size is None
    assert burst.note == "Moved"

    response = client.post(delete_url(burst), follow=True)

    assert "Planned campaign deleted" in response.content.decode()
    assert not ExpectedBurst.objects.exists()


def test_an_ended_campaign_cannot_be_changed_nor_deleted_from_the_page(
    watch, watch_editor, browser_client
):
    past = ended(watch, note="Kept")
    client = browser_client.as_user(watch_editor)
    opened = client.get(edit_url(past), follow=True).content.decode()
    assert "has ended: it is kept as it was" in opened
    data = {"starts_at": local(1, 8), "ends_at": local(1, 9), "note": "Rewritten"}
    assert client.post(edit_url(past), data).status_code == 409
    refused = client.post(delete_url(past), follow=True).content.decode()
    assert "has ended" in refused
    assert ExpectedBurst.objects.get().note == "Kept"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_at": local(3, 7)}, "ends_at", "must end after it starts"),
        ({"ends_at": local(40, 8)}, "ends_at", "at most 31 days"),
        ({"starts_at": local(-3, 8), "ends_at": local(-2, 8)}, "ends_at", "already ended"),
        ({"expected_size": "500"}, "expected_size", "from 1 to 100 times the usual volume"),
        ({"expected_size": "abc"}, "expected_size", "Enter a number."),
        ({"note": "n" * 201}, "note", "at most 200 characters (this one has 201)"),
        ({"starts_at": ""}, "starts_at", "This field is required."),
    ],
)
def test_bad_input_is_shown_beside_its_field_with_the_typed_values(
    watch, watch_editor, browser_client, changes, field, message
):
    burst = planned(watch, watch_editor)
    client = browser_client.as_user(watch_editor)
    data = {"starts_at": local(3, 8), "ends_at": local(3, 20), "expected_size": "2", "note": "Sale"}
    data.update(changes)
    for url in (campaigns_url(watch), edit_url(burst)):
        html = assert_refused_beside(client.post(url, data), field, message)
        # What was typed is kept.
        for name in ("note", "expected_size"):
            assert f'value="{data[name]}"' in field_block(html, name)
        assert f'value="{data["ends_at"]}"' in field_block(html, "ends_at")
    assert list(ExpectedBurst.objects.all()) == [burst]
    assert ExpectedBurst.objects.get().note == ""


def test_listening_readers_see_the_campaigns_without_changing_them(
    watch, watch_editor, reader, browser_client
):
    """Why a watch's volume alerts are quiet is for everyone who reads listening data: the
    watch's line says a campaign runs and links to the list, read-only for readers."""
    running = planned(watch, watch_editor, start_in=timedelta(0), note="Black Friday mailing")
    client = browser_client.as_user(reader)
    listening = client.get("/listening/").content.decode()
    assert "Planned campaign running until" in listening
    assert f'href="{campaigns_url(watch)}"' in listening
    # What the watch listens for and how it alerts, under its chart, for readers too.
    assert "What “Maison Lumière” listens for" in listening
    assert "maison lumière, lumiere cosmetics" in listening and "#BoycottLumiere" in listening
    assert "every platform" in listening and "Edit the watch" not in listening
    page = client.get(campaigns_url(watch))
    html = page.content.decode()
    assert page.status_code == 200 and "Black Friday mailing" in html
    assert 'id="add-campaign"' not in html and "End now" not in html
    assert edit_url(running) not in html and delete_url(running) not in html
    editor_html = browser_client.as_user(watch_editor).get(campaigns_url(watch)).content.decode()
    assert 'id="add-campaign"' in editor_html and delete_url(running) in editor_html
    other = actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
    client = browser_client.as_user(reader)
    empty = client.get(campaigns_url(other)).content.decode()
    assert "No campaign planned." in empty and "Add one below" not in empty
    # A campaign starting as the running one ends: alerts stay held back until its end.
    following = actions.expected_burst_save(
        burst=ExpectedBurst(
            watch=watch, starts_at=running.ends_at, ends_at=running.ends_at + timedelta(hours=6)
        ),
        actor=watch_editor,
    )
    line = re.sub(r"\s+", " ", client.get("/listening/").content.decode())
    assert date_format(localtime(following.ends_at), "SHORT_DATETIME_FORMAT") in line
    # Ended: the watch's line no longer says it.
    ExpectedBurst.objects.filter(pk__in=[running.pk, following.pk]).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now()
    )
    assert "Planned campaign running" not in client.get("/listening/").content.decode()


def test_people_who_may_not_change_watches_are_refused(
    watch, watch_editor, reader, outsider, browser_client
):
    burst = planned(watch, watch_editor)
    data = {"starts_at": local(3, 8), "ends_at": local(3, 20)}
    assert browser_client.as_user(outsider).get(campaigns_url(watch)).status_code == 403
    for user in (reader, outsider):
        client = browser_client.as_user(user)
        assert client.post(campaigns_url(watch), data).status_code == 403
        assert client.get(edit_url(burst)).status_code == 403
        assert client.post(edit_url(burst), data).status_code == 403
        assert client.post(delete_url(burst)).status_code == 403
    assert list(ExpectedBurst.objects.all()) == [burst]
    client = browser_client.as_user(watch_editor)
    assert client.get("/listening/watches/999/campaigns/").status_code == 404
    other = actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
    assert (
        client.get(f"/listening/watches/{other.pk}/campaigns/{burst.pk}/edit/").status_code == 404
    )


def test_the_campaigns_page_costs_the_same_whatever_their_number(
    watch, watch_editor, make_user, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(watch_editor)
    planned(watch, watch_editor)
    with CaptureQueriesContext(connection) as few:
        assert client.get(campaigns_url(watch)).status_code == 200
    for i in range(8):
        planned(watch, watch_editor, start_in=timedelta(days=i + 1), note=f"c{i}")
        ended(watch, note=f"p{i}")
    other = grant(make_user("second"), "view_mention", "change_watch")  # another author
    planned(watch, other, note="by another")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(campaigns_url(watch)).content.decode()
    assert html.count('class="campaign"') == 18


def test_the_lists_are_bounded(watch, watch_editor, browser_client, monkeypatch):
    from incidents.listening import selectors

    monkeypatch.setattr(selectors, "UPCOMING_BURSTS_SHOWN", 2)
    monkeypatch.setattr(selectors, "PAST_BURSTS_SHOWN", 1)
    for i in range(3):
        planned(watch, watch_editor, start_in=timedelta(days=i + 1))
        ended(watch)
    html = browser_client.as_user(watch_editor).get(campaigns_url(watch)).content.decode()
    assert html.count('class="campaign"') == 3 and "Only the next 2 are listed." in html


def freeze_notice(html: str) -> str:
    """The campaigns pages' promotion freeze notice ("" when there is none: it is in the
    page, hidden, so that it can appear live)."""
    found = re.search(r'<div class="campaign-freeze"[^>]*>.*?</div>', html, re.S)
    assert found, "the notice is always in the page"
    opening = re.match(r"<div [^>]*>", found.group(0)).group(0)
    return "" if " hidden" in opening else found.group(0)


def test_a_promotion_freeze_is_said_where_campaigns_are_planned(
    watch, watch_editor, make_user, declare, browser_client
):
    """The demo planned a "-30 %" promotion while its incident froze promotions, and the
    campaigns page said nothing: the page and the campaign's form now name the frozen
    incidents the person's banner names (the banner's one rule), linked to the freeze."""
    burst = planned(watch, watch_editor, note="-30 % on the KX-200")
    # Declared at high severity by the watch's editor: frozen from the declaration.
    incident = declare(actor=watch_editor, title="Cracked lids", severity=3)
    assert incident.promotion_frozen
    client = browser_client.as_user(watch_editor)
    for url in (campaigns_url(watch), edit_url(burst)):
        notice = freeze_notice(client.get(url).content.decode())
        assert "Promotion freeze:" in notice and "do not publish promotional posts" in notice
        assert f'href="/incidents/{incident.pk}/#promotion-freeze">Cracked lids</a>' in notice
        assert "it does not lift the freeze" in notice
        assert "A promotion waits until the incident's lead lifts it." in notice

    # Someone who may change the watch but is not in the incident's cell is told that a
    # freeze is in force, never which incident (incidents_visible_to, the one rule).
    other = grant(make_user("other-editor"), "view_mention", "change_watch")
    html = browser_client.as_user(other).get(campaigns_url(watch)).content.decode()
    notice = freeze_notice(html)
    said = " ".join(re.sub(r"<[^>]+>", " ", notice).split())
    assert said.startswith(
        "Promotion freeze: in force for at least one incident whose cell you are not in. Do not "
        "publish promotional posts; ask the crisis team before any promotion."
    )
    assert "lead" not in said
    assert "it lifts no promotion freeze" in notice
    assert "Cracked lids" not in html and f"/incidents/{incident.pk}/" not in html
    assert watch_editor.username not in notice  # nor its lead
    # A reader who plans no campaign is told nothing of an incident they do not see.
    reader = grant(make_user("other-reader"), "view_mention")
    assert not freeze_notice(
        browser_client.as_user(reader).get(campaigns_url(watch)).content.decode()
    )
    # Staff see every incident: theirs is named.
    staff = grant(make_user("staff-editor", is_staff=True), "view_mention", "change_watch")
    notice = freeze_notice(browser_client.as_user(staff).get(campaigns_url(watch)).content.decode())
    assert "Cracked lids" in notice and "whose cell you are not in" not in notice
    client = browser_client.as_user(watch_editor)

    from incidents import actions as incident_actions

    incident_actions.incident_set_promotion_freeze(
        incident=incident, actor=watch_editor, frozen=False
    )
    for url in (campaigns_url(watch), edit_url(burst)):
        assert not freeze_notice(client.get(url).content.decode())


def test_a_freeze_it_may_not_name_says_whom_to_ask(
    watch, watch_editor, make_user, declare, browser_client, settings
):
    """An editor outside the frozen incident's cell is sent to the site's administrators
    (CRISISCELL_ADMIN_CONTACT, as the refusals are), on the pages and the live refresh,
    and still told no incident nor lead."""
    burst = planned(watch, watch_editor)
    incident = declare(actor=make_user("outsider-lead", first_name="Ines"), severity=3)
    settings.CRISISCELL_ADMIN_CONTACT = (("Jeanne Martin", "jeanne.martin@example.com"),)
    client = browser_client.as_user(watch_editor)
    for url in (campaigns_url(watch), edit_url(burst), "/listening/campaign-freeze/"):
        notice = freeze_notice(client.get(url).content.decode())
        said = " ".join(re.sub(r"<[^>]+>", " ", notice).split())
        assert (
            "ask the crisis team before any promotion. An administrator of Crisis Cell can "
            "tell you whom to ask. Administrator of Crisis Cell: Jeanne Martin "
            "(jeanne.martin@example.com)."
        ) in said
        assert "Ines" not in said and incident.title not in said
    settings.CRISISCELL_ADMIN_CONTACT = ()
    notice = freeze_notice(client.get(campaigns_url(watch)).content.decode())
    assert "whose cell you are not in" in notice and "Administrator" not in notice


def test_the_freeze_notice_costs_the_same_whatever_the_freezes(
    watch, watch_editor, make_user, declare, browser_client, django_assert_max_num_queries
):
    """Two queries, bounded, however many incidents freeze promotions (seen or not)."""
    client = browser_client.as_user(watch_editor)
    with CaptureQueriesContext(connection) as unfrozen:
        assert not freeze_notice(client.get(campaigns_url(watch)).content.decode())
    outsider = make_user("outsider-lead")
    for i in range(5):
        declare(actor=watch_editor, title=f"Mine {i}", severity=3)
        declare(actor=outsider, title=f"Not mine {i}", severity=3)
    with django_assert_max_num_queries(len(unfrozen.captured_queries)):
        notice = freeze_notice(client.get(campaigns_url(watch)).content.decode())
    assert notice.count("<li>") == 3 and "Other incidents hold a promotion freeze" in notice
    assert (
        "also in force for at least one incident whose cell you are not in: ask the crisis team"
        in notice
    )
    assert "Not mine" not in notice
    # Some it cannot name: neither how many nor whose lead lifts them.
    assert "it lifts no promotion freeze" in notice and "lead lifts" not in notice


def test_the_freeze_notice_refreshes_itself(
    watch, watch_editor, make_user, declare, browser_client, client
):
    """The notice is the `promotion-freeze` panel (refreshed with the banner by the freeze's
    own signal, for the cell) and asks again every minute (no event reaches the others):
    its refresh answers as the page does, to listening readers only."""
    from incidents import panels

    assert panels.PROMOTION_FREEZE in panels.signal_panels("promotion-freeze-changed")
    editor = browser_client.as_user(watch_editor)
    html = editor.get(campaigns_url(watch)).content.decode()
    opening = re.search(r'<div class="campaign-freeze"[^>]*>', html).group(0)
    assert 'data-panel="promotion-freeze"' in opening
    assert 'hx-get="/listening/campaign-freeze/"' in opening
    assert 'hx-trigger="panel-refresh, every 60s"' in opening
    assert not freeze_notice(editor.get("/listening/campaign-freeze/").content.decode())

    declare(actor=make_user("outsider-lead"), title="Cracked lids", severity=3)
    notice = freeze_notice(editor.get("/listening/campaign-freeze/").content.decode())
    assert "whose cell you are not in" in notice and "Cracked lids" not in notice
    client.force_login(make_user("nobody"))
    assert client.get("/listening/campaign-freeze/").status_code == 403


def test_the_page_speaks_french(watch, watch_editor, browser_client):
    planned(watch, watch_editor)
    client = browser_client.as_user(watch_editor)
    html = client.get(campaigns_url(watch), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Campagnes prévues" in html and "aucune alerte de volume" in html


# --- The API -----------------------------------------------------------------------------


def test_api_crud(watch, watch_editor, api):
    client = api.as_user(watch_editor)
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    created = client.post(
        api_url(watch),
        {
            "starts_at": start.astimezone(PARIS).isoformat(),
            "ends_at": (start + timedelta(hours=12)).isoformat(),
            "expected_size": 4,
            "note": "Black Friday",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert dt(body["starts_at"]) == start and body["ended"] is False
    assert (body["watch"], body["expected_size"], body["created_by"]) == (
        watch.pk,
        4,
        watch_editor.pk,
    )
    burst = ExpectedBurst.objects.get()
    assert client.get(api_url(watch, burst)).json() == body

    changed = client.patch(api_url(watch, burst), {"expected_size": None}, format="json")
    assert changed.status_code == 200 and changed.json()["expected_size"] is None
    burst.refresh_from_db()
    assert burst.expected_size is None and burst.note == "Black Friday"

    assert client.delete(api_url(watch, burst)).status_code == 204
    assert not ExpectedBurst.objects.exists()
    assert_error(client.get(api_url(watch, burst)), 404)


def test_api_lists_in_cursor_pages_with_constant_queries(
    watch, watch_editor, reader, api, django_assert_max_num_queries
):
    planned(watch, watch_editor)
    client = api.as_user(reader)  # a listening reader reads them, as they read the watch
    with CaptureQueriesContext(connection) as few:
        assert client.get(api_url(watch)).status_code == 200
    for i in range(6):
        planned(watch, watch_editor, start_in=timedelta(days=i + 3))
    past = ended(watch)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = client.get(api_url(watch), {"page_size": 5}).json()
    assert len(first["results"]) == 5 and first["next"]
    starts = [dt(row["starts_at"]) for row in first["results"]]
    assert starts == sorted(starts, reverse=True)
    rest = client.get(first["next"]).json()
    assert rest["next"] is None and rest["results"][-1]["id"] == past.pk
    assert rest["results"][-1]["ended"] is True


def test_api_refuses_bad_input_readably(watch, watch_editor, api):
    client = api.as_user(watch_editor)
    start = timezone.now() + timedelta(days=2)
    base = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    for changes, field in [
        ({"ends_at": (start - timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"ends_at": (start + timedelta(days=32)).isoformat()}, "ends_at"),
        ({"expected_size": 101}, "expected_size"),
        ({"expected_size": "lots"}, "expected_size"),
        ({"note": "n" * 201}, "note"),
        ({"starts_at": "tomorrow"}, "starts_at"),
    ]:
        response = client.post(api_url(watch), {**base, **changes}, format="json")
        detail = assert_error(response, 400)
        assert field in response.json()["errors"], (changes, response.json())
        assert detail
    assert not ExpectedBurst.objects.exists()
    past = ended(watch)
    assert_error(client.patch(api_url(watch, past), {"note": "x"}, format="json"), 409)
    assert_error(client.delete(api_url(watch, past)), 409)
    assert ExpectedBurst.objects.filter(pk=past.pk).exists()


def test_api_permissions(watch, watch_editor, reader, outsider, api):
    burst = planned(watch, watch_editor)
    start = timezone.now() + timedelta(days=2)
    data = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    client = api.as_user(reader)
    assert client.get(api_url(watch, burst)).status_code == 200
    assert_error(client.post(api_url(watch), data, format="json"), 403)
    assert_error(client.patch(api_url(watch, burst), {"note": "x"}, format="json"), 403)
    assert_error(client.delete(api_url(watch, burst)), 403)
    client = api.as_user(outsider)
    assert_error(client.get(api_url(watch)), 403)
    assert_error(client.get(api_url(watch, burst)), 403)
    other = actions.watch_create(actor=watch_editor, name="Other", brand="x", keywords=["yy"])
    assert_error(api.as_user(watch_editor).get(api_url(other, burst)), 404)
    assert list(ExpectedBurst.objects.all()) == [burst] and burst.note == ""


def test_the_endpoints_are_in_the_schema(api, reader):
    response = api.as_user(reader).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    schema = response.json()
    listing = schema["paths"]["/api/watches/{id}/expected-bursts/"]
    detail = schema["paths"]["/api/watches/{id}/expected-bursts/{burst_id}/"]
    assert set(listing) >= {"get", "post"} and set(detail) >= {"get", "patch", "delete"}
    assert "ExpectedBurst" in schema["components"]["schemas"]
    assert "ExpectedBurstPage" in schema["components"]["schemas"]


def test_two_people_changing_different_fields_at_once_both_keep_their_change(
    watch, watch_editor, api
):
    """Each loaded the campaign before the other saved (a break-it pass lost one change in
    9 runs of 10 on PostgreSQL): each save changes only the fields it names."""
    burst = planned(watch, watch_editor, note="Black Friday")
    first, second = (ExpectedBurst.objects.get(pk=burst.pk) for _ in range(2))
    first.note = "Black Friday, -30 %"
    actions.expected_burst_save(burst=first, actor=watch_editor, fields=["note"])
    second.expected_size = 3
    actions.expected_burst_save(burst=second, actor=watch_editor, fields=["expected_size"])
    burst.refresh_from_db()
    assert (burst.note, burst.expected_size) == ("Black Friday, -30 %", 3)
    # The API names what its request changed.
    client = api.as_user(watch_editor)
    client.patch(api_url(watch, burst), {"expected_size": 2}, format="json")
    burst.refresh_from_db()
    assert (burst.note, burst.expected_size) == ("Black Friday, -30 %", 2)


def test_a_running_campaign_keeps_its_start_and_is_ended_not_deleted(
    watch, watch_editor, api, browser_client
):
    """Its start is part of the record of why alerts were quiet: it cannot be moved back,
    and "deleting" it ends it now and keeps it."""
    running = planned(watch, watch_editor, start_in=timedelta(hours=-1), length=timedelta(hours=4))
    client = api.as_user(watch_editor)
    earlier = (running.starts_at - timedelta(days=20)).isoformat()
    moved = client.patch(api_url(watch, running), {"starts_at": earlier}, format="json")
    assert_error(moved, 400)
    assert "starts_at" in moved.json()["errors"]
    later = (running.ends_at + timedelta(hours=1)).isoformat()
    assert (
        client.patch(api_url(watch, running), {"ends_at": later}, format="json").status_code == 200
    )

    assert client.delete(api_url(watch, running)).status_code == 204
    kept = ExpectedBurst.objects.get(pk=running.pk)
    assert kept.starts_at == running.starts_at and kept.ends_at <= timezone.now()
    assert client.get(api_url(watch, running)).json()["ended"] is True

    upcoming = planned(watch, watch_editor)
    page = browser_client.as_user(watch_editor)
    running = planned(
        watch, watch_editor, start_in=timedelta(minutes=-5), length=timedelta(hours=1)
    )
    html = page.get(f"/listening/watches/{watch.pk}/campaigns/").content.decode()
    assert "End now" in html and "Delete" in html
    page.post(f"/listening/watches/{watch.pk}/campaigns/{upcoming.pk}/delete/")
    assert not ExpectedBurst.objects.filter(pk=upcoming.pk).exists()
    ended_now = page.post(
        f"/listening/watches/{watch.pk}/campaigns/{running.pk}/delete/", follow=True
    )
    assert "Planned campaign ended now, and kept" in ended_now.content.decode()
    assert ExpectedBurst.objects.filter(pk=running.pk).exists()


def edit_page_data(client, burst) -> dict:
    """What the campaign's Edit page posts as shown (its fields and what it showed)."""
    page = client.get(edit_url(burst))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    for name in ("starts_at", "ends_at"):
        data[name] = form[name].field.widget.format_value(form[name].value())
    return data


def test_two_people_editing_a_campaign_on_its_page_keep_each_their_change(
    watch, watch_editor, make_user, browser_client
):
    """Both open the Edit page; one changes the note, the other then the end from the page
    opened before: the note stays (it was put back, a concurrency break-it pass). A running
    campaign whose start has seconds (the API's) keeps it untouched on the page, which
    shows minutes (the save was refused as moving the start)."""
    other = grant(make_user("second-lead"), "view_mention", "change_watch")
    burst = planned(watch, watch_editor, note="orig")
    first = edit_page_data(browser_client.as_user(watch_editor), burst)
    second = edit_page_data(browser_client.as_user(other), burst)
    first["note"] = "Black Friday mailing"
    assert browser_client.as_user(watch_editor).post(edit_url(burst), first).status_code == 302
    second["ends_at"] = local(3, 23)
    assert browser_client.as_user(other).post(edit_url(burst), second).status_code == 302
    burst.refresh_from_db()
    assert burst.note == "Black Friday mailing" and burst.ends_at.minute == 0
    running = planned(
        watch, watch_editor, start_in=-timedelta(minutes=5, seconds=17), note="running"
    )
    assert running.starts_at.second != 0 or running.starts_at.microsecond != 0
    data = edit_page_data(browser_client.as_user(watch_editor), running)
    data["note"] = "running, renamed"
    assert browser_client.post(edit_url(running), data).status_code == 302
    stored = ExpectedBurst.objects.get(pk=running.pk)
    assert (stored.note, stored.starts_at) == ("running, renamed", running.starts_at)


def test_the_freeze_notice_says_the_leads_in_the_plural_for_several_incidents(
    watch, watch_editor, declare, browser_client
):
    """Two frozen incidents listed: each one's lead lifts its own freeze."""
    client = browser_client.as_user(watch_editor)
    declare(actor=watch_editor, title="Cracked lids", severity=3)
    one = freeze_notice(client.get(campaigns_url(watch)).content.decode())
    assert "it does not lift the freeze. A promotion waits until the incident's lead" in one
    declare(actor=watch_editor, title="Leaking kettles", severity=3)
    two = freeze_notice(client.get(campaigns_url(watch)).content.decode())
    assert two.count("<li>") == 2
    assert (
        "it does not lift the freezes. A promotion waits until each incident's lead lifts its "
        "freeze." in two
    )
    assert "the incident's lead" not in two


# --- A campaign planned during a promotion freeze ----------------------------------------

FREEZE_MARK = "promotion freeze in force"


def marked(html: str) -> set[int]:
    """The ids of the listed campaigns marked as planned during a promotion freeze."""
    items = re.findall(r'<li class="campaign" id="campaign-(\d+)">(.*?)</li>', html, re.S)
    return {int(pk) for pk, item in items if FREEZE_MARK in item}


def messages_of(html: str, level: str) -> list[str]:
    found = re.findall(rf'<li class="message message-{level}">(.*?)</li>', html, re.S)
    return [" ".join(text.split()) for text in found]


def test_a_campaign_saved_during_a_freeze_is_saved_with_a_warning_and_marked(
    watch, watch_editor, make_user, declare, browser_client
):
    """The demo's "-30 %" campaign was planned while its incident froze promotions, and
    nothing said so when it was saved nor on it in the list. Saving is not refused (a
    campaign may be meant for after the freeze): the one who saves is warned, and every
    running or upcoming campaign is marked while the freeze holds; an ended one is not."""
    past = ended(watch, note="Last week's")
    running = planned(watch, watch_editor, start_in=-timedelta(hours=1), note="Running")
    client = browser_client.as_user(watch_editor)
    html = client.get(campaigns_url(watch)).content.decode()
    assert FREEZE_MARK not in html  # no freeze: no mark

    incident = declare(actor=watch_editor, title="Cracked lids", severity=3)
    assert incident.promotion_frozen
    response = client.post(
        campaigns_url(watch),
        {"starts_at": local(40, 8), "ends_at": local(40, 20), "note": "-30 % on the KX-200"},
        follow=True,
    )
    assert response.redirect_chain == [(campaigns_url(watch), 302)]
    html = response.content.decode()
    promo = ExpectedBurst.objects.get(note="-30 % on the KX-200")  # saved all the same
    assert any("Planned campaign saved" in text for text in messages_of(html, "success"))
    (warning,) = messages_of(html, "warning")
    assert warning.startswith("A promotion freeze is in force. This campaign is saved")
    assert "publish no promotional post for it until the freeze is lifted" in warning
    assert marked(html) == {running.pk, promo.pk}
    assert f'id="campaign-{past.pk}"' in html

    # Changing it during the freeze warns again, as does the edit page's save.
    data = edit_page_data(client, promo)
    data["note"] = "-30 % on the KX-200, all weekend"
    html = client.post(edit_url(promo), data, follow=True).content.decode()
    assert len(messages_of(html, "warning")) == 1 and promo.pk in marked(html)

    # Once the freeze is lifted: saved with no warning, and no mark.
    from incidents import actions as incident_actions

    incident_actions.incident_set_promotion_freeze(
        incident=incident, actor=watch_editor, frozen=False
    )
    data["note"] = "-30 % on the KX-200"
    html = client.post(edit_url(promo), data, follow=True).content.decode()
    assert messages_of(html, "success") and not messages_of(html, "warning")
    assert not marked(html) and FREEZE_MARK not in html


def test_the_freeze_warning_and_mark_follow_who_is_told_of_the_freeze(
    watch, watch_editor, make_user, declare, browser_client
):
    """The same rule as the freeze notice (selectors.campaign_freezes): an editor outside
    the frozen incident's cell is warned and sees the marks, never the incident's title; a
    reader who plans no campaign sees a mark only for a freeze of an incident they see."""
    burst = planned(watch, watch_editor, note="Spring sale")
    outsider_lead = make_user("outsider-lead")
    incident = declare(actor=outsider_lead, title="Cracked lids", severity=3)
    other = grant(make_user("other-editor"), "view_mention", "change_watch")
    client = browser_client.as_user(other)
    data = edit_page_data(client, burst)
    data["note"] = "Spring sale, extended"
    html = client.post(edit_url(burst), data, follow=True).content.decode()
    (warning,) = messages_of(html, "warning")
    assert "promotion freeze" in warning and "Cracked lids" not in warning
    assert "Cracked lids" not in html and f"/incidents/{incident.pk}/" not in html
    assert marked(html) == {burst.pk}

    reader = grant(make_user("other-reader"), "view_mention")
    html = browser_client.as_user(reader).get(campaigns_url(watch)).content.decode()
    assert not marked(html) and FREEZE_MARK not in html
    # In the incident's cell, the reader is told of its freeze, and the campaign is marked.
    from incidents import actions as incident_actions

    incident_actions.member_add(
        incident=incident, actor=outsider_lead, user=reader, role="observer"
    )
    html = browser_client.as_user(reader).get(campaigns_url(watch)).content.decode()
    assert marked(html) == {burst.pk} and "Cracked lids" in html


def test_the_marks_cost_no_query_per_campaign(
    watch, watch_editor, make_user, declare, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(watch_editor)
    planned(watch, watch_editor)
    with CaptureQueriesContext(connection) as unfrozen:
        assert not marked(client.get(campaigns_url(watch)).content.decode())
    declare(actor=watch_editor, title="Cracked lids", severity=3)
    declare(actor=make_user("outsider-lead"), title="Not mine", severity=3)
    for i in range(8):
        planned(watch, watch_editor, start_in=timedelta(days=i + 3), note=f"c{i}")
        ended(watch, note=f"p{i}")
    with django_assert_max_num_queries(len(unfrozen.captured_queries)):
        html = client.get(campaigns_url(watch)).content.decode()
    assert len(marked(html)) == 9 and html.count('class="campaign"') == 17


def test_api_says_a_campaign_is_during_a_freeze_and_saves_it(
    watch, watch_editor, reader, make_user, declare, api, django_assert_max_num_queries
):
    """`during_promotion_freeze` on every answer (created, changed, read, listed), by the
    page's rule: saving is not refused."""
    client = api.as_user(watch_editor)
    start = timezone.now() + timedelta(days=40)
    window = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()}
    unfrozen = client.post(api_url(watch), window, format="json")
    assert unfrozen.status_code == 201 and unfrozen.json()["during_promotion_freeze"] is False
    first = ExpectedBurst.objects.get()
    past = ended(watch)

    declare(actor=make_user("outsider-lead"), title="Cracked lids", severity=3)
    created = client.post(api_url(watch), {**window, "note": "-30 %"}, format="json")
    assert created.status_code == 201 and created.json()["during_promotion_freeze"] is True
    assert "Cracked lids" not in created.content.decode()
    changed = client.patch(api_url(watch, first), {"note": "x"}, format="json")
    assert changed.status_code == 200 and changed.json()["during_promotion_freeze"] is True
    assert client.get(api_url(watch, past)).json()["during_promotion_freeze"] is False
    listed = {
        row["id"]: row["during_promotion_freeze"]
        for row in client.get(api_url(watch)).json()["results"]
    }
    assert listed == {first.pk: True, created.json()["id"]: True, past.pk: False}
    # A reader who plans no campaign is not told of a freeze on an incident they do not see.
    rows = api.as_user(reader).get(api_url(watch)).json()["results"]
    assert [row["during_promotion_freeze"] for row in rows] == [False, False, False]

    # One read of the freezes per request, whatever the number of campaigns.
    client = api.as_user(watch_editor)
    with CaptureQueriesContext(connection) as few:
        client.get(api_url(watch))
    for i in range(6):
        planned(watch, watch_editor, start_in=timedelta(days=i + 3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = client.get(api_url(watch)).json()["results"]
    assert sum(row["during_promotion_freeze"] for row in rows) == 8
