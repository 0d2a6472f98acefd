"""Serializer fields shared by every app's API."""

import re

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty

from .. import localtime
from ..text import parse_id


class BooleanField(serializers.BooleanField):  # noqa: TID251 (the one allowed use)
    """DRF's, except that a form body (x-www-form-urlencoded or multipart) without the
    field leaves it out, as a JSON body does: DRF reads a missing field of a form as an
    unticked checkbox (False), and a form-encoded call without `frozen` lifted the
    promotion freeze. So `required` and `default` mean the same for every body."""

    default_empty_html = empty


# A number as a form body or a JSON string writes it: ASCII digits only. Python's int() and
# float() also read "1_0" (10) and other scripts' digits (a full-width one is 1).
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+(\.0*)?\s*")
_FLOAT_TEXT = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


class _StrictNumber:
    """Refuses true and false where a number is asked (DRF reads them as 1 and 0, Python's
    booleans being numbers: `"volume_deviations": true` stored 1), and a text that is not
    a number written in ASCII digits."""

    text = _INTEGER_TEXT

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not self.text.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class FloatField(_StrictNumber, serializers.FloatField):  # noqa: TID251 (the one allowed use)
    text = _FLOAT_TEXT


class IntegerField(_StrictNumber, serializers.IntegerField):  # noqa: TID251 (the one allowed use)
    pass


class ListField(serializers.ListField):  # noqa: TID251 (the one allowed use)
    """DRF's, with the length checked before the items: DRF checks `max_length` after
    reading every item, so 100,000 bad ids (under the body's size limit) took seconds and
    were answered with one error each, 4 MB; now a list over its limit is one error. Of
    the refused items, the first MAX_ITEM_ERRORS are named ({index: [message]}): 10,000 bad
    items within a limit still made a 400 of 400 kB."""

    MAX_ITEM_ERRORS = 20

    def to_internal_value(self, data):
        if self.max_length is not None and isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict) and len(error.detail) > self.MAX_ITEM_ERRORS:
                first = list(error.detail.items())[: self.MAX_ITEM_ERRORS]
                raise serializers.ValidationError(dict(first)) from None
            raise


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # noqa: TID251 (the one allowed use)
    """DRF's, except that an id is a whole number in ASCII digits (incidents.text.parse_id):
    DRF passes the value to the database's int(), which reads true as 1, 1.5 as 1, "1_0" as
    10 and a full-width one as 1."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if parse_id(data) is None:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):  # noqa: TID251 (the one allowed use)
    """DRF's, building the fields above for a model's booleans and numbers: a watch created
    with a form body without `is_active` started switched off, and one with `true` for a
    threshold stored 1."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,  # noqa: TID251
        models.BooleanField: BooleanField,
        models.FloatField: FloatField,
        **dict.fromkeys(
            (
                models.IntegerField,
                models.SmallIntegerField,
                models.BigIntegerField,
                models.PositiveIntegerField,
                models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField,
            ),
            IntegerField,
        ),
    }


class LocalDateTimeField(serializers.DateTimeField):
    """ISO 8601. A time without a UTC offset is read in the server's zone (TIME_ZONE) by the
    rule of incidents/localtime.py: a time that did not exist there (spring forward) is
    refused, and so is one that happened twice (autumn): give its offset instead."""

    def enforce_timezone(self, value):
        if timezone.is_aware(value):
            return super().enforce_timezone(value)
        zone = self.default_timezone()
        try:
            return localtime.resolve(value, zone)
        except localtime.LocalTimeError as error:
            if error.code != "ambiguous":
                raise serializers.ValidationError(error.message, code=error.code) from None
            first, second = error.occurrences
            raise serializers.ValidationError(
                _(
                    "This time happened twice in %(zone)s (the clocks went back that night): "
                    "give its UTC offset, %(first)s or %(second)s."
                )
                % {"zone": zone, "first": first.offset, "second": second.offset},
                code="ambiguous",
            ) from None


# Fast read paths -------------------------------------------------------------------------
# A ModelSerializer builds its fields by introspecting the model and, per row and field,
# walks `source` (inspecting callables) and converts: ~0.2 ms per row for an entry. The read
# serializers build their dicts directly with the helpers below instead; each one's output
# is the same as its declared fields would give (tests/incidents/test_api_reads.py checks
# it against DRF's generic path), and the declared fields still describe it in the schema.


def datetime_representation(value, zone) -> str | None:
    """What DRF's DateTimeField (ISO 8601) answers: the time in `zone` (the active one,
    timezone.get_current_timezone()), "Z" for UTC; None for no time."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def active_locale(serializer) -> tuple:
    """(zone, language): the active time zone and language, read once per serializer
    object. A list's one child serializer represents every row of a request, which does
    not change zone or language midway; reading them (context-local) per row cost more
    than the rest of a row."""
    cached = serializer.__dict__.get("_active_locale")
    if cached is None:
        cached = (timezone.get_current_timezone(), translation.get_language())
        serializer.__dict__["_active_locale"] = cached
    return cached


_labels: dict[tuple, dict] = {}


def choice_labels(model, field_name: str, language: str | None) -> dict:
    """{value: label} of a model field's choices in `language` (the active one), as
    `get_<field>_display()` gives them (read once per process and language)."""
    key = (model, field_name, language)
    labels = _labels.get(key)
    if labels is None:
        field = model._meta.get_field(field_name)
        with translation.override(language):
            labels = {value: str(label) for value, label in field.flatchoices}
        _labels[key] = labels
    return labels


def choice_label(model, field_name: str, value, language: str | None) -> str:
    return str(choice_labels(model, field_name, language).get(value, value))
