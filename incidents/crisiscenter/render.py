"""The public files: each live or resolved page rendered once per change into
settings.CRISIS_CENTER_ROOT, which a web server or a CDN serves without Django (and
`serve.py` serves without a database query). Written atomically (a temporary file in the
same directory, then a rename): a reader sees the old file or the new one, never half.

    <root>/crisis.css
    <root>/index.html, <root>/<lang>/index.html        the index: live pages, then the archive
    <root>/<slug>/index.html                           the page in its first language
    <root>/<slug>/<lang>/index.html                    the page in each language
    <root>/<slug>/<lang>/feed.atom, feed.json          every update its own entry
    <root>/<slug>/page.json                            the public JSON (every language)

Only `selectors.PublicPage` reaches these files: approved or published words, their times,
the page's state. No name, comment, draft, briefing, timeline entry or evidence.
"""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import feedgenerator, timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from incidents.playbooks.templating import format_moment

from . import selectors
from .choices import PageState
from .models import CrisisPage

logger = logging.getLogger(__name__)

CSS = "crisiscenter/crisis.css"
# The public files' policy: their own stylesheet, nothing else (no script at all); the
# one form (e-mail subscription) posts to the same host.
META_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'"
)
# The header adds what a <meta> element cannot say.
PUBLIC_CSP = f"{META_CSP}; frame-ancestors 'none'"
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "de": "Deutsch", "es": "Español"}
# Open Graph's locales (language_TERRITORY) of the page languages.
OG_LOCALES = {"fr": "fr_FR", "en": "en_GB", "de": "de_DE", "es": "es_ES"}


def og_locales(language: str, others) -> dict:
    return {
        "locale": OG_LOCALES.get(language, language),
        "alternates": [OG_LOCALES.get(code, code) for code in others if code != language],
    }


def root() -> Path:
    return Path(settings.CRISIS_CENTER_ROOT)


def public_url(path: str = "") -> str:
    return f"{settings.CRISIS_CENTER_URL.rstrip('/')}/{path}"


def page_url(slug: str, language: str | None = None) -> str:
    return public_url(f"{slug}/{language}/" if language else f"{slug}/")


def local(url: str) -> str:
    """A link between the public files, without scheme and host: the files work on
    whatever host serves them (the app, a CDN, a copy)."""
    return urlsplit(url).path


def write_atomic(path: Path, content: bytes) -> bool:
    """Write `content` to `path` through a rename; an unchanged file is left alone (its
    ETag and Last-Modified stay, so caches keep answering 304). True when written."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def moment(value, language: str) -> dict | None:
    """A time as the page shows it: in words with its zone, and ISO 8601 with its offset."""
    if value is None:
        return None
    local = timezone.localtime(value, timezone.get_default_timezone())
    return {"text": format_moment(value, language), "iso": local.isoformat(timespec="seconds")}


def brand() -> dict:
    return {
        "name": settings.CRISIS_CENTER_BRAND_NAME,
        "logo": settings.CRISIS_CENTER_LOGO_URL,
    }


def version_context(page: selectors.PublicPage, language: str) -> dict:
    version = page.versions[language]
    updates = []
    for update in version.updates:
        updates.append(
            {
                "id": update.id,
                "text": update.text,
                "when": moment(update.published_at, language),
                "corrects": update.corrects,
                "corrected_by": update.corrected_by,
                "is_correction": bool(update.corrects),
                "next_update": moment(update.next_update_at, language),
            }
        )
    return {
        "version": version,
        "language": language,
        "updates": updates,
        "faq": version.faq,
        "last_updated": moment(version.last_updated, language),
        "next_update": moment(page.next_update_at, language),
        "resolved": moment(page.resolved_at, language)
        if page.state == PageState.RESOLVED
        else None,
    }


def page_html(
    page: selectors.PublicPage, language: str, *, preview: bool = False, css_url=None
) -> str:
    with translation.override(language):
        context = {
            "page": page,
            **version_context(page, language),
            "switch": [
                {
                    "code": code,
                    "name": LANGUAGE_NAMES.get(code, code),
                    "url": page_url(page.slug, code),
                    # The preview switches language in place (a dark page has no public file).
                    "path": f"?lang={code}" if preview else local(page_url(page.slug, code)),
                }
                for code in page.languages
            ],
            "url": page_url(page.slug, language),
            "og": og_locales(language, page.languages),
            "atom_url": local(page_url(page.slug, language) + "feed.atom"),
            "json_url": local(page_url(page.slug, language) + "feed.json"),
            "index_url": local(public_url(f"{language}/")),
            "subscribe_url": local(public_url(f"{page.slug}/subscribe/")),
            "css_url": css_url or local(public_url("crisis.css")),
            "csp": META_CSP,
            "brand": brand(),
            "preview": preview,
        }
        return render_to_string("crisiscenter/public_page.html", context)


def atom(page: selectors.PublicPage, language: str) -> bytes:
    version = page.versions[language]
    url = page_url(page.slug, language)
    feed = feedgenerator.Atom1Feed(
        title=version.title,
        link=url,
        description=version.summary,
        language=language,
        feed_url=url + "feed.atom",
        feed_guid=url,
        author_name=settings.CRISIS_CENTER_BRAND_NAME,
    )
    for update in version.updates:
        when = timezone.localtime(update.published_at, timezone.get_default_timezone())
        feed.add_item(
            title=Truncator(update.text.splitlines()[0]).chars(120),
            link=f"{url}#update-{update.id}",
            description=update.text,
            unique_id=f"{url}#update-{update.id}",
            unique_id_is_permalink=True,
            pubdate=when,
            updateddate=when,
        )
    return feed.writeString("utf-8").encode()


def json_feed(page: selectors.PublicPage, language: str) -> bytes:
    version = page.versions[language]
    url = page_url(page.slug, language)
    items = []
    for update in version.updates:
        when = timezone.localtime(update.published_at, timezone.get_default_timezone())
        item = {
            "id": f"{url}#update-{update.id}",
            "url": f"{url}#update-{update.id}",
            "title": Truncator(update.text.splitlines()[0]).chars(120),
            "content_text": update.text,
            "date_published": when.isoformat(timespec="seconds"),
        }
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": version.title,
        "home_page_url": url,
        "feed_url": url + "feed.json",
        "description": version.summary,
        "language": language,
        "authors": [{"name": settings.CRISIS_CENTER_BRAND_NAME}],
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1).encode()


def page_data(page: selectors.PublicPage) -> dict:
    """The public JSON of a page (page.json and the public API): every language."""

    def iso(value):
        if value is None:
            return None
        return timezone.localtime(value, timezone.get_default_timezone()).isoformat(
            timespec="seconds"
        )

    versions = {}
    for code in page.languages:
        version = page.versions[code]
        versions[code] = {
            "url": page_url(page.slug, code),
            "title": version.title,
            "summary": version.summary,
            "doing": version.doing,
            "help": version.help,
            "faq": [{"id": f.id, "question": f.question, "answer": f.answer} for f in version.faq],
            "updates": [
                {
                    "id": u.id,
                    "text": u.text,
                    "published_at": iso(u.published_at),
                    "corrects": u.corrects,
                    "corrected_by": u.corrected_by,
                    "next_update_at": iso(u.next_update_at),
                }
                for u in version.updates
            ],
            "last_updated": iso(version.last_updated),
        }
    return {
        "slug": page.slug,
        "state": page.state,
        "url": page_url(page.slug),
        "live_at": iso(page.live_at),
        "resolved_at": iso(page.resolved_at),
        "next_update_at": iso(page.next_update_at),
        "languages": page.languages,
        "versions": versions,
    }


def _write_css() -> None:
    source = finders.find(CSS)
    if source:
        write_atomic(root() / "crisis.css", Path(source).read_bytes())


def render_page(page_id: int, *, index: bool = True) -> None:
    """Render one page's files (and the index, unless `index` is False) from the committed
    rows. A dark page has no file: the public gets 404 for it as for an unknown address."""
    page = CrisisPage.objects.filter(pk=page_id).first()
    if page is None or page.state == PageState.DARK:
        return
    public = selectors.public_page(page)
    base = root() / page.slug
    for code in public.languages:
        html = page_html(public, code).encode()
        write_atomic(base / code / "index.html", html)
        if code == public.default_language:
            write_atomic(base / "index.html", html)
        write_atomic(base / code / "feed.atom", atom(public, code))
        write_atomic(base / code / "feed.json", json_feed(public, code))
    remove_stale(base, public)
    write_atomic(base / "page.json", json.dumps(page_data(public), ensure_ascii=False).encode())
    if index:
        render_index()


LANGUAGE_FILES = ("index.html", "feed.atom", "feed.json")


def remove_stale(base: Path, public: selectors.PublicPage) -> None:
    """The files of a language the page no longer shows (its summary withdrawn: an explicit
    act; an edit keeps the approved words, see selectors.shown_texts) go, so that the files
    say what the selectors say: no language served that page.json, the index and the
    language switch do not list. A page left with no language at all has no page file
    either (404, as before it went live); its page.json says so (no language)."""
    shown = set(public.languages)
    if base.is_dir():
        for folder in base.iterdir():
            if not folder.is_dir() or folder.name in shown or folder.name.startswith("."):
                continue
            for name in LANGUAGE_FILES:
                (folder / name).unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:  # something else lives there: leave it
                logger.warning("Kept %s: it holds files the crisis center did not write", folder)
    if not shown:
        (base / "index.html").unlink(missing_ok=True)


def index_html(language: str, pages: list[tuple[CrisisPage, selectors.PublicPage]]) -> str:
    """The index in `language`; `pages`: the listed pages and their public view, read once
    for every language (`index_pages`)."""
    entries = []
    for page, public in pages:
        code = language if language in public.languages else public.default_language
        if code is None:
            continue
        version = public.versions[code]
        entries.append(
            {
                "title": version.title,
                "language": code,
                "url": local(page_url(page.slug, code)),
                "live": page.state == PageState.LIVE,
                "last_updated": moment(version.last_updated, language),
                "resolved": moment(page.resolved_at, language) if page.resolved_at else None,
            }
        )
    with translation.override(language):
        return render_to_string(
            "crisiscenter/public_index.html",
            {
                "live": [e for e in entries if e["live"]],
                "archive": [e for e in entries if not e["live"]],
                "language": language,
                "switch": [
                    {
                        "code": c,
                        "name": LANGUAGE_NAMES.get(c, c),
                        "url": public_url(f"{c}/"),
                        "path": local(public_url(f"{c}/")),
                    }
                    for c in selectors.languages()
                ],
                "css_url": local(public_url("crisis.css")),
                "csp": META_CSP,
                "brand": brand(),
                "title": _("Crisis information"),
                "url": public_url(f"{language}/"),
                "og": og_locales(language, selectors.languages()),
            },
        )


def index_pages() -> list[tuple[CrisisPage, selectors.PublicPage]]:
    """The index's pages with their public view: each page read once per render, in a
    constant number of queries whatever the number of pages."""
    pages = selectors.public_pages()
    views = selectors.public_pages_of(pages)
    return [(page, views[page.pk]) for page in pages]


def render_index() -> None:
    _write_css()
    pages = index_pages()
    for position, code in enumerate(selectors.languages()):
        html = index_html(code, pages).encode()
        write_atomic(root() / code / "index.html", html)
        if position == 0:
            write_atomic(root() / "index.html", html)


def render_all() -> int:
    """Every public page again (after a deployment, a new disk): `render_crisis_pages`."""
    count = 0
    for page in CrisisPage.objects.exclude(state=PageState.DARK):
        render_page(page.pk, index=False)
        count += 1
    render_index()  # once, not once per page
    return count


def remove_all() -> None:
    """Tests: start from an empty directory."""
    shutil.rmtree(root(), ignore_errors=True)
