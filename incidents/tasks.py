"""Celery discovers each app's `tasks` module; the evidence locker's tasks live with it."""

from .evidence.tasks import capture_url, make_display_copies  # noqa: F401
