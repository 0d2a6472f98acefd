"""Who may post a statement through a platform (statements' one PUBLISH rule), the API and
the page, and the brand accounts' secrets: encrypted at rest, never shown, never logged,
never answered."""

import logging

import pytest
from django.urls import reverse

from incidents.errors import NotAllowed, TransitionNotAllowed
from incidents.outbox.models import OutboundMessage
from incidents.publishing import crypto
from incidents.publishing.models import BrandAccount, Publication
from tests.outbox.conftest import deliver_due
from tests.publishing.conftest import TEXT
from tests.publishing.fakes import BLUESKY_PASSWORD, MASTODON_TOKEN

pytestmark = pytest.mark.django_db


def publications_url(statement):
    return f"/api/statements/{statement.pk}/publications/"


@pytest.mark.parametrize("who", ["drafter", "approver", "observer", "lead"])
def test_who_may_not_publish_is_refused(request, who, publish, on_mastodon, mastodon_account):
    person = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        publish(statement=on_mastodon, account=mastodon_account, actor=person)
    assert not Publication.objects.exists()
    assert not OutboundMessage.objects.filter(channel="post").exists()


@pytest.mark.parametrize("who", ["drafter", "observer"])
def test_the_api_refuses_who_may_not_publish(request, who, api, on_mastodon, mastodon_account):
    response = api.as_user(request.getfixturevalue(who)).post(
        publications_url(on_mastodon), {"account": mastodon_account.pk}, format="json"
    )
    assert response.status_code == 403
    assert "spokesperson" in response.json()["detail"]


def test_an_outsider_sees_no_statement(api, outsider, on_mastodon, mastodon_account):
    client = api.as_user(outsider)
    url = publications_url(on_mastodon)
    assert client.post(url, {"account": mastodon_account.pk}, format="json").status_code == 404
    assert client.get(url).status_code == 404
    assert not Publication.objects.exists()


@pytest.mark.parametrize("state", ["draft", "in_review", "changes_requested"])
def test_a_statement_not_approved_is_refused(
    state, make_statement, publish, mastodon_account, spokesperson
):
    statement = make_statement(channel="mastodon", state=state, text=TEXT)
    with pytest.raises(TransitionNotAllowed):
        publish(statement=statement, account=mastodon_account, actor=spokesperson)
    assert not Publication.objects.exists()


def test_an_account_of_another_platform_is_refused(api, on_mastodon, bluesky_account, spokesperson):
    response = api.as_user(spokesperson).post(
        publications_url(on_mastodon), {"account": bluesky_account.pk}, format="json"
    )
    assert response.status_code == 400
    assert "written for Mastodon" in response.json()["detail"]


def test_a_stale_revision_is_refused(api, on_mastodon, mastodon_account, spokesperson):
    response = api.as_user(spokesperson).post(
        publications_url(on_mastodon),
        {"account": mastodon_account.pk, "revision": 7},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current_revision"] == 1


def test_the_api_queues_answers_202_and_reads_the_state(
    api, on_mastodon, mastodon_account, mastodon, spokesperson, observer, mastodon_url=None
):
    client = api.as_user(spokesperson)
    mention = "https://other.example/users/angry/statuses/5"
    response = client.post(
        publications_url(on_mastodon),
        {"account": mastodon_account.pk, "in_reply_to": mention},
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["in_reply_to"] == mention
    assert body["account"] == {
        "id": mastodon_account.pk,
        "platform": "mastodon",
        "label": "Brand on Mastodon",
        "handle": "@brand",
    }
    assert body["requested_by"]["id"] == spokesperson.pk
    # Asked again (a double click): the same publication.
    again = client.post(
        publications_url(on_mastodon), {"account": mastodon_account.pk}, format="json"
    )
    assert again.status_code == 202 and again.json()["id"] == body["id"]

    mastodon.remote[mention] = "77"
    deliver_due()
    reader = api.as_user(observer)
    [listed] = reader.get(publications_url(on_mastodon)).json()
    assert listed["status"] == "sent" and listed["post_url"].startswith(mastodon.url)
    one = reader.get(f"/api/publications/{body['id']}/").json()
    assert one["post_id"] == listed["post_id"]
    accounts = reader.get(f"/api/statements/{on_mastodon.pk}/brand-accounts/").json()
    assert [a["id"] for a in accounts] == [mastodon_account.pk]


def test_reading_a_publication_needs_its_statement(
    api, publish, on_mastodon, mastodon_account, spokesperson, outsider
):
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    response = api.as_user(outsider).get(f"/api/publications/{publication.pk}/")
    assert response.status_code == 404


def test_the_api_answers_in_bounded_queries(
    api, publish, on_mastodon, mastodon_account, spokesperson, django_assert_max_num_queries
):
    publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    client = api.as_user(spokesperson)
    with django_assert_max_num_queries(12):
        assert len(client.get(publications_url(on_mastodon)).json()) == 1


def test_the_statement_page_offers_the_account_and_confirms_the_exact_text(
    browser_client, on_mastodon, mastodon_account, mastodon, spokesperson
):
    client = browser_client.as_user(spokesperson)
    page = client.get(reverse("statement-detail", args=[on_mastodon.pk])).content.decode()
    confirm_url = reverse("statement-publish-via", args=[on_mastodon.pk, mastodon_account.pk])
    assert "Publish on Brand on Mastodon" in page and confirm_url in page

    confirm = client.get(confirm_url).content.decode()
    assert TEXT in confirm and "@brand" in confirm
    response = client.post(confirm_url, {"revision": 1, "in_reply_to": ""})
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert publication.status == "queued" and publication.requested_by == spokesperson

    page = client.get(reverse("statement-detail", args=[on_mastodon.pk])).content.decode()
    assert "Being posted" in page and "Publish on Brand on Mastodon" not in page
    deliver_due()
    page = client.get(reverse("statement-detail", args=[on_mastodon.pk])).content.decode()
    assert "Posted" in page and mastodon.statuses[0]["url"] in page  # the published note's link


def test_a_failure_shows_its_reason_and_try_again(
    browser_client, publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    mastodon.refuse_next(401)
    publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    deliver_due()
    page = (
        browser_client.as_user(spokesperson)
        .get(reverse("statement-detail", args=[on_mastodon.pk]))
        .content.decode()
    )
    assert "the instance refused the access token (401)" in page
    assert "Try again" in page and "still approved and unpublished" in page


@pytest.mark.parametrize("who", ["drafter", "observer"])
def test_the_page_offers_nothing_to_who_may_not_publish(
    request, who, browser_client, on_mastodon, mastodon_account
):
    client = browser_client.as_user(request.getfixturevalue(who))
    page = client.get(reverse("statement-detail", args=[on_mastodon.pk])).content.decode()
    assert "Publish on Brand on Mastodon" not in page
    confirm_url = reverse("statement-publish-via", args=[on_mastodon.pk, mastodon_account.pk])
    client.post(confirm_url, {"revision": 1})
    assert not Publication.objects.exists()


def test_no_box_for_a_channel_without_an_api(browser_client, make_statement, spokesperson):
    statement = make_statement(channel="x", state="approved")
    BrandAccount.objects.create(
        platform="mastodon", label="Brand", base_url="https://m.example", handle="@b"
    )
    page = (
        browser_client.as_user(spokesperson)
        .get(reverse("statement-detail", args=[statement.pk]))
        .content.decode()
    )
    assert "Post through the platform" not in page


# --- Secrets --------------------------------------------------------------------------------


def test_the_secret_is_encrypted_at_rest(mastodon_account, bluesky_account):
    for account, secret in (
        (mastodon_account, MASTODON_TOKEN),
        (bluesky_account, BLUESKY_PASSWORD),
    ):
        stored = BrandAccount.objects.filter(pk=account.pk).values_list(
            "secret_encrypted", flat=True
        )[0]
        assert secret not in stored and crypto.decrypt(stored) == secret
        assert secret not in repr(account) and secret not in str(account)


def test_a_key_can_be_rotated_and_a_wrong_key_fails_clearly(
    settings, publish, on_mastodon, mastodon_account, mastodon, spokesperson
):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PUBLISHING_KEY = old
    token = crypto.encrypt("s3cret")
    settings.PUBLISHING_KEY = f"{new},{old}"
    assert crypto.decrypt(token) == "s3cret"
    settings.PUBLISHING_KEY = new  # the account's token was encrypted with another key
    publication = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    deliver_due()
    publication = Publication.objects.get(pk=publication.pk)
    assert publication.status == "failed" and "cannot be decrypted" in publication.error
    assert mastodon.posts == 0


def test_the_secret_never_shows_in_logs_admin_or_api(
    caplog,
    admin_client,
    api,
    publish,
    on_mastodon,
    make_statement,
    mastodon_account,
    bluesky_account,
    mastodon,
    bsky,
    spokesperson,
):
    caplog.set_level(logging.DEBUG)
    mastodon.refuse_next(401, {"error": f"bad token {MASTODON_TOKEN}"})  # echoed back
    first = publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)
    on_bluesky = make_statement(channel="bluesky", state="approved", text=TEXT)
    publish(statement=on_bluesky, account=bluesky_account, actor=spokesperson)
    deliver_due()
    publish(statement=on_mastodon, account=mastodon_account, actor=spokesperson)  # try again
    deliver_due()
    assert Publication.objects.get(pk=first.pk).status == "sent"

    pages = []
    for account in (mastodon_account, bluesky_account):
        page = admin_client.get(
            reverse("admin:publishing_brandaccount_change", args=[account.pk])
        ).content.decode()
        assert "leave empty to keep" in page
        pages.append(page)
    for name in ("brandaccount", "publication"):
        pages.append(
            admin_client.get(reverse(f"admin:publishing_{name}_changelist")).content.decode()
        )
    client = api.as_user(spokesperson)
    for statement in (on_mastodon, on_bluesky):
        pages.append(client.get(publications_url(statement)).content.decode())
        pages.append(client.get(f"/api/statements/{statement.pk}/brand-accounts/").content.decode())
    pages.extend(OutboundMessage.objects.values_list("last_error", flat=True))
    pages.extend(Publication.objects.values_list("error", flat=True))
    assert "refused the access token (401)" in caplog.text  # logged, without the token
    shown = "\n".join([caplog.text, *pages])
    for secret in (MASTODON_TOKEN, BLUESKY_PASSWORD):
        assert secret not in shown
    for account in (mastodon_account, bluesky_account):
        assert account.secret_encrypted not in shown  # not even its ciphertext


def test_the_admin_keeps_the_secret_when_left_empty_and_requires_one_at_first(
    admin_client, mastodon_account
):
    url = reverse("admin:publishing_brandaccount_change", args=[mastodon_account.pk])
    before = mastodon_account.secret_encrypted
    form = {
        "platform": "mastodon",
        "label": "Brand (Mastodon)",
        "base_url": mastodon_account.base_url,
        "handle": "@brand",
        "secret": "",
        "active": "on",
    }
    assert admin_client.post(url, form).status_code == 302
    account = BrandAccount.objects.get(pk=mastodon_account.pk)
    assert account.label == "Brand (Mastodon)" and account.secret_encrypted == before

    response = admin_client.post(reverse("admin:publishing_brandaccount_add"), form)
    assert response.status_code == 200
    assert "Give the access token" in response.content.decode()
    assert BrandAccount.objects.count() == 1

    admin_client.post(url, {**form, "secret": "new-token"})
    assert crypto.decrypt(BrandAccount.objects.get(pk=account.pk).secret_encrypted) == "new-token"
