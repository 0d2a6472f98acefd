"""Serializer fields shared by every app's API."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from .. import localtime


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
