"""Formatting of the post-mortem's figures: durations and shares, the same on the page, the
print page and the Markdown export (export.py uses these functions too)."""

from django import template
from django.utils.translation import gettext as _

from incidents import localtime

register = template.Library()


# "2 h 05": the one rule (incidents.localtime.duration), also for export.py.
duration = register.filter("duration", localtime.duration)


@register.filter
def share(value) -> str:
    """A share in [0, 1] as a whole percentage; "—" when unknown."""
    if value is None or value == "":
        return "—"
    return f"{round(100 * float(value))} %"


@register.filter
def promises_kept(metrics) -> str:
    """The crisis page's promised updates kept on time: "3 / 4 (75 %) · 1 late · 0 missed",
    "none came due" when the page promised nothing that came due."""
    if not metrics.promises_due:
        return _("none came due")
    text = _("%(kept)s / %(due)s (%(share)s) · %(late)s late · %(missed)s missed") % {
        "kept": metrics.promises_kept,
        "due": metrics.promises_due,
        "share": share(metrics.promises_kept_share),
        "late": metrics.promises_late,
        "missed": metrics.promises_missed,
    }
    if metrics.promises_moved:
        text += " · " + _("%(n)s moved before their time") % {"n": metrics.promises_moved}
    return text


@register.filter
def share_of_voice(metrics) -> str:
    """The brand's share of its topic's conversation: "12 % (30 / 250 mentions)", "not
    known" without a topic watch or topic mentions in the crisis window."""
    if metrics.share_of_voice is None:
        return _("not known")
    return _("%(share)s (%(n)s / %(total)s mentions)") % {
        "share": share(metrics.share_of_voice),
        "n": metrics.share_of_voice_mentions,
        "total": metrics.share_of_voice_conversation,
    }
