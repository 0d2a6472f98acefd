"""Sharing what we learned: from the signed-off post-mortem, a drafter starts a public
update of the crisis center channel pre-filled from its lessons; it goes through the
statements' approval and, once published, is on the crisis page (live or archived). The
post-mortem shows it and its status; starting again offers the same one."""

import pytest
from django.utils import timezone

from incidents.crisiscenter import actions as crisis_actions
from incidents.crisiscenter import selectors as crisis_selectors
from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.postmortems import actions
from incidents.postmortems.models import LessonsStatement
from statements import actions as statement_actions
from tests.crisiscenter.conftest import approve, approve_texts, dark_page, next_update, playbook  # noqa: F401
from tests.crisiscenter.test_crisis_page import public_files
from tests.helpers import assert_error, token_client
from tests.postmortems.conftest import sign_off


def url(incident, tail=""):
    return f"/incidents/{incident.pk}/postmortem/{tail}"


def api_url(incident, tail=""):
    return f"/api/incidents/{incident.pk}/postmortem/{tail}"


LESSONS = {
    "summary": "A false rumour about batch 42 spread for six hours.",
    "went_well": "The holding statement was out in 40 minutes.",
    "went_wrong": "Nobody watched the forums overnight.",
    "lucky": "INTERNAL: the journalist was a friend.",
    "factors": "INTERNAL: the night shift was short.",
}


@pytest.fixture
def signed(postmortem, lead, approver, drafter):
    today = timezone.localdate()
    for title in ("Watch the forums at night", "Publish batch test results"):
        actions.item_add(
            postmortem=postmortem, actor=lead, title=title, owner=drafter, due_date=today
        )
    dropped = actions.item_add(
        postmortem=postmortem, actor=lead, title="Hire an agency", owner=drafter, due_date=today
    )
    actions.item_update(
        item=dropped, actor=lead, base_version=dropped.version, status="dropped", reason="Budget"
    )
    return sign_off(postmortem, lead, approver, **LESSONS)


def test_a_drafter_starts_it_from_the_signed_off_lessons_only(signed, lead, drafter):
    # Edits after the sign-off are a draft: the statement starts from what was signed off.
    actions.postmortem_write(
        postmortem=signed, actor=lead, base_version=signed.text_version, summary="Unsigned."
    )
    link, created = actions.lessons_statement_start(postmortem=signed, actor=drafter, language="en")
    statement = link.statement
    assert created and link.version == 1
    assert (statement.kind, statement.channel, statement.language, statement.status) == (
        "update",
        "crisis_center",
        "en",
        "draft",
    )
    assert statement.author == drafter
    text = statement.text
    assert text.startswith("What we learned\n\nA false rumour about batch 42")
    assert "What went well\nThe holding statement was out in 40 minutes." in text
    assert "What went wrong\nNobody watched the forums overnight." in text
    assert "- Watch the forums at night\n- Publish batch test results" in text
    assert "Unsigned." not in text and "Hire an agency" not in text and "INTERNAL" not in text
    assert statement.incident.timeline.filter(
        kind="statement_drafted", data__statement=statement.pk
    ).exists()


def test_starting_again_offers_the_same_one_per_language(signed, lead, drafter):
    first, _ = actions.lessons_statement_start(postmortem=signed, actor=drafter, language="en")
    again, created = actions.lessons_statement_start(postmortem=signed, actor=lead, language="en")
    assert not created and again.statement == first.statement
    french, created = actions.lessons_statement_start(postmortem=signed, actor=lead, language="fr")
    assert created and french.statement.language == "fr"
    assert french.statement.text.startswith("Ce que nous avons appris\n\n")
    assert "Ce qui a bien marché\n" in french.statement.text
    # A withdrawn one no longer counts: a new start is a new draft.
    statement_actions.statement_withdraw(statement=first.statement, actor=drafter)
    fresh, created = actions.lessons_statement_start(
        postmortem=signed, actor=drafter, language="en"
    )
    assert created and fresh.statement != first.statement
    assert LessonsStatement.objects.filter(postmortem=signed).count() == 3


def test_only_writers_start_it_once_signed_off(postmortem, lead, approver, observer, staff):
    with pytest.raises(Conflict, match="Sign off the post-mortem first"):
        actions.lessons_statement_start(postmortem=postmortem, actor=lead, language="en")
    signed = sign_off(postmortem, lead, approver, summary="S")
    for who in (observer, staff):
        with pytest.raises(NotAllowed):
            actions.lessons_statement_start(postmortem=signed, actor=who, language="en")
    with pytest.raises(InvalidInput):
        actions.lessons_statement_start(postmortem=signed, actor=lead, language="xx")
    assert not LessonsStatement.objects.exists()


def test_the_page_starts_it_shows_it_and_offers_it_again(client, signed, lead, observer):
    incident = signed.incident
    client.force_login(observer)
    body = client.get(url(incident)).content.decode()
    assert "Share what we learned" in body and url(incident, "share/") not in body
    assert client.post(url(incident, "share/"), {"language": "en"}).status_code == 302
    assert not LessonsStatement.objects.exists()
    client.force_login(lead)
    body = client.get(url(incident)).content.decode()
    assert url(incident, "share/") in body and "Start the public statement" in body
    response = client.post(url(incident, "share/"), {"language": "en"}, follow=True)
    (link,) = LessonsStatement.objects.all()
    assert response.redirect_chain[-1][0] == f"/statements/{link.statement_id}/"
    assert "What we learned" in response.content.decode()
    page = client.get(url(incident)).content.decode()
    assert f"/statements/{link.statement_id}/" in page and "Draft" in page
    again = client.post(url(incident, "share/"), {"language": "en"}, follow=True)
    assert again.redirect_chain[-1][0] == f"/statements/{link.statement_id}/"
    assert "already started" in again.content.decode()
    assert LessonsStatement.objects.count() == 1


def test_the_page_before_sign_off_says_when_it_can_be_shared(client, postmortem, lead):
    client.force_login(lead)
    body = client.get(url(postmortem.incident)).content.decode()
    assert "Once the post-mortem is signed off" in body
    assert url(postmortem.incident, "share/") not in body
    response = client.post(url(postmortem.incident, "share/"), {"language": "en"}, follow=True)
    assert "Sign off the post-mortem first" in response.content.decode()


def test_sharing_says_first_when_there_is_no_live_crisis_page_to_publish_on(
    signed,
    client,
    drafter,
    lead,
    dark_page,  # noqa: F811
    approve_texts,  # noqa: F811
):
    """The draft opened on the crisis page channel with no word that the incident had no
    page (from a new-user pass): said on the post-mortem, in the publication guard's words."""
    client.force_login(drafter)
    page = client.get(url(signed.incident)).content.decode()
    assert "The crisis page is not live yet: it can be published once the lead switches" in page
    assert "can be drafted and approved meanwhile" in page
    approve_texts(dark_page)
    crisis_actions.page_switch(page=dark_page, actor=lead, action="go_live")
    assert "can be drafted and approved meanwhile" not in client.get(url(signed.incident)).text


def test_sharing_with_no_crisis_page_at_all_says_to_prepare_it(signed, client, drafter):
    client.force_login(drafter)
    page = client.get(url(signed.incident)).content.decode()
    assert "This incident has no crisis page yet: it can be published once the lead" in page


def test_the_api_starts_it_then_answers_the_same_one(signed, lead, drafter, observer):
    incident = signed.incident
    api = token_client(drafter)
    assert "share" in api.get(api_url(incident)).json()["available_actions"]
    first = api.post(api_url(incident, "share/"), {"language": "fr"}, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["language"] == "fr" and body["status"] == "draft" and body["version"] == 1
    again = api.post(api_url(incident, "share/"), {"language": "fr"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert api.get(api_url(incident)).json()["lessons_statements"] == [body]
    assert api.post(api_url(incident, "share/"), {"language": "xx"}).status_code == 400
    viewer = token_client(observer)
    assert "share" not in viewer.get(api_url(incident)).json()["available_actions"]
    assert_error(viewer.post(api_url(incident, "share/"), {"language": "en"}), 403)
    statement = token_client(drafter).get(f"/api/statements/{body['id']}/").json()
    assert statement["channel"] == "crisis_center" and statement["kind"] == "update"


@pytest.mark.django_db(transaction=True)
def test_published_it_is_an_update_of_the_live_page_and_stays_in_the_archive(
    dark_page,  # noqa: F811
    approve_texts,  # noqa: F811
    worked,
    lead,
    drafter,
    approver,
    spokesperson,
):
    page = dark_page
    approve_texts(page)
    page = crisis_actions.page_switch(page=page, actor=lead, action="go_live")
    incident = worked()
    pm = actions.postmortem_create(incident=incident, actor=lead)
    pm = sign_off(pm, lead, approver, summary="The rumour was false; here is what we changed.")
    link, _ = actions.lessons_statement_start(postmortem=pm, actor=drafter, language="en")
    statement = statement_actions.statement_edit(
        statement=link.statement,
        actor=drafter,
        text=link.statement.text + "\n\nThank you for your patience.",
        base_revision=link.statement.revision,
    )
    statement = approve(statement, author=drafter, approver=approver)
    statement = statement_actions.statement_publish(statement=statement, actor=spokesperson)
    updates = list(crisis_selectors.updates_of(page))
    assert [u.pk for u in updates] == [statement.pk]
    html = public_files()["rumour/en/index.html"]
    assert f'id="update-{statement.pk}"' in html and "Thank you for your patience." in html
    crisis_actions.page_switch(page=page, actor=lead, action="resolve")
    # A second language published once the page is an archive is on it too.
    french, _ = actions.lessons_statement_start(postmortem=pm, actor=drafter, language="fr")
    french = approve(french.statement, author=drafter, approver=approver)
    french = statement_actions.statement_publish(statement=french, actor=spokesperson)
    files = public_files()
    assert "Thank you for your patience." in files["rumour/en/index.html"]
    assert f'id="update-{french.pk}"' in files["rumour/fr/index.html"]
    assert "Resolved on" in files["rumour/en/index.html"]
    client_page = token_client(lead).get(api_url(incident)).json()["lessons_statements"]
    assert [(s["language"], s["status"]) for s in client_page] == [
        ("en", "published"),
        ("fr", "published"),
    ]
