"""Brand accounts are configured here only (leads need no page). The secret is a
write-only field; the model's admin never shows it, and saving goes through the action."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from incidents.errors import DomainError

from . import actions
from .forms import BrandAccountForm
from .models import BrandAccount, Publication


@admin.register(BrandAccount)
class BrandAccountAdmin(admin.ModelAdmin):
    form = BrandAccountForm
    list_display = ["label", "platform", "handle", "base_url", "active", "has_secret"]
    list_filter = ["platform", "active"]
    search_fields = ["label", "handle"]
    fields = ["platform", "label", "base_url", "handle", "secret", "active"]

    @admin.display(boolean=True, description=_("token stored"))
    def has_secret(self, account):
        return bool(account.secret_encrypted)

    def save_model(self, request, obj, form, change):
        try:
            actions.account_save(
                account=obj, actor=request.user, secret=form.cleaned_data.get("secret", "")
            )
        except DomainError as error:  # the form ran the same rule: a race at most
            messages.error(request, error.message)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: publications name the account


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ["statement", "account", "revision", "status", "requested_by", "requested_at"]
    list_filter = ["status", "account"]
    list_select_related = ["statement", "account", "requested_by"]
    readonly_fields = [f.name for f in Publication._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
