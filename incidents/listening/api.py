"""Listening API: watches, mentions (cursor pages, filters), the bulk NDJSON ingest, and an
incident's mentions. Thin: validate -> action -> serialize."""

import codecs
import zlib

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from incidents.api.fields import (
    BooleanField,
    FloatField,
    IntegerField,
    ListField,
    ModelSerializer,
    PrimaryKeyRelatedField,
)
from incidents.api.pagination import CursorPagination, cursor_parameters
from incidents.api.views import visible_incident
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import Platform
from incidents.text import parse_id

from . import actions, rules, selectors
from .choices import Sentiment, Source
from .importing import MAX_ROWS
from .ingest import (
    MAX_LINE_ERRORS,
    RowError,
    count_lines,
    parse_ndjson,
    parse_time,
    read_language,
)
from .matching import MAX_SEARCH, MAX_SEARCH_TERMS, TextSearch, search_refused
from .models import MAX_NAME, MAX_TERM, Watch

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def _terms():
    # Each term's length is the action's rule (clean_watch: at most MAX_TERM characters
    # without its "#" or "@", every problem of the list said at once), not the field's.
    return ListField(
        child=serializers.CharField(help_text=f"At most {MAX_TERM} characters."),
        required=False,
        max_length=200,
    )


class SubscriberIdsField(ListField):
    """The ids of a watch's subscribers (prefetch them when listing watches)."""

    def to_representation(self, data):
        return sorted(user.pk for user in data.all())


def _alert_rule(name):
    """A watch's threshold: its range is the action's rule (actions.ALERT_RULES), checked
    there with the message the page shows (the model's own bounds said "0 or more")."""
    low, high = actions.ALERT_RULES[name]
    number = FloatField if isinstance(low, float) else IntegerField
    return number(required=False, help_text=f"From {low:,.0f} to {high:,.0f}.")


class WatchSerializer(ModelSerializer):
    keywords = _terms()
    exclusions = _terms()
    hashtags = _terms()
    handles = _terms()
    # Checked by the action (clean_watch), by the posts' own rule: "en-US" is "en".
    languages = ListField(child=serializers.CharField(max_length=35), required=False, max_length=50)
    platforms = ListField(
        child=serializers.ChoiceField(choices=Platform.choices), required=False, max_length=200
    )
    subscribers = SubscriberIdsField(
        child=IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=actions.MAX_SUBSCRIBERS,
        help_text="The people alerted of the watch's signals (user ids), each a listening "
        "reader; given, it replaces the list.",
    )

    volume_deviations = _alert_rule("volume_deviations")
    volume_min_count = _alert_rule("volume_min_count")
    tone_shift_points = _alert_rule("tone_shift_points")
    tone_min_scored = _alert_rule("tone_min_scored")
    topic_watch = PrimaryKeyRelatedField(
        queryset=Watch.objects.all(),
        allow_null=True,
        required=False,
        help_text="The id of the watch of the conversation this brand is part of (its sector, "
        "category or competitors), for the post-mortem's share of voice; null: not known. "
        "Not the watch itself nor a watch that has a topic watch.",
    )

    class Meta:
        model = Watch
        fields = [
            "id",
            "name",
            "brand",
            "keywords",
            "exclusions",
            "hashtags",
            "handles",
            "languages",
            "platforms",
            "is_active",
            "topic_watch",
            "volume_deviations",
            "volume_min_count",
            "tone_shift_points",
            "tone_min_scored",
            "subscribers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness is the action's (full_clean), with the same message for page and API.
        extra_kwargs = {"name": {"max_length": MAX_NAME, "validators": []}}


class MentionSerializer(serializers.Serializer):
    id = IntegerField()
    platform = serializers.CharField()
    external_id = serializers.CharField()
    url = serializers.CharField()
    author = serializers.SerializerMethodField()
    text = serializers.CharField()
    language = serializers.CharField(help_text='ISO 639-1 code; "" when not known.')
    posted_at = serializers.DateTimeField()
    collected_at = serializers.DateTimeField()
    likes = IntegerField()
    reposts = IntegerField()
    replies = IntegerField()
    in_reply_to = serializers.CharField()
    reply_to_brand = BooleanField()
    sentiment = serializers.ChoiceField(choices=Sentiment.choices)
    sentiment_score = FloatField(
        allow_null=True, help_text="VADER compound score in [-1, 1]; null when not scored."
    )
    source = serializers.ChoiceField(choices=Source.choices)
    watches = serializers.SerializerMethodField()
    incident = serializers.SerializerMethodField()

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get_author(self, mention) -> dict:
        return {
            "handle": mention.author_handle,
            "name": mention.author_name,
            "url": mention.author_url,
            "followers": mention.author_followers,
            "verified": mention.author_verified,
            "follows_brand": mention.author_follows_brand,
        }

    def get_watches(self, mention) -> list[int]:
        return self.context["watches"].get(mention.id, [])

    def get_incident(self, mention) -> int | None:
        visible = self.context["incidents"]
        return mention.incident_id if mention.incident_id in visible else None


def serialize_mentions(page, user) -> list:
    """A page of mentions with their watches and, where `user` may see it, their incident:
    two queries whatever the page size."""
    ids = [mention.id for mention in page]
    context = {
        "watches": selectors.watch_ids_by_mention(ids),
        "incidents": selectors.visible_incident_ids(user, [m.incident_id for m in page]),
    }
    return MentionSerializer(page, many=True, context=context).data


class MentionPagination(CursorPagination):
    """The mentions' page sizes and cursor parameter; _mentions_page reads the pages (keyset
    on posted_at and id)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


def _require_listening(request):
    if not rules.can_view_listening(request.user):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))


class WatchPagination(CursorPagination):
    ordering = ("name",)  # unique
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class WatchPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null at the end.")
    previous = serializers.URLField(allow_null=True)
    results = WatchSerializer(many=True)


class WatchListView(APIView):
    @extend_schema(
        operation_id="watches_list",
        parameters=cursor_parameters(WatchPagination),
        responses=WatchPageSerializer,
    )
    def get(self, request):
        """Every watch by name, active or not (listening readers: `listening.view_mention`),
        in cursor pages of 50 (`page_size` up to 200): nothing bounds their number."""
        _require_listening(request)
        paginator = WatchPagination()
        qs = selectors.watches().prefetch_related("subscribers")
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WatchSerializer(page, many=True).data)

    @extend_schema(request=WatchSerializer, responses={201: WatchSerializer})
    def post(self, request):
        """Create a watch (`listening.change_watch`). Needs at least one keyword, hashtag
        or handle; `#` and `@` typed before hashtags and handles are dropped; `subscribers`
        are user ids of listening readers. A refused value: 400 with `errors` naming it."""
        _require_listening(request)
        rules.require_edit_watches(request.user)  # before validating: 403, not field errors
        serializer = WatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        watch = actions.watch_create(actor=request.user, **serializer.validated_data)
        return Response(WatchSerializer(watch).data, status=status.HTTP_201_CREATED)


class WatchDetailView(APIView):
    def _watch(self, request, pk) -> Watch:
        _require_listening(request)
        return get_object_or_404(Watch.objects.prefetch_related("subscribers"), pk=pk)

    @extend_schema(responses=WatchSerializer)
    def get(self, request, pk):
        return Response(WatchSerializer(self._watch(request, pk)).data)

    @extend_schema(request=WatchSerializer, responses=WatchSerializer)
    def patch(self, request, pk):
        """Change a watch; `"is_active": false` stops it (watches are never deleted)."""
        watch = self._watch(request, pk)
        rules.require_edit_watches(request.user)
        serializer = WatchSerializer(watch, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        watch = actions.watch_update(watch=watch, actor=request.user, **serializer.validated_data)
        return Response(WatchSerializer(watch).data)


class RematchRequestSerializer(serializers.Serializer):
    days = serializers.ChoiceField(
        choices=actions.REMATCH_DAYS, default=7, help_text="How many days back to sort again."
    )


class RematchSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="The oldest posting time sorted again.")
    read = IntegerField(help_text="Mentions posted since then that were read.")
    added = IntegerField(help_text="Mentions that joined the watch.")
    removed = IntegerField(help_text="Mentions that left it (still stored).")
    capped = BooleanField(
        help_text=f"True when more than {actions.REMATCH_MAX} were posted since then: "
        "the newest were sorted again, the older ones kept their watches."
    )
    signals_closed = IntegerField(
        help_text="The watch's open signals closed because it no longer matches any of their "
        "posts (an exclusion took them all)."
    )


class WatchRematchView(APIView):
    @extend_schema(
        operation_id="watches_rematch",
        request=RematchRequestSerializer,
        responses=RematchSerializer,
    )
    def post(self, request, pk):
        """Sort the mentions of the last `days` days (1, 3 or 7) again with the watch as it
        now is (`listening.change_watch`): those it now matches join it, those it no longer
        matches leave it. A stopped watch: 400; a watch saved again and again meanwhile
        (each save restarts the sort), or a sort of it already under way: 409 (the latter
        with `sorting_since` and `claim_expires_at`: from then, a sort cut off no longer
        holds the watch)."""
        _require_listening(request)
        watch = get_object_or_404(Watch, pk=pk)
        rules.require_edit_watches(request.user)
        serializer = RematchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = actions.watch_rematch(
            watch=watch, actor=request.user, days=serializer.validated_data["days"]
        )
        return Response(RematchSerializer(result).data)


MENTION_FILTERS = [
    OpenApiParameter("watch", int),
    OpenApiParameter("platform", str, enum=Platform.values),
    OpenApiParameter(
        "language",
        str,
        description='a code or tag (en, en-US) or a name (English, Français), or "unknown"; '
        "400 for anything else",
    ),
    OpenApiParameter("sentiment", str, enum=Sentiment.values),
    OpenApiParameter("min_followers", int, description="only authors with this reach or more"),
    OpenApiParameter("since", OpenApiTypes.DATETIME),
    OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter(
        "q",
        str,
        description=(
            f"search (at most {MAX_SEARCH} characters, its first {MAX_SEARCH_TERMS} terms): "
            f"each word must begin a word of the post's first {selectors.SEARCH_CHARS} "
            "characters, its author's handle or name, ignoring case and accents; "
            '"a phrase" keeps its words in order, -word excludes, `a OR b` takes either; '
            "400 when it holds nothing to search. Each page reads "
            f"at most {selectors.SEARCH_SCAN} posts, so a page may hold fewer results than "
            "page_size, even none, while `next` goes on: follow `next` until it is null."
        ),
    ),
]


# The largest `watch` or `min_followers` a query may give.
MAX_FILTER_NUMBER = 2**31


def _filters(params) -> dict:
    """The mention filters of a query string; 400 naming the bad one (its messages name no
    field: the error is filed under the parameter's name)."""
    found = {}
    for name in ("watch", "min_followers"):
        if params.get(name):
            found[name] = parse_id(params[name])  # ASCII digits: no "1_0"
            if found[name] is None:
                raise ValidationError({name: [_("Must be a whole number.")]})
            if found[name] > MAX_FILTER_NUMBER:
                message = _("Out of range: give a whole number from 0 to %(max)s.") % {
                    "max": number_format(MAX_FILTER_NUMBER, force_grouping=True)
                }
                raise ValidationError({name: [message]})
    for name, allowed in (("platform", Platform.values), ("sentiment", Sentiment.values)):
        if params.get(name):
            if params[name] not in allowed:
                raise ValidationError({name: [_("Unknown value.")]})
            found[name] = params[name]
    if params.get("language"):
        language = params["language"]
        try:  # read as the ingest reads a post's ("EN-us", "english": en)
            found["language"] = "" if language == "unknown" else read_language(language, None)
        except RowError as error:
            raise ValidationError({"language": [str(error)]}) from None
    for name in ("since", "until"):
        if params.get(name):
            try:
                found[name] = parse_time(params[name], None, future=True)
            except RowError as error:
                raise ValidationError({name: [str(error)]}) from None
    return found


def _search(params) -> TextSearch | None:
    """The `q` search of a query string, or None when nothing searchable was typed."""
    query = params.get("q", "")
    refused = search_refused(query)
    if refused:
        raise ValidationError({"q": [refused]})
    search = TextSearch(query)
    if query.strip() and not search:
        raise ValidationError(
            {"q": [_("Nothing to search: give words, a #hashtag or an @handle.")]}
        )
    return search or None


def _mentions_page(request, qs) -> Response:
    """One page of the mentions `qs` with the serializers' shape, newest first, as the pages'
    stream reads it (selectors.stream_page): keyset cursors on (posted_at, id), so posts
    sharing a time (a day's import of dates without hours) are neither repeated nor skipped
    however many there are (DRF's cursor keeps the time and an offset, cut at 1,000); with
    `q` the bounded search's page."""
    paginator = MentionPagination()
    search = _search(request.query_params)
    cursor = request.query_params.get(paginator.cursor_query_param)
    before = selectors.parse_key(cursor)
    if cursor and before is None:
        raise ValidationError({paginator.cursor_query_param: [paginator.invalid_cursor_message]})
    found = selectors.stream_page(
        qs, search=search, before=before, size=paginator.get_page_size(request)
    )
    following = None
    if found.next_before:
        following = replace_query_param(
            request.build_absolute_uri(),
            paginator.cursor_query_param,
            selectors.key_text(*found.next_before),
        )
    results = serialize_mentions(found.mentions, request.user)
    if search is None:
        return Response({"next": following, "previous": None, "results": results})
    first = found.matched is not None  # only the first page counts
    summary = SearchSummarySerializer(
        {
            "matched": found.matched,
            "counted_all": found.counted_all if first else None,
            "counted_to": found.counted_to,
            "searched_to": found.searched_to,
        }
    ).data
    return Response({"next": following, "previous": None, "results": results, "search": summary})


class SearchSummarySerializer(serializers.Serializer):
    """What a `q` page read (selectors.SearchPage): the pages' "74 posts match" sentence."""

    matched = IntegerField(
        allow_null=True,
        help_text=(
            "First page only (no cursor), else null: how many mentions match among those read "
            f"to count: all of them (`counted_all`), or the {selectors.SEARCH_SCAN:,} newest."
        ),
    )
    counted_all = BooleanField(
        allow_null=True,
        help_text="`matched` counts every mention filtered; null when `matched` is.",
    )
    counted_to = serializers.DateTimeField(
        allow_null=True,
        help_text="When `matched` is not every match: the oldest post time it counted back to.",
    )
    searched_to = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            f"Set when this page read its {selectors.SEARCH_SCAN:,} posts before it was full: "
            "the oldest post time read (older posts may match: follow `next`)."
        ),
    )


class MentionPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null at the end.")
    previous = serializers.URLField(allow_null=True)
    results = MentionSerializer(many=True)
    search = SearchSummarySerializer(
        required=False, help_text="With `q` only: what the search read and counted."
    )


class MentionListView(APIView):
    @extend_schema(
        parameters=[*MENTION_FILTERS, *cursor_parameters(MentionPagination)],
        responses=MentionPageSerializer,
    )
    def get(self, request):
        """Mentions newest first (cursor pages of 50, `page_size` up to 200), filtered."""
        _require_listening(request)
        return _mentions_page(request, selectors.mentions(**_filters(request.query_params)))


class IncidentMentionListView(APIView):
    @extend_schema(
        parameters=[*MENTION_FILTERS, *cursor_parameters(MentionPagination)],
        responses=MentionPageSerializer,
    )
    def get(self, request, pk):
        """The mentions attached to an incident (its cell; outsiders get 404)."""
        incident = visible_incident(request, pk)
        qs = selectors.mentions(incident=incident, **_filters(request.query_params))
        return _mentions_page(request, qs)


class BulkReportSerializer(serializers.Serializer):
    lines = IntegerField(help_text="Non-blank lines received.")
    stored = IntegerField(help_text="New mentions stored.")
    duplicates = IntegerField(help_text="Lines naming a mention already stored.")
    unmatched = IntegerField(
        help_text="Of the stored, those matching no active watch (on no watch, in no alert)."
    )
    rejected = ListField(
        child=inline_serializer(
            "BulkLineError", {"line": IntegerField(), "error": serializers.CharField()}
        ),
        help_text=f"The refused lines (the first {MAX_LINE_ERRORS}), 1-based.",
    )
    rejected_not_listed = IntegerField()


def read_body(request, limit: int) -> bytes:
    """The request body, gunzipped when `Content-Encoding: gzip` (every member of a
    multi-member stream, as `cat a.gz b.gz` makes), at most `limit` bytes once
    decompressed: raises BodyTooLarge (413) past it, InvalidInput (400) on a broken or
    truncated gzip stream or bytes after it. Read in chunks, so a large or gzip-bomb body
    never sits whole in memory."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise UnsupportedEncoding()
    gunzip = _Gunzip(limit) if encoding == "gzip" else None
    out, size = [], 0
    stream = request._request
    while chunk := stream.read(64 * 1024):
        if gunzip is not None:
            chunk = gunzip.feed(chunk, limit + 1 - size)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        out.append(chunk)
    if gunzip is not None:
        gunzip.finish()
    return b"".join(out)


class _Gunzip:
    """Decompress gzip members one after another: zlib stops at the end of the first."""

    def __init__(self, limit):
        self.limit = limit
        self.inflate = zlib.decompressobj(wbits=31)
        self.started = False

    def feed(self, data: bytes, room: int) -> bytes:
        out = []
        while data:
            self.started = True
            try:
                piece = self.inflate.decompress(data, max(1, room))
            except zlib.error:
                raise InvalidInput(_("The body is not valid gzip.")) from None
            if self.inflate.unconsumed_tail:
                raise BodyTooLarge(self.limit)
            out.append(piece)
            room -= len(piece)
            data = self.inflate.unused_data if self.inflate.eof else b""
            if data:
                self.inflate = zlib.decompressobj(wbits=31)  # the next member
        return b"".join(out)

    def finish(self) -> None:
        if self.started and not self.inflate.eof:
            raise InvalidInput(_("The gzip body is cut short."))


class BodyTooLarge(InvalidInput):
    status_code = 413

    def __init__(self, limit):
        super().__init__(
            _("The body is larger than %(mb)s MB once decompressed: send it in parts.")
            % {"mb": round(limit / 1_000_000, 1)}
        )


class TooManyLines(InvalidInput):
    status_code = 413

    def __init__(self):
        super().__init__(
            _("A body holds at most %(n)s lines, as an imported file: send it in parts.")
            % {"n": f"{MAX_ROWS:,}"}
        )


class UnsupportedEncoding(InvalidInput):
    status_code = 415

    def __init__(self):
        super().__init__(_("Send the body as is or gzip-compressed (Content-Encoding: gzip)."))


class BodyLeftForTheView(BaseParser):
    """Claims any body without reading it: the view reads it raw (read_body, gzip and size
    limit included) and refuses a type other than NDJSON itself. DRF still "parses" a
    session request's body for its CSRF check; with no parser at all that was a 415 for a
    signed-in browser or script."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class MentionBulkView(APIView):
    parser_classes = [BodyLeftForTheView]

    @extend_schema(
        request={"application/x-ndjson": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter(
                "Content-Encoding",
                str,
                location=OpenApiParameter.HEADER,
                enum=["gzip", "identity"],
                description="`gzip` for a gzip-compressed body (several members allowed, as "
                "`cat a.gz b.gz` makes); the size limit counts the decompressed body.",
            )
        ],
        responses={
            200: BulkReportSerializer,
            413: inline_serializer("BodyTooLarge", {"detail": serializers.CharField()}),
        },
    )
    def post(self, request):
        """Store mentions sent as NDJSON, one post per line (docs/api.md, "Mentions"),
        optionally gzip-compressed. Idempotent: a post already stored is counted as a
        duplicate. Good lines are stored even when others are refused; each refused line
        is reported with its number and reason. 413 over LISTENING_BULK_MAX_BYTES
        (decompressed), 415 for another content type. `listening.add_mention` needed, and
        nothing more: the report shows no stored mention (rules.can_ingest)."""
        rules.require_ingest(request.user)
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type not in NDJSON_TYPES:
            raise UnsupportedMediaType()
        body = read_body(request, settings.LISTENING_BULK_MAX_BYTES)
        if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InvalidInput(_("The body is UTF-16 text: send it in UTF-8."))
        if count_lines(body) > MAX_ROWS:  # cheap lines refused one by one still cost CPU
            raise TooManyLines()
        parsed = parse_ndjson(body)
        if not parsed.lines:
            raise InvalidInput(_("The body holds no line to import."))
        result = actions.mentions_ingest(
            mentions=parsed.mentions, source=Source.API, actor=request.user
        )
        report = {
            "lines": parsed.lines,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "unmatched": result.unmatched,
            "rejected": [vars(e) for e in parsed.errors],
            "rejected_not_listed": parsed.refused - len(parsed.errors),
        }
        if not parsed.mentions:
            report["detail"] = _("No line could be imported: see rejected.")
            return Response(report, status=status.HTTP_400_BAD_REQUEST)
        return Response(report)


class UnsupportedMediaType(InvalidInput):
    status_code = 415

    def __init__(self):
        super().__init__(
            _("Send NDJSON (Content-Type: application/x-ndjson), one mention per line.")
        )
