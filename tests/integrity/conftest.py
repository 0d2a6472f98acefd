"""The integrity tests use the evidence fixtures (files in a temporary MEDIA_ROOT)."""

from tests.evidence.conftest import _evidence_storage, attach, export_bundle  # noqa: F401
