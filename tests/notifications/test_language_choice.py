"""A language remembered from a browser at sign-in is not a choice; a chosen one is.

Signing in once from a French browser made a new account French everywhere: the sign-in
wrote the browser's language as the person's preference, the next sign-in from an English
browser brought the French cookie back, and the bell and the e-mails stayed French inside an
English interface. Now the language a browser shows the app in at sign-in is remembered for
the messages (they have no browser) until the person chooses one, and the next sign-in
replaces it; only a language chosen (the header's switch, the settings page) follows the
person to every browser and no sign-in replaces it. The messages' language is read as
`notify` reads it (messages.language_of); the pages' from `<html lang>`."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import timezone

from crisiscell.typography import french_spacing
from incidents.notifications import actions, messages
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import NotificationPreference

from .conftest import outbox

PASSWORD = "pw-for-tests"  # make_user's
SETTINGS_PAGE = "/notifications/settings/"
COOKIE = "django_language"
FRENCH = "fr-FR,fr;q=0.9"
ENGLISH = "en-GB,en;q=0.9"


@pytest.fixture(autouse=True)
def _english_site(settings):
    settings.LANGUAGE_CODE = "en"
    assert settings.LANGUAGE_COOKIE_NAME == COOKIE


@pytest.fixture
def person(make_user):
    return make_user("new", email="new@example.com")


def sign_in(user, accept_language, *, via="page", browser=None):
    """Sign in from a browser (a fresh one unless given) asking for `accept_language`,
    through the sign-in page, the sign-in dialog or the admin's; returns the browser and
    the answer."""
    browser = browser or Client()
    path = {"page": "/accounts/login/", "dialog": "/accounts/session/"}.get(via, "/admin/login/")
    answer = browser.post(
        path,
        {"username": user.username, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE=accept_language,
    )
    assert answer.status_code in (200, 302), answer.content[:300]
    assert browser.session.get("_auth_user_id") == str(user.pk)
    return browser, answer


def page_language(browser, accept_language) -> str:
    html = browser.get("/", HTTP_ACCEPT_LANGUAGE=accept_language, follow=True).content.decode()
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def messages_language(user) -> str:
    return messages.language_of(NotificationPreference.objects.filter(user=user).first())


def an_email_to(user):
    """What a hand-off's e-mail to `user` looks like: its subject names the kind in the
    person's language."""
    actions.notify(
        users=[user], kind=NotificationKind.ADDED_TO_CELL, subject="Recall", url="/incidents/1/"
    )
    return outbox(user=user)[-1]


@pytest.mark.parametrize("via", ["page", "dialog", "admin"])
def test_a_french_browser_once_then_an_english_one_gives_english_everywhere(person, via):
    if via == "admin":
        person.is_staff = True
        person.save(update_fields=["is_staff"])

    french, answer = sign_in(person, FRENCH, via=via)
    assert COOKIE not in answer.cookies  # remembered, not chosen: it stays in this browser
    assert messages_language(person) == "fr"  # until they choose: the language they use
    assert an_email_to(person).subject.startswith("[Cellule de crise]")

    english, answer = sign_in(person, ENGLISH, via=via)
    assert COOKIE not in answer.cookies
    assert page_language(english, ENGLISH) == "en"
    assert messages_language(person) == "en"  # the site's own language replaces it too
    assert an_email_to(person).subject.startswith("[Crisis Cell] Added to a crisis cell:")
    preference = NotificationPreference.objects.get(user=person)
    assert (preference.language, preference.browser_language) == ("", "en")
    # The French browser is still French: its own language, no one else's.
    assert page_language(french, FRENCH) == "fr"


def test_the_sites_language_replaces_a_remembered_one_where_the_site_is_french(person, settings):
    settings.LANGUAGE_CODE = "fr"
    sign_in(person, ENGLISH)
    assert messages_language(person) == "en"
    _browser, answer = sign_in(person, FRENCH)
    assert COOKIE not in answer.cookies
    assert messages_language(person) == "fr"


@pytest.mark.parametrize("via", ["page", "dialog", "admin"])
def test_a_language_chosen_with_the_switch_follows_the_person_everywhere(person, via):
    if via == "admin":
        person.is_staff = True
        person.save(update_fields=["is_staff"])
    browser, _answer = sign_in(person, ENGLISH)
    switched = browser.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert switched.status_code == 302

    # Another browser, in English: the choice comes along, pages and messages.
    elsewhere, answer = sign_in(person, ENGLISH, via=via)
    assert answer.cookies[COOKIE].value == "fr"
    assert page_language(elsewhere, ENGLISH) == "fr"
    assert messages_language(person) == "fr"
    assert an_email_to(person).subject.startswith("[Cellule de crise]")
    # No sign-in replaces a choice, whatever the browser.
    sign_in(person, ENGLISH, via=via)
    preference = NotificationPreference.objects.get(user=person)
    assert (preference.language, preference.browser_language) == ("fr", "en")
    assert messages_language(person) == "fr"


def test_the_settings_page_says_which_language_and_why(person):
    browser, _answer = sign_in(person, FRENCH)
    html = browser.get(SETTINGS_PAGE, HTTP_ACCEPT_LANGUAGE=FRENCH).content.decode()
    assert '<option value="" selected>Suivre mon navigateur</option>' in html
    assert (
        french_spacing(
            "En ce moment : Français, la langue dans laquelle votre navigateur affichait "
            "l’application à votre dernière connexion"
        )
        in html
    )

    chosen = browser.post(
        SETTINGS_PAGE,
        {"email_kinds": NotificationKind.values, "language": "en"},
        HTTP_ACCEPT_LANGUAGE=FRENCH,
    )
    assert chosen.status_code == 302
    html = browser.get(SETTINGS_PAGE, HTTP_ACCEPT_LANGUAGE=ENGLISH).content.decode()
    assert '<option value="en" selected>English</option>' in html
    assert "Now: English, the language you chose; it follows you to every browser" in html
    elsewhere, answer = sign_in(person, FRENCH)
    assert answer.cookies[COOKIE].value == "en"
    assert page_language(elsewhere, FRENCH) == "en"
    assert messages_language(person) == "en"


def test_follow_my_browser_again_on_the_settings_page(person):
    browser, _answer = sign_in(person, ENGLISH)
    browser.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert messages_language(person) == "fr"

    followed = browser.post(SETTINGS_PAGE, {"email_kinds": NotificationKind.values, "language": ""})
    assert followed.status_code == 302
    # The last sign-in was from an English browser: English until the next one; and this
    # browser's pages follow it again at once (its French cookie goes: a verification
    # pass found the pages French while the messages went English).
    assert messages_language(person) == "en"
    assert followed.cookies[COOKIE].value == "" and followed.cookies[COOKIE]["max-age"] == 0
    html = browser.get(SETTINGS_PAGE, HTTP_ACCEPT_LANGUAGE=ENGLISH).content.decode()
    assert '<html lang="en">' in html
    assert "Now: English, the language your browser showed the app in" in html
    # Chosen on this page, a language is this browser's at once too.
    chosen = browser.post(SETTINGS_PAGE, {"email_kinds": NotificationKind.values, "language": "fr"})
    assert chosen.cookies[COOKIE].value == "fr"
    assert page_language(browser, ENGLISH) == "fr"
    browser.post(SETTINGS_PAGE, {"email_kinds": NotificationKind.values, "language": ""})
    _elsewhere, answer = sign_in(person, FRENCH)
    assert COOKIE not in answer.cookies
    assert messages_language(person) == "fr"


def test_saving_the_settings_page_untouched_chooses_no_language(person):
    """The page's language starts on "Follow my browser": saving it for another reason
    (quiet when looking) does not make the browser's language a choice."""
    browser, _answer = sign_in(person, FRENCH)
    html = browser.get(SETTINGS_PAGE).content.decode()
    assert '<option value="" selected>' in html
    browser.post(SETTINGS_PAGE, {"quiet_when_looking": "on", "language": ""})
    _elsewhere, answer = sign_in(person, ENGLISH)
    assert COOKIE not in answer.cookies
    assert messages_language(person) == "en"
    assert NotificationPreference.objects.get(user=person).quiet_when_looking


def test_someone_who_never_signed_in_gets_the_sites_language(person, browser_client):
    html = browser_client.as_user(person).get(SETTINGS_PAGE).content.decode()
    assert messages_language(person) == settings.LANGUAGE_CODE
    assert "Now: English, the site's language; from your next sign-in" in html


# --- The existing database (notifications 0009) ------------------------------------------


def _migration():
    return importlib.import_module("incidents.notifications.migrations.0009_browser_language")


def test_a_language_the_latest_sign_in_wrote_becomes_remembered_the_others_stay_chosen(
    make_user,
):
    """Before 0009 a sign-in wrote the browser's language as the person's own, alike a
    choice. The migration tells the two apart where it can: a row written by the person's
    latest sign-in (and by nothing since) is remembered; any other stays chosen."""
    login = timezone.now() - timedelta(days=3)
    written = {}
    for name, after, extra in [
        ("remembered", timedelta(milliseconds=40), {}),
        ("switched_later", timedelta(minutes=2), {}),  # the header's switch
        ("set_more", timedelta(milliseconds=40), {"quiet_when_looking": True}),
        ("turned_off", timedelta(milliseconds=40), {"email_off": ["published"]}),
    ]:
        user = make_user(name)
        user.last_login = login
        user.save(update_fields=["last_login"])
        written[name] = NotificationPreference.objects.create(
            user=user, language="fr", updated_at=login + after, **extra
        )
    never = make_user("never")  # never signed in: only a choice could write it
    written["never"] = NotificationPreference.objects.create(
        user=never, language="fr", updated_at=login
    )
    empty = make_user("empty")
    empty.last_login = login
    empty.save(update_fields=["last_login"])
    written["empty"] = NotificationPreference.objects.create(user=empty, updated_at=login)

    _migration().remembered_apart(apps, None)

    now = {
        name: NotificationPreference.objects.values_list("language", "browser_language").get(
            pk=row.pk
        )
        for name, row in written.items()
    }
    assert now == {
        "remembered": ("", "fr"),
        "switched_later": ("fr", ""),
        "set_more": ("fr", ""),
        "turned_off": ("fr", ""),
        "never": ("fr", ""),
        "empty": ("", ""),
    }
    # Back: the remembered language is the person's own again, as the old code read it.
    _migration().remembered_back(apps, None)
    assert NotificationPreference.objects.get(pk=written["remembered"].pk).language == "fr"
