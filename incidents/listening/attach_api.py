"""Attach mentions to an incident and detach them, through the API (the actions
mentions_attach and mention_detach decide).

    POST   /api/incidents/{id}/mentions/               {"mentions": [ids]}
           -> {"attached": [ids], "attached_elsewhere": [ids]}
    DELETE /api/incidents/{id}/mentions/{mention_id}/  -> 204 (404 when not attached to it)

The GET of the incident's mentions stays in api.py (IncidentMentionListView).
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.fields import IntegerField, ListField
from incidents.api.views import visible_incident

from . import actions, api
from .models import Mention


class AttachSerializer(serializers.Serializer):
    mentions = ListField(
        child=IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=actions.MAX_ATTACH,
    )


class IncidentMentionsView(api.IncidentMentionListView):
    @extend_schema(
        request=AttachSerializer,
        responses=inline_serializer(
            "MentionsAttached",
            {
                "attached": ListField(child=IntegerField()),
                "attached_elsewhere": ListField(child=IntegerField()),
            },
        ),
    )
    def post(self, request, pk):
        """Attach mentions to the incident (its cell except observers, who also need
        `listening.view_mention`, without which only the mentions one detached from it in
        the last 15 minutes and no other incident took since: the room's Undo,
        rules.may_attach), in one timeline entry. Returns the ids newly attached
        and those left attached to another incident (never moved); one already attached to
        this incident is in neither. 400 for an unknown id (nothing attached); 409 when the
        incident is closed (reopen it first)."""
        incident = visible_incident(request, pk)
        serializer = AttachSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = actions.mentions_attach(
            mention_ids=serializer.validated_data["mentions"], incident=incident, actor=request.user
        )
        return Response({"attached": result.attached, "attached_elsewhere": result.elsewhere})


class IncidentMentionDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk, mention_pk):
        """Detach a mention from the incident (its cell except observers); 409 when the
        incident is closed (reopen it first)."""
        incident = visible_incident(request, pk)
        mention = get_object_or_404(Mention, pk=mention_pk, incident=incident)
        actions.mention_detach(mention=mention, incident=incident, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
