"""Declaring an incident, page and API: the incident, and the playbook it follows from its
first second (checklist, templates, contacts, approval policy), in one transaction.

Declaring composes the incidents core with playbooks, so it lives here, at the top of the
layering: the core's `IncidentViewSet` has no `create`; the project's API routes serve this
subclass at `/api/incidents/`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from incidents.api.fields import PrimaryKeyRelatedField
from incidents.api.serializers import IncidentSerializer
from incidents.api.views import IncidentViewSet as CoreIncidentViewSet
from incidents.errors import DomainError

from .actions import incident_declare_from_playbook
from .forms import DeclareFromPlaybookForm
from .models import Playbook


@login_required
def declare(request):
    form = DeclareFromPlaybookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fields = dict(form.cleaned_data)
            incident = incident_declare_from_playbook(
                actor=request.user, playbook=fields.pop("playbook", None), **fields
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Incident declared. You lead its crisis cell."))
            return redirect("incident-room", pk=incident.pk)
    scopes = {
        str(p.pk): {"categories": p.categories, "min": p.min_severity, "max": p.max_severity}
        for p in form.fields["playbook"].queryset
    }
    return render(request, "incidents/declare.html", {"form": form, "playbook_scopes": scopes})


class IncidentCreateSerializer(IncidentSerializer):
    playbook = PrimaryKeyRelatedField(
        queryset=Playbook.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="An active playbook suiting the category and severity (GET /api/playbooks/): "
        "its tasks, templates, contacts and approval policy apply at once.",
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "playbook"]


class IncidentViewSet(CoreIncidentViewSet):
    @extend_schema(request=IncidentCreateSerializer, responses={201: IncidentSerializer})
    def create(self, request):
        """Declare an incident; you become its lead. With `playbook`, its checklist,
        templates, contacts and approval policy apply at once."""
        serializer = IncidentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = incident_declare_from_playbook(
            actor=request.user,
            playbook=data.get("playbook"),
            title=data["title"],
            summary=data.get("summary", ""),
            category=data["category"],
            origin=data["origin"],
            platforms=data.get("platforms", ()),
            severity=data.get("severity", 2),
            detected_at=data.get("detected_at"),
        )
        return Response(self._serialize(incident.pk), status=status.HTTP_201_CREATED)
