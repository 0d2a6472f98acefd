from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    """Posting approved statements on the brand's Mastodon and Bluesky accounts through
    their APIs, through the outbox (docs/architecture.md, "Publishing"). Above statements
    and listening, below the reply queue: statements never import it; the statement page
    shows its box through statements.outlets."""

    name = "incidents.publishing"
    label = "publishing"
    verbose_name = _("Publishing")

    def ready(self):
        from incidents.outbox import hooks
        from statements import outlets

        from . import actions, platforms
        from .choices import BrandPlatform
        from .views import statement_section

        hooks.register_post_sender(BrandPlatform.MASTODON, platforms.send)
        hooks.register_post_sender(BrandPlatform.BLUESKY, platforms.send)
        hooks.register_failure_handler(actions.on_post_failed)
        outlets.register_page_section(statement_section)
