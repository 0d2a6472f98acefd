"""The handling advice the queue shows (the incident's playbook's, per language, else the
default) and the defenders who are known ambassadors of the incident's contacts: the same
on the page and in the API, decided in one place (selectors.advice_text, ambassador_for)."""

import pytest
from django.utils import translation

from incidents.extensions import Ambassador
from incidents.playbooks import actions as playbook_actions
from incidents.playbooks.models import Contact, Playbook, PlaybookAdvice
from incidents.replies import actions, selectors
from incidents.replies.choices import ADVICE

pytestmark = pytest.mark.django_db

TROLL_EN = "Do not feed them: no answer, and keep the evidence."
TROLL_FR = "Ne pas les nourrir : aucune réponse, et garder les preuves."
THANKS_FR = "Remerciez-les par leur nom, sans rien leur demander."


def page_url(incident, suffix=""):
    return f"/incidents/{incident.pk}/replies/{suffix}"


def api_url(incident, suffix=""):
    return f"/api/incidents/{incident.pk}/replies/{suffix}"


@pytest.fixture
def playbook(db, policies):
    playbook = Playbook.objects.create(name="Advised", brand="Acme")
    PlaybookAdvice.objects.create(
        playbook=playbook, author_type="troll", text_en=TROLL_EN, text_fr=TROLL_FR
    )
    # French only: English readers get the default advice.
    PlaybookAdvice.objects.create(playbook=playbook, author_type="defender", text_fr=THANKS_FR)
    Contact.objects.create(
        playbook=playbook, kind="ambassador", name="Dana Whitfield", handle="Dana.bsky.social",
        platform="bluesky", order=1,
    )  # fmt: skip
    Contact.objects.create(
        playbook=playbook, kind="ambassador", name="Sam", handle="@SamCooks", order=2
    )
    return playbook


@pytest.fixture
def applied(incident, lead, playbook):
    playbook_actions.playbook_apply(incident=incident, actor=lead, playbook=playbook)
    return incident


def typed(incident, drafter, attach_mentions, *posts):
    """Attach posts ({"type": ..., MentionData fields}) and triage each as its type (a
    defender needs no answer: the "defenders" view; the others do: "to_answer")."""
    mentions = attach_mentions(
        incident, *[{k: v for k, v in post.items() if k != "type"} for post in posts]
    )
    for post, mention in zip(posts, mentions, strict=True):
        actions.triage_set(
            incident=incident,
            mention=mention,
            actor=drafter,
            author_type=post["type"],
            needs_answer="no" if post["type"] == "defender" else "yes",
        )
    return mentions


def default(author_type, language):
    with translation.override(language):
        return str(ADVICE[author_type])


# --- Advice -----------------------------------------------------------------------------------


def test_the_playbook_advice_shows_in_each_language_and_blank_falls_back(
    applied, drafter, attach_mentions, api
):
    typed(
        applied,
        drafter,
        attach_mentions,
        {"text": "lol", "type": "troll"},
        {"text": "Great brand", "type": "defender"},
        {"text": "When?", "type": "neutral"},
    )
    client = api.as_user(drafter)
    for language, troll, defender in [
        ("en", TROLL_EN, default("defender", "en")),
        ("fr", TROLL_FR, THANKS_FR),
    ]:
        advice = {}
        for view in ("defenders", "to_answer"):
            results = client.get(
                api_url(applied, f"?view={view}"), HTTP_ACCEPT_LANGUAGE=language
            ).json()["results"]
            advice.update({r["triage"]["author_type"]: r["advice"] for r in results})
        assert advice == {
            "troll": troll,
            "defender": defender,
            "neutral": default("neutral", language),  # no advice written for this type
        }, language
        assert default("neutral", "en") != default("neutral", "fr")  # really translated


def test_the_page_shows_the_same_advice(applied, drafter, attach_mentions, browser_client):
    typed(applied, drafter, attach_mentions, {"text": "lol", "type": "troll"})
    client = browser_client.as_user(drafter)

    english = client.get(page_url(applied, "?view=to_answer"), HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(page_url(applied, "?view=to_answer"), HTTP_ACCEPT_LANGUAGE="fr")

    assert TROLL_EN in english.content.decode() and TROLL_FR not in english.content.decode()
    assert TROLL_FR.replace("'", "&#x27;") in french.content.decode()
    assert TROLL_EN not in french.content.decode()


def test_without_a_playbook_the_default_advice_shows(incident, drafter, attach_mentions, api):
    typed(incident, drafter, attach_mentions, {"text": "lol", "type": "troll"})

    [result] = (
        api.as_user(drafter)
        .get(api_url(incident, "?view=to_answer"), HTTP_ACCEPT_LANGUAGE="fr")
        .json()["results"]
    )

    assert result["advice"] == default("troll", "fr")
    assert result["ambassador"] is None


def test_advice_text_is_the_one_rule():
    written = {"troll": {"en": "Mine"}, "press": {"en": ""}}
    with translation.override("en"):
        assert selectors.advice_text(written, "troll") == "Mine"
        assert selectors.advice_text(written, "press") == str(ADVICE["press"])
    with translation.override("fr"):
        assert selectors.advice_text(written, "troll") == default("troll", "fr")


# --- Ambassadors ------------------------------------------------------------------------------

DANA = Ambassador(contact_id=1, name="Dana", handle="Dana.bsky.social", platform="bluesky")
SAM = Ambassador(contact_id=2, name="Sam", handle="@SamCooks", platform="")


class Post:
    def __init__(self, handle, platform):
        self.author_handle, self.platform = handle, platform


@pytest.mark.parametrize(
    "handle, platform, expected",
    [
        ("@dana.bsky.social", "bluesky", DANA),  # with @, other case
        ("DANA.BSKY.SOCIAL", "bluesky", DANA),
        (" dana.bsky.social ", "bluesky", DANA),
        ("@dana.bsky.social", "x", None),  # the contact says Bluesky
        ("@samcooks", "x", SAM),  # no platform in the contact: any platform
        ("@SAMCOOKS", "instagram", SAM),
        ("@dana2.bsky.social", "bluesky", None),
        ("@", "bluesky", None),
        ("", "bluesky", None),
    ],
)
def test_ambassadors_match_by_handle_without_at_any_case_per_platform(handle, platform, expected):
    assert selectors.ambassador_for([DANA, SAM], Post(handle, platform)) == expected


def test_a_defender_who_is_a_known_ambassador_links_to_the_contacts_panel(
    applied, drafter, attach_mentions, api, browser_client
):
    dana, stranger, not_a_defender = typed(
        applied,
        drafter,
        attach_mentions,
        {"text": "Love it", "type": "defender", "platform": "bluesky",
         "author_handle": "@dana.bsky.social"},
        {"text": "Love it", "type": "defender", "platform": "bluesky",
         "author_handle": "@someone.bsky.social"},
        {"text": "Hm", "type": "neutral", "platform": "x", "author_handle": "@SamCooks"},
    )  # fmt: skip
    contact = applied.contacts.get(name="Dana Whitfield")
    link = f"/incidents/{applied.pk}/#contact-{contact.pk}"

    results = {
        r["mention"]["id"]: r
        for view in ("defenders", "to_answer")
        for r in api.as_user(drafter).get(api_url(applied, f"?view={view}")).json()["results"]
    }
    assert results[dana.pk]["ambassador"] == {
        "contact": contact.pk,
        "name": "Dana Whitfield",
        "handle": "Dana.bsky.social",
        "platform": "bluesky",
        "contacts_url": link,
    }
    assert results[stranger.pk]["ambassador"] is None
    assert results[not_a_defender.pk]["ambassador"] is None  # only defenders are matched

    page = browser_client.as_user(drafter).get(page_url(applied, "?view=defenders"))
    body = page.content.decode()
    assert body.count("Known ambassador:") == 1
    assert f'href="{link}"' in body and "Known ambassador: Dana Whitfield" in body
    # The link lands on the contact in the room's contacts panel.
    room = browser_client.get(f"/incidents/{applied.pk}/").content.decode()
    assert f'id="contact-{contact.pk}"' in room


@pytest.mark.parametrize("size", [3, 30])
def test_the_defenders_page_costs_constant_queries(
    applied, drafter, attach_mentions, browser_client, api, size, django_assert_max_num_queries
):
    typed(
        applied,
        drafter,
        attach_mentions,
        *[
            {"text": "Love it", "type": "defender", "platform": "bluesky",
             "author_handle": "@Dana.bsky.social" if n == 0 else f"@fan{n}"}
            for n in range(size)
        ],
    )  # fmt: skip
    client = browser_client.as_user(drafter)
    # The queue page's queries, plus the incident's ambassadors (one, whatever the size) and
    # the promotion freeze banner (one on every page), and the live claims and replies on
    # their way (an author is one person).
    with django_assert_max_num_queries(22):
        response = client.get(page_url(applied, "?view=defenders"))
    assert response.content.decode().count("Known ambassador:") == 1
    with django_assert_max_num_queries(13):
        body = api.as_user(drafter).get(api_url(applied, "?view=defenders&page_size=100")).json()
    assert len(body["results"]) == size
