"""The playbook admin's own pages: the templates previewed with a sample incident, the
JSON export of one playbook, and the JSON import (upload, confirm a replacement, or import
under a new name). PlaybookAdmin.get_urls routes here; writes go through the actions."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.errors import InvalidInput, NotAllowed
from incidents.models import Category, Incident, Origin, Severity
from statements import limits
from statements.models import CHANNEL_LIMITS

from . import actions, portable, rules
from .models import Playbook, StatementTemplate
from .templating import render_template, values_for

SAMPLE_TITLE = _("Sample: product recall rumour")
SAMPLE_PLATFORMS = ["x", "instagram"]


# --- Preview ------------------------------------------------------------------------------


@dataclass
class TemplatePreview:
    template: StatementTemplate
    text: str | None
    error: str | None
    limit: int | None

    @property
    def length(self) -> int:
        return limits.length(self.text or "", self.template.channel)

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.length > self.limit


def sample_incident(now, *, language: str) -> Incident:
    """An unsaved incident to fill the templates with; never written anywhere."""
    with translation.override(language):
        title = str(SAMPLE_TITLE)
    return Incident(
        title=title,
        category=Category.RUMOUR,
        origin=Origin.ONLINE,
        platforms=SAMPLE_PLATFORMS,
        severity=Severity.HIGH,
        declared_at=now,
    )


def preview_templates(playbook, *, now) -> list[TemplatePreview]:
    previews = []
    for template in playbook.templates.all():
        values = values_for(
            sample_incident(now, language=template.language),
            brand=playbook.brand,
            language=template.language,
            next_update_at=now + timedelta(hours=1),
        )
        try:
            text, error = render_template(template.text, values), None
        except InvalidInput as problem:
            text, error = None, problem.message
        previews.append(
            TemplatePreview(template, text, error, CHANNEL_LIMITS.get(template.channel))
        )
    return previews


# --- Downloads ------------------------------------------------------------------------------


def json_download(data, filename: str) -> HttpResponse:
    response = HttpResponse(portable.dumps(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def export_filename(playbook) -> str:
    return f"playbook-{slugify(playbook.name) or playbook.pk}.json"


# --- Pages: PlaybookAdmin.get_urls routes here, with the model admin ----------------------


def _viewable(model_admin, request, object_id):
    playbook = model_admin.get_object(request, unquote(object_id))
    if playbook is not None and not model_admin.has_view_or_change_permission(request, playbook):
        raise PermissionDenied
    return playbook


def _context(model_admin, request, **extra):
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, **extra}


def preview_view(model_admin, request, object_id):
    playbook = _viewable(model_admin, request, object_id)
    if playbook is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    context = _context(
        model_admin,
        request,
        title=gettext("Templates of “%(name)s” with a sample incident") % {"name": playbook.name},
        original=playbook,
        previews=preview_templates(playbook, now=timezone.now()),
        sample_title=str(SAMPLE_TITLE),
    )
    return TemplateResponse(request, "admin/playbooks/preview.html", context)


def export_view(model_admin, request, object_id):
    playbook = _viewable(model_admin, request, object_id)
    if playbook is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    return json_download(portable.export_playbook(playbook), export_filename(playbook))


def import_view(model_admin, request):
    if not rules.can_import_playbooks(request.user):
        raise PermissionDenied
    context = _context(
        model_admin,
        request,
        title=gettext("Import playbooks from JSON"),
        max_kb=portable.MAX_IMPORT_BYTES // 1024,
        errors=[],
    )
    if request.method != "POST":
        return TemplateResponse(request, "admin/playbooks/import.html", context)

    action = request.POST.get("action", "upload")
    data = None
    try:
        data = _read_import(request, action)
        results = actions.playbooks_import(
            actor=request.user, data=data, replace=action == "replace", source="the admin"
        )
    except NotAllowed as refused:
        raise PermissionDenied(refused.message) from None
    except portable.PlaybookExists as exists:
        return _confirm_import(model_admin, request, context, data, exists.names)
    except portable.PlaybookFileError as error:
        context["errors"] = error.errors
        return TemplateResponse(request, "admin/playbooks/import.html", context, status=400)

    for result in results:
        _report_import(model_admin, request, result)
    if len(results) == 1:
        url = reverse("admin:playbooks_playbook_change", args=[results[0].playbook.pk])
    else:
        url = reverse("admin:playbooks_playbook_changelist")
    return HttpResponseRedirect(url)


def _read_import(request, action):
    """The JSON data of the upload (first step) or of the confirmation form."""
    if action in ("replace", "rename"):
        data = portable.read_json(request.POST.get("payload", "").encode())
    else:
        upload = request.FILES.get("file")
        if upload is None:
            raise portable.PlaybookFileError([gettext("Choose a JSON file to import.")])
        if upload.size > portable.MAX_IMPORT_BYTES:
            raise portable.PlaybookFileError(
                [portable.too_large_message(portable.MAX_IMPORT_BYTES)]
            )
        data = portable.read_json(upload.read())
    if action == "rename":
        name = request.POST.get("new_name", "").strip()
        if not isinstance(data, dict):
            raise portable.PlaybookFileError(
                [gettext("Only a file with one playbook can be imported under a new name.")]
            )
        if not name:
            raise portable.PlaybookFileError([gettext("Enter the new name.")])
        data = {**data, "name": name}
    return data


def _confirm_import(model_admin, request, context, data, names):
    existing = Playbook.objects.filter(name__in=names).order_by("name")
    single = isinstance(data, dict)
    suggested = ""
    if single:
        suggested = gettext("%(name)s (imported %(date)s)") % {
            "name": str(data.get("name", ""))[:120],
            "date": timezone.localdate().isoformat(),
        }
    context.update(
        title=gettext("Replace existing playbooks?"),
        existing=existing,
        payload=json.dumps(data, ensure_ascii=False),
        single=single,
        suggested_name=suggested,
        can_replace=rules.can_import_playbooks(request.user, replace=True),
    )
    return TemplateResponse(request, "admin/playbooks/import_confirm.html", context)


def _report_import(model_admin, request, result):
    playbook = result.playbook
    values = {"name": playbook.name, "version": playbook.version}
    if result.outcome == portable.Outcome.CREATED:
        text = gettext("Imported the playbook “%(name)s” (version %(version)s).")
    elif result.outcome == portable.Outcome.REPLACED:
        text = gettext(
            "Replaced the contents of the playbook “%(name)s”; it is now version %(version)s."
        )
    else:
        text = gettext("The playbook “%(name)s” already matched the file: nothing changed.")
    model_admin.message_user(request, text % values)
