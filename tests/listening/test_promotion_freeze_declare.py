"""Declaring from a listening signal follows the promotion freeze's one rule: on from the
declaration at high and critical severity (incidents.rules.freeze_by_default)."""

import pytest

from incidents.listening import actions
from incidents.models import TimelineEntry


@pytest.mark.django_db
@pytest.mark.parametrize("severity,frozen", [(2, False), (3, True)])
def test_declaring_from_a_signal_freezes_promotion_at_high_severity(
    signal,
    reader,
    severity,
    frozen,
):
    incident = actions.signal_declare(signal=signal, actor=reader, severity=severity)
    assert incident.promotion_frozen is frozen
    entries = TimelineEntry.objects.filter(incident=incident, kind="promotion_freeze_set")
    assert entries.count() == int(frozen)
    if frozen:
        assert entries.get().actor == reader
