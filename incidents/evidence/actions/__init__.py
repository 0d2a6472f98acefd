"""Every write on evidence, by job:

- `intake`: uploads (checked before any lock), storing files with their custody log and
  timeline entry, display copies (made by a worker);
- `capture_jobs`: URL captures requested by the cell and run by a worker;
- `export`: the signed bundle for counsel (asked for, built by a worker, recorded);
- `custody`: logging views and downloads, verifying the stored originals;
- `requeue`: queueing again the work a worker never got (broker outage) or dropped (a
  worker that died building an export), by a sweep;
- `common`: what they share (custody chain, queueing a task by name after commit).

The worker tasks (`incidents/evidence/tasks.py`) call these actions; the actions queue the
tasks by name and never import them. Callers use `from incidents.evidence import actions`.
"""

from .capture_jobs import evidence_capture_request, evidence_capture_run
from .common import EVIDENCE_CHANGED
from .custody import evidence_record_access, evidence_verify
from .export import evidence_export_build, evidence_export_request
from .intake import (
    METADATA_FIELDS,
    clean_metadata,
    evidence_attach,
    evidence_store_display_copies,
    inspect_uploads,
)
from .requeue import evidence_requeue_stuck

__all__ = [
    "EVIDENCE_CHANGED",
    "METADATA_FIELDS",
    "clean_metadata",
    "evidence_attach",
    "evidence_capture_request",
    "evidence_capture_run",
    "evidence_export_build",
    "evidence_export_request",
    "evidence_record_access",
    "evidence_requeue_stuck",
    "evidence_store_display_copies",
    "evidence_verify",
    "inspect_uploads",
]
