"""Who may do what with brand accounts and publications: one place for the page, the API
and the actions. Posting a statement is publishing it: statements' PUBLISH rule decides
(the spokesperson, or the lead where the policy allows; an approved revision holding every
approval); here only what is publishing's own: which accounts fit a statement."""

from django.utils.translation import gettext as _

from incidents.errors import InvalidInput

from .models import BrandAccount

# The statement channels with a brand account platform of the same value.
API_CHANNELS = ("mastodon", "bluesky")


def may_manage_accounts(user) -> bool:
    """The admin: active staff allowed to change brand accounts."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("publishing.change_brandaccount")
    )


def accounts_for(statement) -> list[BrandAccount]:
    """The active brand accounts the statement may be posted on (its channel's), at most
    20 (one query)."""
    if statement.channel not in API_CHANNELS:
        return []
    return list(BrandAccount.objects.filter(platform=statement.channel, active=True)[:20])


def check_account(account: BrandAccount, statement) -> None:
    """Raises InvalidInput unless the statement may be posted on this account."""
    if not account.active:
        raise InvalidInput(_("This brand account is not active."))
    if account.platform != statement.channel:
        raise InvalidInput(
            _("This statement is written for %(channel)s, not for %(platform)s.")
            % {
                "channel": statement.get_channel_display(),
                "platform": account.get_platform_display(),
            }
        )
