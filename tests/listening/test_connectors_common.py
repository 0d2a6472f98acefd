"""What the collectors share: backoff bounds, HTML to text, the collector state's
success/error bookkeeping."""

import pytest

from incidents.listening import actions
from incidents.listening.connectors.common import Backoff, html_to_text
from incidents.listening.models import CollectorState


def test_backoff_doubles_with_jitter_up_to_its_cap():
    low, high = Backoff(base=1, cap=8, rng=lambda: 0.0), Backoff(base=1, cap=8, rng=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert [high.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    high.reset()
    assert high.next() == 1


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>Un &amp; deux</p><p>trois<br/>quatre</p>", "Un & deux\ntrois\nquatre"),
        ("avant<script>alert('x')</script><style>p{}</style> après", "avant après"),
        ("<b>&lt;script&gt;</b> reste du texte", "<script> reste du texte"),
        ("<p>  beaucoup   d'espaces \n ici </p>", "beaucoup d'espaces\nici"),
        ("", ""),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_collector_state_keeps_the_last_success_and_the_last_error(db):
    actions.collector_state_record(name="feed:https://x.example/", state={"etag": '"a"'})
    first = CollectorState.objects.get(name="feed:https://x.example/")
    assert first.last_success_at is not None and first.last_error == ""

    actions.collector_state_record(name="feed:https://x.example/", error="HTTP 503 " * 200)
    failed = CollectorState.objects.get(name="feed:https://x.example/")
    assert failed.state == {"etag": '"a"'}  # the cursor stays where it was
    assert failed.last_success_at == first.last_success_at
    assert failed.last_error.startswith("HTTP 503") and len(failed.last_error) == 1000

    actions.collector_state_record(name="feed:https://x.example/", state={"etag": '"b"'})
    again = CollectorState.objects.get(name="feed:https://x.example/")
    assert again.last_error == "" and again.state == {"etag": '"b"'}
