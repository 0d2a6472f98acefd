"""The post-mortem's share of voice: the mentions of the incident's brand watch over the
conversation of its topic watch (Watch.topic_watch) in the crisis window of the series;
not known without a topic watch or topic mentions, with a hint for the lead."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.listening import actions as listening_actions
from incidents.postmortems import actions, figures
from tests.listening.conftest import grant


@pytest.fixture
def watches(make_user):
    """A brand watch ("acme") and the watch of its topic ("kettle"), not yet linked."""
    editor = grant(make_user("watcher"), "view_mention", "view_watch", "change_watch")

    def create(name, keyword, **extra):
        return listening_actions.watch_create(
            actor=editor, name=name, brand=name, keywords=[keyword], **extra
        )

    topic = create("Kettles", "kettle")
    brand = create("Acme", "acme")
    return editor, brand, topic


def crisis(incident, attach_mentions, *, topic_posts=4):
    """Four brand mentions attached to the incident (three also about kettles), kettle
    posts by others in the window, and one long before it."""
    attach_mentions(
        incident,
        *({"text": f"My Acme kettle broke {i}", "language": "en"} for i in range(3)),
        {"text": "Acme never answers", "language": "en"},
    )
    attach_mentions(
        None,
        *({"text": f"A kettle like mine {i}", "language": "en"} for i in range(topic_posts)),
        {"text": "Old kettle post", "posted_at": timezone.now() - timedelta(days=3)},
    )


def test_the_share_is_the_brand_mentions_over_the_topic_conversation(
    incident, watches, attach_mentions
):
    editor, brand, topic = watches
    listening_actions.watch_update(watch=brand, actor=editor, topic_watch=topic.pk)
    crisis(incident, attach_mentions)

    m = figures.report(incident).metrics

    # Brand 4; the conversation: the 4 brand mentions (3 about kettles, counted once) and
    # the 4 other kettle posts in the window; not the one three days before.
    assert (m.share_of_voice_mentions, m.share_of_voice_conversation) == (4, 8)
    assert m.share_of_voice == 0.5 and m.share_of_voice_unset == ""
    assert figures.as_json(figures.report(incident))["metrics"]["share_of_voice"] == 0.5


def test_a_stopped_topic_watch_still_counts_what_it_collected(incident, watches, attach_mentions):
    editor, brand, topic = watches
    listening_actions.watch_update(watch=brand, actor=editor, topic_watch=topic)
    crisis(incident, attach_mentions, topic_posts=12)
    listening_actions.watch_update(watch=topic, actor=editor, is_active=False)

    m = figures.report(incident).metrics

    assert (m.share_of_voice_mentions, m.share_of_voice_conversation) == (4, 16)
    assert m.share_of_voice == 0.25


def test_without_a_topic_watch_it_is_not_known_and_the_lead_is_told_which_to_set(
    incident, watches, attach_mentions, lead, drafter, client
):
    crisis(incident, attach_mentions)

    m = figures.report(incident).metrics

    assert m.share_of_voice is None and m.share_of_voice_unset == "Acme"
    assert figures.as_json(figures.report(incident))["metrics"]["share_of_voice"] is None
    pm = actions.postmortem_create(incident=incident, actor=lead)
    page = f"/incidents/{pm.incident_id}/postmortem/"
    hint = "Set the topic watch of “Acme” to know it."
    client.force_login(lead)
    html = client.get(page).content.decode()
    assert "Share of voice during the crisis" in html and hint in html
    markdown = client.get(page + "export.md").content.decode()
    assert "| Share of voice during the crisis (brand / topic mentions) | not known |" in markdown
    client.force_login(drafter)  # reads the post-mortem, does not write it: no hint
    html = client.get(page).content.decode()
    assert "Share of voice during the crisis" in html and hint not in html


def test_a_topic_that_said_nothing_in_the_window_is_not_known(incident, watches, attach_mentions):
    editor, brand, topic = watches
    listening_actions.watch_update(watch=brand, actor=editor, topic_watch=topic)
    attach_mentions(incident, {"text": "Acme never answers", "language": "en"})
    attach_mentions(None, {"text": "Old kettle", "posted_at": timezone.now() - timedelta(days=3)})

    m = figures.report(incident).metrics

    assert m.share_of_voice is None and m.share_of_voice_unset == ""


def test_the_exports_and_the_page_show_the_share(incident, watches, attach_mentions, lead, client):
    editor, brand, topic = watches
    listening_actions.watch_update(watch=brand, actor=editor, topic_watch=topic)
    crisis(incident, attach_mentions)
    actions.postmortem_create(incident=incident, actor=lead)
    client.force_login(lead)
    page = f"/incidents/{incident.pk}/postmortem/"
    shown = "50 % (4 / 8 mentions)"
    assert shown in client.get(page).content.decode()
    assert shown in client.get(page + "print/").content.decode()
    assert f"| Share of voice during the crisis (brand / topic mentions) | {shown} |" in (
        client.get(page + "export.md").content.decode()
    )
