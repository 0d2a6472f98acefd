"""Reads of the listening app."""

from incidents import selectors as incident_selectors

from .models import Mention, MentionMatch, Watch


def watches():
    return Watch.objects.all()


def mentions(
    *,
    watch=None,
    platform=None,
    language=None,
    sentiment=None,
    min_followers=None,
    incident=None,
    since=None,
    until=None,
):
    """Mentions newest first, filtered. `language` "" means "not known"."""
    qs = Mention.objects.all()
    if watch is not None:
        qs = qs.filter(id__in=MentionMatch.objects.filter(watch_id=watch).values("mention_id"))
    if platform:
        qs = qs.filter(platform=platform)
    if language is not None:
        qs = qs.filter(language=language)
    if sentiment:
        qs = qs.filter(sentiment=sentiment)
    if min_followers is not None:
        qs = qs.filter(author_followers__gte=min_followers)
    if incident is not None:
        qs = qs.filter(incident=incident)
    if since is not None:
        qs = qs.filter(posted_at__gte=since)
    if until is not None:
        qs = qs.filter(posted_at__lt=until)
    return qs


def watch_ids_by_mention(mention_ids) -> dict[int, list[int]]:
    """{mention id: [watch ids]} for a page of mentions: one query."""
    found: dict[int, list[int]] = {}
    rows = MentionMatch.objects.filter(mention_id__in=mention_ids).order_by("watch_id")
    for mention_id, watch_id in rows.values_list("mention_id", "watch_id"):
        found.setdefault(mention_id, []).append(watch_id)
    return found


def visible_incident_ids(user, incident_ids) -> set[int]:
    """Which of these incidents `user` may see: a mention names its incident only to them."""
    ids = {i for i in incident_ids if i is not None}
    if not ids:
        return set()
    qs = incident_selectors.incidents_visible_to(user).filter(pk__in=ids)
    return set(qs.values_list("pk", flat=True))
