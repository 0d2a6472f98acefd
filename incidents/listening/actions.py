"""Every write of the listening app (keyword-only, `actor=`; None is the system: a
connector)."""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import Truncator, capfirst, get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from incidents import rules as incident_rules
from incidents.actions import incident_declare, lock_incident, timeline_record
from incidents.choices import EntryKind, Origin
from incidents.errors import Conflict, InvalidInput, NotAllowed
from incidents.localtime import shown
from incidents.models import Incident, Platform
from incidents.notifications.actions import notify, per_reader
from incidents.notifications.choices import NotificationKind
from incidents.text import one_line

from . import events, figures, language, rules, selectors, sentiment
from .choices import Sentiment, SignalKind, SignalStatus
from .ingest import MentionData, language_code, post_language, scored_text
from .matching import (
    MAX_PHRASE_WORDS,
    Matcher,
    clean_terms,
    compatible,
    fold,
    hidden_characters,
    is_findable,
    mixed_script_word,
    phrase,
    term_words,
    visible,
)
from .models import (
    BURST_SIZE_RANGE,
    MAX_NAME,
    MAX_OPEN_BURSTS,
    MAX_TERM,
    MAX_TERMS,
    CollectorState,
    ExpectedBurst,
    Mention,
    MentionMatch,
    Signal,
    Watch,
    shown_handle,
)
from .terms import guess_category
from .terms import words as terms_of

# Rows written per transaction: big enough to amortise the round trips, small enough that
# a batch's locks and memory stay short.
BATCH = 1000

TERM_LISTS = {"keywords": "", "exclusions": "", "hashtags": "#", "handles": "@"}
# The alert rules' accepted ranges (inclusive): the page's inputs show the same bounds.
ALERT_RULES = {
    "volume_deviations": (1.0, 100.0),
    "volume_min_count": (1, 1_000_000),
    "tone_shift_points": (1, 100),
    "tone_min_scored": (1, 1_000_000),
}
WATCH_FIELDS = {
    "name",
    "brand",
    *TERM_LISTS,
    "languages",
    "platforms",
    "is_active",
    "topic_watch",
    *ALERT_RULES,
    "subscribers",
}
MAX_LANGUAGES = 50
MAX_SUBSCRIBERS = 100
MIN_TERM_LETTERS = 2


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    ids: list[int] = field(default_factory=list)
    # Of the stored: those matching no active watch (on no watch's page, in no detection).
    unmatched: int = 0
    # The stored posts' (platform, external id): the import's report splits them as its
    # preview did (selectors.imported_counts).
    keys: set = field(default_factory=set)


def _invalid(field: str, message: str) -> InvalidInput:
    """A refused value of one field: `errors` names it, as the API's field errors do, so
    the page shows the message beside the field (docs/api.md, "Errors")."""
    return InvalidInput(message, errors={field: [message]})


def _label(name: str) -> str:
    """The field's name as people read it ("keywords and phrases"), capitalised when it
    starts the message."""
    return str(Watch._meta.get_field(name).verbose_name)


# A refusal names at most this many of the terms it refuses, then how many more.
TERMS_NAMED = 5


def _terms_named(terms, prefix="") -> str:
    """“a”, “#b” and 3 more: the refused terms of a list, in one sentence."""
    quotes = pgettext("quoting someone's words", "“%(text)s”")  # « » in French
    named = [
        quotes % {"text": prefix + visible(term[:40]) + ("…" if len(term) > 40 else "")}
        for term in terms[:TERMS_NAMED]
    ]
    more = len(terms) - TERMS_NAMED
    if more > 0:
        named.append(ngettext("%(n)s more", "%(n)s more", more) % {"n": more})
    return get_text_list(named, _("and"))


# A refusal names at most this many of the lines it refuses, then how many more.
LINES_NAMED = 10


def _lines_named(numbers) -> str:
    """ "Line 4", "Lines 4 and 11", "Lines 1, 2, … and 3 more": where the refused terms are
    in the list as given (a line of the page's box, an entry of the API's list)."""
    numbers = sorted(set(numbers))
    named = [str(number) for number in numbers[:LINES_NAMED]]
    more = len(numbers) - LINES_NAMED
    if more > 0:
        named.append(ngettext("%(n)s more", "%(n)s more", more) % {"n": more})
    return ngettext("Line %(numbers)s", "Lines %(numbers)s", len(numbers)) % {
        "numbers": get_text_list(named, _("and"))
    }


def _on_lines(numbers, message: str) -> str:
    """`message` about the terms on these lines, the lines named first: the one place a
    term list's refusal says where to look (the page, the API and the admin say the
    same)."""
    if not numbers:
        return message
    return _("%(lines)s: %(problem)s") % {"lines": _lines_named(numbers), "problem": message}


def _term_lines(values, prefix: str) -> dict[str, list[int]]:
    """Each stored term (by its folded form, as clean_terms keeps one of each) and the
    lines of `values` (from 1; a blank one counts, as the page's box shows it) it comes
    from."""
    lines: dict[str, list[int]] = {}
    for number, value in enumerate(values, start=1):
        stored = clean_terms([value], prefix=prefix)
        if stored:
            lines.setdefault(fold(stored[0]), []).append(number)
    return lines


def _terms(values, name) -> list[str]:
    """A term list as stored, or InvalidInput naming every refused term at once, each
    problem in its own message (a keyword too long and one too short: both said), each
    message starting with the lines of `values` it is about (_on_lines)."""
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        message = _("%(field)s must be a list of texts.") % {"field": capfirst(_label(name))}
        raise _invalid(name, message)
    terms = clean_terms(values, prefix=TERM_LISTS[name])
    if len(terms) > MAX_TERMS:
        message = _("At most %(n)s %(field)s.") % {"n": MAX_TERMS, "field": _label(name)}
        raise _invalid(name, message)
    prefix = TERM_LISTS[name]
    problems, refused = [], set()
    lines = _term_lines(values, prefix)

    def refuse(kind, one, many, *, written=prefix, **values):
        """Each term of `kind` not refused already, named in `one` (one term, `written`
        before it: "#" for a hashtag, unless `one` writes it) or `many`, after its lines."""
        kind = [term for term in kind if term not in refused]
        refused.update(kind)
        where = [number for term in kind for number in lines.get(fold(term), [])]
        if len(kind) > 1:  # every one named: not one more per save
            problems.append(
                _on_lines(where, many % {"terms": _terms_named(kind, prefix), **values})
            )
        elif kind:
            message = one % {"term": written + visible(kind[0][:40]), **values}
            problems.append(_on_lines(where, message))

    # Look-alikes (one rule for the page, the API and the admin): a term holding an
    # invisible or direction character, or a word mixing look-alike alphabets, reads as
    # another one on every page.
    refuse(
        [term for term in terms if hidden_characters(term)],
        _(
            "“%(term)s” holds an invisible or text-direction character (shown as ⟨U+…⟩ "
            "here): type it again without it."
        ),
        _(
            "%(terms)s hold invisible or text-direction characters (shown as ⟨U+…⟩ here): "
            "type them again without them."
        ),
    )
    mixed = {term: mixed_script_word(term) for term in terms if term not in refused}
    mixed = {term: found for term, found in mixed.items() if found}
    first = next(iter(mixed.values()), ("", []))
    refuse(
        list(mixed),
        _(
            "“%(term)s” mixes alphabets in “%(word)s”: %(letters)s, among letters of "
            "another alphabet that look the same. Type it again in one alphabet."
        ),
        _(
            "%(terms)s mix look-alike letters of different alphabets (Latin, Cyrillic, "
            "Greek) in one word: type them again in one alphabet."
        ),
        word=first[0][:40],
        letters=_odd_letters(first[1]),
    )
    refuse(
        [term for term in terms if len(term) > MAX_TERM],
        _("“%(term)s…” is longer than %(n)s characters."),
        _("%(terms)s are longer than %(n)s characters."),
        n=MAX_TERM,
    )
    # Matching compares words (matching.phrase): a term without one matches nothing, and a
    # keyword of one letter ("a", "x") matches most posts.
    refuse(
        [term for term in terms if len(phrase(term)) < MIN_TERM_LETTERS],
        _("“%(term)s” is too short to search for: use at least %(n)s letters or digits."),
        _("%(terms)s are too short to search for: use at least %(n)s letters or digits."),
        n=MIN_TERM_LETTERS,
    )
    # A hashtag or handle a post cannot hold as one token would never match.
    unfindable = [term for term in terms if prefix and not is_findable(term, prefix)]
    if prefix == "#":
        refuse(
            unfindable,
            _("“#%(term)s” cannot be found: a hashtag is letters, digits and _ only."),
            _("%(terms)s cannot be found: a hashtag is letters, digits and _ only."),
            written="",
        )
    else:
        refuse(
            unfindable,
            _("“@%(term)s” is not a handle: a handle has no spaces."),
            _("%(terms)s are not handles: a handle has no spaces."),
            written="",
        )
    # A phrase is matched on its first MAX_PHRASE_WORDS words: refused rather than cut.
    refuse(
        [t for t in terms if not prefix and len(term_words(t)) > MAX_PHRASE_WORDS],
        _("“%(term)s” has more than %(n)s words: a phrase is matched on %(n)s at most."),
        _("%(terms)s have more than %(n)s words: a phrase is matched on %(n)s at most."),
        n=MAX_PHRASE_WORDS,
    )
    problems.extend(_same_terms(values, prefix, refused))
    if problems:
        raise InvalidInput(problems[0], errors={name: problems})
    return terms


def _as_written(value: str, prefix: str) -> str:
    """An entry of a term list as the person wrote it: spaces collapsed, without the `#` or
    `@` they may type (a full-width one too), its letters as typed."""
    # Canonically equal texts are one form (é typed, or e and its accent pasted from a Mac).
    text = unicodedata.normalize("NFC", " ".join(value.split()))
    while prefix and text and compatible(text[0]) == prefix:
        text = text[1:]
    return text


_JOINER_CODES = {"\u200c": "⟨U+200C⟩", "\u200d": "⟨U+200D⟩"}


def _told_apart(forms: list[str]) -> list[str]:
    """Forms that differ only by a joiner (ZWNJ, ZWJ: invisible, but kept in terms) shown
    with it written as its code, so a message does not name two identical-looking terms."""
    bare = {form.translate(str.maketrans("", "", "".join(_JOINER_CODES))) for form in forms}
    if len(bare) == len(forms):
        return forms
    return [form.translate(str.maketrans(_JOINER_CODES)) for form in forms]


def _same_terms(values, prefix: str, refused: set) -> list[str]:
    """One message for each term written in several forms that the watch reads as one
    (matching.Matcher: a keyword or exclusion by its words, whatever their case, accents,
    the punctuation between them and the width of their characters; a hashtag or handle
    folded): a full-width “boycott” beside the plain one is one term, which the person is
    told rather than one of them silently dropped. The same entry written twice is one,
    unsaid. Terms in `refused` (already refused for another reason) are not named again."""
    forms: dict[str, dict[str, None]] = {}
    lines: dict[str, list[int]] = {}
    for number, value in enumerate(values, start=1):
        stored = clean_terms([value], prefix=prefix)
        if not stored or stored[0] in refused:
            continue
        key = fold(stored[0]) if prefix else phrase(stored[0])
        if key:
            forms.setdefault(key, {})[_as_written(value, prefix)] = None
            lines.setdefault(key, []).append(number)
    groups = [(list(written), lines[key]) for key, written in forms.items() if len(written) > 1]
    if prefix:
        same = _(
            "%(terms)s are the same term: each finds the same posts (case, accents and "
            "character width do not count)."
        )
    else:
        same = _(
            "%(terms)s are the same term: each finds the same posts (case, accents, "
            "punctuation between words and character width do not count)."
        )

    def keep_one(numbers) -> str:
        # What to do, said by line: an old watch saved before this rule is refused on the
        # next change of this list, and its person must see which lines to delete.
        others = len(numbers) - 1
        return ngettext(
            "Keep one of these lines and delete the other.",
            "Keep one of these lines and delete the other %(n)s.",
            others,
        ) % {"n": others}

    messages = [
        _on_lines(
            numbers,
            f"{same % {'terms': _terms_named(_told_apart(group), prefix)}} {keep_one(numbers)}",
        )
        for group, numbers in groups[:TERMS_NAMED]
    ]
    more = len(groups) - TERMS_NAMED
    if more > 0:
        messages.append(
            ngettext(
                "%(n)s more term is written in several forms: keep one form of each.",
                "%(n)s more terms are written in several forms: keep one form of each.",
                more,
            )
            % {"n": more}
        )
    return messages


def _languages(values) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise _invalid("languages", _("Languages must be a list of codes."))
    # The posts' rule (ingest.language_code: "en-US" is "en"), then a language known.
    codes = {value: language_code(value) for value in values}
    bad = [value for value, code in codes.items() if code is None or not language.is_code(code)]
    bad = [value.strip() for value in bad if codes[value] != ""]
    if len(bad) > 1:  # every one named: not one more per save
        message = _("%(codes)s are not language codes: use ISO 639-1 codes such as fr or en.")
        raise _invalid("languages", message % {"codes": _terms_named(bad)})
    if bad:
        message = _("“%(code)s” is not a language code: use ISO 639-1 codes such as fr or en.")
        raise _invalid("languages", message % {"code": bad[0][:30]})
    codes = list(dict.fromkeys(code for code in codes.values() if code))
    if len(codes) > MAX_LANGUAGES:
        raise _invalid("languages", _("At most %(n)s languages.") % {"n": MAX_LANGUAGES})
    return codes


def _platforms(values) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise _invalid("platforms", _("Platforms must be a list of names."))
    bad = [value for value in values if value not in Platform.values]
    if bad:
        message = _("Unknown platform “%(p)s”: one of %(known)s.")
        raise _invalid("platforms", message % {"p": bad[0][:30], "known": ", ".join(Platform)})
    return list(dict.fromkeys(values))


def _subscribers(values) -> list:
    """The people to alert (users or their ids), each one who may read listening data
    (rules.listening_readers): an alert links to pages only they can open."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise _invalid("subscribers", _("The alerted people must be a list of people."))
    ids = list(dict.fromkeys(getattr(value, "pk", value) for value in values))
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise _invalid("subscribers", _("The alerted people must be a list of people."))
    if len(ids) > MAX_SUBSCRIBERS:
        message = _("At most %(n)s alerted people.") % {"n": MAX_SUBSCRIBERS}
        raise _invalid("subscribers", message)
    readers = {user.pk: user for user in rules.listening_readers().filter(pk__in=ids)}
    refused = [i for i in ids if i not in readers]
    if refused:
        # Said by id, not by name: a watch editor must not learn who an id is by trying it.
        user = get_user_model().objects.filter(pk=refused[0]).first()
        if user is None:
            message = _("There is no person with the id %(id)s.")
        elif not user.is_active:
            message = _(
                "The account with the id %(id)s is deactivated, so cannot be alerted: leave it out."
            )
        else:
            message = _(
                "The person with the id %(id)s may not read listening data, so cannot be "
                "alerted: give them access first (listening.view_mention), or leave them out."
            )
        raise _invalid("subscribers", message % {"id": refused[0]})
    return [readers[i] for i in ids]


def _topic_watch(value, watch: Watch | None) -> Watch | None:
    """The watch of the conversation `watch` is part of (a watch or its id; None: not
    known), active or not. One level: not the watch itself, not a watch that has a topic,
    and not on a watch that is another's topic (two queries at most)."""
    if value is None or value == "":
        return None
    pk = getattr(value, "pk", value)
    if not isinstance(pk, int) or isinstance(pk, bool):
        raise _invalid("topic_watch", _("The topic watch must be a watch's id."))
    if watch is not None and pk == watch.pk:
        raise _invalid("topic_watch", _("A watch cannot be its own topic watch."))
    # Read again, under its row lock in a save's transaction: a save making this topic
    # another's brand watch at the same time would otherwise leave a chain of two. (A form
    # checking its values before any save reads it without the lock.)
    topics = Watch.objects.filter(pk=pk)
    if transaction.get_connection().in_atomic_block:
        topics = topics.select_for_update()
    topic = topics.first()
    if topic is None:
        raise _invalid("topic_watch", _("There is no watch with the id %(id)s.") % {"id": pk})
    if topic.topic_watch_id is not None:
        message = _(
            "“%(topic)s” has a topic watch itself: choose the watch of the whole "
            "conversation (its topic watch), not another brand's."
        )
        raise _invalid("topic_watch", message % {"topic": topic.name})
    if watch is not None and Watch.objects.filter(topic_watch=watch).exists():
        message = _(
            "“%(watch)s” is the topic watch of other watches, so it cannot have a topic "
            "watch itself."
        )
        raise _invalid("topic_watch", message % {"watch": watch.name})
    return topic


def _alert_rule(name, value):
    low, high = ALERT_RULES[name]
    kind = float if isinstance(low, float) else int
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _invalid(name, _("%(field)s must be a number.") % {"field": capfirst(_label(name))})
    if not low <= value <= high or (kind is int and value != int(value)):
        message = _("%(field)s must be a whole number from %(low)s to %(high)s.")
        if kind is float:
            message = _("%(field)s must be a number from %(low)s to %(high)s.")
        bounds = [
            number_format(int(b) if b == int(b) else b, force_grouping=True) for b in (low, high)
        ]
        values = {"field": capfirst(_label(name)), "low": bounds[0], "high": bounds[1]}
        raise _invalid(name, message % values)
    return kind(value)


def clean_watch(values: dict, *, watch: Watch | None = None) -> dict:
    """The watch fields in `values` as stored (term lists stripped, an entry written twice
    kept once, one term written in two forms refused naming both: _same_terms,
    language codes lower case, `subscribers` as users), or InvalidInput whose `errors`
    names every refused field at once ({field: [message]}; its message is the first). The
    rule of the API, the admin form, the watch page and the actions; only the fields given
    are checked and returned (the others stay as they are)."""
    unknown = set(values) - WATCH_FIELDS
    if unknown:
        raise InvalidInput(_("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    cleaned = dict(values)
    errors: dict[str, list[str]] = {}

    def check(name, clean, *args):
        try:
            cleaned[name] = clean(cleaned[name], *args)
        except InvalidInput as error:
            errors.setdefault(name, []).extend(error.extra["errors"][name])

    checks = {
        "name": (_watch_name, watch),
        "brand": (_text, "brand"),
        **{name: (_terms, name) for name in TERM_LISTS},
        "languages": (_languages,),
        "platforms": (_platforms,),
        **{name: (_alert_rule_of, name) for name in ALERT_RULES},
        "subscribers": (_subscribers,),
        "topic_watch": (_topic_watch, watch),
    }
    for name, (clean, *args) in checks.items():
        if name in cleaned:
            check(name, clean, *args)
    final = {name: cleaned.get(name, getattr(watch, name, [])) for name in TERM_LISTS}
    texts = all(
        isinstance(v, list | tuple) and all(isinstance(t, str) for t in v) for v in final.values()
    )
    if texts:  # said beside the lists' own problems, not on the next save
        refused = bool(errors.keys() & TERM_LISTS.keys())
        for field, message in _term_lists_problems(final, refused=refused, given=values):
            errors.setdefault(field, []).append(message)
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors=errors)
    return cleaned


def _text(value, name) -> str:
    """A required one-line text field (name, brand): spaces collapsed, within its length."""
    if not isinstance(value, str) or not value.strip():
        raise _invalid(name, _("%(field)s is required.") % {"field": capfirst(_label(name))})
    value = " ".join(value.split())
    limit = Watch._meta.get_field(name).max_length
    if len(value) > limit:
        message = _("%(field)s is longer than %(n)s characters.")
        raise _invalid(name, message % {"field": capfirst(_label(name)), "n": limit})
    if hidden_characters(value):  # the terms' rule (_terms)
        message = _(
            "%(field)s holds an invisible or text-direction character (a zero-width space, "
            "a right-to-left mark…): type it again without it."
        )
        raise _invalid(name, message % {"field": capfirst(_label(name))})
    return value


def _odd_letters(letters) -> str:
    """[(letter, "CYRILLIC")] -> "“<letter>” is Cyrillic", joined (five letters at most)."""
    scripts = {
        "LATIN": pgettext("alphabet", "Latin"),
        "CYRILLIC": pgettext("alphabet", "Cyrillic"),
        "GREEK": pgettext("alphabet", "Greek"),
    }
    return ", ".join(
        _("“%(letter)s” is %(script)s") % {"letter": letter, "script": scripts[script]}
        for letter, script in letters[:5]
    )


def name_key(name: str) -> str:
    """What makes two watch names one: compared as the matcher compares words (matching.fold:
    case, accents and compatibility forms aside: a full-width "Kettles" is "kettles")."""
    return " ".join(fold(name).split())


def _watch_name(value, watch: Watch | None) -> str:
    """A watch's name: one text (_text), no word of it mixing look-alike alphabets, unique
    whatever its case, accents and compatibility forms (name_key: "Kettles", "kettles" and
    a full-width "Kettles" would read as one watch in every list)."""
    value = _text(value, "name")
    mixed = mixed_script_word(value)
    if mixed:
        message = _(
            "The name mixes alphabets in “%(word)s”: %(letters)s, among letters of another "
            "alphabet that look the same. Type it again in one alphabet."
        )
        word, letters = mixed
        raise _invalid("name", message % {"word": word[:40], "letters": _odd_letters(letters)})
    # Compared here, not by the database: SQLite folds the case of ASCII letters only.
    others = Watch.objects.exclude(pk=getattr(watch, "pk", None)).values_list("name", flat=True)
    key = name_key(value)
    taken = next((name for name in others if name_key(name) == key), None)
    if taken is not None:
        raise _invalid("name", _("A watch named “%(name)s” already exists.") % {"name": taken})
    return value


def _alert_rule_of(value, name):
    return _alert_rule(name, value)


def _term_lists_problems(final: dict, *, refused: bool, given: dict) -> list[tuple[str, str]]:
    """(field, message) for term lists that cannot work together: nothing to match (unless
    a list was `refused`: what it holds then is not known), or an exclusion that cancels a
    keyword (on its line of the exclusions as `given`, when they were)."""
    if not (final["keywords"] or final["hashtags"] or final["handles"]):
        if refused:
            return []
        return [("keywords", _("A watch needs at least one keyword, hashtag or handle."))]
    keywords = {phrase(term): term for term in final["keywords"]}
    cancelled = [term for term in final["exclusions"] if phrase(term) in keywords]
    if cancelled:
        message = _(
            "“%(term)s” is also a keyword: as an exclusion it would hide every post the "
            "keyword finds."
        )
        given_lines = _term_lines(given.get("exclusions", ()), "")
        numbers = given_lines.get(fold(cancelled[0]), [])
        return [("exclusions", _on_lines(numbers, message % {"term": cancelled[0][:30]}))]
    return []


def _validate(watch: Watch) -> None:
    """The model's own checks (lengths, unique name) as InvalidInput naming the field."""
    try:
        watch.full_clean(exclude=["created_by", "subscribers", "created_at", "updated_at"])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        if field == NON_FIELD_ERRORS:
            raise InvalidInput(problems[0]) from None
        raise InvalidInput(f"{field}: {problems[0]}", errors={field: [problems[0]]}) from None


@transaction.atomic
def watch_create(*, actor, now=None, **values) -> Watch:
    """A new watch from WATCH_FIELDS (`subscribers`: users or their ids, people who may
    read listening data). Raises NotAllowed (rules.can_edit_watches) or InvalidInput
    (clean_watch; its `errors` names the field)."""
    rules.require_edit_watches(actor)
    now = now or timezone.now()
    cleaned = clean_watch(values)
    subscribers = cleaned.pop("subscribers", None)
    watch = Watch(**cleaned, created_by=actor, created_at=now, updated_at=now)
    _validate(watch)
    watch.save()
    if subscribers:
        watch.subscribers.set(subscribers)
    events.publish_listening_changed(force=True)  # open pages show the new watch
    return watch


@transaction.atomic
def watch_update(*, watch: Watch, actor, now=None, **values) -> Watch:
    """Change the given fields of a watch (the others stay as stored; `subscribers`, when
    given, replaces the list). Deactivate with is_active=False: the watch stops collecting
    and alerting; a watch that collected mentions is never deleted. Two people saving at
    once: the last write wins, field by field, and each is checked against the watch as
    the other left it (its row locked: a keyword and an equal exclusion, or two lists
    emptied, each valid alone, are not both saved). Raises NotAllowed or InvalidInput."""
    rules.require_edit_watches(actor)
    topic = getattr(values.get("topic_watch"), "pk", values.get("topic_watch"))
    # The watch and its new topic locked in id order: two saves making each other's watch
    # their topic wait for one another, never in a cycle (the second is then refused).
    pks = (
        {watch.pk, topic} if isinstance(topic, int) and not isinstance(topic, bool) else {watch.pk}
    )
    locked = Watch.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    watch = {row.pk: row for row in locked}.get(watch.pk) or Watch.objects.get(pk=watch.pk)
    cleaned = clean_watch(values, watch=watch)
    subscribers = cleaned.pop("subscribers", None)
    for name, value in cleaned.items():
        setattr(watch, name, value)
    _validate(watch)
    watch.updated_at = now or timezone.now()
    watch.save(update_fields=[*cleaned, "updated_at"])
    if subscribers is not None:
        watch.subscribers.set(subscribers)
    # Open pages show its name, terms, thresholds and people alerted as they now are.
    events.publish_listening_changed(force=True)
    return watch


# "Sort again": how many days back a person may ask (the choices the page offers), and how
# many mentions one call reads at most, the newest first (bounds the request: 50,000 took
# 6 s on PostgreSQL on a slow machine; docs/benchmarks.md, "Sorting again").
REMATCH_DAYS = (1, 3, 7)
REMATCH_MAX = 50_000
REMATCH_CHUNK = 2000
REMATCH_RESTARTS = 3
# How long one "sort again" of a watch holds it (Watch.sorting_since): meanwhile another is
# refused; past this, the claim was left by a process that died, and is taken over. Well
# beyond a sort's time (REMATCH_MAX posts, REMATCH_RESTARTS times: under a minute).
REMATCH_CLAIM = timedelta(minutes=10)
# How far ahead of this process's clock another's may run before its claim is not believed.
CLOCK_SKEW = timedelta(minutes=1)


@dataclass
class RematchResult:
    """What watch_rematch did: the mentions posted since `since` it read (at most
    REMATCH_MAX, the newest; `capped` when older ones were left as they were), how many
    joined the watch and how many left it."""

    since: datetime
    read: int = 0
    added: int = 0
    removed: int = 0
    capped: bool = False
    # The oldest post read: the stream is known from there (Watch.sorted_from).
    oldest: datetime | None = None
    # The watch's open signals none of whose posts it still matches (an exclusion took
    # them all: the alarm was about something else), closed by this sort.
    signals_closed: int = 0


def watch_rematch(*, watch: Watch, actor, days: int = 7, now=None) -> RematchResult:
    """Sort the mentions posted in the last `days` days (one of REMATCH_DAYS) again with the
    watch as it now is, as if its terms, languages and platforms had always been these:
    those it now matches join it, those it no longer matches leave it (they stay stored, on
    their other watches and incidents). Its volume, tone and curves are then counted from
    the new set; signals already raised keep their recorded figures, but an open one's top
    terms, authors, sentiment split and samples are those of its posts the watch still
    holds, and an open one left with none of them is closed. Reads the newest
    REMATCH_MAX at most; each chunk of REMATCH_CHUNK is one short transaction (no lock held
    while matching), so a failure leaves every mention either sorted again or as it was,
    and running it again finishes the work. A watch changed meanwhile (someone saved it) is
    sorted again from the start as saved, up to REMATCH_RESTARTS times, even when saved
    after its last page. One at a time per watch: the sort claims the watch
    (Watch.sorting_since, one UPDATE, released at the end, expired after REMATCH_CLAIM), so
    a second asked meanwhile (a double click, five API calls at once) reads nothing and is
    refused at once: the one under way ends with the watch as last saved. Raises
    NotAllowed (rules.can_edit_watches), InvalidInput (days not offered; watch stopped,
    even meanwhile: it matches nothing) or Conflict (the watch kept changing; a sort of it
    already under way)."""
    rules.require_edit_watches(actor)
    if days not in REMATCH_DAYS:
        choices = ", ".join(str(d) for d in REMATCH_DAYS)
        raise InvalidInput(
            _("Choose how many days back to sort again: %(choices)s.") % {"choices": choices},
            errors={"days": [_("One of %(choices)s.") % {"choices": choices}]},
        )
    since = (now or timezone.now()) - timedelta(days=days)
    claimed = _rematch_claim(watch)
    try:
        for _attempt in range(REMATCH_RESTARTS + 1):
            current = Watch.objects.get(pk=watch.pk)  # as saved now, not as the caller read it
            if not current.is_active:
                raise InvalidInput(
                    _("This watch is stopped: resume it before sorting mentions again.")
                )
            result = RematchResult(since=since)
            # A save after its last page was refused a sort of its own (the claim): this
            # one takes it in.
            if _rematch_pages(current, result) and not _changed_since(current):
                break
        else:
            raise Conflict(
                _("The watch kept changing while its mentions were sorted again: sort them again.")
            )
    finally:
        # Only its own claim: one that outlived REMATCH_CLAIM may have been taken over.
        Watch.objects.filter(pk=watch.pk, sorting_since=claimed).update(sorting_since=None)
    if result.oldest is not None and result.oldest < current.known_since:
        # Sorted back to there: its usual volume is known from then (a new watch with a
        # history can alert at once instead of learning for two hours).
        Watch.objects.filter(pk=watch.pk).update(sorted_from=result.oldest)
    if result.added or result.removed:
        result.signals_closed = _resort_open_signals(current, now or timezone.now())
        events.publish_listening_changed(force=True)  # open pages count the new set
    return result


def _rematch_claim(watch) -> datetime:
    """Claim the watch for one sort (one UPDATE: of two at once, one takes it), or Conflict
    saying since when a sort of it is under way and when, at the latest, its claim lapses
    (`sorting_since`, `claim_expires_at`: the API's 409 gives both). The time it was
    claimed at (its release's key)."""
    for _attempt in range(3):  # a sort that ended between the UPDATE and the read
        claimed = timezone.now()
        # Free, expired, or dated ahead of now (a clock set back since: it held the watch
        # for as long as it was ahead).
        free = (
            Q(sorting_since__isnull=True)
            | Q(sorting_since__lt=claimed - REMATCH_CLAIM)
            | Q(sorting_since__gt=claimed + CLOCK_SKEW)
        )
        if Watch.objects.filter(free, pk=watch.pk).update(sorting_since=claimed):
            return claimed
        held = Watch.objects.filter(pk=watch.pk).values_list("name", "sorting_since").first()
        if held is None:
            raise Watch.DoesNotExist(f"watch {watch.pk}")
        if held[1] is not None and claimed - REMATCH_CLAIM <= held[1] <= claimed + CLOCK_SKEW:
            break
    name, since = held[0], held[1] or claimed
    expires = since + REMATCH_CLAIM
    # Said to the minute, rounded up: the watch is free from then, not a few seconds later.
    free_at = expires.replace(second=0, microsecond=0)
    free_at += timedelta(minutes=1) if free_at < expires else timedelta(0)
    raise Conflict(
        _(
            "The posts already collected are being sorted into “%(watch)s” again since "
            "%(since)s, with the watch as last saved. A sort usually takes under a minute: wait "
            "for it to finish, then look at its mentions (sort again only to go further back). "
            "If it was cut off (the server stopped), the watch can be sorted again from "
            "%(expires)s."
        )
        % {
            "watch": name,
            "since": shown(since, "TIME_FORMAT", zone=True),
            "expires": shown(free_at, "TIME_FORMAT", zone=True),
        },
        sorting_since=since,
        claim_expires_at=expires,
    )


def _changed_since(watch) -> bool:
    """Whether the watch was saved since `watch` was read."""
    return not Watch.objects.filter(pk=watch.pk, updated_at=watch.updated_at).exists()


def _resort_open_signals(watch, now) -> int:
    """The watch's open signals after its posts were sorted again: each one's summary from
    the posts it now holds, or closed when it holds none of them. How many were closed. The
    detector skips a signal closed meanwhile, and its episode ends once the volume (now
    without those posts) is back under its bar."""
    closed = 0
    for signal in Signal.objects.filter(watch=watch, status=SignalStatus.OPEN):
        if not selectors.signal_window(signal, now).exists():
            signal_close(signal=signal, now=now)
            closed += 1
            continue
        signal.summary = _summarised(signal, now, (signal.summary or {}).get("trigger"))
        signal.save(update_fields=["summary"])
    return closed


def _rematch_pages(watch, result) -> bool:
    """Every page of the period, newest first, until REMATCH_MAX; False as soon as a page
    finds the watch changed since it was read (that page wrote nothing)."""
    matcher = Matcher([watch])
    recent = Mention.objects.filter(posted_at__gte=result.since)
    columns = ("id", "posted_at", "text", "platform", "language", "author_handle", "sentiment")
    older = None
    while result.read < REMATCH_MAX:
        page = recent if older is None else recent.filter(older)
        size = min(REMATCH_CHUNK, REMATCH_MAX - result.read)
        rows = list(page.order_by("-posted_at", "-id").values_list(*columns)[:size])
        if not rows:
            return True
        if not _rematch_chunk(watch, matcher, rows, result):
            return False
        result.read += len(rows)
        # Keyset on the index mention_newest (-posted_at, -id): what comes after the last.
        at, pk = rows[-1][1], rows[-1][0]
        result.oldest = at
        older = Q(posted_at__lt=at) | Q(posted_at=at, id__lt=pk)
    result.capped = recent.filter(older).exists()
    return True


def _rematch_chunk(watch, matcher, rows, result) -> bool:
    matched = {
        row[0]: row
        for row in rows
        if matcher.match(text=row[2], platform=row[3], language=row[4], author=row[5])
    }
    with transaction.atomic():
        # Under the watch's row lock (watch_update takes it): a change saved meanwhile
        # stops this pass before it writes links of the old terms over the new ones'.
        saved = Watch.objects.select_for_update().filter(pk=watch.pk)
        if saved.values_list("updated_at", "is_active").get() != (watch.updated_at, True):
            return False
        held = set(
            MentionMatch.objects.filter(
                watch=watch, mention_id__in=[row[0] for row in rows]
            ).values_list("mention_id", flat=True)
        )
        joining = [
            MentionMatch(mention_id=pk, watch=watch, posted_at=row[1], sentiment=row[6])
            for pk, row in matched.items()
            if pk not in held
        ]
        # ignore_conflicts: a concurrent "Sort again" of the same watch may add it first.
        MentionMatch.objects.bulk_create(joining, ignore_conflicts=True)
        leaving = held - matched.keys()
        if leaving:
            MentionMatch.objects.filter(watch=watch, mention_id__in=leaving).delete()
    result.added += len(joining)
    result.removed += len(leaving)
    return True


def mentions_ingest(*, mentions: list[MentionData], source: str, actor, now=None) -> IngestResult:
    """Store posts not seen before (by platform and id), each with its language (kept when
    the platform gave it, else detected), sentiment and the active watches it matches.
    Idempotent: a post already stored, or twice in `mentions`, counts as a duplicate,
    whatever the path and however many ingests run at once. Each batch of BATCH is one
    transaction, so a failure leaves no half-written batch. `actor` None is the system (a
    connector); a person needs rules.can_ingest.

    Two ways to store, one result: on PostgreSQL COPY into a temporary table then one
    INSERT ... ON CONFLICT DO NOTHING RETURNING and a COPY of the matches (_store_copy);
    elsewhere (SQLite, embedded) the ORM's bulk inserts (_store_orm)."""
    if actor is not None:
        rules.require_ingest(actor)
    now = now or timezone.now()
    matcher = ActiveWatches()
    scores = _Scores()
    store = STORES.get(connection.vendor, _store_orm)
    result = IngestResult()
    for start in range(0, len(mentions), BATCH):
        batch = mentions[start : start + BATCH]
        _ingest_batch(batch, source, now, matcher, scores, store, result)
    result.stored and events.publish_listening_changed()  # live: the listening pages refresh
    return result


# A mention's columns as the ingest writes them, in the order of its row tuples: what the
# platform gave (MentionData, language last), then what the ingest adds.
_POSTED = tuple(name for name in MentionData.__slots__ if name != "language")
COLUMNS = (*_POSTED, "language", "collected_at", "source", "sentiment_score", "sentiment")
_posted = attrgetter(*_POSTED)
_PLATFORM, _EXTERNAL_ID = COLUMNS.index("platform"), COLUMNS.index("external_id")
_POSTED_AT, _SENTIMENT = COLUMNS.index("posted_at"), COLUMNS.index("sentiment")
MATCH_COLUMNS = ("mention_id", "watch_id", "posted_at", "sentiment")
# Distinct texts remembered by one ingest call (bounds its memory on a million-line import).
MAX_SCORED = 100_000


class _Scores:
    """(language, sentiment score, label) of a text, each exact text (with the language the
    platform gave) computed once per ingest call: reposts, copies and bots' repeated posts
    cost a dict lookup. The same function of the text whatever the order, so cached and
    uncached ingests store the same values."""

    def __init__(self):
        self._known = {}

    def __call__(self, text: str, given: str) -> tuple[str, float | None, str]:
        key = (text, given)
        found = self._known.get(key)
        if found is None:
            detected = post_language(text, given)
            found = (detected, *sentiment.score(scored_text(text), detected))
            if len(self._known) >= MAX_SCORED:
                self._known.clear()
            self._known[key] = found
        return found


class ActiveWatches:
    """The active watches' matcher for an ingest, read again in each batch's transaction:
    a batch matches with the watches as they are when it is written, not as they were when
    a long import started. On PostgreSQL the read takes a share lock on them, which a
    watch's save (watch_update's row lock) waits for, and the reverse: a save whose change
    is then applied to the stored mentions (watch_rematch) comes after every batch that
    matched with the old terms, and sorts its mentions too. On SQLite every write
    transaction already excludes the others."""

    _LOCKED = " FOR SHARE"

    def __init__(self):
        self._read = None
        self._matcher = None

    def current(self) -> Matcher:
        watches = Watch.objects.filter(is_active=True).order_by("pk")
        if connection.vendor == "postgresql":
            sql, params = watches.query.sql_with_params()
            watches = Watch.objects.raw(sql + self._LOCKED, params)
        watches = list(watches)
        read = [(watch.pk, watch.updated_at) for watch in watches]
        if read != self._read:
            self._read, self._matcher = read, Matcher(watches)
        return self._matcher


def _ingest_batch(batch, source, now, watches, scores, store, result) -> None:
    unique = {}
    for data in batch:
        unique.setdefault(data.key, data)
    result.duplicates += len(batch) - len(unique)
    known = selectors.stored_keys(unique)
    # Language and sentiment (most of a batch's time) before its transaction: the write lock
    # (SQLite's is the whole database's) is held for matching and storing only, and other
    # writers get it between batches. A post stored meanwhile is skipped by the store.
    scored = [
        (data, scores(data.text, data.language)) for key, data in unique.items() if key not in known
    ]
    with transaction.atomic():
        matcher = watches.current()
        rows, matched = [], {}
        for data, (detected, score, label) in scored:
            rows.append((*_posted(data), detected, now, source, score, label))
            watch_ids = matcher.match(
                text=data.text, platform=data.platform, language=detected, author=data.author_handle
            )
            if watch_ids:
                matched[data.key] = watch_ids
        # Sorted by key: two ingests of overlapping batches insert (and so lock) their
        # common posts in the same order, so they never wait on each other in a cycle.
        rows.sort(key=itemgetter(_PLATFORM, _EXTERNAL_ID))
        stored_ids = store(rows, matched) if rows else []
    stored = [pk for pk in stored_ids if pk is not None]
    result.ids += stored
    result.keys.update(
        (row[_PLATFORM], row[_EXTERNAL_ID])
        for row, pk in zip(rows, stored_ids, strict=True)
        if pk is not None
    )
    result.stored += len(stored)
    result.duplicates += len(unique) - len(stored)
    result.unmatched += sum(
        1
        for row, pk in zip(rows, stored_ids, strict=True)
        if pk is not None and (row[_PLATFORM], row[_EXTERNAL_ID]) not in matched
    )


def _matches(rows, stored_ids, matched) -> list[tuple]:
    """The MentionMatch rows (MATCH_COLUMNS) of the mentions this batch stored: a post a
    concurrent ingest stored first is that ingest's to match."""
    links = []
    for row, mention_id in zip(rows, stored_ids, strict=True):
        if mention_id is not None:
            for watch_id in matched.get((row[_PLATFORM], row[_EXTERNAL_ID]), ()):
                links.append((mention_id, watch_id, row[_POSTED_AT], row[_SENTIMENT]))
    return links


# PostgreSQL's statements: only the constant names above go into them, never data.
_STAGE = "listening_mention_stage"
_NAMES = ", ".join(COLUMNS)
_STAGE_CREATE = (
    f"CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS "  # noqa: S608
    f"SELECT {_NAMES} FROM listening_mention WITH NO DATA"
)
_STAGE_COPY = f"COPY {_STAGE} ({_NAMES}) FROM STDIN"
_STAGE_INSERT = (
    f"INSERT INTO listening_mention ({_NAMES}) "  # noqa: S608
    f"SELECT {_NAMES} FROM {_STAGE} ORDER BY platform, external_id "
    "ON CONFLICT (platform, external_id) DO NOTHING RETURNING id, platform, external_id"
)
_MATCH_COPY = f"COPY listening_mentionmatch ({', '.join(MATCH_COLUMNS)}) FROM STDIN"


def _store_copy(rows, matched) -> list[int]:
    """PostgreSQL: the rows COPYed into a temporary table, moved into the mentions by one
    INSERT ... ON CONFLICT (platform, external_id) DO NOTHING RETURNING (a post stored
    meanwhile by another ingest is skipped, never an error), then the matches COPYed in
    (their mentions are new, nothing can conflict). Five statements whatever the rows; the
    ids stored, in `rows` order (None for a post stored by someone else)."""
    with connection.cursor() as cursor:
        # Dropped at the end of the batch (and by a rollback): an outer transaction may run
        # several batches.
        cursor.execute(_STAGE_CREATE)
        with cursor.cursor.copy(_STAGE_COPY) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_STAGE_INSERT)
        new = {(platform, external_id): pk for pk, platform, external_id in cursor.fetchall()}
        stored_ids = [new.get((row[_PLATFORM], row[_EXTERNAL_ID])) for row in rows]
        links = _matches(rows, stored_ids, matched)
        if links:
            with cursor.cursor.copy(_MATCH_COPY) as copy:
                for link in links:
                    copy.write_row(link)
        cursor.execute(f"DROP TABLE {_STAGE}")
    return stored_ids


def _store_orm(rows, matched) -> list[int]:
    """Elsewhere (SQLite): the ORM's bulk INSERT, ignoring the posts already stored (a
    concurrent ingest's), then the ones this call stored read back by their collection time,
    then the matches. Four statements whatever the rows; same contract as _store_copy."""
    Mention.objects.bulk_create(
        [Mention(**dict(zip(COLUMNS, row, strict=True))) for row in rows], ignore_conflicts=True
    )
    collected_at = rows[0][COLUMNS.index("collected_at")]
    new = {
        (platform, external_id): pk
        for pk, platform, external_id in Mention.objects.filter(
            selectors.keys_condition((row[_PLATFORM], row[_EXTERNAL_ID]) for row in rows),
            collected_at=collected_at,
        )
        .order_by()
        .values_list("id", "platform", "external_id")
    }
    stored_ids = [new.get((row[_PLATFORM], row[_EXTERNAL_ID])) for row in rows]
    links = _matches(rows, stored_ids, matched)
    MentionMatch.objects.bulk_create(
        [MentionMatch(**dict(zip(MATCH_COLUMNS, link, strict=True))) for link in links]
    )
    return stored_ids


# How a batch is stored, by the connection's vendor (the ORM's for any other).
STORES = {"postgresql": _store_copy}


# --- Attaching mentions to an incident, detaching them -------------------------------------
# The writes behind the listening page's "Attach to incident…", the room's mentions panel
# and /api/incidents/{id}/mentions/. Who may: the incident's cell except observers
# (incidents.rules WRITE_TIMELINE, the rule of the timeline), and, to attach, only people
# who may read listening data (a mention is brand data until it is attached). Each call is
# one timeline entry, written under the incident's lock like every entry; a mention belongs
# to one incident at most.

# Mentions attached in one call (the API's list), and named in the timeline entry.
MAX_ATTACH = 200
MAX_NAMED = 20
EXCERPT = 140


def _describe(mention: Mention) -> dict:
    """What the timeline keeps of a mention attached or detached (the post may be deleted
    on the platform); its author's handle as the pages show it (shown_handle: "@alice")."""
    return {
        "id": mention.pk,
        "platform": mention.platform,
        "author": shown_handle(mention.author_handle, mention.platform),
        "url": mention.url,
        "posted_at": mention.posted_at.isoformat(),
        "text": mention.text[:EXCERPT],
        "sentiment": mention.sentiment,
    }


@dataclass
class AttachResult:
    """What `mentions_attach` did, as lists of mention ids: `attached` (newly attached, in
    one timeline entry), `already` (attached to this incident before: nothing to do) and
    `elsewhere` (attached to another incident: left there, never moved)."""

    attached: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    elsewhere: list[int] = field(default_factory=list)


@transaction.atomic
def mentions_attach(*, mention_ids, incident: Incident, actor) -> AttachResult:
    """Attach the mentions `mention_ids` (at most MAX_ATTACH) to `incident`, in one timeline
    entry (none when nothing was attached). Mentions already attached to another incident
    are left there and reported in `elsewhere` (as a declaration from a signal leaves them):
    the rest of the batch is attached. Raises NotAllowed (see the section), InvalidInput for
    no id, more than MAX_ATTACH or an unknown id, Conflict when the incident is closed
    (require_not_closed; nothing written). The listening pages refresh (a mention attached
    is no longer offered to attach)."""
    ids = sorted({int(pk) for pk in mention_ids})
    if not ids:
        raise InvalidInput(_("Choose at least one mention."))
    if len(ids) > MAX_ATTACH:
        raise InvalidInput(_("At most %(n)s mentions at a time.") % {"n": MAX_ATTACH})
    rules.require_attach(actor, incident, ids)
    incident = lock_incident(incident)
    incident_rules.require(actor, incident, incident_rules.WRITE_TIMELINE)
    require_not_closed(incident, "attach")
    # Locked in id order, as every write that attaches mentions does (_join): two of them
    # over the same mentions in other orders would deadlock on PostgreSQL.
    mentions = list(Mention.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    mentions.sort(key=lambda mention: (mention.posted_at, mention.pk), reverse=True)
    if len(mentions) != len(ids):
        raise InvalidInput(_("Some of these mentions do not exist."))
    result = AttachResult()
    fresh = []
    for mention in mentions:
        if mention.incident_id is None:
            fresh.append(mention)
            result.attached.append(mention.pk)
        elif mention.incident_id == incident.pk:
            result.already.append(mention.pk)
        else:
            result.elsewhere.append(mention.pk)
    if not fresh:
        return result
    Mention.objects.filter(pk__in=result.attached).update(incident=incident)
    timeline_record(
        incident,
        kind=EntryKind.MENTIONS_ATTACHED,
        actor=actor,
        data={"count": len(fresh), "mentions": [_describe(m) for m in fresh[:MAX_NAMED]]},
    )
    # Not forced: an API client attaching thousands, 200 a call, refreshes each page once
    # per window (events.THROTTLE_SECONDS), the last call included.
    events.publish_listening_changed()
    return result


def mention_attach(*, mention: Mention, incident: Incident, actor) -> bool:
    """Attach one mention; False when it already was. InvalidInput when it is attached to
    another incident (the one thing asked cannot be done), saying which one to whoever may
    see it (rules.held_elsewhere), and which mention, by its author (a page's answer: the
    API attaches with mentions_attach)."""
    result = mentions_attach(mention_ids=[mention.pk], incident=incident, actor=actor)
    if result.elsewhere:
        other = Mention.objects.filter(pk=mention.pk).values_list("incident_id", flat=True)
        raise InvalidInput(rules.held_elsewhere(actor, other.first(), mention))
    return bool(result.attached)


@transaction.atomic
def mention_detach(*, mention: Mention, incident: Incident, actor) -> bool:
    """Detach a mention from `incident` (the cell except observers); False when it was not
    attached to it (nothing written). Conflict when the incident is closed
    (require_not_closed). The listening pages refresh (it may be attached again)."""
    incident = lock_incident(incident)
    incident_rules.require(actor, incident, incident_rules.WRITE_TIMELINE)
    require_not_closed(incident, "detach")
    mention = Mention.objects.select_for_update().get(pk=mention.pk)
    if mention.incident_id != incident.pk:
        return False
    Mention.objects.filter(pk=mention.pk).update(incident=None)
    timeline_record(incident, kind=EntryKind.MENTION_DETACHED, actor=actor, data=_describe(mention))
    events.publish_listening_changed()
    return True


def require_not_closed(incident: Incident, change: str) -> None:
    """Conflict (409) saying what to do (reopen it first) when the incident is closed
    (Incident.is_open) and `change` ("attach", "detach" mentions, "link" a signal) would
    alter it: its post-mortem's figures were signed off on its mentions as they were. A
    resolved incident is still open to them. The actions ask it of the locked, fresh row;
    pages ask it before offering the change."""
    if incident.is_open:
        return
    messages = {
        "attach": _("This incident is closed: reopen it before attaching mentions to it."),
        "detach": _("This incident is closed: reopen it before detaching mentions from it."),
        "link": _("This incident is closed: reopen it before linking a signal to it."),
    }
    raise Conflict(messages[change])


# --- Signals (written by detection.detect, declared by people) ----------------------------

# What a signal's summary lists, and how many of the window's mentions it reads for it.
SUMMARY_TERMS = 10
SUMMARY_AUTHORS = 5
SUMMARY_SAMPLES = 5
SUMMARY_READ = 500
# Mentions a declaration attaches at most (the newest of the window); more stay listed on
# the listening page and can be attached later.
MAX_DECLARE_ATTACH = 10_000


def _summarised(signal, now, trigger) -> dict:
    """A signal's summary as of `now`: its window's facts (_summary), the reason of its
    latest peak (`trigger`, _trigger's dict) and the reason it opened (`opening`: written
    when it opens, kept since; "48 in 10 minutes" read "49 in 60 minutes" an hour later,
    one post more). A signal opened before `opening` was kept has none."""
    kept = signal.summary or {}
    opening = kept.get("opening") if kept else trigger
    return {**_summary(signal, now), "trigger": trigger, "opening": opening}


def _summary(signal, until) -> dict:
    """Top terms, top authors by reach, sentiment split, sample ids of the signal's window:
    three queries, at most SUMMARY_READ mentions read."""
    matches = selectors.signal_window(signal, until)
    split = dict(matches.values("sentiment").annotate(n=Count("id")).values_list("sentiment", "n"))
    rows = list(
        Mention.objects.filter(id__in=matches.values("mention_id"))
        .order_by(F("author_followers").desc(nulls_last=True), "-id")
        .values("id", "platform", "author_handle", "author_followers", "text")[:SUMMARY_READ]
    )
    # What the watch looks for says nothing new: each word of its terms ("maison" and
    # "lumière" of "Maison Lumière", written with or without accents) is left out.
    watch_words = selectors.watch_words(signal.watch)
    terms, authors = Counter(), {}
    for row in rows:
        words = terms_of(row["text"][:2000])
        terms.update(w for w in words if fold(w.lstrip("#@")) not in watch_words)
        if row["author_handle"]:
            author = authors.setdefault(
                row["author_handle"],
                {
                    "handle": row["author_handle"],
                    "platform": row["platform"],
                    "followers": row["author_followers"],
                    "n": 0,
                },
            )
            author["n"] += 1
    return {
        "terms": [[term, n] for term, n in terms.most_common(SUMMARY_TERMS) if n > 1],
        "authors": list(authors.values())[:SUMMARY_AUTHORS],
        "sentiment": {label: split.get(label, 0) for label in Sentiment.values},
        "samples": [row["id"] for row in rows[:SUMMARY_SAMPLES]],
    }


def _signal_values(reading) -> dict:
    return {
        "severity": reading.severity,
        "observed": reading.observed,
        "expected": round(reading.expected, 2),
        "deviations": reading.deviations,
        "negative_share": reading.negative_share,
        "baseline_negative_share": reading.baseline_negative_share,
    }


def _trigger(reading, kind) -> dict | None:
    """The signal's reason. A volume signal: the window that stood out most, {"minutes",
    "mentions", "expected"} (42 mentions in the last 10 minutes where 3 were expected). A
    tone signal: {"kind": "tone", "minutes", "scored", "negative", "usual"} in percent (41%
    negative over the last 360 minutes, 130 scored mentions, where 27% is usual)."""
    if kind == SignalKind.TONE:
        if getattr(reading, "tone_trigger", None) is None:
            return None
        minutes, scored, share, usual = reading.tone_trigger
        return {
            "kind": "tone",
            "minutes": int(minutes),
            "scored": int(scored),
            "negative": round(100 * share),
            "usual": round(100 * usual),
        }
    if getattr(reading, "trigger", None) is None:
        return None
    minutes, mentions, expected = reading.trigger
    return {"minutes": int(minutes), "mentions": int(mentions), "expected": round(expected, 1)}


def signal_open(*, watch, kind, started_at, reading, now=None) -> Signal:
    """Open a signal (the detector's; no person) and alert the watch's subscribers once: in
    the bell and by e-mail (notifications.notify with the key "signal:<id>"), and their open
    pages refresh the "listening" panel. `reading`: a detection.Reading."""
    now = now or timezone.now()
    with transaction.atomic():
        first = (
            MentionMatch.objects.filter(watch=watch, posted_at__gte=started_at)
            .order_by("posted_at", "mention_id")
            .values_list("mention_id", flat=True)
            .first()
        )
        signal = Signal.objects.create(
            watch=watch,
            kind=kind,
            opened_at=now,
            started_at=started_at,
            first_mention_id=first,
            peak_at=now,
            updated_at=now,
            **_signal_values(reading),
        )
        signal.summary = _summarised(signal, now, _trigger(reading, kind))
        signal.save(update_fields=["summary"])
        # Checked now, not only when they were subscribed: someone who lost access to
        # listening data (left the team) is not sent posts, authors and terms.
        subscribers = list(selectors.alerted(watch))
        # Read once: the body is written in each recipient's language, one by one.
        first_mention = Mention.objects.filter(pk=first).first() if first else None
        notify(
            users=subscribers,
            kind=NotificationKind.SIGNAL_OPENED,
            # Both written in each recipient's language (the bell's line and the messages).
            subject=per_reader(alert_subject, signal, reading.observed),
            body=per_reader(alert_text, signal, first_mention),
            url=f"/listening/signals/{signal.pk}/",
            key=f"signal:{signal.pk}",
            # Sent now, whatever minute of the stream it is about: a detector catching up
            # dated the alert back, below older notifications in the bell.
        )
    # Every open listening page shows the new signal (not only the alerted people's).
    events.publish_listening_changed(force=True)
    return signal


ALERT_EXCERPT = 280
# Chat services read "<!channel>", "<https://x|label>", "@everyone" in a message as a ping or
# a disguised link: a post's words must not become the alert's.
_CHAT_MARKUP = str.maketrans({"<": "\u2039", ">": "\u203a"})
_CHAT_PINGS = re.compile(r"@(?=(?:everyone|here|channel|all)\b)", re.IGNORECASE)


def _quoted(text: str) -> str:
    """Someone else's words (a post, an author's handle or name) as one line of an alert:
    no line break to forge a line of ours, no chat markup, no ping."""
    return _CHAT_PINGS.sub("@\u200b", one_line(str(text)).translate(_CHAT_MARKUP))


def alert_subject(signal, observed: int) -> str:
    """The alert's one line, in the active language: "Volume spike on <watch>: 38 mentions
    in the hour (2 expected)"."""
    return ngettext(
        "%(kind)s on %(watch)s: %(observed)s mentions in the hour (%(expected)s expected)",
        "%(kind)s on %(watch)s: %(observed)s mentions in the hour (%(expected)s expected)",
        figures.expected_count(signal.expected),
    ) % {
        "kind": signal.get_kind_display(),
        "watch": signal.watch.name,
        "observed": observed,
        "expected": figures.expected(signal.expected),
    }


def alert_text(signal, first: Mention | None) -> str:
    """The alert's body, in the active language: why (the signal's reason), the watch, the
    hour's volume against what was expected, the first mention (author, excerpt), the top
    terms. The e-mail adds the link to the signal's page."""
    lines = []
    reason = figures.reason((signal.summary or {}).get("trigger"))
    if reason:
        lines.append(_("Why: %(reason)s") % {"reason": reason})
    lines.append(_("Watch: %(name)s") % {"name": signal.watch.name})
    lines.append(_("Volume: %(volume)s") % {"volume": figures.volume(signal)})
    if signal.negative_share is not None and signal.baseline_negative_share is not None:
        lines.append(
            _("Negative share at the peak: %(share)s%% (usually %(usual)s%%)")
            % {
                "share": round(100 * signal.negative_share),
                "usual": round(100 * signal.baseline_negative_share),
            }
        )
    if first is not None:
        author = shown_handle(first.author_handle, first.platform) or first.author_name or "?"
        lines.append(
            _("First mention: %(platform)s · %(author)s: “%(text)s”")
            % {
                "platform": first.get_platform_display(),
                "author": _quoted(author),
                "text": Truncator(_quoted(first.text)).chars(ALERT_EXCERPT),
            }
        )
        if first.url:
            lines.append(_quoted(first.url))
    terms = (signal.summary or {}).get("terms") or []
    if terms:
        listed = ", ".join(f"{_quoted(t)} ({n})" for t, n in terms)
        lines.append(_("Top terms: %(terms)s") % {"terms": listed})
    return "\n".join(lines)


def signal_update(*, signal, reading, now=None) -> Signal:
    """A new peak of an open signal: its figures, severity (never lowered) and summary. The
    readers' listening pages refresh (at once when the severity rose, else throttled)."""
    now = now or timezone.now()
    values = _signal_values(reading)
    rose = values["severity"] > signal.severity
    values["severity"] = max(values["severity"], signal.severity)
    for name, value in values.items():
        setattr(signal, name, value)
    signal.peak_at = signal.updated_at = now
    trigger = _trigger(reading, signal.kind) or (signal.summary or {}).get("trigger")
    signal.summary = _summarised(signal, now, trigger)
    signal.save(update_fields=[*values, "peak_at", "updated_at", "summary"])
    events.publish_listening_changed(force=rose)
    return signal


def signal_close(*, signal, now=None) -> Signal:
    """The stream is back to normal."""
    now = now or timezone.now()
    signal.status = SignalStatus.CLOSED
    signal.closed_at = signal.updated_at = now
    signal.save(update_fields=["status", "closed_at", "updated_at"])
    events.publish_listening_changed(force=True)
    return signal


def signal_reopen(*, signal, now=None) -> Signal:
    """A signal closed when its watch was stopped, open again: the watch was resumed while
    the episode it measured goes on (its alert went out once: none again)."""
    now = now or timezone.now()
    signal.status, signal.closed_at, signal.updated_at = SignalStatus.OPEN, None, now
    signal.save(update_fields=["status", "closed_at", "updated_at"])
    events.publish_listening_changed(force=True)
    return signal


def signal_title(signal) -> str:
    """The title a declaration from this signal suggests: "Volume spike on <watch>"."""
    return _("%(kind)s on %(watch)s") % {"kind": signal.get_kind_display(), "watch": signal.watch}


def signal_category(signal) -> str:
    """The category a declaration from this signal suggests: the one its top terms name
    (terms.guess_category: product, service or rumour words), else Brand."""
    return guess_category(term for term, _n in (signal.summary or {}).get("terms", []))


def signal_declare_defaults(signal) -> dict:
    """What declaring from this signal gives when the declarer leaves it as suggested: the
    page's form is pre-filled with it, the API's detail names it."""
    return {
        "title": signal_title(signal),
        "category": signal_category(signal),
        "severity": signal.severity,
    }


@transaction.atomic
def signal_declare(*, signal, actor, title=None, severity=None, category=None, now=None):
    """Declare an incident from a signal (anyone allowed to read listening; they become its
    lead): title, category and severity as given, else signal_declare_defaults' (title of
    watch and kind, the category its top terms suggest, the signal's severity); platforms
    (of the window's mentions); the window's mentions (from the start of the
    signal, at most MAX_DECLARE_ATTACH, the newest) attached; a timeline entry saying where it
    started (platform, first mention, time of the spike, of the signal). Returns the
    incident. NotAllowed (403); Conflict (409) when the signal was already declared."""
    if not rules.can_view_listening(actor):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))
    signal = Signal.objects.select_for_update().select_related("watch").get(pk=signal.pk)
    _require_free(signal, actor)
    now = now or timezone.now()
    ids = _window_unattached(signal, now)
    platforms = set(
        Mention.objects.filter(id__in=ids).values_list("platform", flat=True).distinct()
    )
    incident = incident_declare(
        actor=actor,
        title=title or signal_title(signal),
        category=category or signal_category(signal),
        origin=Origin.ONLINE,
        summary=ngettext(
            "Declared from a listening signal: %(n)s mention attached.",
            "Declared from a listening signal: %(n)s mentions attached.",
            len(ids),
        )
        % {"n": len(ids)},
        platforms=sorted(platforms),
        severity=severity or signal.severity,
        detected_at=signal.opened_at,
    )
    _join(signal, lock_incident(incident), ids, actor=actor, now=now, linked=False)
    return incident


def _require_free(signal, actor) -> None:
    """Conflict when the (locked) signal already names an incident, declared from it or
    linked; with the incident's id for those who may see it (the rule of every listening
    answer)."""
    if signal.incident_id is None:
        return
    seen = selectors.visible_incident_ids(actor, [signal.incident_id])
    message = (
        _("This signal is already linked to an incident.")
        if signal.linked
        else _("An incident was already declared from this signal.")
    )
    raise Conflict(message, **({"incident": signal.incident_id} if seen else {}))


def _window_unattached(signal, now) -> list[int]:
    """The ids of the signal's window's mentions attached to no incident (those attached
    to another stay there), the newest MAX_DECLARE_ATTACH. The window ends now, or when
    the signal closed: what was posted after is not its."""
    matches = selectors.signal_window(signal, (signal.closed_at or now) + timedelta(minutes=1))
    ids = matches.order_by("-posted_at").values_list("mention_id", flat=True)
    return list(
        Mention.objects.filter(
            id__in=list(ids[:MAX_DECLARE_ATTACH]), incident__isnull=True
        ).values_list("id", flat=True)
    )


def _join(signal, incident, ids, *, actor, now, linked: bool) -> int:
    """Attach the mentions `ids` that are still free to the (locked) incident, record on
    its timeline where the crisis started (platform, first mention, time of the spike, of
    the signal) and let the signal name the incident. How many were attached."""
    free = Mention.objects.select_for_update().filter(id__in=ids, incident__isnull=True)
    free = list(free.order_by("pk").values_list("id", flat=True))  # locked in id order
    attached = Mention.objects.filter(id__in=free).update(incident=incident)
    if linked and attached:
        # Into a room people may have open: recorded as any attachment is, so its mentions
        # panel (and the reply queue) refresh for them.
        joined = Mention.objects.filter(id__in=ids, incident=incident).order_by("-posted_at")
        timeline_record(
            incident,
            kind=EntryKind.MENTIONS_ATTACHED,
            actor=actor,
            data={"count": attached, "mentions": [_describe(m) for m in joined[:MAX_NAMED]]},
        )
    first = signal.first_mention
    values = {
        "platform": (first.get_platform_display() if first else "") or _("an unknown platform"),
        "started": shown(signal.started_at, zone=True),
        # As the pages and the alert name an author: the handle with its "@", else the name.
        "author": (
            shown_handle(first.author_handle, first.platform)
            or first.author_name
            or first.url
            or "-"
        )
        if first
        else "-",
        "opened": shown(signal.opened_at, "TIME_FORMAT", zone=True),
        "declared": shown(now, "TIME_FORMAT", zone=True),
        "n": attached,
    }
    if linked:
        text = ngettext(
            "Listening signal linked: it started on %(platform)s at %(started)s (first "
            "mention: %(author)s), the signal opened at %(opened)s; %(n)s mention attached.",
            "Listening signal linked: it started on %(platform)s at %(started)s (first "
            "mention: %(author)s), the signal opened at %(opened)s; %(n)s mentions attached.",
            attached,
        )
    else:
        text = _(
            "Started on %(platform)s at %(started)s (first mention: %(author)s); signal opened "
            "at %(opened)s, declared at %(declared)s."
        )
    timeline_record(
        incident,
        kind=EntryKind.KEY_EVENT,
        actor=actor,
        text=text % values,
        occurred_at=signal.started_at,
        data={
            "signal": signal.pk,
            "watch": signal.watch_id,
            "kind": signal.kind,
            "platform": first.platform if first else "",
            "first_mention": first.pk if first else None,
            "first_mention_url": first.url if first else "",
            "started_at": signal.started_at.isoformat(),
            "signal_opened_at": signal.opened_at.isoformat(),
            "mentions_attached": attached,
            **({"linked": True} if linked else {}),
        },
    )
    signal.incident, signal.declared_at, signal.declared_by = incident, now, actor
    signal.linked = linked
    signal.save(update_fields=["incident", "declared_at", "declared_by", "linked"])
    events.publish_listening_changed(force=True)
    return attached


def collector_state_record(
    *,
    name: str,
    actor=None,
    state: dict | None = None,
    error: str | None = None,
    progress: bool = False,
    now=None,
) -> None:
    """Where a collector stands (`CollectorState`, by its unique `name`), after a pass.
    `state` (a JSON-able dict) replaces the stored one when given. `error` None is a
    success (`last_success_at` = now, `last_error` cleared); a string is the failure to
    show (cut to the field's length), the state and last success staying as they were.
    `progress`: the state saved in the middle of a pass (a cursor after a stored page),
    which says nothing yet of how the pass went (success and error stay as they were).
    `actor` None is the system: collectors are the only writers. One UPDATE once the row
    exists (every pass of every collector, and the detector every minute, write it)."""
    now = now or timezone.now()
    values = {"updated_at": now}
    if state is not None:
        values["state"] = state
    if error is not None:
        values["last_error"] = error[: CollectorState._meta.get_field("last_error").max_length]
    elif not progress:
        values.update(last_success_at=now, last_error="")
    if not CollectorState.objects.filter(name=name).update(**values):
        CollectorState.objects.update_or_create(name=name, defaults=values)


def collector_state_open(*, name: str, now=None) -> CollectorState:
    """A collector's `CollectorState` row by its unique `name`, created empty (no success
    yet) when it is the first pass: what a runner then locks (select_for_update) while it
    reads and merges its state (`collector_state_merge`)."""
    row, _created = CollectorState.objects.get_or_create(
        name=name, defaults={"updated_at": now or timezone.now()}
    )
    return row


def collector_state_merge(*, row: CollectorState, entries: dict) -> None:
    """Entries of a collector's state replaced by key, the others kept: the detector's
    standing per watch ({str(watch id): {"last": epoch minute, "episode": ..., "signal":
    id or None, "paused"?: epoch minute}}). `row` is the caller's, read under its lock
    (select_for_update) in the caller's transaction, so that what it read and what it
    writes agree (two detectors at once write a watch's minutes once). One UPDATE;
    `row.state` is changed in place; `updated_at` and the success stay as they were
    (`collector_state_record` says how the pass went)."""
    row.state.update(entries)
    CollectorState.objects.filter(pk=row.pk).update(state=row.state)


# The longest planned campaign: its whole window silences (or discounts) volume alerts, so
# a forgotten end must not blind the watch for months (France's sales run four weeks).
MAX_BURST_LENGTH = timedelta(days=31)
# A campaign is planned for the coming months, not for year 9999 (whose times some zones
# cannot even show).
MAX_BURST_AHEAD = timedelta(days=366)
BURST_FIELDS = ("starts_at", "ends_at", "note", "expected_size")


def clean_burst(burst: ExpectedBurst, *, now=None) -> None:
    """The rule of a planned campaign's values, for every path (the campaigns page, the
    API, the admin form): InvalidInput whose `errors` names each refused field (the message
    is the first one's). Strips the note. A new one on a watch that already has
    MAX_OPEN_BURSTS running or planned: Conflict (one query)."""
    now = now or timezone.now()
    if burst.pk is None and burst.watch_id is not None:
        open_bursts = ExpectedBurst.objects.filter(watch_id=burst.watch_id, ends_at__gt=now)
        if open_bursts.count() >= MAX_OPEN_BURSTS:
            message = ngettext(
                "This watch already has %(n)s planned campaign running or to come, the most "
                "it takes: delete one that is no longer planned, or wait for one to end, "
                "before adding another.",
                "This watch already has %(n)s planned campaigns running or to come, the most "
                "it takes: delete one that is no longer planned, or wait for one to end, "
                "before adding another.",
                MAX_OPEN_BURSTS,
            )
            raise Conflict(message % {"n": MAX_OPEN_BURSTS})
    errors = {}
    burst.note = (burst.note or "").strip()
    if len(burst.note) > MAX_NAME:
        message = _("A note is at most %(n)s characters (this one has %(len)s).")
        errors["note"] = message % {"n": MAX_NAME, "len": len(burst.note)}
    low, high = BURST_SIZE_RANGE
    size = burst.expected_size
    if size is not None and (isinstance(size, bool) or not low <= size <= high):
        message = _("An expected size is from %(low)s to %(high)s times the usual volume.")
        errors["expected_size"] = message % {"low": f"{low:g}", "high": f"{high:g}"}
    try:
        too_far = burst.starts_at - now > MAX_BURST_AHEAD
    except OverflowError:  # past year 9999 once in UTC
        too_far = True
    if too_far:
        errors["starts_at"] = _("A planned campaign starts within a year from now.")
    elif burst.ends_at <= burst.starts_at:
        errors["ends_at"] = _("A planned campaign must end after it starts.")
    elif burst.ends_at - burst.starts_at > MAX_BURST_LENGTH:
        message = _(
            "A planned campaign lasts at most %(days)s days: its whole window quiets the "
            "volume alerts."
        )
        errors["ends_at"] = message % {"days": MAX_BURST_LENGTH.days}
    elif burst.ends_at <= now:
        errors["ends_at"] = _(
            "This window has already ended: a planned campaign is declared before it ends."
        )
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(first, errors={field: [text] for field, text in errors.items()})


@transaction.atomic
def expected_burst_save(*, burst: ExpectedBurst, actor, now=None, fields=None) -> ExpectedBurst:
    """Create or change a planned campaign's window on a watch (no volume signal during it
    and the hour after; with an `expected_size`, none below a wave well beyond that many
    times the usual). `fields`: for a stored campaign, the names the caller changed (the
    others are kept as stored now, so two people changing different fields at once both
    keep their change); None: all of BURST_FIELDS. NotAllowed unless the actor may change
    watches (rules.require_edit_watches); Conflict when the campaign as stored has ended
    (kept as the record of why alerts were quiet then: rules.require_burst_open) or was
    deleted meanwhile; InvalidInput naming the field (clean_burst): it ends before it
    starts, has already ended, lasts over MAX_BURST_LENGTH, a size outside
    BURST_SIZE_RANGE, a note over MAX_NAME characters, or the start of a campaign already
    running is moved (it is part of the record); Conflict for a new one on a watch with
    MAX_OPEN_BURSTS running or to come already (clean_burst)."""
    rules.require_edit_watches(actor)
    now = now or timezone.now()
    if burst.pk is None:
        # Its watch locked: two added at once are counted one after the other (the cap).
        list(Watch.objects.select_for_update().filter(pk=burst.watch_id).values_list("pk"))
    else:
        stored = ExpectedBurst.objects.select_for_update().filter(pk=burst.pk).first()
        if stored is None:
            raise Conflict(_("This planned campaign was deleted meanwhile."))
        rules.require_burst_open(stored, now)
        changed = [name for name in BURST_FIELDS if fields is None or name in fields]
        running = stored.starts_at <= now < stored.ends_at
        if running and "starts_at" in changed and burst.starts_at != stored.starts_at:
            message = _(
                "This campaign is running: its start is kept as it was (change its end to "
                "stop it sooner)."
            )
            raise InvalidInput(message, errors={"starts_at": [message]})
        for name in changed:
            setattr(stored, name, getattr(burst, name))
        burst = stored
    clean_burst(burst, now=now)
    if burst.pk is None:
        burst.created_by = actor
    burst.save()
    # Forced: the watch's line says whether a campaign runs, and until when.
    events.publish_listening_changed(force=True)
    return burst


@transaction.atomic
def expected_burst_delete(*, burst: ExpectedBurst, actor, now=None) -> str:
    """Delete a planned campaign that has not started, or end one that is running (its end
    set to now: it stops quieting the alerts at once and stays as the record of why they
    were quiet). Returns "deleted", "ended" or "gone" (deleted meanwhile). NotAllowed
    unless the actor may change watches; Conflict once it has ended
    (rules.require_burst_open)."""
    rules.require_edit_watches(actor)
    now = now or timezone.now()
    stored = ExpectedBurst.objects.select_for_update().filter(pk=burst.pk).first()
    if stored is None:
        return "gone"
    rules.require_burst_open(stored, now)
    if stored.starts_at <= now:
        stored.ends_at = now
        stored.save(update_fields=["ends_at"])
        done = "ended"
    else:
        stored.delete()
        done = "deleted"
    events.publish_listening_changed(force=True)  # the watch's line: running, or not
    return done


@transaction.atomic
def signal_link(*, signal, incident, actor, now=None) -> int:
    """Link a signal to an incident already declared (by hand before the alert, or from
    another signal of the same burst): the signal names it, as a declaration from it
    would, its window's mentions attached to no incident are attached to it, and its
    timeline records where the crisis started. Returns how many mentions were attached.
    NotAllowed unless the actor reads listening data and may write the incident's timeline
    (its cell, except observers); Conflict when the incident is closed or the signal
    already names an incident."""
    if not rules.can_view_listening(actor):
        raise NotAllowed(_("Listening data is shown to the people given access to it."))
    incident = lock_incident(incident)
    incident_rules.require(actor, incident, incident_rules.WRITE_TIMELINE)
    require_not_closed(incident, "link")
    signal = Signal.objects.select_for_update().select_related("watch").get(pk=signal.pk)
    _require_free(signal, actor)
    now = now or timezone.now()
    return _join(
        signal, incident, _window_unattached(signal, now), actor=actor, now=now, linked=True
    )
