"""A date in a sentence is one message with the date in it: French says "clos le 2 déc."
and "signal ouvert à 14:30", where a label followed by the date read "clos 2 déc."."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from incidents.listening.charts import _mark_text
from incidents.listening.models import Signal

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_signal(watch):
    opened = timezone.now() - timedelta(days=2)
    return Signal.objects.create(
        watch=watch,
        kind="volume",
        severity=3,
        status="closed",
        opened_at=opened,
        started_at=opened,
        updated_at=opened,
        closed_at=opened + timedelta(hours=5),
        observed=40,
        expected=4,
    )


def item(signal, language):
    with translation.override(language):
        return " ".join(render_to_string("listening/_signal_item.html", {"signal": signal}).split())


def test_a_closed_signal_says_when_with_its_article_in_french(closed_signal):
    assert "Ouvert le <time datetime=" in item(closed_signal, "fr")
    assert "· clos le <time datetime=" in item(closed_signal, "fr")
    english = item(closed_signal, "en")
    assert "Opened <time datetime=" in english and "· closed <time datetime=" in english
    iso = closed_signal.closed_at.isoformat()
    assert f'closed <time datetime="{iso}">' in english  # the date stays machine-readable


def test_the_charts_marks_say_at_what_time_in_french():
    moment = timezone.now()
    with translation.override("fr"):
        assert _mark_text("opened", moment).startswith("signal ouvert à ")
        assert _mark_text("closed", moment).startswith("signal clos à ")
        assert _mark_text("started", moment).startswith("début à ")
    with translation.override("en"):
        assert _mark_text("closed", moment).startswith("signal closed ")
