"""The language a browser showed the app in at sign-in is remembered apart from the one the
person chose (`browser_language` beside `language`): it was written into `language` at the
first sign-in, where it counted as a choice, so one sign-in from a French browser made the
account French in every browser, for good.

Existing rows: a `language` was written either by the person (the header's switch, the
settings page, the API) or by a sign-in, and the two look alike. It stays a choice (never
replaced by a sign-in, brought to every browser), except where the row shows it was written
by the person's latest sign-in and by nothing since: nothing else set (no kind turned off,
not quiet), and saved within a second after their last sign-in (`updated_at` against
`last_login`: the sign-in wrote both in the same request; no one switches languages that
fast by hand). That language moves to `browser_language`: the next sign-in from another
browser replaces it. A remembered language whose person signed in again since cannot be told
from a choice and stays one: they can choose "Follow my browser" on the settings page. An
empty `language` meant "the site's" and now means "none chosen" (the last sign-in's, else the
site's): no row has a last sign-in's language yet, so their messages stay in the site's
language until they sign in.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F

WRITTEN_BY_THE_SIGN_IN = timedelta(seconds=1)


def remembered_apart(apps, schema_editor):
    Preference = apps.get_model("notifications", "NotificationPreference")
    candidates = Preference.objects.exclude(language="").filter(
        quiet_when_looking=False, updated_at__isnull=False, user__last_login__isnull=False
    )
    remembered = [
        pk
        for pk, updated_at, last_login, email_off, chat_off in candidates.values_list(
            "pk", "updated_at", "user__last_login", "email_off", "chat_off"
        ).iterator()
        if not email_off
        and not chat_off
        and timedelta(0) <= updated_at - last_login <= WRITTEN_BY_THE_SIGN_IN
    ]
    for start in range(0, len(remembered), 500):
        Preference.objects.filter(pk__in=remembered[start : start + 500]).update(
            browser_language=F("language"), language=""
        )


def remembered_back(apps, schema_editor):
    """Back to one column: the remembered language is the person's language again (as the
    sign-in wrote it before)."""
    Preference = apps.get_model("notifications", "NotificationPreference")
    Preference.objects.filter(language="").exclude(browser_language="").update(
        language=F("browser_language")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0008_signed_off_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationpreference",
            name="browser_language",
            field=models.CharField(
                blank=True,
                choices=[("en", "English"), ("fr", "French")],
                default="",
                help_text="The language the person's browser showed the app in when they last "
                "signed in: their messages' language until they choose one.",
                max_length=8,
                verbose_name="language of the last sign-in",
            ),
        ),
        migrations.AlterField(
            model_name="notificationpreference",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("en", "English"), ("fr", "French")],
                help_text="The language the person chose. Empty: none chosen (the language "
                "of their last sign-in, else the site's).",
                max_length=8,
                verbose_name="language of my messages",
            ),
        ),
        migrations.RunPython(remembered_apart, remembered_back, elidable=True),
    ]
