"""The crisis center's API: the same selectors, actions and rules as the room's panel.

    GET  /api/crisis-pages/{slug}/                   the public page's JSON (no sign-in;
                                                     404 for a dark or unknown page)
    GET  /api/incidents/{id}/crisis-page/            the team's view: state, links, texts
    POST /api/incidents/{id}/crisis-page/switch/     {"action": "go_live" | "resolve"} (lead)
    PUT  /api/incidents/{id}/crisis-page/faq-order/  {"language", "statements": [ids]} (writers)
    POST /api/incidents/{id}/crisis-page/next-update/  {"at": time | null} (lead): a promise
    POST /api/incidents/{id}/crisis-page/publish/    {"statement": id, "next_update_at": time
                                                     | null | left out}: publish an update
    POST /api/incidents/{id}/crisis-page/submit-drafts/  submit every draft text of the page
                                                     the user may submit (writers):
                                                     {"submitted": [...], "refused": [...]}

The public JSON is also a static file, <CRISIS_CENTER_URL>/<slug>/page.json, which holds
under a traffic spike (docs/deployment.md); this endpoint reads the database.
"""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors as incident_selectors
from incidents.api.fields import BooleanField, IntegerField, ListField
from incidents.models import Incident
from incidents.people import display_name

from . import actions, promises, render, rules, selectors
from .choices import PageState, PromiseOutcome, Section
from .models import CrisisPage


class FaqSerializer(serializers.Serializer):
    id = IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField(allow_blank=True)


class UpdateSerializer(serializers.Serializer):
    id = IntegerField()
    text = serializers.CharField()
    published_at = serializers.DateTimeField(help_text="ISO 8601 with the site's UTC offset.")
    corrects = IntegerField(allow_null=True, help_text="The update it corrects.")
    corrected_by = ListField(child=IntegerField())
    next_update_at = serializers.DateTimeField(
        allow_null=True, help_text="The next update time this update announced."
    )


class VersionSerializer(serializers.Serializer):
    url = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    doing = serializers.CharField(allow_blank=True)
    help = serializers.CharField(allow_blank=True)
    faq = FaqSerializer(many=True)
    updates = UpdateSerializer(many=True, help_text="Newest first.")
    last_updated = serializers.DateTimeField(allow_null=True)


class PublicPageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    state = serializers.ChoiceField(choices=[PageState.LIVE, PageState.RESOLVED])
    url = serializers.CharField()
    live_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    next_update_at = serializers.DateTimeField(allow_null=True)
    languages = ListField(child=serializers.CharField())
    versions = serializers.DictField(child=VersionSerializer(), help_text="By language code.")


class PublicPageView(APIView):
    authentication_classes: list = []  # public: no session, so no CSRF either
    permission_classes = [AllowAny]

    @extend_schema(responses=PublicPageSerializer, auth=[])
    def get(self, request, slug):
        """A live or resolved crisis page as the public reads it: only approved words."""
        page = CrisisPage.objects.exclude(state=PageState.DARK).filter(slug=slug).first()
        if page is None:
            raise Http404
        return Response(render.page_data(selectors.public_page(page)))


class PageTextSerializer(serializers.Serializer):
    statement = IntegerField()
    section = serializers.ChoiceField(choices=Section.choices)
    order = IntegerField(help_text="Its place among the FAQ entries of its language.")
    language = serializers.CharField()
    status = serializers.CharField(help_text="The statement's status.")
    shown = BooleanField(
        help_text="On the public page: a revision of it was approved (and not withdrawn)."
    )
    shown_revision = IntegerField(
        allow_null=True,
        help_text="The revision the public reads: the last approved one (an edit waits for "
        "its approval while the public keeps reading it).",
    )


class PromiseSerializer(serializers.Serializer):
    id = IntegerField()
    due_at = serializers.DateTimeField(help_text="The time promised (never changed).")
    made_at = serializers.DateTimeField()
    made_by = serializers.CharField(allow_blank=True, help_text="Their name; blank: the system.")
    announced_by = IntegerField(
        allow_null=True, help_text="The update whose publication made this promise."
    )
    outcome = serializers.ChoiceField(choices=PromiseOutcome.choices)
    kept_by = IntegerField(allow_null=True, help_text="The update that kept it.")
    kept_at = serializers.DateTimeField(allow_null=True, help_text="That update's publication.")
    reminded_at = serializers.DateTimeField(allow_null=True)
    lapsed_at = serializers.DateTimeField(
        allow_null=True, help_text="When its time passed with no update (recorded missed)."
    )
    closed_at = serializers.DateTimeField(allow_null=True)


def _promise(promise) -> dict:
    return {
        "id": promise.pk,
        "due_at": promise.due_at,
        "made_at": promise.made_at,
        "made_by": display_name(promise.made_by) if promise.made_by else "",
        "announced_by": promise.announced_by_id,
        "outcome": promise.outcome,
        "kept_by": promise.kept_by_id,
        "kept_at": promise.kept_at,
        "reminded_at": promise.reminded_at,
        "lapsed_at": promise.lapsed_at,
        "closed_at": promise.closed_at,
    }


class TeamPageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    state = serializers.ChoiceField(choices=PageState.choices)
    public_url = serializers.CharField()
    preview_url = serializers.CharField()
    playbook = serializers.CharField(allow_blank=True)
    live_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    next_update_at = serializers.DateTimeField(allow_null=True)
    texts = PageTextSerializer(many=True)
    updates = ListField(child=IntegerField(), help_text="The statements shown as updates.")
    subscribers = IntegerField(help_text="Confirmed e-mail subscribers (never their addresses).")
    available_actions = ListField(child=serializers.CharField())
    promises = PromiseSerializer(
        many=True,
        help_text=f"Newest first, at most {promises.MAX_LISTED}; the current one "
        "(open, or missed and awaiting an update) has no closed_at.",
    )


def _incident_page(request, pk) -> tuple[Incident, CrisisPage]:
    try:
        incident = incident_selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise Http404 from None
    page = selectors.page_of(incident)
    if page is None:
        raise Http404
    return incident, page


def _team(request, incident, page) -> Response:
    texts = selectors.page_texts(page)
    shown = selectors.shown_texts(texts)
    return Response(
        {
            "slug": page.slug,
            "state": page.state,
            "public_url": render.page_url(page.slug),
            "preview_url": request.build_absolute_uri(
                reverse("crisis-page-preview", args=[incident.pk])
            ),
            "playbook": page.playbook_name,
            "live_at": page.live_at,
            "resolved_at": page.resolved_at,
            "next_update_at": page.next_update_at,
            "texts": [
                {
                    "statement": t.statement_id,
                    "section": t.section,
                    "order": t.order,
                    "language": t.statement.language,
                    "status": t.statement.status,
                    "shown": t.statement_id in shown,
                    "shown_revision": shown[t.statement_id].revision
                    if t.statement_id in shown
                    else None,
                }
                for t in texts
            ],
            "updates": [s.pk for s in selectors.updates_of(page)],
            "subscribers": selectors.subscriber_count(page),
            "available_actions": sorted(rules.available_actions(request.user, incident, page)),
            "promises": [_promise(p) for p in promises.listed(page)],
        }
    )


class TeamPageView(APIView):
    @extend_schema(operation_id="incidents_crisis_page", responses=TeamPageSerializer)
    def get(self, request, pk):
        """The incident's crisis page for its cell: state, links, texts and their status."""
        incident, page = _incident_page(request, pk)
        return _team(request, incident, page)


class SwitchInSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(rules.SWITCHES))


class SwitchView(APIView):
    @extend_schema(request=SwitchInSerializer, responses=TeamPageSerializer)
    def post(self, request, pk):
        """Dark -> live (`go_live`) or live -> resolved (`resolve`): the lead, one step."""
        incident, page = _incident_page(request, pk)
        data = SwitchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = actions.page_switch(
            page=page, actor=request.user, action=data.validated_data["action"]
        )
        return _team(request, incident, page)


class FaqOrderInSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=8, help_text="The FAQ's language.")
    statements = ListField(
        child=IntegerField(min_value=1),
        max_length=selectors.MAX_FAQ * 2,
        help_text="The statement ids of every FAQ entry of that language (not withdrawn, "
        "drafts included) exactly once, in the new order (`texts` of the team view).",
    )


class FaqOrderView(APIView):
    @extend_schema(
        operation_id="incidents_crisis_page_faq_order",
        request=FaqOrderInSerializer,
        responses=TeamPageSerializer,
    )
    def put(self, request, pk):
        """The order of the page's FAQ entries in one language: writers of the cell while
        the page is not resolved (403 otherwise); 400 unless every entry is named once."""
        incident, page = _incident_page(request, pk)
        data = FaqOrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.faq_order_set(
            page=page,
            actor=request.user,
            language=data.validated_data["language"],
            statement_ids=data.validated_data["statements"],
        )
        return _team(request, incident, page)


class NextUpdateInSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        allow_null=True, help_text="With its offset; within the coming week. null: no promise."
    )


class NextUpdateView(APIView):
    @extend_schema(request=NextUpdateInSerializer, responses=TeamPageSerializer)
    def post(self, request, pk):
        """Promise the next public update for a time (the lead): replaces the current
        promise (moved before its time, missed after it)."""
        incident, page = _incident_page(request, pk)
        data = NextUpdateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        page = actions.page_next_update_set(
            page=page, actor=request.user, at=data.validated_data["at"]
        )
        return _team(request, incident, page)


class PublishUpdateInSerializer(serializers.Serializer):
    statement = IntegerField(help_text="An approved crisis center update.")
    next_update_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        help_text="The next update's time it announces; null: none; left out: the page's "
        "last interval from now.",
    )


class PublishUpdateView(APIView):
    @extend_schema(request=PublishUpdateInSerializer, responses=TeamPageSerializer)
    def post(self, request, pk):
        """Publish an approved update on the page and announce the next one (one step):
        it keeps the current promise, on time or late."""
        incident, page = _incident_page(request, pk)
        data = PublishUpdateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        statement = incident.statements.filter(pk=data.validated_data["statement"]).first()
        if statement is None:
            raise Http404
        actions.update_publish(
            statement=statement,
            actor=request.user,
            next_update_at=data.validated_data.get("next_update_at", promises.DEFAULT),
        )
        page.refresh_from_db()
        return _team(request, incident, page)


class SubmittedSerializer(serializers.Serializer):
    statement = IntegerField()
    title = serializers.CharField()
    status = serializers.CharField(
        help_text="The statement's status now (in review, or approved at once)."
    )


class RefusedSerializer(serializers.Serializer):
    statement = IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField(help_text="Why its submit rule refused it, in plain words.")


class DraftsSubmittedSerializer(serializers.Serializer):
    submitted = SubmittedSerializer(many=True)
    refused = RefusedSerializer(many=True, help_text="Still drafts; the others went.")


class SubmitDraftsView(APIView):
    @extend_schema(
        operation_id="incidents_crisis_page_submit_drafts",
        request=None,
        responses=DraftsSubmittedSerializer,
    )
    def post(self, request, pk):
        """Submit every draft text of the page this user may submit for approval, each
        through the statements' submit action (its rules and approval routing): writers of
        the cell (403 otherwise). A draft refused is listed with the reason; the others
        still go."""
        _incident, page = _incident_page(request, pk)
        outcome = actions.page_drafts_submit(page=page, actor=request.user)
        return Response(
            {
                "submitted": [
                    {"statement": s.pk, "title": str(s), "status": s.status}
                    for s in outcome.submitted
                ],
                "refused": [
                    {"statement": s.pk, "title": str(s), "reason": reason}
                    for s, reason in outcome.refused
                ],
            }
        )
