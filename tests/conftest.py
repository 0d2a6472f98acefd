"""Persona fixtures: one user per role in one incident's cell, plus an outsider and staff."""

import asyncio
import itertools
import os

import pgtrigger
import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import TransactionTestCase
from django.utils import translation
from rest_framework.test import APIClient

from incidents import actions, events
from statements import actions as statement_actions
from tests.helpers import POST_URL, STATEMENT_TEXT, ensure_policy

User = get_user_model()


def pytest_collection_modifyitems(config, items):
    """CI splits the suite between processes (.ci/run): with CRISISCELL_TEST_SHARD="k/n",
    this process runs the k-th of every n test files (sorted by path, so each slow
    directory is shared out). Each shard has its own database, Redis database and
    directories, as the two modes do; without the variable, every test runs."""
    shard = os.environ.get("CRISISCELL_TEST_SHARD", "").strip()
    if not shard:
        return
    try:
        k, n = (int(part) for part in shard.split("/"))
        assert 1 <= k <= n
    except (ValueError, AssertionError):
        message = f"CRISISCELL_TEST_SHARD={shard!r}: expected k/n, 1 <= k <= n"
        raise pytest.UsageError(message) from None
    files = sorted({item.path for item in items})
    mine = {path for index, path in enumerate(files) if index % n == k - 1}
    config.hook.pytest_deselected(items=[item for item in items if item.path not in mine])
    items[:] = [item for item in items if item.path in mine]


@pytest.fixture(autouse=True, scope="session")
def _static_files_read_once():
    """WhiteNoise reads STATIC_ROOT's ~1,300 files (stat, compressed variants, headers) each
    time a middleware chain is built, and the test client builds one per client: 0.2 s a
    test, a quarter of the suite's time. The files do not change during a run (collected
    once before it), so each (directory, configuration) is read once and its entries reused;
    the configuration in the key (headers, storage) keeps a test that changes it honest."""
    from unittest import mock

    from whitenoise.middleware import WhiteNoiseMiddleware

    read = WhiteNoiseMiddleware.update_files_dictionary
    entries = {}

    def read_once(self, root, prefix):
        key = (
            root,
            prefix,
            self.max_age,
            self.allow_all_origins,
            self.charset,
            self.index_file,
            self.add_headers_function,
            repr(settings.STORAGES.get("staticfiles")),
            settings.STATIC_URL,
        )
        if key not in entries:
            before = dict(self.files)
            read(self, root, prefix)
            entries[key] = {url: f for url, f in self.files.items() if before.get(url) is not f}
        self.files.update(entries[key])

    with mock.patch.object(WhiteNoiseMiddleware, "update_files_dictionary", read_once):
        yield


def _flush_past_the_truncate_guards(teardown):
    """Transactional tests empty the database with TRUNCATE after each test, which the
    record tables refuse on PostgreSQL (their no_truncate triggers): let the test harness,
    and only it, through."""

    def flush(self):
        with pgtrigger.ignore():
            teardown(self)

    return flush


TransactionTestCase._fixture_teardown = _flush_past_the_truncate_guards(
    TransactionTestCase._fixture_teardown
)
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request in French (the test client runs
    it in this thread, and LocaleMiddleware leaves its language active) made the tests that
    ran after it read French, depending on the order CI's shards run them in."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def make_user(db):
    def make(username=None, **extra):
        username = username or f"user{next(_names)}"
        return User.objects.create_user(username=username, password="pw-for-tests", **extra)

    return make


@pytest.fixture
def lead(make_user):
    return make_user("lead", first_name="Camille", last_name="Laurent")


@pytest.fixture
def drafter(make_user):
    return make_user("drafter")


@pytest.fixture
def approver(make_user):
    return make_user("approver")


@pytest.fixture
def spokesperson(make_user):
    return make_user("spokesperson")


@pytest.fixture
def observer(make_user):
    return make_user("observer")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture
def staff(make_user):
    return make_user("staff", is_staff=True)


@pytest.fixture
def declare(lead):
    def declare(actor=None, **overrides):
        fields = {
            "title": "Insensitive post on the brand account",
            "category": "public_statement",
            "origin": "online",
            "platforms": ["instagram", "x"],
            "severity": 2,
        }
        fields.update(overrides)
        return actions.incident_declare(actor=actor or lead, **fields)

    return declare


@pytest.fixture
def policies(db):
    """The two policies migration 0002 creates. Transactional tests flush the database,
    data migrations included, so they are recreated when missing."""
    default = ensure_policy("One approver", [(1, "")], is_default=True, mode="all")
    ordered = ensure_policy(
        "Legal, then communications", [(1, "legal"), (2, "communications")], mode="all"
    )
    return {"default": default, "ordered": ordered}


@pytest.fixture
def incident(declare, lead, drafter, approver, spokesperson, observer, policies):
    """An incident whose cell holds every persona but the outsider and staff."""
    incident = declare()
    for user, role in [
        (drafter, "drafter"),
        (approver, "approver"),
        (spokesperson, "spokesperson"),
        (observer, "observer"),
    ]:
        # An approver signs off for a function (rules.membership_function); "other" is
        # asked for by no named policy step, as a generalist.
        function = "other" if role == "approver" else ""
        actions.member_add(incident=incident, actor=lead, user=user, role=role, function=function)
    return incident


STATEMENT_STATES = ("draft", "in_review", "changes_requested", "approved", "published", "withdrawn")


@pytest.fixture
def make_statement(request):
    """A statement brought to `state` through the real actions (statements/actions.py):
    make_statement(incident=, author=, state="draft", reviewer=, publisher=, url=, **fields).

    By default: in the persona `incident`, written by the `drafter`, an English holding
    post for X saying STATEMENT_TEXT. The author submits it; `reviewer` (the `approver`)
    approves the current revision or, for "changes_requested", asks for changes; the
    `publisher` (the `spokesperson`) publishes it at `url`; "withdrawn" is a draft its
    author withdrew. `fields` go to statement_create (kind, channel, language, text, title,
    reply_to_account, reply_to_url, corrects, approval_policy). The personas are only
    built when a default needs them."""

    def default(value, fixture):
        return value if value is not None else request.getfixturevalue(fixture)

    def make(
        *,
        incident=None,
        author=None,
        state="draft",
        reviewer=None,
        publisher=None,
        url=POST_URL,
        **fields,
    ):
        assert state in STATEMENT_STATES, state
        author = default(author, "drafter")
        values = {"kind": "holding", "channel": "x", "language": "en", "text": STATEMENT_TEXT}
        statement = statement_actions.statement_create(
            incident=default(incident, "incident"), actor=author, **{**values, **fields}
        )
        if state == "withdrawn":
            return statement_actions.statement_withdraw(statement=statement, actor=author)
        if state == "draft":
            return statement
        statement = statement_actions.statement_submit(statement=statement, actor=author)
        if state == "in_review":
            return statement
        reviewer = default(reviewer, "approver")
        if state == "changes_requested":
            return statement_actions.statement_request_changes(
                statement=statement, actor=reviewer, comment="Check the facts."
            )
        statement = statement_actions.statement_approve(
            statement=statement, actor=reviewer, revision=statement.revision
        )
        assert statement.status == "approved", "the policy awaits more approvals"
        if state == "approved":
            return statement
        return statement_actions.statement_publish(
            statement=statement, actor=default(publisher, "spokesperson"), url=url
        )

    return make


@pytest.fixture
def listener(incident):
    """A channel subscribed to the incident's group, like a WebSocket consumer will be.
    One event loop for all its calls: channels-redis binds a channel to a loop."""
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    group = events.incident_group(incident.pk)
    channel = loop.run_until_complete(layer.new_channel())
    loop.run_until_complete(layer.group_add(group, channel))

    def receive_all():
        received = []
        while True:
            try:
                received.append(
                    loop.run_until_complete(asyncio.wait_for(layer.receive(channel), 0.3))
                )
            except TimeoutError:
                return received

    yield receive_all
    loop.run_until_complete(layer.group_discard(group, channel))
    loop.close()


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it with that user."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def browser_client(client):
    """The Django test client; `browser_client.as_user(user)` logs that user in."""

    def as_user(user):
        client.force_login(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture(autouse=True)
def _no_embedded_scheduler(settings):
    # A server a test starts never runs the periodic jobs behind its back (tests of the
    # scheduler turn it on).
    settings.EMBEDDED_SCHEDULER = False


@pytest.fixture
def fresh_subscription_throttle(settings):
    """The crisis pages' subscription throttle starts empty: its cache (Redis in
    production mode) outlives a test, and tests of one shard subscribing the same address
    reached its hourly limit together (a 429 where the test waited for the mail page)."""
    from django.core.cache import caches

    caches[settings.CRISIS_CENTER_THROTTLE_CACHE].clear()
    yield
    caches[settings.CRISIS_CENTER_THROTTLE_CACHE].clear()


@pytest.fixture(autouse=True)
def _chart_band_computed_each_time(monkeypatch):
    # The listening chart's band is cached for the minute (selectors.baseline_band): two
    # requests a test compares would differ by its query when a minute turns between them.
    # Its own test turns the cache back on.
    from incidents.listening import selectors

    monkeypatch.setattr(selectors, "BAND_CACHE_SECONDS", 0)


@pytest.fixture(autouse=True)
def _no_listening_window_from_another_test():
    from tests.helpers import forget_listening_window

    forget_listening_window()
    yield
    forget_listening_window()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 hasher costs ~0.1 s per user; the suite creates hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _crisis_pages_in_a_temporary_directory(settings, tmp_path_factory):
    # The public crisis pages are rendered into files: never into the working tree.
    settings.CRISIS_CENTER_ROOT = tmp_path_factory.mktemp("crisis-pages")
