"""Brand accounts (where the company posts) and publications (one statement's revision
posted, or being posted, on one account)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.outbox.models import OutboundMessage
from statements.models import Statement

from .choices import BrandPlatform, PublicationStatus

MAX_LABEL = 100
MAX_URL = 300
MAX_HANDLE = 253  # a domain name (Bluesky handles are domain names)
MAX_SECRET = 500  # a token or app password as typed
MAX_ENCRYPTED = 1000  # its Fernet token (base64 of IV, ciphertext, HMAC: about 1.4x + 73)
MAX_REPLY_TO = 1000  # a post's URL, URI or id on the platform
MAX_POST_ID = 300
MAX_POST_URL = 500
MAX_ERROR = 1000
BLUESKY_SERVICE = "https://bsky.social"


class BrandAccount(models.Model):
    """An account of the brand on Mastodon or Bluesky, configured in the admin. The token
    (Mastodon) or app password (Bluesky) is stored encrypted (crypto.py) and never shown,
    logged nor answered by the API: only `actions.account_save` writes it."""

    platform = models.CharField(_("platform"), max_length=16, choices=BrandPlatform.choices)
    label = models.CharField(
        _("label"), max_length=MAX_LABEL, help_text=_("How people see it: “Brand (Mastodon)”.")
    )
    base_url = models.URLField(
        _("server"),
        max_length=MAX_URL,
        help_text=_(
            "Mastodon: the instance's address (https://mastodon.social). Bluesky: the PDS or "
            "service address (https://bsky.social)."
        ),
    )
    handle = models.CharField(
        _("handle"),
        max_length=MAX_HANDLE,
        help_text=_("Mastodon: @name@instance. Bluesky: the handle or DID that signs in."),
    )
    secret_encrypted = models.CharField(max_length=MAX_ENCRYPTED, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["platform", "label"]
        verbose_name = _("brand account")
        verbose_name_plural = _("brand accounts")

    def __str__(self):
        return f"{self.label} ({self.get_platform_display()})"

    def __repr__(self):  # never the secret
        return f"<BrandAccount {self.pk} {self.platform} {self.handle!r}>"


class Publication(models.Model):
    """One revision of a statement posted (or being posted) on one brand account: one row
    per (statement, revision, account), so a double click or a retry never posts twice.
    The post itself leaves through the outbox (`message`, key `publish:s…:r…:a…`)."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="publications")
    account = models.ForeignKey(BrandAccount, on_delete=models.PROTECT, related_name="publications")
    revision = models.PositiveIntegerField(_("revision"))
    in_reply_to = models.CharField(
        _("in reply to"),
        max_length=MAX_REPLY_TO,
        blank=True,
        help_text=_("The post answered: its URL, URI or id on the platform."),
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=PublicationStatus.choices,
        default=PublicationStatus.QUEUED,
    )
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post_id = models.CharField(_("post id"), max_length=MAX_POST_ID, blank=True)
    post_url = models.URLField(_("post URL"), max_length=MAX_POST_URL, blank=True)
    error = models.CharField(_("error"), max_length=MAX_ERROR, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # 1, then one more per "Try again" after a failure.
    tries = models.PositiveSmallIntegerField(_("tries"), default=1)
    requested_at = models.DateTimeField(_("requested at"))
    sent_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "revision", "account"], name="one_publication_per_revision"
            )
        ]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self):
        return f"{self.statement_id} r{self.revision} → {self.account_id}"

    @property
    def key(self) -> str:
        return message_key(self.statement_id, self.revision, self.account_id)


def message_key(statement_id: int, revision: int, account_id: int) -> str:
    """The outbox key, and so the platform's idempotency key (Mastodon) or the seed of
    the record key (Bluesky): the same for every attempt at this revision on this account."""
    return f"publish:s{statement_id}:r{revision}:a{account_id}"
