"""The public crisis page of an incident and the statements that make its texts.

Nothing here holds public words: every text the page shows is a statement (statements app)
of the crisis center channel, shown only once approved. `PageText` binds a statement to a
section of the page (summary, what we are doing, where to get help, an FAQ entry); the
page's updates are the published statements of the channel that are bound to no section.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from incidents.playbooks.models import Playbook
from statements.models import Language, Statement

from .choices import PageState, PromiseOutcome, Section

TEMPLATE_TEXT_MAX = 5_000
PLAYBOOK_NAME_MAX = 150


class CrisisPage(models.Model):
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="crisis_page", verbose_name=_("incident")
    )
    # The public address: /crisis/<slug>/. Never reused: it stays online once resolved.
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    state = models.CharField(
        _("state"), max_length=10, choices=PageState.choices, default=PageState.DARK
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    playbook_name = models.CharField(_("from playbook"), max_length=PLAYBOOK_NAME_MAX, blank=True)
    live_at = models.DateTimeField(_("live since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # A time, not words: the lead promises it, the page says it in each language.
    next_update_at = models.DateTimeField(_("next update promised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("crisis page")
        verbose_name_plural = _("crisis pages")
        ordering = ["-prepared_at", "-id"]

    def __str__(self):
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.state != PageState.DARK


class PageText(models.Model):
    """A statement that is one of the page's texts. The statement goes through approval
    like any other; the page shows it once approved (or published)."""

    page = models.ForeignKey(CrisisPage, on_delete=models.PROTECT, related_name="texts")
    section = models.CharField(_("section"), max_length=10, choices=Section.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="crisis_page_text"
    )

    class Meta:
        verbose_name = _("crisis page text")
        verbose_name_plural = _("crisis page texts")
        ordering = ["page", "section", "order", "id"]

    def __str__(self):
        return f"{self.page_id} {self.section} {self.statement_id}"


class CrisisPageTemplate(models.Model):
    """What a playbook prepares the crisis page with, per language: the dark site. Plain
    text with the statement templates' placeholders (incidents/playbooks/templating.py)."""

    playbook = models.ForeignKey(
        Playbook, on_delete=models.CASCADE, related_name="crisis_templates"
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    summary = models.TextField(
        _("summary"),
        max_length=TEMPLATE_TEXT_MAX,
        help_text=_("First line: the page's title. Then what happened."),
    )
    doing = models.TextField(_("what we are doing"), max_length=TEMPLATE_TEXT_MAX, blank=True)
    help = models.TextField(
        _("where to get help"),
        max_length=TEMPLATE_TEXT_MAX,
        blank=True,
        help_text=_("Links, phone numbers, addresses."),
    )
    faq = models.TextField(
        _("FAQ skeleton"),
        max_length=TEMPLATE_TEXT_MAX,
        blank=True,
        help_text=_(
            "Entries separated by a line holding only ---; in each, the first line is the "
            "question and the rest the answer."
        ),
    )

    class Meta:
        verbose_name = _("crisis page template")
        verbose_name_plural = _("crisis page templates")
        ordering = ["playbook", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "language"], name="one_crisis_template_per_language"
            )
        ]

    def __str__(self):
        return f"{self.playbook} ({self.get_language_display()})"


ADDRESS_MAX = 254


class Subscriber(models.Model):
    """Someone who asked to receive the page's updates by e-mail, in one language: the
    minimum (the address, the language, when it was asked and confirmed, when it ended).
    Never shown in a public file nor in the public API; staff see them in the admin."""

    page = models.ForeignKey(CrisisPage, on_delete=models.CASCADE, related_name="subscribers")
    address = models.EmailField(_("e-mail address"), max_length=ADDRESS_MAX)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    # The last request: the confirmation link carries it, so an older link stops working.
    requested_at = models.DateTimeField(_("requested at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["page", "-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "address"], name="one_subscription_per_address")
        ]
        indexes = [models.Index(fields=["page", "language", "confirmed_at"])]

    def __str__(self):
        return f"{self.page_id} {self.language}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class UpdatePromise(models.Model):
    """A time the page promised its next update for: made whenever the next update time is
    set (the lead's form, the API, preparing the page, or an update announcing the next
    one). Its outcome is written by the actions only (promises.py), never edited: kept on
    time or late by the update that came, missed when its time passed (the sweep), moved
    or withdrawn when a new time (or none) replaced it before it came due. The original
    `due_at` is never changed: moving makes a new promise."""

    page = models.ForeignKey(CrisisPage, on_delete=models.PROTECT, related_name="promises")
    due_at = models.DateTimeField(_("promised for"))
    made_at = models.DateTimeField(_("made at"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The update that announced it, when it was made by publishing one (the page shows,
    # under each update, the time it announced).
    announced_by = models.ForeignKey(
        Statement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=PromiseOutcome.choices, default=PromiseOutcome.OPEN
    )
    kept_by = models.ForeignKey(
        Statement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kept_at = models.DateTimeField(_("kept at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    lapsed_at = models.DateTimeField(_("recorded missed at"), null=True, blank=True)
    # Set when nothing more can happen to it (kept, late, moved, withdrawn, or missed and
    # then replaced): a page has at most one promise without it, its current one.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("update promise")
        verbose_name_plural = _("update promises")
        ordering = ["page", "-made_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["page"],
                condition=models.Q(closed_at__isnull=True),
                name="one_current_promise_per_page",
            )
        ]
        indexes = [models.Index(fields=["outcome", "due_at"])]

    def __str__(self):
        return f"{self.page_id} {self.due_at:%Y-%m-%d %H:%M} {self.outcome}"
