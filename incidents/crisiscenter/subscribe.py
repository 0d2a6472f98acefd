"""The public subscription endpoints, the only public writes: the static page's plain form
posts to `subscribe`; the mails' links lead to `confirm` and `unsubscribe`. No session, no
CSRF token (the pages are static files): instead the request must come from our own pages
(Origin, else Referer), stay small, and stay under a rate per IP address and per e-mail
address (429). Every answer is a small page in the public files' style, the same whether
or not the address was already subscribed. Thin: the writes are actions."""

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from incidents.errors import InvalidInput

from . import actions, selectors, subscriptions
from .choices import PageState
from .models import CrisisPage
from .render import LANGUAGE_NAMES, PUBLIC_CSP, brand, local, public_url

MAX_BODY = 2_048  # bytes of a subscription post
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WINDOW = 3_600  # seconds the rates are counted over


def _answer(request, *, status: int, language: str, title: str, text: str, form=None):
    slug = (request.resolver_match.kwargs if request.resolver_match else {}).get("slug")
    language = language if language in LANGUAGE_NAMES else settings.LANGUAGE_CODE[:2]
    with translation.override(language):
        html = render_to_string(
            "crisiscenter/public_message.html",
            {
                "language": language,
                "title": title,
                "text": text,
                "form": form,
                "brand": brand(),
                "css_url": local(public_url("crisis.css")),
                "index_url": local(public_url(f"{language}/")),
                "page_url": local(public_url(f"{slug}/{language}/")) if slug else "",
            },
        )
    response = HttpResponse(html, status=status)
    response["Content-Security-Policy"] = PUBLIC_CSP
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the links carry their token
    response.public_file = True  # no Vary, no cookie (crisiscell.middleware)
    return response


def _origin(value: str) -> str:
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def from_our_pages(request) -> bool:
    """The Origin header (else the Referer's origin) is this host's, the public pages'
    (CRISIS_CENTER_URL) or a trusted one (CSRF_TRUSTED_ORIGINS)."""
    sent = request.headers.get("Origin") or _origin(request.headers.get("Referer", ""))
    if not sent or sent == "null":
        return False
    ours = {
        f"{request.scheme}://{request.get_host()}",
        _origin(settings.CRISIS_CENTER_URL),
        *settings.CSRF_TRUSTED_ORIGINS,
    }
    return sent in ours


def _over_rate(key: str, limit: int) -> bool:
    cache = caches[settings.CRISIS_CENTER_THROTTLE_CACHE]
    cache.add(key, 0, WINDOW)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW)
        return False


def throttled(request, address: str) -> bool:
    ip = request.META.get("REMOTE_ADDR", "")
    hashed = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    by_ip = _over_rate(f"crisis-subscribe:ip:{ip}", settings.CRISIS_CENTER_SUBSCRIBE_PER_IP)
    by_address = _over_rate(
        f"crisis-subscribe:address:{hashed}", settings.CRISIS_CENTER_SUBSCRIBE_PER_ADDRESS
    )
    return by_ip or by_address


def _body_size(request) -> int | None:
    """The body's declared size in bytes (None: not a number)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _link_language(request) -> str:
    """The language a mail's link was sent in, read from its signed token (no query); ""
    for the subscription form, whose language is in the body."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    token = kwargs.get("token", "")
    if not token:
        return ""
    payload = subscriptions.read_confirm_token(token)[1]
    if payload is not None:
        return payload[2]
    payload = subscriptions.read_unsubscribe_token(token)
    return payload[1] if payload is not None else ""


def refused_body(request, *, too_large: bool = True, language: str = ""):
    """A body too large (413) or that cannot be read (400) sent to a public write: the public
    pages' own message page, in the page's (or the link's) language, nothing done. Also the
    answer crisiscell.errors.bad_request gives when Django refuses such a body before the
    view runs (RequestDataTooBig, TooManyFieldsSent)."""
    language = language or _link_language(request)
    language = language if language in LANGUAGE_NAMES else settings.LANGUAGE_CODE[:2]
    with translation.override(language):
        if too_large:
            title = _("This request is too large")
        else:
            title = _("This request could not be understood")
        text = _(
            "Nothing was done. Use the form on the crisis page, or the link in the message, "
            "as they are."
        )
        return _answer(
            request, status=413 if too_large else 400, language=language, title=title, text=text
        )


def answers_publicly(request) -> bool:
    """Whether this request is for one of the public writes below (subscribe, confirm,
    unsubscribe), whose refusals are the public message page, not the app's."""
    try:
        match = request.resolver_match or resolve(request.path_info)
    except Resolver404:
        return False
    request.resolver_match = match  # the page's links and the token's language
    return match.func in (subscribe, confirm, unsubscribe)


def _link_body_too_large(request) -> bool:
    """A mail's link posts an empty body, or "List-Unsubscribe=One-Click" (RFC 8058)."""
    size = _body_size(request)
    return size is None or size > MAX_BODY


def _bad(request, language, text, status=400):
    return _answer(
        request, status=status, language=language, title=_("Subscription not made"), text=text
    )


@csrf_exempt
@require_POST
def subscribe(request, slug):
    page = get_object_or_404(CrisisPage, slug=slug, state=PageState.LIVE)
    size = _body_size(request)
    if size is None or size > MAX_BODY:
        return refused_body(request)
    if not size or request.content_type not in FORM_TYPES:
        return _bad(request, "", _("This request is not a subscription form."))
    language = request.POST.get("language", "")
    address = request.POST.get("email", "")
    if language not in selectors.languages() or len(request.POST) > 3:
        return _bad(request, language, _("This request is not a subscription form."))
    if not from_our_pages(request):
        return _bad(request, language, _("Subscribe from the crisis page itself."), status=403)
    if throttled(request, address):
        return _bad(
            request, language, _("Too many subscription requests: try again in an hour."), 429
        )
    with translation.override(language):
        try:
            actions.subscription_request(page=page, address=address, language=language)
        except InvalidInput as error:
            return _bad(request, language, error.message)
        return _answer(
            request,
            status=200,
            language=language,
            title=_("Check your e-mail"),
            text=_(
                "If this address can receive the updates, a message is on its way to it: "
                "open the link it holds to confirm. Nothing will be sent until you do."
            ),
        )


def _confirmation_texts() -> dict[str, tuple[int, str, str]]:
    return {
        actions.CONFIRMED: (
            200,
            _("Subscription confirmed"),
            _(
                "You will receive each new update of this page by e-mail. Every message has "
                "a link to stop them in one click."
            ),
        ),
        actions.EXPIRED: (
            400,
            _("This link has expired"),
            _(
                "Confirmation links are valid for %(hours)s hours. Subscribe again from the "
                "crisis page to get a new one."
            )
            % {"hours": settings.CRISIS_CENTER_CONFIRM_HOURS},
        ),
        actions.USED: (
            400,
            _("This link can no longer be used"),
            _(
                "It was already used, or a newer link was sent since. Nothing else to do: "
                "use the newest message if you asked again."
            ),
        ),
        actions.INVALID: (
            400,
            _("This link is not valid"),
            _("Check that the whole link was copied from the message."),
        ),
    }


# The link opens a page (GET, HEAD: nothing written, as mail scanners and link previews
# follow links); its button confirms (POST). As for unsubscribing (RFC 8058), the signed,
# single-use token in the address is the credential: no session, no CSRF cookie.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, slug, token):
    if request.method == "POST" and _link_body_too_large(request):
        return refused_body(request)
    if request.method == "POST":
        outcome, language = actions.subscription_confirm(slug=slug, token=token)
    else:
        outcome, language, _subscriber = selectors.confirmation(slug, token)
    with translation.override(language or settings.LANGUAGE_CODE[:2]):
        if outcome == actions.PENDING:
            return _answer(
                request,
                status=200,
                language=language,
                title=_("Confirm your subscription"),
                text=_(
                    "Press the button to receive each new update of this page by e-mail. "
                    "Nothing is sent until you do."
                ),
                form={"action": request.path, "button": _("Confirm my subscription")},
            )
        status, title, text = _confirmation_texts()[outcome]
    return _answer(request, status=status, language=language, title=title, text=text)


@csrf_exempt  # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" by itself
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, slug, token):
    if request.method == "POST" and _link_body_too_large(request):
        return refused_body(request)
    if request.method == "POST":
        language = actions.subscription_end(slug=slug, token=token)
        if language is None:
            raise Http404
        with translation.override(language):
            return _answer(
                request,
                status=200,
                language=language,
                title=_("You are unsubscribed"),
                text=_("You will receive no more e-mails about this page."),
            )
    payload = actions.subscriptions.read_unsubscribe_token(token)
    if payload is None or not CrisisPage.objects.filter(slug=slug).exists():
        raise Http404
    language = payload[1]
    with translation.override(language):
        return _answer(
            request,
            status=200,
            language=language,
            title=_("Stop the e-mails?"),
            text=_("You will receive no more updates of this page by e-mail."),
            form={"action": request.path, "button": _("Unsubscribe"), "one_click": True},
        )
