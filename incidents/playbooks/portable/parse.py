"""JSON -> unsaved playbook rows, checked with the admin's own rules; nothing is written.

Every problem is collected and reported at once (PlaybookFileError.errors), in plain words
that name the playbook, the row and the key concerned.
"""

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from incidents.models import Severity
from statements.models import ApprovalPolicy

from .. import validation
from ..models import Playbook
from .export import json_row
from .spec import (
    FORMAT,
    FORMAT_VERSION,
    MAX_IMPORT_BYTES,
    PLAYBOOK_FIELDS,
    POLICY_KEYS,
    SECTIONS,
    TOP_KEYS,
    PlaybookFileError,
)


def read_json(raw: bytes, *, max_bytes: int | None = MAX_IMPORT_BYTES):
    """Decode an uploaded or read file; PlaybookFileError says why it cannot be read."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise PlaybookFileError([too_large_message(max_bytes)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlaybookFileError(
            [_("The file is not UTF-8 text: export the playbook again, or save it as UTF-8.")]
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PlaybookFileError(
            [
                _("The file is not valid JSON: %(problem)s (line %(line)s, column %(column)s).")
                % {"problem": error.msg, "line": error.lineno, "column": error.colno}
            ]
        ) from None
    except RecursionError:
        raise PlaybookFileError(
            [_("The file is not a playbook: it is nested too deeply.")]
        ) from None


def too_large_message(max_bytes: int) -> str:
    return _("The file is larger than %(size)s KB; a playbook file takes a few KB.") % {
        "size": max_bytes // 1024
    }


@dataclass
class Parsed:
    playbook: Playbook  # unsaved
    rows: dict[str, list]  # section -> unsaved rows, without their playbook
    policies: list[tuple[int, str]]  # (severity, policy name)
    normalized: dict = field(default_factory=dict)  # what export_playbook would give back


def _type_problem(model_field, value) -> str | None:
    """What is wrong with a JSON value's type for this model field, if anything."""
    if value is None:
        return None if model_field.null else _("must not be null")
    if isinstance(model_field, models.BooleanField):
        return None if isinstance(value, bool) else _("must be true or false")
    if isinstance(model_field, models.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("must be a whole number")
    if isinstance(model_field, models.DateField):
        try:
            ok = isinstance(value, str) and parse_date(value) is not None
        except ValueError:
            ok = False
        return None if ok else _("must be a date written YYYY-MM-DD")
    if isinstance(model_field, models.JSONField):
        return None if isinstance(value, list) else _("must be a list")
    if not isinstance(value, str):
        return _("must be text")
    return _("must not contain the NUL character") if "\x00" in value else None


def _read_object(obj, model, fields, where: str, errors: list[str], *, also_allowed=()):
    """An unsaved `model` instance from a JSON object, or None; problems go to `errors`."""
    if not isinstance(obj, dict):
        errors.append(_("%(where)s must be a JSON object {…}.") % {"where": where})
        return None
    for key in obj:
        if key not in fields and key not in also_allowed:
            errors.append(_("%(where)s: unknown key “%(key)s”.") % {"where": where, "key": key})
    values, unusable = {}, []
    for name in fields:
        model_field = model._meta.get_field(name)
        if name not in obj:
            if model_field.has_default():
                values[name] = model_field.get_default()
            elif model_field.null:
                values[name] = None
            elif model_field.blank:
                values[name] = ""
            else:
                errors.append(_("%(where)s: “%(key)s” is missing.") % {"where": where, "key": name})
                unusable.append(name)
            continue
        problem = _type_problem(model_field, obj[name])
        if problem:
            errors.append(
                _("%(where)s: “%(key)s” %(problem)s.")
                % {"where": where, "key": name, "problem": problem}
            )
            unusable.append(name)
            continue
        value = obj[name]
        if isinstance(model_field, models.DateField) and value is not None:
            value = parse_date(value)
        values[name] = value
    instance = model(**values)
    exclude = [*unusable, *(["playbook"] if model is not Playbook else [])]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, problems in error.error_dict.items():
            for problem in problems:
                message = " ".join(problem.messages)
                if problem.code == "invalid_choice":  # say what the file may hold
                    codes = [str(value) for value, _label in model._meta.get_field(name).choices]
                    message += " " + _("Use one of: %(codes)s.") % {"codes": ", ".join(codes)}
                errors.append(
                    _("%(where)s: “%(key)s”: %(message)s")
                    % {"where": where, "key": name, "message": message}
                )
                unusable.append(name)
    instance._unusable = set(unusable)
    return instance


def _usable(instance, name) -> bool:
    return instance is not None and name not in instance._unusable


def _labelled(where: str, obj, key: str) -> str:
    """'Step 2' -> 'Step 2 (“Holding statement”)' when the object has a readable name."""
    if isinstance(obj, dict) and isinstance(obj.get(key), str) and obj[key].strip():
        return f"{where} (“{obj[key].strip()[:60]}”)"
    return where


def parse_playbook(data, *, prefix: str = "", policy_names=None) -> Parsed:
    """Check one playbook object without writing anything; PlaybookFileError lists what
    is wrong. `policy_names`: the approval policies that exist, when the caller has them
    already (an import of several playbooks looks them up once)."""

    def where(text):
        return f"{prefix}{text}"

    errors: list[str] = []
    if not isinstance(data, dict):
        raise PlaybookFileError(
            [where(_("A playbook file holds a JSON object {…}, or a list of them."))]
        )
    if data.get("format") != FORMAT:
        errors.append(
            where(
                _("This is not a Crisis Cell playbook (its “format” should be “%(format)s”).")
                % {"format": FORMAT}
            )
        )
    elif data.get("format_version") != FORMAT_VERSION:
        errors.append(
            where(
                _(
                    "The file's format version is %(found)s; this Crisis Cell reads "
                    "version %(supported)s. Export the playbook again from a matching version."
                )
                % {"found": data.get("format_version", "—"), "supported": FORMAT_VERSION}
            )
        )
    if errors:  # anything further would be noise
        raise PlaybookFileError(errors)

    playbook = _read_object(
        {key: value for key, value in data.items() if key not in TOP_KEYS[:2]},
        Playbook,
        PLAYBOOK_FIELDS,
        where(_("Playbook")),
        errors,
        also_allowed=[*SECTIONS, "policies"],
    )
    if _usable(playbook, "categories"):
        errors.extend(
            where(_("Playbook: %(problem)s") % {"problem": problem})
            for problem in validation.category_errors(playbook.categories)
        )
    if _usable(playbook, "min_severity") and _usable(playbook, "max_severity"):
        problem = validation.severity_range_error(playbook.min_severity, playbook.max_severity)
        if problem:
            errors.append(where(_("Playbook: %(problem)s") % {"problem": problem}))

    labels = {
        "steps": (lambda n: _("Step %(number)s") % {"number": n}, "title"),
        "templates": (lambda n: _("Template %(number)s") % {"number": n}, "name"),
        "contacts": (lambda n: _("Contact %(number)s") % {"number": n}, "name"),
        "advice": (lambda n: _("Advice %(number)s") % {"number": n}, "author_type"),
    }
    rows: dict[str, list] = {}
    for key, (model, fields, _sort) in SECTIONS.items():
        rows[key] = []
        items = data.get(key, [])
        if not isinstance(items, list):
            errors.append(where(_("“%(key)s” must be a list.") % {"key": key}))
            continue
        label, name_key = labels[key]
        for number, item in enumerate(items, start=1):
            here = where(_labelled(label(number), item, name_key))
            row = _read_object(item, model, fields, here, errors)
            if row is None:
                continue
            rows[key].append(row)
            problems = []
            if key == "steps":
                if _usable(row, "due_minutes"):
                    problems.append(validation.due_minutes_error(row.due_minutes))
                if _usable(row, "repeat_minutes"):
                    problems.append(validation.repeat_minutes_error(row.repeat_minutes))
            elif key == "templates" and _usable(row, "text"):
                kind = row.kind if _usable(row, "kind") and isinstance(row.kind, str) else None
                problems.append(validation.template_text_error(row.text, kind))
            elif key == "contacts" and all(
                _usable(row, name) for name in ("kind", "role", "function")
            ):
                problems.extend(
                    f"“{name}”: {problem}"
                    for name, problem in validation.contact_roster_errors(
                        row.kind, row.role, row.function
                    ).items()
                )
            errors.extend(f"{here}: {problem}" for problem in problems if problem)
    types = [row.author_type for row in rows.get("advice", []) if _usable(row, "author_type")]
    for author_type in sorted({value for value in types if types.count(value) > 1}):
        errors.append(where(validation.duplicate_advice_error(author_type)))

    policies: list[tuple[int, str]] = []
    items = data.get("policies", [])
    if not isinstance(items, list):
        errors.append(where(_("“%(key)s” must be a list.") % {"key": "policies"}))
        items = []
    for number, item in enumerate(items, start=1):
        here = where(_("Approval policy %(number)s") % {"number": number})
        if not isinstance(item, dict):
            errors.append(_("%(where)s must be a JSON object {…}.") % {"where": here})
            continue
        for key in item:
            if key not in POLICY_KEYS:
                errors.append(_("%(where)s: unknown key “%(key)s”.") % {"where": here, "key": key})
        severity, name = item.get("severity"), item.get("policy")
        ok = True
        if isinstance(severity, bool) or severity not in Severity.values:
            errors.append(
                _("%(where)s: “severity” must be one of %(values)s.")
                % {"where": here, "values": ", ".join(str(v) for v in Severity.values)}
            )
            ok = False
        if not isinstance(name, str) or not name.strip():
            errors.append(
                _("%(where)s: “policy” must be the name of an approval policy.") % {"where": here}
            )
            ok = False
        if ok:
            if policy_names is None:
                policy_names = set(_existing_policies(data))
            if name not in policy_names:
                errors.append(
                    _(
                        "%(where)s: there is no approval policy named “%(name)s” here: create "
                        "it in the admin (Approval policies) or correct the name in the file."
                    )
                    % {"where": here, "name": name}
                )
            policies.append((severity, name))
    for severity in validation.duplicate_severities([severity for severity, _name in policies]):
        errors.append(where(validation.duplicate_severity_error(severity)))

    if errors:
        raise PlaybookFileError(errors)

    normalized = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **json_row(playbook, PLAYBOOK_FIELDS),
    }
    for key, (_model, fields, sort_key) in SECTIONS.items():
        normalized[key] = sorted((json_row(row, fields) for row in rows[key]), key=sort_key)
    normalized["policies"] = [
        {"severity": severity, "policy": name} for severity, name in sorted(policies)
    ]
    return Parsed(playbook=playbook, rows=rows, policies=policies, normalized=normalized)


def _existing_policies(*items) -> dict[str, ApprovalPolicy]:
    """The approval policies named by these playbook objects that exist, in one query."""
    wanted = {
        row["policy"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("policies"), list)
        for row in item["policies"]
        if isinstance(row, dict) and isinstance(row.get("policy"), str)
    }
    return {policy.name: policy for policy in ApprovalPolicy.objects.filter(name__in=wanted)}


def parse_playbooks(data) -> tuple[list[Parsed], dict[str, ApprovalPolicy]]:
    """Check one playbook (a dict) or several (a list) without writing anything.

    Returns the parsed playbooks and the approval policies they name (looked up once);
    PlaybookFileError lists every problem of every playbook, including a name given twice.
    """
    items = data if isinstance(data, list) else [data]
    if not items:
        raise PlaybookFileError([_("The file holds no playbook.")])
    several = len(items) > 1
    found = _existing_policies(*items)
    parsed: list[Parsed] = []
    errors: list[str] = []
    for number, item in enumerate(items, start=1):
        prefix = ""
        if several:
            prefix = _labelled(_("Playbook %(number)s") % {"number": number}, item, "name") + ": "
        try:
            parsed.append(parse_playbook(item, prefix=prefix, policy_names=set(found)))
        except PlaybookFileError as error:
            errors.extend(error.errors)
    names = [p.playbook.name for p in parsed]
    for name in sorted({name for name in names if names.count(name) > 1}):
        errors.append(_("The file holds two playbooks named “%(name)s”.") % {"name": name})
    if errors:
        raise PlaybookFileError(errors)
    return parsed, found
