"""Celery discovers each app's `tasks` module; the evidence locker's and the playbooks'
tasks live with them."""

from .evidence.tasks import capture_url, make_display_copies  # noqa: F401
from .playbooks.tasks import send_task_reminders  # noqa: F401
