"""The statements API's reviews read as their declared fields say (the schema), in every
language and time zone: the review serializer builds its dicts directly."""

import zoneinfo

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from statements.api.serializers import ReviewSerializer
from statements.models import Review


@pytest.mark.parametrize("language, zone", [("en", "UTC"), ("fr", "America/St_Johns")])
def test_reviews_read_as_their_declared_fields(incident, make_statement, language, zone):
    make_statement(state="changes_requested")
    make_statement(state="approved")
    reviews = list(Review.objects.select_related("reviewer").order_by("id"))
    assert {r.decision for r in reviews} == {"changes_requested", "approved"}

    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for review in reviews:
            serializer = ReviewSerializer(review)
            declared = serializers.ModelSerializer.to_representation(serializer, review)
            assert list(serializer.data.items()) == list(declared.items())
