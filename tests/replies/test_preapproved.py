"""Pre-approved replies: approvers sign a reply template's exact text in advance; a reply
made from it in the queue whose only changes are its placeholders is approved as soon as it
is submitted (and publishable), anything else goes through review; the incident's policy
decides, and everything is on the timeline."""

import pytest
from django.urls import reverse

from incidents import actions as incident_actions
from incidents.errors import InvalidInput, NotAllowed, StaleRevision
from incidents.models import TimelineEntry
from incidents.playbooks.models import IncidentTemplate
from incidents.replies import actions
from statements import actions as statement_actions
from statements import preapproval
from statements.models import Review, TemplatePreapproval
from tests.publishing import conftest as publishing_fixtures
from tests.publishing.conftest import deliver_due

_publishing = publishing_fixtures._publishing
account_admin = publishing_fixtures.account_admin
mastodon = publishing_fixtures.mastodon
mastodon_account = publishing_fixtures.mastodon_account
publish = publishing_fixtures.publish

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "{{ author.handle }} We are sorry about this, and thank you for telling us. Please send us "
    "a private message with your order number: we will look into your case today."
)
MENTION_URL = "https://other.example/@claire/123"


@pytest.fixture
def template(incident):
    return IncidentTemplate.objects.create(
        incident=incident,
        order=1,
        name="Unhappy customer (Mastodon)",
        kind="reply",
        channel="mastodon",
        language="en",
        text=TEMPLATE,
    )


@pytest.fixture
def customer(incident, attach_mentions):
    (mention,) = attach_mentions(
        incident,
        {
            "text": "My KX-200 lid cracked after a week, how do I get a refund?",
            "platform": "mastodon",
            "language": "en",
            "author_handle": "claire@other.example",
            "author_name": "Claire",
            "url": MENTION_URL,
        },
    )
    return mention


def sign(incident, template, approver):
    return statement_actions.template_preapprove(
        incident=incident,
        template_id=template.pk,
        actor=approver,
        fingerprint=preapproval.fingerprint(template.text),
    )


def from_template(incident, mention, template, drafter):
    return actions.reply_write(
        incident=incident, mention=mention, actor=drafter, template=template.pk
    )


def kinds(incident):
    return list(
        TimelineEntry.objects.filter(incident=incident)
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def test_an_unchanged_reply_from_a_preapproved_template_is_approved_and_published(
    incident, customer, template, drafter, approver, spokesperson, mastodon, mastodon_account,
    publish,
):  # fmt: skip
    sign(incident, template, approver)
    statement = from_template(incident, customer, template, drafter)
    expected = TEMPLATE.replace("{{ author.handle }}", "@claire@other.example")
    assert statement.text == expected and statement.template_id == template.pk
    assert preapproval.check_reply(statement).applies

    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "approved"
    # No approval click: the advance signature is the review, named as such.
    [review] = Review.objects.filter(statement=statement)
    assert (review.decision, review.reviewer, review.revision) == ("preapproved", approver, 1)
    assert "Unhappy customer (Mastodon)" in review.comment
    approved = TimelineEntry.objects.get(incident=incident, kind="statement_approved")
    assert approved.actor is None
    assert "Approved in advance by" in approved.text and "Unhappy customer" in approved.text
    assert approved.data["preapproved"]["approvers"] == [approver.pk]

    # Publishable as any approved reply: posted on the (fake) Mastodon as a reply.
    mastodon.remote[MENTION_URL] = "777"
    publish(statement=statement, account=mastodon_account, actor=spokesperson)
    deliver_due()
    [status] = mastodon.statuses
    assert status["text"] == expected and status["in_reply_to_id"] == "777"
    statement.refresh_from_db()
    assert statement.status == "published"


def test_a_changed_reply_goes_through_review(incident, customer, template, drafter, approver):
    sign(incident, template, approver)
    statement = from_template(incident, customer, template, drafter)
    statement = statement_actions.statement_edit(
        statement=statement, actor=drafter, text=statement.text + " Sorry again!", base_revision=1
    )
    check = preapproval.check_reply(statement)
    assert not check.applies and "the text was changed" in check.sentence
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "in_review"
    assert not Review.objects.filter(statement=statement).exists()


def test_a_template_changed_after_its_preapproval_no_longer_counts(
    incident, customer, template, drafter, approver, browser_client
):
    sign(incident, template, approver)
    template.text = TEMPLATE.replace("today", "this week")
    template.save()
    [state] = preapproval.template_states(incident)
    assert not state.preapproved and len(state.outdated) == 1
    statement = from_template(incident, customer, template, drafter)
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "in_review"
    page = browser_client.as_user(approver).get(reverse("reply-templates", args=[incident.pk]))
    body = page.content.decode()
    assert "earlier text of this template: it no longer counts" in body
    assert "Approve this exact text in advance" in body  # the new text can be signed


def test_a_reply_made_before_the_template_changed_goes_through_review(
    incident, customer, template, drafter, approver
):
    sign(incident, template, approver)
    statement = from_template(incident, customer, template, drafter)
    template.text = TEMPLATE.replace("today", "this week")
    template.save()
    sign(incident, template, approver)  # the new text approved in advance too
    check = preapproval.check_reply(statement)
    assert not check.applies and "changed after this reply was made" in check.sentence
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "in_review"


def test_a_signature_on_a_text_changed_since_it_was_read_is_refused(incident, template, approver):
    with pytest.raises(StaleRevision):
        statement_actions.template_preapprove(
            incident=incident,
            template_id=template.pk,
            actor=approver,
            fingerprint=preapproval.fingerprint("an older text"),
        )
    assert not TemplatePreapproval.objects.exists()


@pytest.mark.parametrize(
    ("missing", "placeholder"),
    [("author_handle", "{{ author.handle }}"), ("author_name", "{{ author.name }}")],
)
def test_missing_placeholder_data_refuses_to_render_with_a_clear_message(
    incident, attach_mentions, template, drafter, api, missing, placeholder
):
    template.text = "Hello {{ author.name }} ({{ author.handle }}), we are on it."
    template.save()
    post = {"text": "Refund?", "platform": "mastodon", "author_name": "Claire"}
    post[missing] = ""
    (mention,) = attach_mentions(incident, post)
    with pytest.raises(InvalidInput) as refused:
        from_template(incident, mention, template, drafter)
    assert placeholder in refused.value.message
    assert "write the reply yourself, or choose another template" in refused.value.message
    response = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/replies/{mention.pk}/reply-from-template/",
        {"template": template.pk},
        format="json",
    )
    assert response.status_code == 400 and placeholder in response.json()["detail"]
    assert "statement_drafted" not in kinds(incident)


@pytest.mark.parametrize(
    ("field", "value", "placeholder"),
    [
        (
            "author_handle",
            "@evil@m.example The lids are toxic; refunds at https://evil.example",
            "{{ author.handle }}",
        ),
        ("author_name", "Lids are toxic, see evil.example", "{{ author.name }}"),
        ("author_name", "<script>alert(1)</script>", "{{ author.name }}"),
    ],
)
def test_an_author_who_writes_a_sentence_in_their_name_cannot_fill_an_approved_text(
    incident, attach_mentions, template, drafter, api, field, value, placeholder
):
    """A reply from a template approved in advance is approved without anyone reading it:
    words chosen by the person answered must not ride into it through a placeholder."""
    template.text = "Hello {{ author.name }} ({{ author.handle }}), we are on it."
    template.save()
    post = {"text": "Refund?", "platform": "mastodon", "author_name": "Claire"}
    post["author_handle"] = "@claire@other.example"
    post[field] = value
    (mention,) = attach_mentions(incident, post)
    response = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/replies/{mention.pk}/reply-from-template/",
        {"template": template.pk},
        format="json",
    )
    assert response.status_code == 400
    assert placeholder in response.json()["detail"]
    assert "write the reply yourself" in response.json()["detail"]
    assert "statement_drafted" not in kinds(incident)


def test_with_the_policy_off_every_reply_goes_through_review(
    incident, customer, template, lead, drafter, approver
):
    sign(incident, template, approver)
    statement_actions.preapproved_replies_set(incident=incident, actor=lead, enabled=False)
    entry = TimelineEntry.objects.get(incident=incident, kind="preapproved_replies_set")
    assert entry.data["enabled"] is False and entry.actor == lead
    statement = from_template(incident, customer, template, drafter)
    check = preapproval.check_reply(statement)
    assert not check.applies and "sends every reply through review" in check.sentence
    assert statement_actions.statement_submit(statement=statement, actor=drafter).status == (
        "in_review"
    )
    with pytest.raises(NotAllowed):
        statement_actions.preapproved_replies_set(incident=incident, actor=drafter, enabled=True)


def test_only_the_approvers_the_policy_awaits_may_preapprove(
    incident, template, lead, drafter, observer, approver, make_user, policies
):
    for persona in (drafter, observer, lead):
        with pytest.raises(NotAllowed):
            sign(incident, template, persona)
    # Legal, then communications: a communications approver cannot sign first.
    statement_actions.incident_policy_set(incident=incident, actor=lead, policy=policies["ordered"])
    legal, comms = make_user("legal"), make_user("comms")
    for user, function in ((legal, "legal"), (comms, "communications")):
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role="approver", function=function
        )
    with pytest.raises(NotAllowed) as refused:
        sign(incident, template, comms)
    assert "Legal" in refused.value.message
    sign(incident, template, legal)
    assert not preapproval.template_states(incident)[0].preapproved
    sign(incident, template, comms)
    assert sign(incident, template, comms) is None  # a second click
    [state] = preapproval.template_states(incident)
    assert state.preapproved and [s.approver for s in state.signers] == [legal, comms]
    assert kinds(incident).count("template_preapproved") == 2


def test_both_signatures_become_reviews_and_the_withdrawal_sends_replies_to_review(
    incident, customer, template, lead, drafter, make_user, policies, attach_mentions
):
    statement_actions.incident_policy_set(incident=incident, actor=lead, policy=policies["ordered"])
    legal, comms = make_user("legal"), make_user("comms")
    for user, function in ((legal, "legal"), (comms, "communications")):
        incident_actions.member_add(
            incident=incident, actor=lead, user=user, role="approver", function=function
        )
    sign(incident, template, legal)
    sign(incident, template, comms)
    statement = from_template(incident, customer, template, drafter)
    statement = statement_actions.statement_submit(statement=statement, actor=drafter)
    assert statement.status == "approved"
    assert list(Review.objects.filter(statement=statement).values_list("reviewer", "function")) == [
        (legal.pk, "legal"),
        (comms.pk, "communications"),
    ]

    statement_actions.template_preapproval_withdraw(
        incident=incident, template_id=template.pk, actor=comms, reason="Facts changed"
    )
    (second,) = attach_mentions(
        incident, {"text": "Mine too!", "platform": "mastodon", "author_handle": "@bob"}
    )
    other = from_template(incident, second, template, drafter)
    assert statement_actions.statement_submit(statement=other, actor=drafter).status == (
        "in_review"
    )
    withdrawn = TimelineEntry.objects.get(incident=incident, kind="template_preapproval_withdrawn")
    assert withdrawn.text == "Facts changed" and withdrawn.data["was_complete"] is True


def test_an_approver_who_wrote_the_reply_does_not_approve_it_in_advance(
    incident, customer, template, approver, lead
):
    """Four-eyes: the template's signer drafting the reply themselves (an approver who
    became a drafter later in the incident)."""
    sign(incident, template, approver)
    incident_actions.member_change_role(
        incident=incident, actor=lead, user=approver, role="drafter"
    )
    statement = from_template(incident, customer, template, approver)
    check = preapproval.check_reply(statement)
    assert not check.applies and "four-eyes" in check.sentence


# --- Pages and API ------------------------------------------------------------------------


def test_the_pages_offer_preapproved_templates_and_say_what_happens(
    incident, customer, template, drafter, approver, browser_client
):
    client = browser_client.as_user(approver)
    page = client.get(reverse("reply-templates", args=[incident.pk])).content.decode()
    assert "Not approved in advance" in page
    # Before: the queue promises nothing in advance (every template "goes through review").
    queue = browser_client.as_user(drafter).get(
        reverse("reply-queue", args=[incident.pk]) + "?view=to_triage"
    )
    assert "Or start from a template</label>" in queue.content.decode()
    assert "published without a new approval" not in queue.content.decode()
    client = browser_client.as_user(approver)
    response = client.post(
        reverse("reply-template-preapprove", args=[incident.pk, template.pk]),
        {"fingerprint": preapproval.fingerprint(template.text)},
    )
    assert response.status_code == 302
    page = client.get(reverse("reply-templates", args=[incident.pk])).content.decode()
    assert "Approved in advance by" in page and "Withdraw my advance approval" in page

    client = browser_client.as_user(drafter)
    queue = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    body = queue.content.decode()
    assert "Start from this template" in body and "approved in advance" in body
    assert "published without a new approval" in body
    response = client.post(
        reverse("reply-write", args=[incident.pk, customer.pk]),
        {"template": template.pk, "back": ""},
    )
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "submitted as it is, it is approved at once" in detail
    assert "Submit (approved in advance)" in detail


def test_the_queue_offers_the_platforms_templates_first(
    incident, customer, template, drafter, browser_client
):
    """Among the templates that suit the person, one written for Facebook comes after those
    written for Mastodon; one in another language is not offered at all."""
    IncidentTemplate.objects.create(
        incident=incident, order=0, name="Reply to anyone (Facebook)", kind="reply",
        channel="facebook", language="en", text="Hello {{ author.handle }}",
    )  # fmt: skip
    IncidentTemplate.objects.create(
        incident=incident, order=2, name="Réponse à un client (Mastodon)", kind="reply",
        channel="mastodon", language="fr", text="Bonjour {{ author.handle }}",
    )  # fmt: skip
    client = browser_client.as_user(drafter)
    body = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    body = body.content.decode()
    assert body.index("Unhappy customer (Mastodon)") < body.index("Reply to anyone (Facebook)")
    assert "<optgroup" not in body  # they all suit: no part apart
    assert "Réponse à un client" not in body


def queue_selects(client, incident, drafter, typed) -> dict:
    """Triage each (mention, author type) of `typed` as needing an answer, then read the
    queue page: {mention: the HTML of its "start from a template" select}."""
    for mention, author_type in typed:
        actions.triage_set(
            incident=incident, mention=mention, actor=drafter, author_type=author_type,
            needs_answer="yes",
        )  # fmt: skip
    body = client.as_user(drafter).get(reverse("reply-queue", args=[incident.pk])).text
    return {
        mention: body.split(f'id="reply-template-{mention.pk}"', 1)[1].split("</select>", 1)[0]
        for mention, _type in typed
    }


def test_the_queue_offers_first_the_templates_written_for_the_authors_type(
    incident, attach_mentions, drafter, browser_client
):
    """Preselected is the first: a hater's reply (even approved in advance) is not offered
    first to an unhappy customer; a persistent hater gets the calm reply to a hater before a
    reply for anyone."""
    rows = [
        ("Calm reply to a hater", "hater_occasional"),
        ("Any reply", ""),
        ("Reply to an unhappy customer", "unhappy_customer"),
    ]
    for order, (name, written_for) in enumerate(rows):
        IncidentTemplate.objects.create(
            incident=incident, order=order, name=name, kind="reply", channel="x",
            language="en", author_type=written_for, text="Hello {{ author.handle }}",
        )  # fmt: skip
    customer, hater = attach_mentions(
        incident,
        {"text": "My KX-200 lid cracked, how do I get a refund?", "language": "en"},
        {"text": "Liars, all of you.", "language": "en"},
    )
    selects = queue_selects(
        browser_client,
        incident,
        drafter,
        [(customer, "unhappy_customer"), (hater, "hater_persistent")],
    )
    assert all('<optgroup label="Written for other people">' in s for s in selects.values())

    def offered(mention) -> list[str]:
        """The template names of the mention's select, in their order."""
        return sorted((name for name, _ in rows), key=selects[mention].index)

    assert offered(customer) == [
        "Reply to an unhappy customer",
        "Any reply",
        "Calm reply to a hater",
    ]
    assert offered(hater) == [
        "Calm reply to a hater",
        "Any reply",
        "Reply to an unhappy customer",
    ]


def test_the_type_comes_before_the_platform_and_nothing_unsuited_is_preselected(
    incident, attach_mentions, drafter, browser_client
):
    """The default playbooks have the hater's reply for Facebook only and the customer's
    for X: a Facebook customer was offered the hater's reply first. And someone no template
    is written for (an influencer) gets none preselected: the drafter chooses."""
    for order, (name, channel, written_for) in enumerate(
        [
            ("Reply to an unhappy customer (X)", "x", "unhappy_customer"),
            ("Calm reply to a hater (Facebook)", "facebook", "hater_occasional"),
        ]
    ):
        IncidentTemplate.objects.create(
            incident=incident, order=order, name=name, kind="reply", channel=channel,
            language="en", author_type=written_for, text="Hello {{ author.handle }}",
        )  # fmt: skip
    customer, influencer = attach_mentions(
        incident,
        {"text": "My KX-200 lid cracked, refund?", "language": "en", "platform": "facebook"},
        {"text": "Unboxing the KX-200 today", "language": "en", "platform": "youtube"},
    )
    selects = queue_selects(
        browser_client,
        incident,
        drafter,
        [(customer, "unhappy_customer"), (influencer, "influencer")],
    )
    theirs = selects[customer]
    assert theirs.index("Reply to an unhappy customer (X)") < theirs.index("Calm reply to a hater")
    assert "for: Hater — occasional" in theirs
    none_suits = selects[influencer]
    assert none_suits.split("<option", 2)[1].startswith(' value="" selected disabled>')


def test_on_a_forum_every_template_in_the_language_is_offered_alike(
    incident, template, drafter, attach_mentions, browser_client
):
    attach_mentions(incident, {"text": "Refund?", "language": "en", "platform": "forum"})
    client = browser_client.as_user(drafter)
    body = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    body = body.content.decode()
    assert "Unhappy customer (Mastodon)" in body and "<optgroup" not in body


def test_the_api_lists_signs_and_writes_from_templates(
    incident, customer, template, drafter, approver, api
):
    url = f"/api/incidents/{incident.pk}/replies/templates/"
    listed = api.as_user(approver).get(url).json()
    assert listed["preapproved_replies"] is True
    [row] = listed["results"]
    assert row["preapproved"] is False and row["available_actions"] == ["preapprove"]
    signed = api.as_user(approver).post(
        f"{url}{template.pk}/preapprove/", {"fingerprint": row["fingerprint"]}, format="json"
    )
    assert signed.status_code == 200 and signed.json()["preapproved"] is True
    refused = api.as_user(drafter).post(
        f"{url}{template.pk}/preapprove/", {"fingerprint": row["fingerprint"]}, format="json"
    )
    assert refused.status_code == 403

    created = api.as_user(drafter).post(
        f"/api/incidents/{incident.pk}/replies/{customer.pk}/reply-from-template/",
        {"template": template.pk},
        format="json",
    )
    assert created.status_code == 201
    statement_url = f"/api/statements/{created.json()['statement']}/"
    statement = api.as_user(drafter).get(statement_url).json()
    assert statement["template"] == template.pk and statement["preapproval"]["applies"]
    assert statement["preapproval"]["approved_in_advance_by"][0]["id"] == approver.pk
    submitted = api.as_user(drafter).post(statement_url + "submit/", format="json")
    assert submitted.json()["status"] == "approved"

    off = api.as_user(drafter).put(f"{url}policy/", {"preapproved_replies": False}, format="json")
    assert off.status_code == 403


@pytest.mark.parametrize("size", [3, 30])
def test_the_queue_page_reads_the_templates_once(
    incident, template, approver, drafter, attach_mentions, browser_client, size,
    django_assert_max_num_queries,
):  # fmt: skip
    """The templates and their advance approvals: four queries whatever the number of
    people on the page (the page's other queries: tests/replies/test_pages_and_api.py)."""
    sign(incident, template, approver)
    attach_mentions(incident, *[{"text": "Refund?", "language": "en"} for _ in range(size)])
    client = browser_client.as_user(drafter)
    # With the promotion freeze banner's query, the live claims' and the pending replies'.
    with django_assert_max_num_queries(24):
        body = client.get(reverse("reply-queue", args=[incident.pk]) + "?view=to_triage")
    assert body.content.decode().count("Start from this template") == min(size, 20)


def test_the_lead_switches_the_policy_on_the_templates_page(
    incident, template, lead, drafter, browser_client
):
    url = reverse("reply-templates", args=[incident.pk])
    assert (
        "Send every reply through review"
        not in browser_client.as_user(drafter).get(url).content.decode()
    )
    client = browser_client.as_user(lead)
    assert "Send every reply through review" in client.get(url).content.decode()
    client.post(reverse("reply-templates-policy", args=[incident.pk]), {})
    body = client.get(url).content.decode()
    assert "Every reply goes through review, templates approved in advance included." in body
    client.post(reverse("reply-templates-policy", args=[incident.pk]), {"enabled": "on"})
    entries = TimelineEntry.objects.filter(incident=incident, kind="preapproved_replies_set")
    assert [e.data["enabled"] for e in entries.order_by("seq")] == [False, True]


def test_a_template_holding_a_blank_is_not_approved_in_advance(incident, template, approver):
    """Its reply, filled in by hand, changed the text and went to review: the advance
    approval promised "approved at once" and could not keep it (from a break-it pass)."""
    template.text = "Sorry about your lid. — [your first name]"
    template.save(update_fields=["text"])
    with pytest.raises(NotAllowed, match=r"still holds \[your first name\]"):
        sign(incident, template, approver)
    assert not TemplatePreapproval.objects.exists()
