"""French subjects keep their no-break spaces: "Ajouté à une cellule de crise{NBSP}: …"
is written with U+00A0 before the colon (crisiscell/typography.py) and a phone must not wrap
the line there. Collapsing a subject onto one line used to turn it (and U+202F) into an
ordinary space; now only line breaks, tabs and runs of ordinary spaces collapse, and no
subject holds a CR or LF (a header line of its own)."""

import pytest

from incidents.notifications import actions
from incidents.notifications.choices import NotificationKind
from incidents.notifications.models import Notification, NotificationPreference
from incidents.outbox.choices import Channel
from incidents.text import one_line

from .conftest import outbox

NBSP, NNBSP = "\u00a0", "\u202f"
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Approbation requise{NBSP}: rappel", f"Approbation requise{NBSP}: rappel"),
        (
            f"«{NNBSP}Rappel{NNBSP}» ; vraiment{NNBSP}?",
            f"«{NNBSP}Rappel{NNBSP}» ; vraiment{NNBSP}?",
        ),
        ("10\u2007000 ventes", "10\u2007000 ventes"),  # a figure space is a no-break one too
        ("Line one\r\nLine two\tand  three", "Line one Line two and three"),
        (f"Rappel \n{NBSP}: x", f"Rappel{NBSP}: x"),  # a run holding one keeps it, alone
        (f"a{NBSP}{NBSP}{NBSP}b", f"a{NBSP}b"),  # single spaces, still unbreakable
        (f"  {NBSP}bords{NNBSP}\n ", "bords"),  # none at either end
        ("e\u0301te\u0301", "été"),  # NFC
        ("", ""),
        (None, ""),
    ],
)
def test_one_line_collapses_breaks_and_keeps_no_break_spaces(text, expected):
    assert one_line(text) == expected


def test_no_line_break_of_any_kind_survives():
    text = "x".join(LINE_BREAKS) + "\t\u3000\u2003"
    assert one_line(text) == " ".join("x" * (len(LINE_BREAKS) - 1))
    assert len(one_line(text).splitlines()) == 1


@pytest.fixture
def french(lead):
    lead.email = "lead@example.com"
    lead.save(update_fields=["email"])
    NotificationPreference.objects.create(user=lead, language="fr")
    return lead


def test_a_french_e_mail_subject_and_bell_keep_their_no_break_spaces(french, incident):
    incident.title = f"Rappel{NNBSP}? «{NNBSP}Lot 12{NNBSP}»"  # as the title action keeps it
    incident.save(update_fields=["title"])
    actions.notify(
        users=[french],
        kind=NotificationKind.ADDED_TO_CELL,
        subject=f"Lot 12{NBSP}: rappel\r\nBcc: everyone@example.com",
        url=f"/incidents/{incident.pk}/",
        incident=incident,
    )
    [email] = outbox(user=french, channel=Channel.EMAIL)
    assert email.subject == (
        f"[Cellule de crise] Ajouté à une cellule de crise{NBSP}: "
        f"Lot 12{NBSP}: rappel Bcc: everyone@example.com — Rappel{NNBSP}? «{NNBSP}Lot 12{NNBSP}»"
    )
    assert not set(email.subject) & set(LINE_BREAKS)
    [bell] = Notification.objects.filter(user=french)
    assert bell.subject == f"Lot 12{NBSP}: rappel Bcc: everyone@example.com"
