from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import chat
from .choices import NotificationKind


class PreferencesForm(forms.Form):
    """The preference page: which kinds by e-mail, which by chat, quiet when looking, and
    the language of the messages (chosen, or following the browser). The page lays the two
    lists out as one table."""

    email_kinds = forms.MultipleChoiceField(
        label=_("By e-mail"),
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    chat_kinds = forms.MultipleChoiceField(
        label=_("By chat"),
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    quiet_when_looking = forms.BooleanField(
        label=_("Quiet when I am looking at the incident room"),
        required=False,
        help_text=_(
            "No e-mail or chat message about an incident whose room you have open: the "
            "bell shows it at once."
        ),
    )
    # Empty: none chosen, the messages follow the language of the last sign-in.
    language = forms.ChoiceField(
        label=_("Language of my e-mails and messages"),
        choices=[("", _("Follow my browser")), *settings.LANGUAGES],
        required=False,
        help_text=_(
            "Follow my browser: the language your browser showed the app in when you last "
            "signed in. A language chosen here or with the top bar's switch follows you to "
            "every browser you sign in on."
        ),
    )


class ChatTargetForm(forms.Form):
    """A chat address: its name and its Apprise URL (typed hidden, like a password: it
    holds a token, and a crisis room's screen is often shared)."""

    label = forms.CharField(
        label=_("Name"),
        max_length=chat.MAX_LABEL,
        help_text=_("How you will recognise it, e.g. “Slack, #crisis” or “My phone (SMS)”."),
    )
    url = forms.CharField(
        label=_("Chat address (Apprise URL)"),
        max_length=chat.MAX_URL,
        strip=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "For example slack://…, msteams://…, mmost://…, tgram://… or json://host/path "
            "(see the Apprise documentation). It holds a secret: it is never shown again."
        ),
    )
