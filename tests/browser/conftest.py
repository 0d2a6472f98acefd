"""Playwright fixtures driving the system Chromium (never a downloaded browser).

Without /usr/bin/chromium the browser tests are skipped, unless CRISISCELL_REQUIRE_BROWSER=1
(CI), where a missing browser is a failure. On failure a screenshot goes to test-artifacts/
(or $CRISISCELL_TEST_ARTIFACTS).
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CRISISCELL_TEST_ARTIFACTS: .ci/run gives each mode its own (both run at the same time).
ARTIFACTS = Path(
    os.environ.get("CRISISCELL_TEST_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "test-artifacts"
)
# How long a browser test waits for something to appear, or a page to load, before it
# fails: a passing run never waits that long, but CI runs four shards on two cores, where a
# page of the room took more than 5 s to load (two tests timed out there, none locally).
TIMEOUT_MS = 20_000
PASSWORD = "correct horse battery staple"


def _require_browser() -> bool:
    return os.environ.get("CRISISCELL_REQUIRE_BROWSER", "").strip() == "1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def finder_static(settings):
    """The live server serves static files from the finders, which know nothing of the
    hashed names the production (manifest) storage writes into the pages: pages name the
    plain files while a browser test runs."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings


@pytest.fixture(scope="package")
def chromium():
    """One Chromium for all the browser tests (each test opens its own context: separate
    cookies and storage); launching one per module cost about a second of CPU each."""
    if not CHROMIUM.exists():
        message = f"the browser tests need the system Chromium at {CHROMIUM}, which is missing"
        if _require_browser():
            pytest.fail(f"{message} (CRISISCELL_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        if _require_browser():
            raise
        pytest.skip("the playwright package is not installed")
    expect.set_options(timeout=TIMEOUT_MS)  # the assertions wait as long as the actions

    # Playwright's sync API runs an event loop in this thread while it is open; Django would
    # refuse the ORM calls the tests make between browser steps. Scoped to this package only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server, request, finder_static):
    """A fresh English-speaking browser tab against the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a dead page must not hide the test's own failure
            print(f"could not save a screenshot: {exc}")
    context.close()


@pytest.fixture
def member(transactional_db, django_user_model):
    """A user who can log in through the form."""
    return django_user_model.objects.create_user(
        username="camille", password=PASSWORD, first_name="Camille", last_name="Laurent"
    )


@pytest.fixture
def log_in(page):
    def log_in(user, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return log_in


@pytest.fixture
def asgi_server(transactional_db, finder_static):
    """The ASGI application (HTTP + WebSockets) served by uvicorn in a thread of this
    process, so the channel layer and the test database are the ones the test sees."""
    import socket
    import threading
    import time

    import uvicorn
    from django.core.asgi import get_asgi_application

    from crisiscell.asgi import build_application

    settings = finder_static
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        build_application(get_asgi_application()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def signed_in(chromium, asgi_server, request):
    """signed_in(user) -> a browser tab of its own, logged in through the login form
    (`locale`, and `timezone_id`: the browser's zone, default the machine's)."""
    contexts = []

    def open_tab(user, locale="en-GB", timezone_id=None):
        context = chromium.new_context(base_url=asgi_server, locale=locale, timezone_id=timezone_id)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.goto("/accounts/login/")
        tab.fill("#id_username", user.username)
        tab.fill("#id_password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(re.compile(r".*/$"))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
