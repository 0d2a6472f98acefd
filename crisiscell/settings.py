"""Crisis Cell settings, read from environment variables.

No environment at all gives the embedded mode (`make run`): SQLite, in-memory channel
layer, eager Celery, DEBUG on. `CRISISCELL_MODE=production` switches to the production
stack and refuses to start unless it is configured for it (see docs/deployment.md).
"""

import json
import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


MODE = env_str("CRISISCELL_MODE", "embedded")
if MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured("CRISISCELL_MODE must be 'embedded' or 'production'")
PRODUCTION = MODE == "production"


def required(name: str) -> str:
    value = env_str(name)
    if PRODUCTION and not value:
        raise ImproperlyConfigured(f"{name} is required when CRISISCELL_MODE=production")
    return value


DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("Refusing to start: DEBUG must be off in production mode")

SECRET_KEY = required("SECRET_KEY") or "embedded-mode-insecure-key-do-not-use-in-production"
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when CRISISCELL_MODE=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "pgtrigger",
    "axes",
    "csp",
    # Layered (docs/architecture.md): each app imports only the ones above it in this list.
    "incidents",
    "incidents.outbox",
    "incidents.notifications",
    "incidents.listening",
    "statements",
    "incidents.publishing",
    "incidents.replies",
    "incidents.evidence",
    "incidents.playbooks",
    "incidents.postmortems",
    "incidents.crisiscenter",
    "incidents.integrity",
    "demo",
]

MIDDLEWARE = [
    # Outermost: the public crisis pages' answers lose the per-visitor headers added inside.
    "crisiscell.middleware.PublicFileMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crisiscell.middleware.ViewerTimezoneMiddleware",
    # After auth, messages and htmx: its 400 page is the signed-in layout, JSON for htmx.
    "crisiscell.middleware.RefuseNulMiddleware",
    # After the auth and htmx middleware: htmx requests signed out get 401, not a redirect.
    "crisiscell.middleware.HtmxSignInMiddleware",
    # After auth, messages and htmx: the readable 405 is the signed-in layout, JSON for htmx.
    "crisiscell.middleware.MethodNotAllowedMiddleware",
    # Last, as django-axes asks: turns a lockout into its response (crisiscell/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crisiscell.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "crisiscell.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "incidents.notifications.context_processors.notifications",
                "incidents.context_processors.promotion_freezes",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (psycopg 3) through DATABASE_URL.
DATABASE_URL = required("DATABASE_URL")
if DATABASE_URL and not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    # The embedded SQLite database needs its own options (WAL, immediate transactions).
    raise ImproperlyConfigured(
        "DATABASE_URL takes a PostgreSQL URL (postgres://...); for SQLite leave it unset and "
        "set SQLITE_PATH"
    )
if DATABASE_URL:
    # A pool of connections per server process (psycopg_pool): requests borrow one and give
    # it back, so a process never holds more than DB_POOL_MAX_SIZE, however many threads
    # serve it. Budget: processes x DB_POOL_MAX_SIZE <= max_connections - reserve
    # (docs/deployment.md, "Database connections"). DB_POOL_MAX_SIZE=0 turns it off (behind
    # PgBouncer): then DB_CONN_MAX_AGE says how long a thread keeps its own connection.
    pool_max = env_int("DB_POOL_MAX_SIZE", 10)
    pool_min = env_int("DB_POOL_MIN_SIZE", min(2, pool_max))
    if pool_max < 0 or not 0 <= pool_min <= pool_max:
        raise ImproperlyConfigured("Need 0 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE")
    # Seconds a connection is reused; 0 closes it after each request. Always 0 with the
    # pool (Django refuses both), which keeps and reuses the connections itself.
    conn_max_age = 0 if pool_max else env_int("DB_CONN_MAX_AGE", 60)
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=conn_max_age)}
    if pool_max:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": pool_min,
            "max_size": pool_max,
            # Seconds a request waits for a free connection before failing (a 500, logged).
            # When the server is saturated this is where requests queue (a worker runs one
            # thread per request in flight, each wanting a connection): 10 s turned a slow
            # answer into a 500 for 200 clients on one worker (bench/http_load.py). A proxy
            # gives up after 60 s; a leaked pool still fails here.
            "timeout": env_int("DB_POOL_TIMEOUT", 30),
        }
else:
    sqlite_path = Path(env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                # IMMEDIATE makes every write transaction take the write lock up front, so
                # two concurrent actions queue instead of one failing with "database is
                # locked" when it upgrades a read to a write (SQLite cannot wait there).
                "transaction_mode": "IMMEDIATE",
                # Seconds a connection waits for the write lock (Python's busy handler).
                "timeout": 20,
                # WAL: readers never block the writer nor the writer the readers, so pages
                # keep answering while an action commits. busy_timeout repeats the wait
                # for statements SQLite runs itself (checkpoints).
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=20000;",
            },
            # Tests run threads against the database: each needs its own connection to a
            # real file (an in-memory database would be one connection shared by all).
            "TEST": {"NAME": sqlite_path.with_name(f"test_{sqlite_path.name}")},
        }
    }
if PRODUCTION and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production mode needs a PostgreSQL DATABASE_URL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels: in-memory layer only works inside one process, so production refuses it.
# With Redis, the pub/sub layer: a group_send is one PUBLISH, and each ASGI process hands
# the message to its own consumers. Delivery is at most once (a process that is down or
# reconnecting misses events); clients detect the gap by timeline seq and fetch what they
# missed. With the list-based channels_redis.core layer, a burst of 100 events reached
# 200 watchers seconds late (p99 2.6 s; pub/sub: before the API response; see
# docs/benchmarks.md and docs/deployment.md).
REDIS_URL = required("REDIS_URL")
if REDIS_URL:
    from redis.connection import parse_url

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels are shared by all of a server's databases: the database
            # number keeps two sites (or test runs) on one Redis from hearing each other.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"crisiscell.db{parse_url(REDIS_URL).get('db') or 0}.",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if PRODUCTION and "InMemory" in CHANNEL_LAYERS["default"]["BACKEND"]:
    raise ImproperlyConfigured("Refusing to start: the in-memory channel layer in production")


def _shared_cache(name: str, prefix: str) -> dict:
    """A cache every process sees: Redis when there is one (production: several web
    workers), else the process's memory (embedded mode is one process)."""
    if REDIS_URL:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}


# `default` is the process's own memory: only what each process may keep for itself
# (rendered fragments, throttles of its own events). What another process must read is
# in a shared cache:
# - `presence`: who has an incident open now (incidents/presence.py), written by the web
#   processes and read by whoever notifies (a worker, another web process);
# - `imports`: the file a person uploaded to the browser import, between its preview and
#   its import (incidents/listening/views.py), which the next request may hand to another
#   web worker. One per person, compressed, expiring after an hour: bounded by the number
#   of importers times LISTENING_IMPORT_MAX_BYTES. Redis rather than files under
#   MEDIA_ROOT: it expires them itself, and every process already reaches it, even on
#   another machine.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "presence": _shared_cache("presence", "crisiscell"),
    "imports": _shared_cache("imports", "crisiscell-imports"),
}

# Celery: eager (inline) in embedded mode, Redis broker in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Reminders of tasks coming due and overdue; idempotent, so a missed or doubled beat is safe.
CELERY_BEAT_SCHEDULE = {
    "task-reminders": {
        "task": "incidents.playbooks.tasks.send_task_reminders",
        "schedule": 60.0,
    },
    # Captures and display copies queued while the broker was down; idempotent too.
    "evidence-requeue-stuck": {
        "task": "incidents.evidence.tasks.requeue_stuck",
        "schedule": 60.0,
    },
    # Approval steps past their deadline alert the roster's backups and the lead; idempotent.
    "approval-escalations": {
        "task": "statements.tasks.escalate_late_approvals",
        "schedule": 60.0,
    },
    # Post-mortem action items due soon or overdue remind their owner, once a day each.
    "action-item-reminders": {
        "task": "incidents.postmortems.tasks.send_action_item_reminders",
        "schedule": 60.0,
    },
    # Crisis pages' promised updates: a reminder before, "missed" at the time; idempotent.
    "crisis-page-promises": {
        "task": "incidents.crisiscenter.tasks.sweep_promises",
        "schedule": 60.0,
    },
    # A resolved incident whose promotion freeze holds reminds its lead, once a day, until
    # the freeze is lifted and normal posting resumes.
    "promotion-freeze-reminders": {
        "task": "incidents.postmortems.tasks.send_promotion_freeze_reminders",
        "schedule": 60.0,
    },
}

# The embedded mode has no broker for a Celery beat: the web process runs
# CELERY_BEAT_SCHEDULE (above and below) itself (crisiscell/scheduler.py, started by the
# ASGI lifespan: `make run` serves with `--lifespan on`). On by default when tasks run
# eagerly (no broker); refused in production, where every web worker would run it: there
# the Procfile's beat does.
EMBEDDED_SCHEDULER = env_bool(
    "EMBEDDED_SCHEDULER", default=not PRODUCTION and CELERY_TASK_ALWAYS_EAGER
)
if PRODUCTION and EMBEDDED_SCHEDULER:
    raise ImproperlyConfigured("EMBEDDED_SCHEDULER is for the embedded mode: run Celery beat")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout (django-axes), shared by the login page, the admin login and the API
# token endpoint: after AXES_FAILURE_LIMIT wrong passwords for one account from one address,
# or for one account from anywhere, that account cannot sign in for the cool-off (each
# attempt during it starts it over). Never per address alone: a whole office behind one
# address is not locked out by one person's typos. Attempts are logged and kept in the
# database (admin: Axes); `manage.py axes_reset_username <name>` lifts a lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_LOCKOUT_CALLABLE = "crisiscell.lockout.lockout_response"
# The logs name the account and the address (never the password): who is being tried.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Content-Security-Policy on every page (django-csp): scripts and styles from our own static
# files only — no inline script, no inline handler, no eval (htmx's allowEval is off in
# base.html) —, a nonce for the rare inline <style> that asks for one (request.csp_nonce).
# WebSockets to our own host are 'self'. Evidence files keep their own sandbox policy
# (incidents/evidence/serve.py), which the middleware leaves alone; the Swagger UI page
# loads its settings from a script file (SpectacularSwaggerSplitView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGIN_URL = "login"
# A stale CSRF token (the token rotates at each sign-in, e.g. in another tab): JSON with a
# header static/js/keep.js recognises for htmx and scripts, Django's page otherwise.
CSRF_FAILURE_VIEW = "crisiscell.errors.csrf_failure"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGES = [("en", _("English")), ("fr", _("French"))]
# The site's language: pages for a browser that asks for none of LANGUAGES, and messages
# for people who neither chose one nor signed in yet (notifications.messages.language_of).
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of en, fr, got {LANGUAGE_CODE!r}")
# The language chosen in the header stays with this browser for a year (not the session).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Dates people read: named month, 24-hour clock, in both languages (crisiscell/formats).
FORMAT_MODULE_PATH = "crisiscell.formats"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    # Token first: a request without valid credentials gets 401 with `WWW-Authenticate:
    # Token` (DRF answers 403 when the first class names no scheme, as sessions do).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Depth-limited, NUL-refusing JSON (incidents/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "incidents.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.errors.exception_handler",
    # Per address, against floods only: wrong passwords lock the account (AXES_* above).
    "DEFAULT_THROTTLE_RATES": {"token": "60/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crisis Cell API",
    "DESCRIPTION": "Incidents, crisis cells and the append-only timeline; statements with "
    "approvals and publication; the evidence locker; playbooks and their tasks; listening "
    "(watches, mentions and their bulk ingest, spike and tone signals); the reply queue; "
    "the public crisis page; post-mortems; notifications. Authentication: a session, or a "
    "token from POST /api/auth/token/ sent as `Authorization: Token <key>` "
    "(docs/api.md).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "incidents.api.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "incidents.choices.Role",
        "CellRoleEnum": "incidents.models.NON_LEAD_ROLE_CHOICES",
        "IncidentStatusEnum": "incidents.choices.Status",
        "TimelineEntryKindEnum": "incidents.choices.EntryKind",
        "ManualEntryKindEnum": "incidents.models.MANUAL_KIND_CHOICES",
        "StatementKindEnum": "statements.choices.StatementKind",
        "StatementStatusEnum": "statements.choices.StatementStatus",
        "EvidenceKindEnum": "incidents.evidence.choices.EvidenceKind",
        "PlatformEnum": "incidents.choices.Platform",
        "SeverityEnum": "incidents.choices.Severity",
        "TaskRoleEnum": "incidents.playbooks.models.TASK_ROLES",
        "IncidentActionEnum": "incidents.rules.INCIDENT_ACTIONS",
        "StatementActionEnum": "statements.rules.STATEMENT_ACTIONS",
        "TaskActionEnum": "incidents.playbooks.rules.TASK_ACTIONS",
        "NotificationKindEnum": "incidents.notifications.choices.NotificationKind",
        "MessageLanguageEnum": "incidents.notifications.choices.MESSAGE_LANGUAGES",
        "LanguageEnum": "statements.choices.Language",
        "CaptureTargetEnum": "incidents.replies.choices.CaptureTarget",
        "PostmortemStatusEnum": "incidents.postmortems.choices.PostmortemStatus",
        "ActionItemStatusEnum": "incidents.postmortems.choices.ItemStatus",
        "PostmortemActionEnum": "incidents.postmortems.rules.ACTIONS",
        "SignOffDecisionEnum": "incidents.postmortems.choices.Decision",
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crisis-cell@localhost")
# Outgoing messages (incidents/outbox; docs/deployment.md, "Outgoing messages"). SMTP: the
# credentials and encryption, and a timeout in seconds on every step of a conversation
# with the server, so a server that hangs costs a worker that long, never forever.
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)  # STARTTLS (port 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)  # implicit TLS (port 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Attempts per message before it is marked failed (its lead is told); the wait between two
# grows from the base, doubling each time up to the cap (seconds; x 0.5..1 jitter).
# Chat addresses (Apprise URLs) that lead to loopback: refused like private networks, unless
# this says so (the test suite's local webhook servers). Never in production.
CHAT_ALLOW_LOOPBACK = env_bool("CHAT_ALLOW_LOOPBACK", default=False)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_BACKOFF_BASE_SECONDS = env_int("OUTBOX_BACKOFF_BASE_SECONDS", 30)
OUTBOX_BACKOFF_CAP_SECONDS = env_int("OUTBOX_BACKOFF_CAP_SECONDS", 3600)
# Messages per worker task (one SMTP connection); seconds a worker may hold a claimed batch
# before the sweep hands it to another (a worker killed mid-send); rows per sweep.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 600)
OUTBOX_SWEEP_LIMIT = env_int("OUTBOX_SWEEP_LIMIT", 2000)
# Seconds a new message may wait for its worker before the sweep queues it again (its
# broker message was lost: Redis restarted, the broker was down at commit).
OUTBOX_REQUEUE_AFTER_SECONDS = env_int("OUTBOX_REQUEUE_AFTER_SECONDS", 60)
# Every minute: retries that came due, messages whose broker message was lost, and batches
# whose worker died. Idempotent: a message is claimed by one worker at a time.
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {"task": "incidents.outbox.tasks.sweep", "schedule": 60.0}
# Optional: a queue of its own for the outbox's tasks (then run a worker with -Q NAME), so
# deliveries never wait behind URL captures.
if OUTBOX_QUEUE := env_str("OUTBOX_QUEUE"):
    CELERY_TASK_ROUTES = {"incidents.outbox.tasks.*": {"queue": OUTBOX_QUEUE}}


def admin_contacts(value: str) -> tuple[tuple[str, str], ...]:
    """CRISISCELL_ADMIN_CONTACT: "Name <address>" (or an address alone), several separated
    by commas, at most 3, as ((name, address), ...)."""
    from email.utils import getaddresses

    if not value:
        return ()
    contacts = tuple((name.strip(), address.strip()) for name, address in getaddresses([value]))
    malformed = not contacts or any(
        "@" not in address or len(name) > 100 or len(address) > 254 or not name.isprintable()
        for name, address in contacts
    )
    if malformed or len(contacts) > 3:
        raise ImproperlyConfigured(
            "CRISISCELL_ADMIN_CONTACT must be at most 3 contacts such as "
            f"'Jeanne Martin <jeanne.martin@example.com>', separated by commas; got {value!r}"
        )
    return contacts


# Whom a refused page (403) tells people to ask for an access, besides an incident's lead
# (crisiscell/errors.py): the site's administrators. Empty: "an administrator".
CRISISCELL_ADMIN_CONTACT = admin_contacts(env_str("CRISISCELL_ADMIN_CONTACT"))

# Where people reach the app: links in emails are built from it.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The public crisis center (docs/deployment.md, "Crisis pages"): the static files its pages
# are rendered into on each change, which a web server or a CDN serves at CRISIS_CENTER_URL
# without Django (Django serves them from there too, without a database query).
CRISIS_CENTER_ROOT = Path(env_str("CRISIS_CENTER_ROOT") or BASE_DIR / "crisis-pages")
CRISIS_CENTER_URL = env_str("CRISIS_CENTER_URL", f"{SITE_URL}/crisis").rstrip("/")
CRISIS_CENTER_LANGUAGES = ["fr", "en"]
CRISIS_CENTER_BRAND_NAME = env_str("CRISIS_CENTER_BRAND_NAME", "Crisis Cell")
# A logo served from the same host (the pages' policy allows images from 'self' only).
CRISIS_CENTER_LOGO_URL = env_str("CRISIS_CENTER_LOGO_URL", "")
# A CDN in front keeps a page a minute and may serve a stale copy while it revalidates, or
# for a day when the origin is down.
CRISIS_CENTER_CACHE_CONTROL = env_str(
    "CRISIS_CENTER_CACHE_CONTROL",
    "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400",
)

# E-mail subscriptions to crisis pages: how long a confirmation link is valid, and how
# many subscription requests one IP address / one e-mail address may make per hour
# (counted in the "presence" cache: Redis when there is one, shared by all processes).
CRISIS_CENTER_CONFIRM_HOURS = env_int("CRISIS_CENTER_CONFIRM_HOURS", 48)
# The lead and the spokespeople are reminded this many minutes before a promised update.
CRISIS_CENTER_PROMISE_REMIND_MINUTES = env_int("CRISIS_CENTER_PROMISE_REMIND_MINUTES", 15)
CRISIS_CENTER_SUBSCRIBE_PER_IP = env_int("CRISIS_CENTER_SUBSCRIBE_PER_IP", 20)
CRISIS_CENTER_SUBSCRIBE_PER_ADDRESS = env_int("CRISIS_CENTER_SUBSCRIBE_PER_ADDRESS", 3)
CRISIS_CENTER_THROTTLE_CACHE = "presence"

# Evidence locker.
EVIDENCE_MAX_UPLOAD_BYTES = env_int("EVIDENCE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Checked from the image header, before anything is decoded (decompression bombs).
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_PIXELS", 60_000_000)
EVIDENCE_MAX_FILES_PER_REQUEST = env_int("EVIDENCE_MAX_FILES_PER_REQUEST", 100)
# Django's own cap on files per request sits above ours, so ours answers with its message.
DATA_UPLOAD_MAX_NUMBER_FILES = EVIDENCE_MAX_FILES_PER_REQUEST + 50
# Minutes a capture or display copies may wait in "queued" before the sweep queues them
# again (the broker was down when they were asked for).
EVIDENCE_REQUEUE_AFTER_MINUTES = env_int("EVIDENCE_REQUEUE_AFTER_MINUTES", 5)
# Base64 of a 32-byte Ed25519 seed signing export bundles; derived from SECRET_KEY if unset.
EVIDENCE_SIGNING_KEY = env_str("EVIDENCE_SIGNING_KEY")
# Publishing on the brand's Mastodon and Bluesky accounts (incidents.publishing): the Fernet
# key(s) encrypting their tokens at rest, comma-separated (the first encrypts, all decrypt);
# empty: derived from SECRET_KEY with HKDF (docs/deployment.md, "Brand accounts").
PUBLISHING_KEY = env_str("PUBLISHING_KEY")
# Seconds each request to a platform may take (connect and read), within the outbox's lease.
PUBLISHING_TIMEOUT = env_int("PUBLISHING_TIMEOUT", 15)
EVIDENCE_CAPTURE_CHROMIUM = env_str("EVIDENCE_CAPTURE_CHROMIUM", "/usr/bin/chromium")
EVIDENCE_CAPTURE_TIMEOUT = env_int("EVIDENCE_CAPTURE_TIMEOUT", 30)  # seconds
# Loopback pages may be captured only when this says so (the test suite's local pages);
# private networks and the app's own host never are.
EVIDENCE_CAPTURE_ALLOW_LOOPBACK = env_bool("EVIDENCE_CAPTURE_ALLOW_LOOPBACK", default=False)

# The "golden hour": minutes after declaration for the first public response, by severity.
FIRST_RESPONSE_MINUTES = {1: 60, 2: 60, 3: 30, 4: 15}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Off only where TLS is terminated elsewhere and the proxy does not set the header,
    # or for the test suite talking plain HTTP to the production stack.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", int(timedelta(days=365).total_seconds()))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# WhiteNoise hands static files to Django's ASGI handler as a sync iterator; Django warns on
# every file. Harmless for this app's few small files (docs/deployment.md, "Static files").
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "crisiscell.logs.ClientErrorsWithoutTraceback"}},
    # On the handler too: django.security.<reason> records (a bad Host header) reach it
    # by propagation, which a logger's filter does not see.
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        # Through the root's handler only: Django's default adds its own console handler
        # when DEBUG, and each line was written twice.
        "django": {"handlers": [], "propagate": True},
        "django.request": {"filters": ["client_errors"]},
    },
}

# Listening (incidents/listening): the largest body `POST /api/mentions/bulk/` accepts,
# counted after gzip decompression (413 past it; send bigger exports in parts).
LISTENING_BULK_MAX_BYTES = env_int("LISTENING_BULK_MAX_BYTES", 20_000_000)
# The browser import's file (listening/import/): it waits in the cache between the preview
# and the import.
LISTENING_IMPORT_MAX_BYTES = env_int("LISTENING_IMPORT_MAX_BYTES", 10_000_000)
# Listening: spike and tone-shift detection, every minute (idempotent: a minute is
# evaluated once; `manage.py detect_signals` does the same without Celery).
CELERY_BEAT_SCHEDULE["listening-detect-signals"] = {
    "task": "incidents.listening.tasks.detect_signals",
    "schedule": 60.0,
}


def env_json(name: str, default):
    """The JSON value of variable `name`, `default` when unset or blank. ImproperlyConfigured
    when it is not JSON, saying where (line and column, from 1) but nothing of the value,
    not even the character found there, which may start a token (LISTENING_MASTODON's
    access_token), or when it nests deeper than Python's parser goes (thousands of
    levels); manage.py says it in one line."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        there = " (the text ends there)" if exc.pos >= len(exc.doc) else ""
        raise ImproperlyConfigured(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{there}."
        ) from None
    except RecursionError:
        raise ImproperlyConfigured(
            f"{name} cannot be read: its JSON nests lists or objects too deeply."
        ) from None


# Listening collectors (docs/deployment.md, "Listening collectors"), one process each.
# Bluesky: the public Jetstream (no account), filtered locally by the active watches.
LISTENING_JETSTREAM_URL = env_str(
    "LISTENING_JETSTREAM_URL", "wss://jetstream2.us-east.bsky.network/subscribe"
)
# Mastodon: a JSON list of instances, e.g. [{"base_url": "https://mastodon.social",
# "access_token": "...", "hashtags": ["extra"], "search": ["a phrase"]}]; the active watches'
# hashtags are polled on each. Tokens come from the environment, never from the repo.
LISTENING_MASTODON = env_json("LISTENING_MASTODON", [])
LISTENING_MASTODON_INTERVAL = env_int("LISTENING_MASTODON_INTERVAL", 60)  # seconds
# RSS/Atom: a JSON list of feeds, e.g. [{"url": "https://news.example/feed", "platform":
# "press"}] (platform: press, forum, other...; default press).
LISTENING_FEEDS = env_json("LISTENING_FEEDS", [])
LISTENING_FEEDS_INTERVAL = env_int("LISTENING_FEEDS_INTERVAL", 300)  # seconds
# Seconds an HTTP request of the Mastodon and feed collectors may take.
LISTENING_HTTP_TIMEOUT = env_int("LISTENING_HTTP_TIMEOUT", 20)
