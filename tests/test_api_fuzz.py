"""Schemathesis against the OpenAPI schema (/api/schema/): every operation, valid and
invalid input (positive and negative generation), authenticated as the lead of a seeded
incident. No server error, and every response (status, content type, body) is the one the
schema documents. Bounded: a few examples per operation (FUZZ_EXAMPLES)."""

import json
import os
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi import checks

from incidents import actions as incident_actions
from incidents.evidence import actions as evidence_actions
from incidents.listening import actions as listening_actions
from incidents.listening.models import ExpectedBurst
from incidents.playbooks.models import Task
from incidents.postmortems import actions as postmortem_actions
from statements import actions as statement_actions
from tests.evidence.conftest import png_bytes
from tests.helpers import ensure_policy

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def served_schema() -> dict:
    """What /api/schema/ serves (the same generator and renderer), as plain JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value):
    """The bulk mention import's body: bytes as generated, anything else as one JSON line."""
    return value if isinstance(value, bytes) else json.dumps(value).encode() + b"\n"


schema = schemathesis.openapi.from_dict(served_schema())
app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request; the test's
    transaction lives on it (Django's test client disconnects the same signal)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, lead, drafter, approver, spokesperson, observer, incident, settings, tmp_path):
    """The lead's token and the ids of one of each thing the paths name."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_policy("One approver", [(1, "")], is_default=True, mode="all")
    statement = statement_actions.statement_create(
        incident=incident,
        actor=drafter,
        kind="holding",
        channel="x",
        language="en",
        text="We are looking into it.",
    )
    statement_actions.statement_submit(statement=statement, actor=drafter)
    incident_actions.timeline_add_entry(incident=incident, actor=lead, kind="note", text="x")
    task = Task.objects.create(
        incident=incident, title="Brief", role="lead", due_at=incident.declared_at
    )
    (item,) = evidence_actions.evidence_attach(
        incident=incident,
        actor=drafter,
        files=[SimpleUploadedFile("post.png", png_bytes(), content_type="image/png")],
        metadata={"kind": "post", "source_url": "https://x.com/someone/status/1"},
    )
    export = evidence_actions.evidence_export_request(incident=incident, actor=lead)
    lead.user_permissions.add(*Permission.objects.filter(content_type__app_label="listening"))
    watch = listening_actions.watch_create(
        actor=type(lead).objects.get(pk=lead.pk), name="Brand", brand="Brand", keywords=["brand"]
    )
    burst = listening_actions.expected_burst_save(
        burst=ExpectedBurst(
            watch=watch,
            starts_at=timezone.now() + timedelta(days=1),
            ends_at=timezone.now() + timedelta(days=2),
        ),
        actor=type(lead).objects.get(pk=lead.pk),
    )
    postmortem = postmortem_actions.postmortem_create(incident=incident, actor=lead)
    action_item = postmortem_actions.item_add(
        postmortem=postmortem,
        actor=lead,
        title="Brief the night shift",
        owner=drafter,
        due_date=timezone.localdate(),
    )
    return {
        "action_item": action_item.pk,
        "burst": burst.pk,
        "evidence": item.pk,
        "export": export.pk,
        "token": Token.objects.get_or_create(user=lead)[0].key,
        "incident": incident.pk,
        "statement": statement.pk,
        "task": task.pk,
        "user": drafter.pk,
        "watch": watch.pk,
    }


def seeded_ids(path: str, ids: dict) -> dict:
    """The seeded id for each path parameter (random ids would only ever find a 404)."""
    found = {}
    if "{id}" in path:
        for prefix, key in [
            ("/api/incidents/", "incident"),
            ("/api/statements/", "statement"),
            ("/api/tasks/", "task"),
            ("/api/evidence/", "evidence"),
            ("/api/watches/", "watch"),
            ("/api/evidence/exports/", "export"),  # after /api/evidence/: the last match wins
        ]:
            if path.startswith(prefix):
                found["id"] = ids[key]
    if "{item_pk}" in path:
        found["item_pk"] = ids["action_item"]
    if "{burst_id}" in path:
        found["burst_id"] = ids["burst"]
    if "{user_id}" in path:
        found["user_id"] = ids["user"]
    return found


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_as_documented(case, seeded):
    if case.path_parameters:
        case.path_parameters.update(seeded_ids(case.path, seeded))
    case.call_and_validate(
        app=app, headers={"Authorization": f"Token {seeded['token']}"}, checks=CHECKS
    )


def test_the_fuzzed_schema_is_the_one_served(api, lead):
    response = api.as_user(lead).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert json.loads(response.content) == served_schema()
