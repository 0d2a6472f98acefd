"""Enumerations of this app, in one place (docs/api.md lists their values)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvidenceKind(models.TextChoices):
    POST = "post", _("Post")
    PROFILE = "profile", _("Author's profile")
    COMMENT_THREAD = "comment_thread", _("Comment thread")
    ARTICLE = "article", _("Article")
    OTHER = "other", _("Other")


class EvidenceSource(models.TextChoices):
    UPLOAD = "upload", _("Uploaded by a member")
    CAPTURE = "capture", _("Captured by the server")


class DisplayStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    NONE = "none", _("No preview for this type")
    FAILED = "failed", _("Preview failed")


class CustodyAction(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CAPTURED = "captured", _("Captured by the server")
    VIEWED = "viewed", _("Viewed")
    DOWNLOADED = "downloaded", _("Original downloaded")
    EXPORTED = "exported", _("Exported in a bundle")
    VERIFIED = "verified", _("Integrity verified")
    VERIFICATION_FAILED = "verification_failed", _("Integrity check FAILED")


class CaptureStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CaptureStage(models.TextChoices):
    OPENING = "opening", _("Opening the page")
    SCREENSHOT = "screenshot", _("Taking a full-page screenshot")
    ARCHIVING = "archiving", _("Saving the page archive")
    STORING = "storing", _("Hashing and storing")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
