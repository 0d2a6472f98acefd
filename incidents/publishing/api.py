"""Publishing's API: the same rules, actions and selectors as the statement page.

    GET  /api/statements/{id}/brand-accounts/   the accounts the statement may be posted on
    GET  /api/statements/{id}/publications/     its publications, newest first (at most 20)
    POST /api/statements/{id}/publications/     {account, in_reply_to?, revision?} -> 202
    GET  /api/publications/{id}/                one publication

A statement the user may not see is a 404; errors are `{"detail": "..."}` (docs/api.md).
Nothing here ever holds an account's token.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import IntegerField
from incidents.people import display_name
from statements import selectors as statement_selectors
from statements.models import Statement

from . import actions, rules, selectors
from .choices import BrandPlatform, PublicationStatus
from .models import MAX_REPLY_TO, BrandAccount, Publication


def _statement(request, pk) -> Statement:
    try:
        return statement_selectors.statement_visible_to(request.user, pk)
    except Statement.DoesNotExist:
        raise Http404 from None


class BrandAccountSerializer(serializers.Serializer):
    id = IntegerField()
    platform = serializers.ChoiceField(choices=BrandPlatform.choices)
    label = serializers.CharField()
    handle = serializers.CharField()


class PublicationPersonSerializer(serializers.Serializer):
    id = IntegerField()
    name = serializers.CharField()


class PublicationSerializer(serializers.Serializer):
    id = IntegerField()
    statement = IntegerField(source="statement_id")
    revision = IntegerField()
    account = BrandAccountSerializer()
    in_reply_to = serializers.CharField()
    status = serializers.ChoiceField(choices=PublicationStatus.choices)
    post_id = serializers.CharField(help_text='The post\'s id on the platform ("" until posted).')
    post_url = serializers.CharField()
    error = serializers.CharField(
        help_text="Why it failed; when posted, why the statement could not be recorded."
    )
    retrying = serializers.SerializerMethodField(
        help_text='While queued: why the last attempt failed ("" when none did).'
    )
    next_attempt_at = serializers.SerializerMethodField()
    tries = IntegerField()
    requested_by = serializers.SerializerMethodField()
    requested_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)

    def get_retrying(self, publication) -> str:
        return selectors.retrying(publication)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, publication):
        when = selectors.next_attempt_at(publication)
        return when.isoformat() if when else None

    @extend_schema_field(PublicationPersonSerializer(allow_null=True))
    def get_requested_by(self, publication) -> dict | None:
        user = publication.requested_by
        return {"id": user.pk, "name": display_name(user)} if user else None


class PublishViaSerializer(serializers.Serializer):
    account = IntegerField(min_value=1, help_text="A brand account's id.")
    in_reply_to = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REPLY_TO,
        help_text="The post to answer: its URL, URI (a mention's `url` or `external_id`) or "
        "id on the platform. Empty: a post of the brand account (or, for an individual "
        "reply, the statement's `reply_to_url`).",
    )
    revision = IntegerField(
        required=False,
        min_value=1,
        help_text="The revision the person read: 409 if the text changed since.",
    )


class StatementBrandAccountsView(APIView):
    @extend_schema(responses=BrandAccountSerializer(many=True))
    def get(self, request, pk):
        """The active brand accounts of the statement's channel (at most 20)."""
        statement = _statement(request, pk)
        return Response(BrandAccountSerializer(rules.accounts_for(statement), many=True).data)


class StatementPublicationsView(APIView):
    @extend_schema(responses=PublicationSerializer(many=True))
    def get(self, request, pk):
        """The statement's publications, newest first (at most 20)."""
        statement = _statement(request, pk)
        publications = selectors.publications_of(statement)
        return Response(PublicationSerializer(publications, many=True).data)

    @extend_schema(request=PublishViaSerializer, responses={202: PublicationSerializer})
    def post(self, request, pk):
        """Post the approved text on a brand account, through the outbox: 202 with the
        publication (`queued`, or already `sent` when it went out at once). Asking again
        answers the same publication; after a failure it tries again. 403 for who may
        not publish, 409 when the statement is not approved (or already published)."""
        statement = _statement(request, pk)
        serializer = PublishViaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = BrandAccount.objects.filter(pk=data["account"]).first()
        if account is None:
            raise serializers.ValidationError({"account": ["No brand account with this id."]})
        publication = actions.statement_publish_via(
            statement=statement,
            account=account,
            actor=request.user,
            in_reply_to=data.get("in_reply_to", ""),
            revision=data.get("revision"),
        )
        publication = Publication.objects.select_related("account", "message", "requested_by").get(
            pk=publication.pk
        )
        return Response(PublicationSerializer(publication).data, status=status.HTTP_202_ACCEPTED)


class PublicationView(APIView):
    @extend_schema(responses=PublicationSerializer)
    def get(self, request, pk):
        """One publication, for whoever may see its statement."""
        publication = (
            Publication.objects.select_related("account", "message", "requested_by")
            .filter(pk=pk)
            .first()
        )
        if publication is None:
            raise Http404
        _statement(request, publication.statement_id)
        return Response(PublicationSerializer(publication).data)
