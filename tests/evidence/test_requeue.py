"""Work asked for while the broker was down: the request still answers (202, or the upload
is stored), the row stays "queued"/"pending", and the periodic sweep queues it again once
it has waited EVIDENCE_REQUEUE_AFTER_MINUTES. Running the sweep twice changes nothing."""

from datetime import timedelta

import pytest
from celery.canvas import Signature
from django.utils import timezone
from kombu.exceptions import OperationalError

from crisiscell.celery import app as celery_app
from incidents.evidence import actions, capture, tasks
from incidents.evidence.models import CaptureJob, EvidenceItem
from tests.evidence.conftest import png_bytes

LATER = timedelta(minutes=10)


@pytest.fixture
def broker(monkeypatch):
    """broker.down() makes every enqueue fail as an unreachable Redis does; broker.up()."""
    real = Signature.apply_async

    def unreachable(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    class Broker:
        def down(self):
            monkeypatch.setattr(Signature, "apply_async", unreachable)

        def up(self):
            monkeypatch.setattr(Signature, "apply_async", real)

    return Broker()


@pytest.fixture
def fake_browser(monkeypatch):
    opened = []

    def open_page(url, *, on_stage):
        opened.append(url)
        return capture.CapturedPage(
            final_url=url,
            http_status=200,
            title="Angry post",
            screenshot=png_bytes(64, 48),
            archive=b"MIME-Version: 1.0\r\n\r\nThis brand poisoned my dog.",
        )

    monkeypatch.setattr(capture, "capture_page", open_page)
    return opened


@pytest.fixture
def loopback_allowed(settings):
    settings.EVIDENCE_CAPTURE_ALLOW_LOOPBACK = True
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SITE_URL = "http://testserver"


def test_a_capture_asked_for_while_the_broker_is_down_runs_after_the_sweep(
    api,
    incident,
    drafter,
    broker,
    fake_browser,
    loopback_allowed,
    caplog,
    django_capture_on_commit_callbacks,
):
    broker.down()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(drafter).post(
            f"/api/incidents/{incident.pk}/evidence/capture/",
            {"url": "http://127.0.0.1:9/post", "kind": "post"},
            format="json",
        )
    assert response.status_code == 202, response.content
    job = CaptureJob.objects.get()
    assert job.status == "queued" and fake_browser == []
    assert "the sweep will queue it again" in caplog.text

    # Too early: the first message may still be on its way.
    broker.up()
    assert actions.evidence_requeue_stuck()["captures"] == 0
    # Later, with the broker still down: nothing lost, nothing queued.
    broker.down()
    assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["captures"] == 0
    job.refresh_from_db()
    assert job.status == "queued"

    broker.up()
    assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["captures"] == 1
    job.refresh_from_db()
    assert job.status == "done"
    assert fake_browser == ["http://127.0.0.1:9/post"]
    assert EvidenceItem.objects.filter(capture=job).count() == 2

    # A second sweep, or the original message arriving late, runs nothing twice.
    assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["captures"] == 0
    tasks.capture_url(job.pk)
    assert fake_browser == ["http://127.0.0.1:9/post"]
    assert EvidenceItem.objects.filter(capture=job).count() == 2


def test_display_copies_left_pending_by_an_outage_are_made_by_the_sweep(
    incident, drafter, broker, django_capture_on_commit_callbacks
):
    broker.down()
    with django_capture_on_commit_callbacks(execute=True):
        (item,) = actions.evidence_attach(
            incident=incident,
            actor=drafter,
            files=[_upload()],
            metadata={"kind": "post"},
        )
    item.refresh_from_db()
    assert item.display_status == "pending"

    broker.up()
    assert actions.evidence_requeue_stuck()["display_copies"] == 0
    assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["display_copies"] == 1
    item.refresh_from_db()
    assert item.display_status == "ready" and item.thumbnail
    assert actions.evidence_requeue_stuck(now=timezone.now() + LATER)["display_copies"] == 0


def test_the_sweep_is_on_the_beat_schedule(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "incidents.evidence.tasks.requeue_stuck" in scheduled
    assert "incidents.evidence.tasks.requeue_stuck" in celery_app.tasks


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("screenshot.png", png_bytes(), content_type="image/png")
