"""The Markdown export: the same content as the printable page (the context views build
for both), the chart embedded as an SVG image (a data: URI, so the file stands alone), the
whole key-event timeline with the chain's head hash. Text written by people is escaped so
it cannot break the document's structure."""

import base64
import re

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _

from incidents.choices import Category, Status
from incidents.localtime import shown
from incidents.models import Platform
from incidents.people import display_name
from statements.choices import Channel, StatementKind

from .choices import Decision, ItemStatus, PostmortemStatus
from .templatetags.postmortems import duration, promises_kept, share, share_of_voice

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def _md(text) -> str:
    """One line of text written by someone, inert in Markdown."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text or "").split()))


def _block(text) -> str:
    """A paragraph of text written by someone: its lines kept, each made inert."""
    return "\n".join(_SPECIAL.sub(r"\\\1", line.rstrip()) for line in str(text).splitlines())


def _at(value) -> str:
    return shown(value) if value else "—"


def _day(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _label(enum, value) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def markdown(context: dict) -> str:
    incident = context["incident"]
    state = context["state"]
    pm = context["postmortem"]
    report = context["report"]
    m = report.metrics
    lines = [
        f"# {_('Post-mortem')}: {_md(incident.title)}",
        "",
        f"{_label(Category, incident.category)} · {_('severity')} {incident.severity} · "
        f"{_label(Status, incident.status)} · {_label(PostmortemStatus, pm.status)}",
    ]
    if state.versions:
        last = state.versions[0]
        lines.append(
            _("Version %(n)s signed off %(at)s, SHA-256 %(hash)s")
            % {"n": last.number, "at": _at(last.signed_off_at), "hash": last.content_hash}
        )
    lines += ["", f"## {_('Lessons')}", ""]
    for _value, label, text in context["parts"]:
        lines += [f"### {label}", "", _block(text) if text else f"_{_('Not written yet.')}_", ""]
    lines += [f"## {_('Action items')}", ""]
    if state.items:
        lines += [
            f"| {_('Action')} | {_('Owner')} | {_('Due date')} | {_('Status')} |",
            "|---|---|---|---|",
        ]
        for item in state.items:
            status = _label(ItemStatus, item.status)
            if item.reason:
                status += f" — {_md(item.reason)}"
            owner = display_name(item.owner)
            lines.append(f"| {_md(item.title)} | {_md(owner)} | {_day(item.due_date)} | {status} |")
    else:
        lines.append(f"_{_('No action item yet.')}_")
    lines += ["", f"## {_('Phases')}", ""]
    for phase in report.phases:
        detail = f" · {_md(phase.detail)}" if phase.detail else ""
        late = ""
        if phase.late is not None:
            late = f" ({_('after its deadline') if phase.late else _('on time')})"
        lines.append(f"- {_at(phase.at)} — **{phase.label}**{detail}{late}")
    met = {True: _("met"), False: _("missed"), None: _("none yet")}[m.first_response_met]
    coverage = "—"
    if m.reply_coverage is not None:
        coverage = f"{share(m.reply_coverage)} ({m.replies_answered} / {m.replies_needing})"
    recovery = (
        duration(m.recovery_seconds)
        if m.recovered
        else (_("not enough mention data") if m.recovered is None else _("not back yet"))
    )
    rows = [
        (_("Time to detect"), duration(m.detect_seconds)),
        (_("Time to declare (detection → declaration)"), duration(m.declare_seconds)),
        (_("Time to first public response"), f"{duration(m.first_response_seconds)} ({met})"),
        (_("Median approval time (published statements)"), duration(m.approval_median_seconds)),
        (_("Statements"), str(m.statements_total)),
        (_("Reply coverage"), coverage),
        (_("Median time to answer"), duration(m.reply_median_seconds)),
        (_("Mentions attached"), str(m.mentions)),
        (_("Share of voice during the crisis (brand / topic mentions)"), share_of_voice(m)),
        (_("Sentiment recovery (negative share back to its baseline)"), recovery),
        (_("Evidence items"), str(m.evidence_items)),
        (_("Checklist tasks done late"), f"{m.tasks_done_late} / {m.tasks}"),
        (_("Promised updates kept on time"), promises_kept(m)),
    ]
    lines += ["", f"## {_('Metrics')}", "", f"| {_('Metric')} | {_('Value')} |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    if m.statements_by_kind:
        lines += ["", ", ".join(f"{c.label}: {c.count}" for c in m.statements_by_kind)]
        lines += [", ".join(f"{c.label}: {c.count}" for c in m.statements_by_channel)]
    if m.approvers:
        lines += [
            "",
            f"| {_('Approver')} | {_('Approvals')} | {_('Median time from submission')} |",
        ]
        lines += ["|---|---|---|"]
        lines += [
            f"| {_md(a.name)} | {a.approvals} | {duration(a.median_seconds)} |" for a in m.approvers
        ]
    lines += ["", f"## {_('Reaction to each statement')}", ""]
    if not context["chart"].empty:
        svg = render_to_string("postmortems/_chart.svg", {"chart": context["chart"]})
        data = base64.b64encode(svg.encode()).decode()
        lines += [
            f"![{_('Mentions per hour and negative share')}](data:image/svg+xml;base64,{data})",
            "",
        ]
    for n, s in enumerate(report.statements, start=1):
        before = s.before or None
        after = s.after or None
        lines.append(
            f"{n}. {_label(StatementKind, s.kind)} · {_label(Channel, s.channel)} — "
            f"{_at(s.published_at)}"
            + (
                f" — {_('hour before')}: {before.mentions} ({share(before.negative_share)} "
                f"{_('negative')}), {_('hour after')}: {after.mentions} "
                f"({share(after.negative_share)} {_('negative')})"
                if before and after
                else ""
            )
        )
    lines += ["", f"## {_('People')}", ""]
    for p in report.members:
        until = f" → {_at(p.left_at)}" if p.left_at else ""
        lines.append(f"- {_md(p.name)} — {p.role_label} ({_at(p.joined_at)}{until})")
    if report.defenders:
        lines += ["", f"### {_('Defenders to thank')}", ""]
        lines += [
            f"- {_md(a.name or a.handle)} ({_md(a.handle)}, {_label(Platform, a.platform)})"
            + (f" — {_('thanked')}" if a.thanked else "")
            for a in report.defenders
        ]
    if report.detractors:
        lines += ["", f"### {_('Most-reached detractors')}", ""]
        lines += [
            f"- {_md(a.name or a.handle)} ({_md(a.handle)}, {_label(Platform, a.platform)}, "
            f"{a.followers if a.followers is not None else '?'} {_('followers')})"
            for a in report.detractors
        ]
    lines += ["", f"## {_('Key events of the timeline')}", ""]
    for e in report.key_events:
        text = "".join(f" — {_md(part)}" for part in (e.change, e.text) if part)
        actor = f" ({_md(e.actor)})" if e.actor else ""
        lines.append(f"- #{e.seq} {_at(e.at)} **{e.kind_label}**{text}{actor}")
    if report.key_events_total > len(report.key_events):
        lines.append(
            _("The first %(shown)s of %(total)s key events.")
            % {"shown": len(report.key_events), "total": report.key_events_total}
        )
    if report.head_hash:
        lines += [
            "",
            _("Timeline head at entry #%(n)s: `%(hash)s`")
            % {"n": report.head_count, "hash": report.head_hash},
        ]
    if state.approvals:
        lines += ["", f"## {_('Sign-off')}", ""]
        lines += [
            f"- {_md(display_name(a.reviewer))} — "
            f"{_label(Decision, a.decision)} (r{a.revision}, {_at(a.created_at)})"
            + (f": {_md(a.comment)}" if a.comment else "")
            for a in state.approvals
        ]
    return "\n".join(lines) + "\n"
