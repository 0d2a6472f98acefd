"""Every write of the listening app (keyword-only, `actor=`; None is the system: a
connector)."""

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.errors import InvalidInput

from . import language, rules, sentiment
from .ingest import MentionData
from .matching import Matcher, clean_terms
from .models import MAX_TERM, MAX_TERMS, CollectorState, Mention, MentionMatch, Watch

# Rows written per transaction: big enough to amortise the round trips, small enough that
# a batch's locks and memory stay short.
BATCH = 1000

TERM_LISTS = {"keywords": "", "exclusions": "", "hashtags": "#", "handles": "@"}
WATCH_FIELDS = {
    "name",
    "brand",
    *TERM_LISTS,
    "languages",
    "platforms",
    "is_active",
    "volume_deviations",
    "volume_min_count",
    "tone_shift_points",
    "tone_min_scored",
}


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    ids: list[int] = field(default_factory=list)


def _terms(values, name) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(_("%(field)s must be a list of texts.") % {"field": name})
    terms = clean_terms(values, prefix=TERM_LISTS[name])
    if len(terms) > MAX_TERMS:
        raise InvalidInput(_("At most %(n)s %(field)s.") % {"n": MAX_TERMS, "field": name})
    long = [term for term in terms if len(term) > MAX_TERM]
    if long:
        message = _("“%(term)s…” is longer than %(n)s characters.")
        raise InvalidInput(message % {"term": long[0][:30], "n": MAX_TERM})
    return terms


def clean_watch(values: dict, *, watch: Watch | None = None) -> dict:
    """The watch fields in `values` as stored (term lists stripped and deduplicated), or
    InvalidInput. The rule of the API, the admin form and the actions."""
    unknown = set(values) - WATCH_FIELDS
    if unknown:
        raise InvalidInput(_("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    cleaned = dict(values)
    for name in TERM_LISTS:
        if name in cleaned:
            cleaned[name] = _terms(cleaned[name], name)
    final = {name: cleaned.get(name, getattr(watch, name, [])) for name in TERM_LISTS}
    if not (final["keywords"] or final["hashtags"] or final["handles"]):
        raise InvalidInput(_("A watch needs at least one keyword, hashtag or handle."))
    return cleaned


def _validate(watch: Watch) -> None:
    """The model's own checks (lengths, unique name) as InvalidInput naming the field."""
    try:
        watch.full_clean(exclude=["created_by", "subscribers", "created_at", "updated_at"])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        message = problems[0] if field == NON_FIELD_ERRORS else f"{field}: {problems[0]}"
        raise InvalidInput(message) from None


def watch_create(*, actor, now=None, **values) -> Watch:
    """A new watch. Raises NotAllowed (rules.can_edit_watches) or InvalidInput."""
    rules.require_edit_watches(actor)
    now = now or timezone.now()
    watch = Watch(**clean_watch(values), created_by=actor, created_at=now, updated_at=now)
    _validate(watch)
    watch.save()
    return watch


def watch_update(*, watch: Watch, actor, now=None, **values) -> Watch:
    """Change a watch's fields (deactivate with is_active=False: a watch that collected
    mentions is never deleted)."""
    rules.require_edit_watches(actor)
    for name, value in clean_watch(values, watch=watch).items():
        setattr(watch, name, value)
    _validate(watch)
    watch.updated_at = now or timezone.now()
    watch.save()
    return watch


def mentions_ingest(*, mentions: list[MentionData], source: str, actor, now=None) -> IngestResult:
    """Store posts not seen before (by platform and id), each with its language (kept when
    the platform gave it, else detected), sentiment and the active watches it matches.
    Idempotent: a post already stored, or twice in `mentions`, counts as a duplicate.
    Each batch of BATCH is one transaction, so a failure leaves no half-written batch.
    `actor` None is the system (a connector); a person needs rules.can_ingest."""
    if actor is not None:
        rules.require_ingest(actor)
    now = now or timezone.now()
    matcher = Matcher(Watch.objects.filter(is_active=True))
    result = IngestResult()
    for start in range(0, len(mentions), BATCH):
        _ingest_batch(mentions[start : start + BATCH], source, now, matcher, result)
    return result


def _ingest_batch(batch, source, now, matcher, result) -> None:
    unique = {}
    for data in batch:
        unique.setdefault(data.key, data)
    result.duplicates += len(batch) - len(unique)
    with transaction.atomic():
        ids = {key[1] for key in unique}
        known = set(
            Mention.objects.filter(external_id__in=ids).values_list("platform", "external_id")
        )
        fresh = [data for key, data in unique.items() if key not in known]
        rows, matched = [], {}
        for data in fresh:
            values = {name: getattr(data, name) for name in data.__slots__}
            values["language"] = data.language or language.detect(data.text)
            score, label = sentiment.score(data.text, values["language"])
            rows.append(
                Mention(
                    **values,
                    collected_at=now,
                    source=source,
                    sentiment_score=score,
                    sentiment=label,
                )
            )
            matched[data.key] = matcher.match(
                text=data.text,
                platform=data.platform,
                language=values["language"],
                author=data.author_handle,
            )
        # ignore_conflicts: a concurrent ingest of the same post wins the race quietly; the
        # rows stored by this call are the ones carrying its collection time.
        Mention.objects.bulk_create(rows, ignore_conflicts=True)
        stored = Mention.objects.filter(
            external_id__in={data.external_id for data in fresh}, collected_at=now
        ).values_list("id", "platform", "external_id", "posted_at", "sentiment")
        links = []
        for mention_id, platform, external_id, posted_at, label in stored:
            if (platform, external_id) not in matched:
                continue
            result.ids.append(mention_id)
            links += [
                MentionMatch(
                    mention_id=mention_id, watch_id=watch_id, posted_at=posted_at, sentiment=label
                )
                for watch_id in matched.pop((platform, external_id))
            ]
        MentionMatch.objects.bulk_create(links)
    result.stored += len(fresh) - len(matched)
    result.duplicates += len(unique) - len(fresh) + len(matched)


def collector_state_record(
    *, name: str, actor=None, state: dict | None = None, error: str | None = None, now=None
) -> CollectorState:
    """Where a collector stands (`CollectorState`, by its unique `name`), after a pass.
    `state` (a JSON-able dict) replaces the stored one when given. `error` None is a
    success (`last_success_at` = now, `last_error` cleared); a string is the failure to
    show (cut to the field's length), the state and last success staying as they were.
    `actor` None is the system: collectors are the only writers."""
    now = now or timezone.now()
    values = {"updated_at": now}
    if state is not None:
        values["state"] = state
    if error is None:
        values.update(last_success_at=now, last_error="")
    else:
        values["last_error"] = error[: CollectorState._meta.get_field("last_error").max_length]
    collector, _created = CollectorState.objects.update_or_create(name=name, defaults=values)
    return collector
