"""The reply queue's API: the same selectors, actions and rules as the page.

    GET  /api/incidents/{id}/replies/                           the queue (filters, pages)
    GET  /api/incidents/{id}/replies/coverage/                  the coverage
    GET  /api/incidents/{id}/replies/{mention_id}/              one item
    PUT  /api/incidents/{id}/replies/{mention_id}/triage/       set the triage
    POST /api/incidents/{id}/replies/{mention_id}/claim/        "I am answering"
    POST /api/incidents/{id}/replies/{mention_id}/release/
    POST /api/incidents/{id}/replies/{mention_id}/decide/       no answer, private, customer service
    POST /api/incidents/{id}/replies/{mention_id}/thank/        a defender thanked
    POST /api/incidents/{id}/replies/{mention_id}/reply/        write a reply (a draft statement)
    POST /api/incidents/{id}/replies/{mention_id}/reply-from-template/   the same, from a template
    GET  /api/incidents/{id}/replies/templates/                 reply templates and their approval
    POST /api/incidents/{id}/replies/templates/{template_id}/preapprove/  sign its text in advance
    POST /api/incidents/{id}/replies/templates/{template_id}/withdraw/    withdraw one's signature
    PUT  /api/incidents/{id}/replies/templates/policy/          do pre-approved replies skip review
    GET  /api/incidents/{id}/replies/review/                    the replies in review
    POST /api/incidents/{id}/replies/review/                    batch review (approve / return)
    GET  /api/incidents/{id}/replies/{mention_id}/evidence/     its post and profile captured
    POST /api/incidents/{id}/replies/{mention_id}/evidence/     capture them (evidence)

Writes answer the item as it now is. An incident the user may not see, or a mention not
attached to it, is a 404; errors are `{"detail": "..."}` (docs/api.md).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors as incident_selectors
from incidents.api.fields import BooleanField, FloatField, IntegerField, ListField
from incidents.api.pagination import FirstPageCountingPaginator
from incidents.listening.choices import Sentiment
from incidents.listening.models import Mention
from incidents.models import Incident, Platform
from incidents.people import display_name
from statements import actions as statement_actions
from statements import preapproval
from statements import rules as statement_rules
from statements import selectors as statement_selectors
from statements.choices import Channel, StatementStatus
from statements.models import MAX_TEXT

from . import actions, rules, selectors
from .choices import (
    DECISIONS,
    AuthorType,
    CaptureTarget,
    NeedsAnswer,
    Outcome,
    QueueView,
    ReviewDecision,
)
from .models import NOTE_MAX, REASON_MAX


def _incident(request, pk) -> Incident:
    """The incident with its cell loaded (the rules read it for every item), or 404."""
    try:
        return incident_selectors.incident_for_room(request.user, pk)
    except Incident.DoesNotExist:
        raise Http404 from None


def _person(user) -> dict | None:
    return {"id": user.pk, "name": display_name(user)} if user else None


class ReplyPersonSerializer(serializers.Serializer):
    id = IntegerField()
    name = serializers.CharField()


class ReplyAuthorSerializer(serializers.Serializer):
    handle = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    followers = IntegerField(allow_null=True)
    verified = BooleanField(allow_null=True)
    follows_brand = BooleanField(allow_null=True)
    posts_in_incident = IntegerField()


class QueueMentionSerializer(serializers.Serializer):
    id = IntegerField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    url = serializers.CharField()
    text = serializers.CharField()
    language = serializers.CharField(help_text='ISO 639-1 code; "" when not known.')
    posted_at = serializers.DateTimeField()
    reply_to_brand = BooleanField()
    sentiment = serializers.ChoiceField(choices=Sentiment.choices)
    sentiment_score = FloatField(allow_null=True)


class TriageStateSerializer(serializers.Serializer):
    author_type = serializers.CharField(help_text='An AuthorType value; "" when not set.')
    needs_answer = serializers.ChoiceField(choices=NeedsAnswer.choices)
    note = serializers.CharField()
    triaged_by = ReplyPersonSerializer(allow_null=True)
    triaged_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    outcome_reason = serializers.CharField()
    decided_by = ReplyPersonSerializer(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    claimed_by = ReplyPersonSerializer(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)
    claim_stale = BooleanField(
        help_text=f"The claim is older than {rules.CLAIM_MINUTES} minutes: it may be taken over."
    )


class SuggestionSerializer(serializers.Serializer):
    author_type = serializers.ChoiceField(choices=AuthorType.choices)
    needs_answer = serializers.ChoiceField(choices=NeedsAnswer.choices)
    reasons = ListField(child=serializers.CharField())
    reason = serializers.CharField()


class AmbassadorSerializer(serializers.Serializer):
    contact = IntegerField(help_text="The incident contact's id.")
    name = serializers.CharField()
    handle = serializers.CharField(help_text="As written in the contact.")
    platform = serializers.CharField(help_text='A platform value, or "" (any).')
    contacts_url = serializers.CharField(help_text="The room's contacts panel, at this contact.")


class ReplyStateSerializer(serializers.Serializer):
    statement = IntegerField(help_text="The statement's id (/api/statements/{id}/).")
    status = serializers.ChoiceField(choices=StatementStatus.choices)
    revision = IntegerField()
    published_url = serializers.CharField()


class ItemSerializer(serializers.Serializer):
    mention = QueueMentionSerializer()
    author = ReplyAuthorSerializer()
    triage = TriageStateSerializer(allow_null=True, help_text="null: not triaged yet.")
    suggestion = SuggestionSerializer()
    advice = serializers.CharField(
        help_text="How to handle this type (the confirmed one, else the suggested one), in "
        "the request's language: the incident's playbook's advice when it wrote one, else "
        "the default."
    )
    ambassador = AmbassadorSerializer(
        allow_null=True,
        help_text="For a supporter / defender: the known ambassador of the incident's "
        "contacts with this handle (no @, any case; same platform when the contact names "
        "one); null otherwise.",
    )
    reply = ReplyStateSerializer(
        allow_null=True, help_text="The mention's live reply (not withdrawn); null: none."
    )
    author_claimed_by = ReplyPersonSerializer(
        allow_null=True,
        help_text="Who else is answering this author on another of their posts (same "
        "platform and handle, no @, any case), with a live claim: they hold the person, so "
        "claiming and replying here wait for them. Null: nobody.",
    )
    author_reply = ReplyStateSerializer(
        allow_null=True,
        help_text="A reply on its way (drafted to approved) to this author on another of "
        "their posts: one reply to a person at a time, so `reply` waits for it. Null: none.",
    )
    available_actions = ListField(
        child=serializers.ChoiceField(choices=rules.ACTIONS),
        help_text="What the requesting user may do on it now.",
    )


def _ambassador(ambassador, incident) -> dict | None:
    if ambassador is None:
        return None
    return {
        "contact": ambassador.contact_id,
        "name": ambassador.name,
        "handle": ambassador.handle,
        "platform": ambassador.platform,
        "contacts_url": reverse("incident-room", args=[incident.pk])
        + f"#contact-{ambassador.contact_id}",
    }


def _reply_state(reply) -> dict | None:
    if reply is None:
        return None
    statement = reply.statement
    return {
        "statement": statement.pk,
        "status": statement.status,
        "revision": statement.revision,
        "published_url": statement.published_url,
    }


def serialize_item(item, user, incident, now) -> dict:
    mention, triage = item.mention, item.triage
    return {
        "mention": {
            "id": mention.pk,
            "platform": mention.platform,
            "url": mention.url,
            "text": mention.text,
            "language": mention.language,
            "posted_at": mention.posted_at,
            "reply_to_brand": mention.reply_to_brand,
            "sentiment": mention.sentiment,
            "sentiment_score": mention.sentiment_score,
        },
        "author": {
            "handle": mention.author_handle,
            "name": mention.author_name,
            "url": mention.author_url,
            "followers": mention.author_followers,
            "verified": mention.author_verified,
            "follows_brand": mention.author_follows_brand,
            "posts_in_incident": item.author_posts,
        },
        "triage": None
        if triage is None
        else {
            "author_type": triage.author_type,
            "needs_answer": triage.needs_answer,
            "note": triage.note,
            "triaged_by": _person(triage.triaged_by),
            "triaged_at": triage.triaged_at,
            "outcome": triage.outcome,
            "outcome_reason": triage.outcome_reason,
            "decided_by": _person(triage.decided_by),
            "decided_at": triage.decided_at,
            "claimed_by": _person(triage.claimed_by),
            "claimed_at": triage.claimed_at,
            "claim_stale": rules.claim_is_stale(triage, now),
        },
        "suggestion": {
            "author_type": item.suggestion.author_type,
            "needs_answer": item.suggestion.needs_answer,
            "reasons": list(item.suggestion.reasons),
            "reason": item.suggestion.reason,
        },
        "advice": item.advice,
        "ambassador": _ambassador(item.ambassador, incident),
        "reply": _reply_state(item.reply),
        "author_claimed_by": _person(held.claimed_by) if (held := item.author_held(user)) else None,
        "author_reply": _reply_state(pending := item.author_pending),
        "available_actions": rules.available_actions(
            user, incident, triage, now, reply=item.reply, author_held=held, author_pending=pending
        ),
    }


def _item_response(request, incident, mention):
    item = selectors.item(incident, mention)
    return Response(
        ItemSerializer(serialize_item(item, request.user, incident, timezone.now())).data
    )


class QueuePagination(PageNumberPagination):
    django_paginator_class = FirstPageCountingPaginator
    page_size = selectors.PAGE_SIZE
    max_page_size = selectors.MAX_PAGE_SIZE
    page_size_query_param = "page_size"


class QueuePageSerializer(serializers.Serializer):
    count = IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ItemSerializer(many=True)


QUEUE_FILTERS = [
    OpenApiParameter(
        "view",
        str,
        enum=QueueView.values,
        description="to_answer (default): needs an answer and open; to_triage: not typed or "
        "undecided; defenders; handled: any outcome but open.",
    ),
    OpenApiParameter("type", str, enum=AuthorType.values, description="the confirmed author type"),
    OpenApiParameter("platform", str, enum=Platform.values),
    OpenApiParameter("language", str, description='ISO 639-1 code, or "unknown"'),
    OpenApiParameter(
        "author",
        str,
        description='a handle, with or without "@", whatever the case: that person\'s posts '
        "in every view (with `platform`: on that platform)",
    ),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description=f"at most {selectors.MAX_PAGE_SIZE}"),
]


def _filters(params) -> dict:
    found = {"view": params.get("view") or QueueView.TO_ANSWER}
    if found["view"] not in QueueView.values:
        raise ValidationError({"view": [_("Unknown value.")]})
    for name, key, allowed in (
        ("type", "author_type", AuthorType.values),
        ("platform", "platform", Platform.values),
    ):
        value = params.get(name)
        if value:
            if value not in allowed:
                raise ValidationError({name: [_("Unknown value.")]})
            found[key] = value
    language = params.get("language")
    if language:
        language = language.lower()
        found["language"] = "" if language == "unknown" else language[:8]
    try:
        author = rules.author_filter(params.get("author"))
    except DjangoValidationError as exc:
        raise ValidationError({"author": exc.messages}) from None
    if author:
        found["author"] = author
    return found


class QueueListView(APIView):
    @extend_schema(
        operation_id="incidents_replies_list",
        parameters=QUEUE_FILTERS,
        responses=QueuePageSerializer,
    )
    def get(self, request, pk):
        """The incident's reply queue: followers of the brand first, then replies to the
        brand, then reach, then the oldest (pages of 20, `page_size` up to 100). Whoever
        may see the incident; outsiders get 404."""
        incident = _incident(request, pk)
        qs = selectors.queue(incident, **_filters(request.query_params))
        paginator = QueuePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        now = timezone.now()
        items = selectors.page_items(incident, page)
        data = [serialize_item(item, request.user, incident, now) for item in items]
        return paginator.get_paginated_response(ItemSerializer(data, many=True).data)


class CountSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = IntegerField()


class CoverageSerializer(serializers.Serializer):
    attached = IntegerField(help_text="Mentions attached to the incident.")
    to_triage = IntegerField()
    needing = IntegerField(help_text="Triaged as needing an answer.")
    answered = IntegerField(
        help_text="Of those, handled: answered, privately, customer service or no answer."
    )
    percent = IntegerField(allow_null=True, help_text="answered / needing, 0-100.")
    open = IntegerField()
    defenders = IntegerField()
    thanked = IntegerField()
    open_by_type = CountSerializer(many=True)
    open_by_platform = CountSerializer(many=True)
    oldest_open_at = serializers.DateTimeField(allow_null=True)
    oldest_open_seconds = IntegerField(allow_null=True)
    median_seconds = FloatField(
        allow_null=True, help_text="Median time from posting to the outcome, in seconds."
    )


def serialize_coverage(coverage) -> dict:
    return {
        "attached": coverage.attached,
        "to_triage": coverage.to_triage,
        "needing": coverage.needing,
        "answered": coverage.answered,
        "percent": coverage.percent,
        "open": coverage.open,
        "defenders": coverage.defenders,
        "thanked": coverage.thanked,
        "open_by_type": [{"value": v, "count": n} for v, n in coverage.open_by_type],
        "open_by_platform": [{"value": v, "count": n} for v, n in coverage.open_by_platform],
        "oldest_open_at": coverage.oldest_open_at,
        "oldest_open_seconds": coverage.oldest_open_seconds,
        "median_seconds": coverage.median_seconds,
    }


class CoverageView(APIView):
    @extend_schema(responses=CoverageSerializer)
    def get(self, request, pk):
        """The incident's reply coverage (whoever may see the incident)."""
        incident = _incident(request, pk)
        return Response(CoverageSerializer(serialize_coverage(selectors.coverage(incident))).data)


def _mention(incident, mention_pk) -> Mention:
    return get_object_or_404(Mention, pk=mention_pk, incident=incident)


class ItemView(APIView):
    @extend_schema(operation_id="incidents_replies_item", responses=ItemSerializer)
    def get(self, request, pk, mention_pk):
        """One mention of the queue, with its triage and suggestion."""
        incident = _incident(request, pk)
        return _item_response(request, incident, _mention(incident, mention_pk))


class TriageInSerializer(serializers.Serializer):
    author_type = serializers.ChoiceField(choices=AuthorType.choices)
    needs_answer = serializers.ChoiceField(choices=NeedsAnswer.choices)
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")
    suggested = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="The suggested type (an author_type value) shown to the person, recorded "
        "in the timeline; anything else is ignored.",
    )


class TriageView(APIView):
    @extend_schema(responses=ItemSerializer)
    def get(self, request, pk, mention_pk):
        """The mention's item (its triage, null when not triaged yet)."""
        incident = _incident(request, pk)
        return _item_response(request, incident, _mention(incident, mention_pk))

    @extend_schema(request=TriageInSerializer, responses=ItemSerializer)
    def put(self, request, pk, mention_pk):
        """Set the author type, whether it needs an answer, and a note (the cell except
        observers). The same values again write nothing."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = TriageInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.triage_set(
            incident=incident, mention=mention, actor=request.user, **serializer.validated_data
        )
        return _item_response(request, incident, mention)


class ClaimView(APIView):
    @extend_schema(request=None, responses=ItemSerializer)
    def post(self, request, pk, mention_pk):
        """ "I am answering this person." 409 with `claimed_by` while someone else holds a
        claim younger than the takeover delay."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        actions.claim(incident=incident, mention=mention, actor=request.user)
        return _item_response(request, incident, mention)


class ReleaseView(APIView):
    @extend_schema(request=None, responses=ItemSerializer)
    def post(self, request, pk, mention_pk):
        """Give the claim back (the claimer or the lead; anyone once it is stale)."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        actions.release(incident=incident, mention=mention, actor=request.user)
        return _item_response(request, incident, mention)


class DecideInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[(o.value, o.label) for o in DECISIONS])
    reason = serializers.CharField(max_length=REASON_MAX)


class DecideView(APIView):
    @extend_schema(request=DecideInSerializer, responses=ItemSerializer)
    def post(self, request, pk, mention_pk):
        """Record that this person gets no public answer, and why."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = DecideInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.decide(
            incident=incident, mention=mention, actor=request.user, **serializer.validated_data
        )
        return _item_response(request, incident, mention)


class ThankInSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=REASON_MAX, required=False, allow_blank=True, default=""
    )


class ThankView(APIView):
    @extend_schema(request=ThankInSerializer, responses=ItemSerializer)
    def post(self, request, pk, mention_pk):
        """Record that a supporter / defender was thanked."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = ThankInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actions.thank(
            incident=incident, mention=mention, actor=request.user, **serializer.validated_data
        )
        return _item_response(request, incident, mention)


class ReplyInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only when the mention's platform is not a statement channel (forum, "
        "press...): where the reply goes. Otherwise the mention's platform.",
    )


class ReplyCreatedSerializer(serializers.Serializer):
    statement = IntegerField(help_text="The draft's id (/api/statements/{id}/).")
    item = ItemSerializer()


class WriteReplyView(APIView):
    @extend_schema(
        operation_id="incidents_replies_write",
        request=ReplyInSerializer,
        responses={201: ReplyCreatedSerializer},
    )
    def post(self, request, pk, mention_pk):
        """Write a reply to this mention: a draft statement of kind "reply" bound to it, on
        its platform, in its language (else the site's), replying to its author and post;
        the writer now holds the mention. Edit, submit and publish it through the statements
        API. 409 when the mention is handled, held by someone else, or already has a live
        reply (its id in `statement`); 403 for those who do not draft statements."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = ReplyInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        statement = actions.reply_write(
            incident=incident, mention=mention, actor=request.user, **serializer.validated_data
        )
        return _created(request, incident, mention, statement)


def _created(request, incident, mention, statement) -> Response:
    item = selectors.item(incident, mention)
    data = {
        "statement": statement.pk,
        "item": serialize_item(item, request.user, incident, timezone.now()),
    }
    return Response(ReplyCreatedSerializer(data).data, status=201)


class ReplyFromTemplateInSerializer(serializers.Serializer):
    template = IntegerField(
        min_value=1,
        max_value=10**18 - 1,
        help_text="One of the incident's reply templates (GET .../replies/templates/).",
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Only when the mention's platform is not a statement channel.",
    )


class ReplyFromTemplateView(APIView):
    @extend_schema(
        operation_id="incidents_replies_write_from_template",
        request=ReplyFromTemplateInSerializer,
        responses={201: ReplyCreatedSerializer},
    )
    def post(self, request, pk, mention_pk):
        """Write a reply to this mention from one of the incident's reply templates, its
        placeholders ({{ author.handle }}, {{ author.name }}, {{ mention.url }}) filled from
        the mention: a draft statement, as `reply/`. Submitted without a change, a reply
        from a template approved in advance is approved at once (the statement's
        `preapproval` says so). 400 when a placeholder has no data (the message names it)
        or the template is not one of the incident's reply templates."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = ReplyFromTemplateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        statement = actions.reply_write(
            incident=incident, mention=mention, actor=request.user, **serializer.validated_data
        )
        return _created(request, incident, mention, statement)


# --- Reply templates approved in advance ----------------------------------------------------

MAX_TEMPLATES = 100


class TemplateSignatureSerializer(serializers.Serializer):
    approver = ReplyPersonSerializer()
    function = serializers.CharField()
    approved_at = serializers.DateTimeField()
    current = BooleanField(
        help_text="Given on the template's current text; false: on an earlier text (the "
        "template changed since), where it no longer counts."
    )


class ReplyTemplateSerializer(serializers.Serializer):
    id = IntegerField()
    name = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    language = serializers.CharField()
    author_type = serializers.CharField(
        help_text='The author type it answers (the queue offers it first to them); "" for anyone.'
    )
    text = serializers.CharField()
    fingerprint = serializers.CharField(
        help_text="SHA-256 of the text: send it back to approve this exact text in advance."
    )
    preapproved = BooleanField(
        help_text="The signatures on its current text meet the incident's approval policy."
    )
    awaiting = ListField(
        child=serializers.CharField(),
        help_text='The approver functions still missing ("" for any approver).',
    )
    signatures = TemplateSignatureSerializer(many=True)
    available_actions = ListField(
        child=serializers.ChoiceField(choices=[preapproval.PREAPPROVE, preapproval.WITHDRAW])
    )


class ReplyTemplatesSerializer(serializers.Serializer):
    preapproved_replies = BooleanField(
        help_text="Replies made from templates approved in advance skip review in this "
        "incident (its policy; the lead switches it)."
    )
    policy = serializers.CharField(allow_null=True)
    results = ReplyTemplateSerializer(many=True)


def serialize_template(state, user, incident) -> dict:
    return {
        "id": state.template.pk,
        "name": state.template.name,
        "channel": state.template.channel,
        "language": state.template.language,
        "author_type": state.template.author_type,
        "text": state.template.text,
        "fingerprint": state.fingerprint,
        "preapproved": state.preapproved,
        "awaiting": [r.function for r in state.progress.missing]
        if state.progress and not state.progress.complete
        else [],
        "signatures": [
            {
                "approver": _person(s.approver),
                "function": s.function,
                "approved_at": s.approved_at,
                "current": s.fingerprint == state.fingerprint,
            }
            for s in [*state.signatures, *state.outdated]
        ],
        "available_actions": preapproval.available_actions(user, incident, state),
    }


def _templates_response(request, incident) -> Response:
    approval_policy, enabled = preapproval.incident_settings(incident)
    templates = preapproval.reply_templates(incident)[:MAX_TEMPLATES]
    states = preapproval.template_states(
        incident, templates, approval_policy=approval_policy, enabled=enabled
    )
    data = {
        "preapproved_replies": enabled,
        "policy": approval_policy.name if approval_policy else None,
        "results": [serialize_template(s, request.user, incident) for s in states],
    }
    return Response(ReplyTemplatesSerializer(data).data)


def _template_response(request, incident, template_pk) -> Response:
    state = preapproval.template_state(incident, template_pk)
    if state is None:
        raise Http404
    return Response(ReplyTemplateSerializer(serialize_template(state, request.user, incident)).data)


class TemplatesView(APIView):
    @extend_schema(responses=ReplyTemplatesSerializer)
    def get(self, request, pk):
        """The incident's reply templates (at most 100, the playbook's order): their exact
        text and its fingerprint, who approved it in advance, what the policy still awaits,
        and what you may do."""
        return _templates_response(request, _incident(request, pk))


class PreapproveInSerializer(serializers.Serializer):
    fingerprint = serializers.RegexField(
        r"^[0-9a-f]{64}$", max_length=64, help_text="The template's `fingerprint` you read."
    )


def _template_write(request, pk, template_pk, serializer_class, action) -> Response:
    """Validate the body, run the action on this template, answer the template."""
    incident = _incident(request, pk)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    action(
        incident=incident,
        template_id=template_pk,
        actor=request.user,
        **serializer.validated_data,
    )
    return _template_response(request, incident, template_pk)


class PreapproveView(APIView):
    @extend_schema(request=PreapproveInSerializer, responses=ReplyTemplateSerializer)
    def post(self, request, pk, template_pk):
        """Approve this reply template's exact text in advance (an approver of the cell
        whose function the incident's policy awaits for it). 409 when its text changed
        since you read it; 403 for anyone else; a second call changes nothing."""
        return _template_write(
            request, pk, template_pk, PreapproveInSerializer, statement_actions.template_preapprove
        )


class WithdrawPreapprovalInSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX, required=False, allow_blank=True, default=""
    )


class WithdrawPreapprovalView(APIView):
    @extend_schema(request=WithdrawPreapprovalInSerializer, responses=ReplyTemplateSerializer)
    def post(self, request, pk, template_pk):
        """Withdraw your advance approval of this template: replies made from it go through
        review again (those already approved keep their reviews)."""
        return _template_write(
            request,
            pk,
            template_pk,
            WithdrawPreapprovalInSerializer,
            statement_actions.template_preapproval_withdraw,
        )


class PreapprovedRepliesInSerializer(serializers.Serializer):
    preapproved_replies = BooleanField()


class PreapprovedRepliesView(APIView):
    @extend_schema(request=PreapprovedRepliesInSerializer, responses=ReplyTemplatesSerializer)
    def put(self, request, pk):
        """Whether replies from templates approved in advance skip review in this incident
        (the lead; recorded on the timeline)."""
        incident = _incident(request, pk)
        serializer = PreapprovedRepliesInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        statement_actions.preapproved_replies_set(
            incident=incident,
            actor=request.user,
            enabled=serializer.validated_data["preapproved_replies"],
        )
        return _templates_response(request, incident)


class ReviewMentionSerializer(serializers.Serializer):
    id = IntegerField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    author = serializers.CharField()
    url = serializers.CharField()
    text = serializers.CharField()


class ReviewRowSerializer(serializers.Serializer):
    statement = IntegerField()
    revision = IntegerField(help_text="Send it back with the decision.")
    text = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    language = serializers.CharField()
    author = ReplyPersonSerializer()
    submitted_at = serializers.DateTimeField(allow_null=True)
    mention = ReviewMentionSerializer()
    may_review = BooleanField(
        help_text="The requesting user may approve or return it now (statements' rules)."
    )


class ReviewListSerializer(serializers.Serializer):
    results = ReviewRowSerializer(many=True)


class ReviewItemInSerializer(serializers.Serializer):
    statement = IntegerField()
    revision = IntegerField(help_text="The revision the approver read.")
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    comment = serializers.CharField(
        max_length=actions.COMMENT_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to return (request_changes).",
    )


class ReviewInSerializer(serializers.Serializer):
    items = ReviewItemInSerializer(many=True, max_length=actions.MAX_BATCH, min_length=1)


class ReviewResultSerializer(serializers.Serializer):
    statement = IntegerField()
    ok = BooleanField()
    status = serializers.ChoiceField(choices=StatementStatus.choices, allow_null=True)
    revision = IntegerField(allow_null=True)
    error = serializers.CharField(help_text='Why this item was refused; "" when ok.')


class ReviewOutSerializer(serializers.Serializer):
    results = ReviewResultSerializer(many=True)


class ReviewView(APIView):
    @extend_schema(operation_id="incidents_replies_review_list", responses=ReviewListSerializer)
    def get(self, request, pk):
        """The incident's replies in review (oldest submitted first, at most 50), with the
        mention each answers and whether the requesting user may review it."""
        incident = _incident(request, pk)
        replies = selectors.replies_in_review(incident)
        statements = statement_selectors.with_progress([r.statement for r in replies], incident)
        rows = []
        for reply, statement in zip(replies, statements, strict=True):
            available = statement_rules.available_actions(request.user, statement)
            mention = reply.triage.mention
            rows.append(
                {
                    "statement": statement.pk,
                    "revision": statement.revision,
                    "text": statement.text,
                    "channel": statement.channel,
                    "language": statement.language,
                    "author": _person(statement.author),
                    "submitted_at": statement.submitted_at,
                    "mention": {
                        "id": mention.pk,
                        "platform": mention.platform,
                        "author": mention.author_handle or mention.author_name,
                        "url": mention.url,
                        "text": mention.text,
                    },
                    "may_review": statement_rules.APPROVE in available
                    or statement_rules.REQUEST_CHANGES in available,
                }
            )
        return Response(ReviewListSerializer({"results": rows}).data)

    @extend_schema(
        operation_id="incidents_replies_review",
        request=ReviewInSerializer,
        responses=ReviewOutSerializer,
    )
    def post(self, request, pk):
        """Approve or return up to 50 replies at once, each bound to the revision the
        approver read. Each decision is statements' own approval action (four-eyes, the
        policy's functions and steps), in its own transaction: a refused item (text changed
        since, written by the approver, not awaited...) is reported in its result with the
        reason, the others go through. 200 with one result per item, in order; 400 for a
        malformed batch; 403 when the user is not an approver of the cell."""
        incident = _incident(request, pk)
        serializer = ReviewInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results = actions.review_batch(
            incident=incident, actor=request.user, items=serializer.validated_data["items"]
        )
        return Response(ReviewOutSerializer({"results": results}).data)


class CapturedItemSerializer(serializers.Serializer):
    id = IntegerField()
    label = serializers.CharField(help_text="Exhibit label, e.g. E-3")
    content_type = serializers.CharField(help_text="image/png (screenshot) or multipart/related")
    url = serializers.CharField(help_text="The item in the evidence API.")


class PageCaptureSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=CaptureTarget.choices)
    url = serializers.CharField(help_text='The page\'s address on the mention; "" when none.')
    status = serializers.CharField(
        help_text='The last capture asked for: queued, running, done, failed; "" when never.'
    )
    stage = serializers.CharField()
    error = serializers.CharField(help_text="Why the last capture failed.")
    requested_at = serializers.DateTimeField(allow_null=True)
    capture = IntegerField(allow_null=True, help_text="The capture job's id.")
    capture_url = serializers.CharField(allow_null=True, help_text="The capture job's status.")
    http_status = IntegerField(
        allow_null=True,
        help_text="What the page answered when last captured (404, 410: probably deleted).",
    )
    items = CapturedItemSerializer(
        many=True, help_text="The evidence of the newest capture that succeeded."
    )


class SkippedPageSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=CaptureTarget.choices)
    reason = serializers.CharField()


class MentionEvidenceSerializer(serializers.Serializer):
    may_capture = BooleanField(help_text="The requesting user may ask for captures.")
    pending = BooleanField(help_text="A capture is still queued or running.")
    pages = PageCaptureSerializer(many=True, help_text="The post, then the author's profile.")


class MentionEvidenceResultSerializer(MentionEvidenceSerializer):
    queued = ListField(
        child=serializers.ChoiceField(choices=CaptureTarget.choices),
        help_text="The pages asked for now.",
    )
    kept = ListField(
        child=serializers.ChoiceField(choices=CaptureTarget.choices),
        help_text="Already queued, running or done: left alone.",
    )
    skipped = SkippedPageSerializer(many=True, help_text="No address, or one refused.")


class MentionCaptureInSerializer(serializers.Serializer):
    again = BooleanField(
        required=False,
        default=False,
        help_text="Capture again the pages already captured (never one still pending).",
    )


def serialize_captures(request, incident, mention) -> dict:
    captures = selectors.captures_of(incident, [mention.pk]).get(mention.pk)
    pages = []
    for target, url in (
        (CaptureTarget.POST, mention.url),
        (CaptureTarget.PROFILE, mention.author_url),
    ):
        page = getattr(captures, target) if captures else None
        pages.append(
            {
                "target": target.value,
                "url": url,
                "status": page.status if page else "",
                "stage": page.stage if page else "",
                "error": page.reason if page else "",
                "requested_at": page.requested_at if page else None,
                "capture": page.job if page else None,
                "http_status": page.http_status if page else None,
                "capture_url": request.build_absolute_uri(
                    reverse("api-evidence-capture-status", args=[page.job])
                )
                if page
                else None,
                "items": [
                    {
                        "id": item.pk,
                        "label": item.label,
                        "content_type": item.content_type,
                        "url": request.build_absolute_uri(
                            reverse("api-evidence-item", args=[item.pk])
                        ),
                    }
                    for item in (page.items if page else [])
                ],
            }
        )
    return {
        "may_capture": rules.can_capture(request.user, incident),
        "pending": bool(captures and captures.pending),
        "pages": pages,
    }


class EvidenceView(APIView):
    @extend_schema(
        operation_id="incidents_replies_evidence_retrieve", responses=MentionEvidenceSerializer
    )
    def get(self, request, pk, mention_pk):
        """The evidence captured from this mention: its post and its author's profile
        page, each with the state of its last capture and the items of the newest one that
        succeeded (whoever may see the incident)."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        return Response(
            MentionEvidenceSerializer(serialize_captures(request, incident, mention)).data
        )

    @extend_schema(
        operation_id="incidents_replies_evidence_create",
        request=MentionCaptureInSerializer,
        responses={202: MentionEvidenceResultSerializer},
    )
    def post(self, request, pk, mention_pk):
        """Capture the post and the author's profile page as evidence (the evidence
        locker's URL capture, run by a worker: poll this URL or `capture_url`). Whoever may
        add evidence (403 otherwise). A page already queued, running or done is left alone
        unless `again` (then never one still pending); 400 when neither page has an address
        the server may open."""
        incident = _incident(request, pk)
        mention = _mention(incident, mention_pk)
        serializer = MentionCaptureInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = actions.mention_capture(
            incident=incident,
            mention=mention,
            actor=request.user,
            again=serializer.validated_data["again"],
        )
        data = {
            **serialize_captures(request, incident, mention),
            "queued": [c.target for c in result.queued],
            "kept": [c.target for c in result.kept],
            "skipped": [{"target": t, "reason": str(r)} for t, r in result.skipped],
        }
        return Response(MentionEvidenceResultSerializer(data).data, status=202)
