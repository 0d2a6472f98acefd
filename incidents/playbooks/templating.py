"""Statement templates: plain text with a few named placeholders, nothing else.

Not Django's template language: a template is written by a playbook editor and its output
is a public statement, so it may only name the whitelisted values below. There is no
attribute access, no filter, no tag, and values are inserted once (a title containing
"{{ brand }}" stays as typed). The output is plain text; pages escape it when they show it.
"""

import re
import unicodedata

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import (
    format_date,
    format_time,
    get_timezone,
    get_timezone_location,
    get_timezone_name,
)
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.errors import InvalidInput

PLACEHOLDER = re.compile(r"{{\s*([^{}]*?)\s*}}")
PLACEHOLDERS = {
    "incident.title": "the incident's title",
    "brand": "the playbook's brand name",
    "next_update_at": "time of the next scheduled update",
    "declared_at": "time the incident was declared",
    "platforms": "platforms concerned",
}
# Reply templates only: filled from the mention the reply answers (the reply queue).
REPLY_PLACEHOLDERS = {
    "author.handle": "the author's handle, with its @",
    "author.name": "the author's display name",
    "mention.url": "the address of the post answered",
}
REPLY_KIND = "reply"

# What a reply placeholder may be filled with. The values come from the post's author
# (their handle, their display name, the post's address), and a reply made from a template
# approved in advance is approved without anyone reading it: a value holding a sentence, a
# link or markup would be published under the approvers' names. Handles are ASCII
# (user, user@host, a domain: no look-alike letters); a name is at most five words of
# letters, digits, apostrophes, hyphens and dots; an address is one http(s) URL.
_HANDLE = re.compile(r"@?[A-Za-z0-9_.-]{1,64}(?:@[A-Za-z0-9.-]{1,190})?", re.ASCII)
_NAME_WORD = re.compile(r"[^\W_](?:[\w'\u2019.-]*[\w.])?")  # \u2019: the typographic apostrophe
_DOMAIN_LIKE = re.compile(r"[A-Za-z0-9-]+\.[A-Za-z]{2,}")
NAME_MAX_WORDS = 5
NAME_MAX = 64
URL_MAX = 500


def plain_reply_value(name: str, value: str) -> bool:
    """Can `value` fill the reply placeholder `name` in a text approved in advance?"""
    if name == "author.handle":
        return len(value) <= 100 and _HANDLE.fullmatch(value) is not None
    if name == "author.name":
        words = value.split(" ")
        return (
            len(value) <= NAME_MAX
            and len(words) <= NAME_MAX_WORDS
            and all(_NAME_WORD.fullmatch(word) for word in words)
            and not _DOMAIN_LIKE.search(value)
        )
    return (
        len(value) <= URL_MAX
        and value.startswith(("https://", "http://"))
        and all(c.isprintable() and not c.isspace() for c in value)
        and not any(c in value for c in '<>"{}')
    )


def _listed(names) -> str:
    return ", ".join(f"{{{{ {p} }}}}" for p in names)


def check_template(text: str, kind: str | None = None) -> None:
    """Raise InvalidInput naming the first placeholder or construct that is not allowed.
    A reply template (`kind` "reply", or unknown: None) may also name the mention it
    answers."""
    if "{%" in text or "{#" in text:
        raise InvalidInput(_("Templates hold text and {{ placeholders }} only, no {% tags %}."))
    allowed = {**PLACEHOLDERS, **REPLY_PLACEHOLDERS}
    for name in PLACEHOLDER.findall(text):
        if name in REPLY_PLACEHOLDERS and kind not in (None, REPLY_KIND):
            raise InvalidInput(
                _(
                    "{{ %(name)s }} names the person a reply answers: only reply templates "
                    "may use it. Allowed here: %(allowed)s."
                )
                % {"name": name, "allowed": _listed(PLACEHOLDERS)}
            )
        if name not in allowed:
            raise InvalidInput(
                _("Unknown placeholder {{ %(name)s }}. Allowed: %(allowed)s.")
                % {"name": name, "allowed": _listed(allowed)}
            )
    leftover = PLACEHOLDER.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise InvalidInput(
            _(
                "A placeholder is not closed or not opened: write it {{ brand }}, with two "
                "braces on each side."
            )
        )


# A value that ends a sentence already: a literal "." right after it would double it
# ("… 2:33 p.m.." or "Acme Inc..").
SENTENCE_END = (".", "!", "?", "…")


MISSING_MESSAGES = {
    "author.handle": gettext_lazy(
        "This template needs {{ author.handle }}, but this post's author has no handle: "
        "write the reply yourself, or choose another template."
    ),
    "author.name": gettext_lazy(
        "This template needs {{ author.name }}, but this post's author has no name: write "
        "the reply yourself, or choose another template."
    ),
    "mention.url": gettext_lazy(
        "This template needs {{ mention.url }}, but this post has no address: write the "
        "reply yourself, or choose another template."
    ),
}


UNFIT_MESSAGES = {
    "author.handle": gettext_lazy(
        "This post's author handle cannot go into a template as it is (it is not a plain "
        "handle): write the reply yourself, or choose a template without {{ author.handle }}."
    ),
    "author.name": gettext_lazy(
        "This post's author name cannot go into a template as it is (more than a name: "
        "a link, punctuation or more than five words): write the reply yourself, or choose "
        "a template without {{ author.name }}."
    ),
    "mention.url": gettext_lazy(
        "This post's address cannot go into a template as it is (not one plain web "
        "address): write the reply yourself, or choose a template without {{ mention.url }}."
    ),
}


def render_template(text: str, values: dict[str, str | None]) -> str:
    """The template with each placeholder replaced by its value, once (a value is never
    read as a template). A literal "." right after a value that ends with a full stop, "!",
    "?" or "…" is dropped, so punctuation is never doubled; a literal "..." stays.

    A reply placeholder left out of `values` stays as typed (a reply drafted without a
    mention: the drafter fills it in); one given empty is missing data, and one that is not
    a plain handle, name or address (`plain_reply_value`) is unfit: the template refuses to
    render, naming it (InvalidInput)."""
    check_template(text)
    pieces: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        pieces.append(_literal(text[position : match.start()], pieces))
        name = match.group(1)
        if name in REPLY_PLACEHOLDERS and name not in values:
            pieces.append(match.group(0))
        elif name in REPLY_PLACEHOLDERS and not values[name]:
            raise InvalidInput(str(MISSING_MESSAGES[name]), placeholder=name)
        elif name in REPLY_PLACEHOLDERS and not plain_reply_value(name, values[name]):
            raise InvalidInput(str(UNFIT_MESSAGES[name]), placeholder=name)
        else:
            pieces.append(values[name])
        position = match.end()
    pieces.append(_literal(text[position:], pieces))
    return "".join(pieces)


def _literal(literal: str, before: list[str]) -> str:
    value = before[-1] if before else ""
    if value.endswith(SENTENCE_END) and literal.startswith(".") and not literal.startswith(".."):
        return literal[1:]
    return literal


# --- Dates and times in the statement's language ------------------------------------------
# Babel (CLDR data) gives month names, the order of day and month, the 12- or 24-hour clock
# and city names in every language. Where CLDR's generic patterns read stiffly in a public
# statement, the two languages the product is written in follow their house style: French
# writes "14 h 33" (Imprimerie nationale) and says "à"; English says "at". Other languages
# take CLDR's own patterns.
STYLE = {
    "fr": {"time": "H 'h' mm", "at": "{date} à {time}", "zone": "heure de {city}"},
    "en": {"at": "{date} at {time}", "zone": "{city} time"},
}
ELIDING_VOWELS = "AEIOUY"  # French "heure d'Amsterdam"


def statement_locale(language: str, zone_name: str) -> Locale:
    """The statement's language as written where the company is: with the territory of its
    time zone when CLDR has that variant (English from Europe/Paris is en_FR, "30 November
    2026"; from America/New_York en_US, "November 30, 2026"), else the language alone."""
    territory = get_global("zone_territories").get(zone_name)
    candidates = [f"{language}_{territory}"] if territory else []
    for identifier in [*candidates, language]:
        try:
            return Locale.parse(identifier)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(settings.LANGUAGE_CODE)


def _zone_phrase(language: str, zone_name: str, locale: Locale) -> str:
    """'heure de Paris', 'Paris time'; in other languages CLDR's name of the zone
    ('Mitteleuropäische Zeit', 'hora de Europa central'); a zone without a city ('UTC',
    'Etc/GMT+5') is named as such."""
    zone = get_timezone(zone_name)
    pattern = STYLE.get(language, {}).get("zone")
    if zone_name == "UTC" or zone_name.startswith("Etc/"):
        return get_timezone_location(zone, locale=locale, return_city=True)
    if pattern is None:
        return get_timezone_name(zone, "long", locale=locale)
    city = get_timezone_location(zone, locale=locale, return_city=True)
    if language == "fr" and unicodedata.normalize("NFD", city)[:1].upper() in ELIDING_VOWELS:
        pattern = pattern.replace("de {city}", "d\u2019{city}")  # the typographic apostrophe
    return pattern.format(city=city)


def format_moment(moment, language: str, zone_name: str | None = None) -> str:
    """A date and time for a statement in `language`, in the site's time zone (the
    company's, not the drafter's browser's), with the zone named: "30 novembre 2026 à
    14 h 33 (heure de Paris)", "30 November 2026 at 14:33 (Paris time)". `moment` is an
    aware datetime; `zone_name` an IANA name (default settings.TIME_ZONE)."""
    zone_name = zone_name or settings.TIME_ZONE
    zone = get_timezone(zone_name)
    locale = statement_locale(language, zone_name)
    style = STYLE.get(language, {})
    local = moment.astimezone(zone)
    date = format_date(local, "long", locale=locale)
    time = format_time(local, style.get("time", "short"), tzinfo=zone, locale=locale)
    if "at" in style:
        when = style["at"].format(date=date, time=time)
    else:  # CLDR's "{1}, {0}" (date, time); quoted literals lose their quotes
        pattern = re.sub(r"'([^']*)'", r"\1", str(locale.datetime_formats["long"]))
        when = pattern.replace("{1}", date).replace("{0}", time)
    return f"{when} ({_zone_phrase(language, zone_name, locale)})"


def values_for(incident, *, brand: str, language: str, next_update_at=None) -> dict[str, str]:
    """The values a template may use, formatted for the statement's language."""
    with translation.override(language):
        platforms = ", ".join(str(label) for label in incident.platform_labels)
    return {
        "incident.title": incident.title,
        "brand": brand,
        "next_update_at": format_moment(next_update_at, language) if next_update_at else "",
        "declared_at": format_moment(incident.declared_at, language),
        "platforms": platforms,
    }
