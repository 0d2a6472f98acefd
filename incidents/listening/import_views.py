"""The browser import of a listening tool's export (CSV, JSON, NDJSON): upload -> map the
columns and preview -> import, on one page (docs/user-guide.md). Thin: reads the file with
importing.py, writes through actions.mentions_ingest.
"""

import secrets
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from incidents.errors import DomainError
from incidents.models import Platform

from . import actions, importing, rules, selectors
from .choices import Source
from .forms import MappingForm, UploadForm
from .views import require_reader

PREVIEW_ROWS = 20
# The refused rows and the warnings are listed as groups of rows saying the same (_grouped):
# at most this many groups of each, naming at most MAX_RANGES runs of lines each.
MAX_LISTED_ERRORS = 100
MAX_RANGES = 10
# The uploaded file waits between preview and import in the `imports` cache (settings:
# Redis in production, where the next request may reach another web worker), for its
# uploader only: one file per person (a new upload replaces it), for IMPORT_TTL seconds.
IMPORT_TTL = 3600
IMPORT_CACHE = "imports"


def _cache_key(user) -> str:
    return f"listening:import:{user.pk}"


def _keep_file(request, name: str, data: bytes) -> str:
    """Keep the uploaded file for its uploader (replacing any earlier one); its token."""
    token = secrets.token_urlsafe(16)
    kept = (token, name, zlib.compress(data))
    caches[IMPORT_CACHE].set(_cache_key(request.user), kept, IMPORT_TTL)
    return token


def _same(sent: str, kept: str) -> bool:
    """Whether a value sent by the form is the one kept, in constant time, whatever it
    holds (compare_digest refuses texts that are not ASCII: a 500 on a tampered form)."""
    return secrets.compare_digest(sent.encode(), kept.encode())


def _stored_file(request, token: str):
    """(name, bytes) of the file this person uploaded under `token`, or None (expired, or
    replaced by a later upload)."""
    if not token or len(token) > 64:
        return None
    kept = caches[IMPORT_CACHE].get(_cache_key(request.user))
    if kept is None or not _same(token, kept[0]):
        return None
    _token, name, packed = kept
    return name, zlib.decompress(packed)


def _done_key(user) -> str:
    return f"listening:import-done:{user.pk}"


def _mark_imported(request, token: str, name: str, stream_until: str) -> None:
    """Forget the imported file, and remember its token (the person's last import, for
    IMPORT_TTL): the same import sent again (a second click, the back button) is told it
    was done, not that the file expired."""
    caches[IMPORT_CACHE].set(_done_key(request.user), (token, name, stream_until), IMPORT_TTL)
    caches[IMPORT_CACHE].delete(_cache_key(request.user))


def _imported_already(request, token: str):
    """(name, stream_until) of this person's last import when it was made under `token`,
    else None."""
    if not token or len(token) > 64:
        return None
    done = caches[IMPORT_CACHE].get(_done_key(request.user))
    if done is None or not _same(token, done[0]):
        return None
    return done[1], done[2]


def _import_zone(request) -> str:
    return timezone.get_current_timezone_name()


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    """Upload -> map the columns and preview -> import, on one page (docs/user-guide.md)."""
    require_reader(request)
    if not rules.can_import_files(request.user):
        raise PermissionDenied(
            rules.refusal(_("Only people allowed to import mentions can do this."))
        )
    limit = settings.LISTENING_IMPORT_MAX_BYTES
    # "10", "2.5" (no "10.0"), in the reader's format
    context = {"limit_mb": floatformat(limit / 1_000_000, -1), "zones": _zone_suggestions(request)}
    if request.method == "GET" or "file" in request.FILES:
        return _upload_step(request, context, limit)
    token = request.POST.get("token", "")
    stored = _stored_file(request, token)
    done = _imported_already(request, token) if stored is None else None
    if done is not None:
        name, stream_until = done
        messages.info(
            request,
            _(
                "“%(name)s” was already imported: nothing was imported again. Its mentions "
                "are below, up to its newest post."
            )
            % {"name": name or _("The file")},
        )
        return redirect(reverse("listening") + (f"?until={stream_until}" if stream_until else ""))
    if stored is None:
        messages.error(
            request,
            _("The uploaded file has expired, or a later upload replaced it: upload it again."),
        )
        return redirect("listening-import")
    name, data = stored
    table = importing.read_table(data)  # read once already: cannot fail now
    form = MappingForm(request.POST, columns=table.columns)
    if request.POST.get("step") == "preset" and request.POST.get("preset") in importing.PRESETS:
        initial = MappingForm.initial_for(
            table, request.POST["preset"], request.POST.get("zone") or _import_zone(request)
        )
        form = MappingForm(initial={**initial, "token": token}, columns=table.columns)
        return _mapping_step(request, context, form, table, name, None)
    if not form.is_valid():
        if set(form.errors) - {"zone"}:  # the zone says its own error beside its field
            form.add_error(
                None,
                _(
                    "Some choices sent are not among this page's lists (was the page out of "
                    "date?): choose again in the lists below, then update the preview."
                ),
            )
        return _mapping_step(request, context, form, table, name, None, status=422)
    conversion, problem = _convert(context, form, table)
    if conversion is None:
        form.add_error(None, problem)
        return _mapping_step(request, context, form, table, name, None, status=422)
    if request.POST.get("step") != "import":
        return _mapping_step(request, context, form, table, name, conversion)
    previewed = request.POST.get("previewed", "")
    if not _same(previewed[:64], conversion.options.fingerprint()):
        # What is imported is what was previewed: show the preview of these choices.
        form.add_error(
            None, _("The choices changed since the preview: check this preview, then import.")
        )
        return _mapping_step(request, context, form, table, name, conversion, status=409)
    try:
        result = actions.mentions_ingest(
            mentions=conversion.mentions, source=Source.IMPORT, actor=request.user
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _mapping_step(request, context, form, table, name, conversion, status=422)
    # "See the mentions" opens the stream at the end of the day of the newest post the file
    # held: an import of last month's posts is not buried under today's.
    newest = max((data.posted_at for data in conversion.mentions), default=None)
    stream_until = timezone.localtime(newest).date().isoformat() if newest else ""
    _mark_imported(request, token, name, stream_until)
    context.update(
        name=name,
        report=result,
        stream_until=stream_until,
        counts=selectors.imported_counts(conversion.mentions, result, conversion.as_other),
        conversion=conversion,
        rows=len(table.rows),
        **_listed(conversion, table),
    )
    return render(request, "listening/import_report.html", context)


@dataclass(frozen=True)
class Listed:
    """Rows saying the same, as the page lists them: "Lines 2-40, 45, 50-60 (57 rows)" (with
    en dashes)."""

    label: str
    error: str
    count: int


def _grouped(items, table) -> list[Listed]:
    """The refused rows or the warnings (LineError), those saying the same thing in one
    group (in the order of their first row), its rows named as runs of rows next to each
    other in the file (at most MAX_RANGES runs: "…" then), the count said when the runs do
    not tell it. The one rule of the preview and the report."""
    position = {number: index for index, (number, _row) in enumerate(table.rows)}
    lines_of: dict[str, list[int]] = {}
    for item in items:
        lines_of.setdefault(item.error, []).append(item.line)
    groups = []
    for error, lines in lines_of.items():
        runs = []  # [first, last]
        rows = list(dict.fromkeys(lines))
        for line in rows:
            after = runs and position.get(runs[-1][1], -2) + 1 == position.get(line, -1)
            if after:
                runs[-1][1] = line
            else:
                runs.append([line, line])
        named = ", ".join(
            str(first) if first == last else f"{first}\u2013{last}"
            for first, last in runs[:MAX_RANGES]
        ) + ("…" if len(runs) > MAX_RANGES else "")
        n = len(rows)
        items = table.format == importing.JSON
        if items:
            label = ngettext("Item %(numbers)s", "Items %(numbers)s", n) % {"numbers": named}
        else:
            label = ngettext("Line %(numbers)s", "Lines %(numbers)s", n) % {"numbers": named}
        if len(runs) > 1 or runs[0][1] - runs[0][0] + 1 != n:
            count = ngettext("(%(n)s item)", "(%(n)s items)", n) if items else None
            count = count or ngettext("(%(n)s row)", "(%(n)s rows)", n)
            label += " " + count % {"n": floatformat(n, "0g")}
        groups.append(Listed(label, error, n))
    return groups


def _listed(conversion, table) -> dict:
    """The refused rows and the warnings the page lists (`errors`, `warnings`: the first
    MAX_LISTED_ERRORS groups of each, _grouped), how many it leaves out (`*_not_listed`)
    and how many there are in all (`*_total`), and how many rows have a warning
    (`warned_rows`); none without a conversion."""
    listed = {}
    for kind in ("errors", "warnings"):
        items = getattr(conversion, kind) if conversion else []
        groups = _grouped(items, table)
        listed[kind] = groups[:MAX_LISTED_ERRORS]
        listed[f"{kind}_not_listed"] = sum(group.count for group in groups[MAX_LISTED_ERRORS:])
        listed[f"{kind}_total"] = len(items)
    listed["warned_rows"] = len({item.line for item in conversion.warnings}) if conversion else 0
    return listed


def _convert(context, form, table):
    """(importing.convert of the form's choices, "") or (None, why not). A missing platform
    is said naming the form's select of the whole file's platform, which the page then
    shows beside the message (`platform_missing`)."""
    try:
        return importing.convert(table, form.options()), ""
    except importing.MissingColumns as error:
        context["platform_missing"] = error.platform
        return None, error.explain(form.fields["platform"].label)
    except importing.FileError as error:
        return None, str(error)


def _line_word(table) -> str:
    return _("Item") if table.format == importing.JSON else _("Line")


def _upload_step(request, context, limit):
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > limit:
            form.add_error(
                "file",
                _("The file is larger than %(mb)s MB: split it, or use the bulk API.")
                % {"mb": context["limit_mb"]},
            )
            status = 413
        else:
            data = upload.read(limit + 1)
            try:
                table = importing.read_table(data)
            except importing.FileError as error:
                form.add_error("file", str(error))
                status = 422
            else:
                name = (upload.name or "")[:120]
                token = _keep_file(request, name, data)
                preset = importing.guess_preset(table.columns)
                initial = MappingForm.initial_for(table, preset, _import_zone(request))
                mapping = MappingForm(initial={**initial, "token": token}, columns=table.columns)
                return _mapping_step(request, context, mapping, table, name, None, fresh=True)
    elif request.method == "POST":
        status = 422
    return render(request, "listening/import.html", {**context, "upload": form}, status=status)


def _mapping_step(request, context, form, table, name, conversion, *, status=200, fresh=False):
    if fresh:
        # A first look: preview with the guessed mapping straight away (errors ignored: the
        # person has not chosen anything yet).
        probe = MappingForm({**form.initial}, columns=table.columns)
        if probe.is_valid():
            conversion, context["hint"] = _convert(context, probe, table)
    labels = dict(Platform.choices)
    counts = (
        selectors.import_counts(conversion.mentions, conversion.as_other) if conversion else None
    )
    shown = conversion.rows[:PREVIEW_ROWS] if conversion else []
    statuses = counts.row_status([data for _line, data in shown]) if counts else []
    preview = [
        (line, data, labels.get(data.platform, data.platform), status)
        for (line, data), status in zip(shown, statuses, strict=True)
    ]
    # The posted-at column chosen (sent, or suggested on a first look): do its dates tell
    # their order? When they all read both ways, the page says to check the order chosen.
    chosen = (form.data if form.is_bound else form.initial).get("col_posted_at", "")
    dates = importing.guess_date_order(table, chosen if chosen in table.columns else "")
    context.update(
        date_order_unknown=dates.example if dates.ambiguous else "",
        counts=counts,
        mapping=form,
        name=name,
        table=table,
        encoding_note=importing.ENCODINGS[table.encoding],
        # Only when there are accents below to check.
        check_accents=table.encoding in importing.GUESSED and bool(preview),
        rows=len(table.rows),
        sample=table.rows[:3],
        conversion=conversion,
        previewed=conversion.options.fingerprint() if conversion else "",
        preview=preview,
        **_listed(conversion, table),
        line_word=_line_word(table),
    )
    return render(request, "listening/import.html", context, status=status)


def _zone_suggestions(request) -> list[str]:
    zones = [timezone.get_current_timezone_name(), settings.TIME_ZONE, "UTC", "Europe/Paris",
             "Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"]  # fmt: skip
    return list(dict.fromkeys(zones))
