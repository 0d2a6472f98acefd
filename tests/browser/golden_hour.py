"""The golden hour of issue 12, played by a committee of five browsers: the scenario that
both `tests/browser/test_golden_hour.py` (asserts) and `bench/golden_hour.py` (measures
against a real server) run. Not a test module itself.

The lead declares a product incident at severity 3 from the product-defect playbook (its
policy: legal, then communications) and staffs the cell from the playbook's roster in one
step; the drafter, watching the dashboard, opens the incident, starts the holding statement
from the playbook's template, fills in its blank and submits it; the legal approver then the
communications approver, each watching "My approvals", open it and approve it; the
spokesperson, watching the incident room, opens it once approved, copies the text and
records where it was published; the checklist's "Publish the holding statement" completes
itself.

Everything after sign-in is done by clicking and typing in the pages, as people would:
nothing is called behind the browsers' backs but the accounts and the default playbooks
(`prepare`). Each persona counts its clicks, choices (a select) and typed fields, and every
page load, told apart in the page itself (INSTRUMENT): a load that a click caused, one
typed in the address bar (only the sign-in and the page each person waits on, before the
clock starts) and a reload (never done by the scenario: `Persona` has no reload). Each
hand-off is timed from the actor's click (the page's own clock, at the click event) to the
moment the recipient's page shows it (a MutationObserver in that page, which a reload
would wipe out: a hand-off that arrived by reload is not counted as arrived).

Times are in milliseconds from the browsers' clock (one Chromium, one clock); the wall time
Declare -> Published in seconds. The tests assert no time, only the counts.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

# The committee: usernames as in the demo (`load_demo`), e-mails of the default playbooks'
# roster (default_playbooks/*.json, contacts of kind committee), which is how "Staff from
# the roster" finds each account.
COMMITTEE = [
    # key, username, first name, last name, e-mail, what the report calls them
    ("lead", "lead", "Camille", "Laurent", "camille.laurent@example.com", "lead"),
    ("drafter", "drafter", "Sam", "Moreau", "sam.moreau@example.com", "drafter"),
    ("legal", "approver", "Inès", "Bernard", "ines.bernard@example.com", "approver, legal"),
    ("comms", "comms", "David", "Keller", "david.keller@example.com", "approver, comms"),
    ("spokesperson", "spokesperson", "Léa", "Martin", "lea.martin@example.com", "spokesperson"),
]
# What the roster page must pre-fill for each (role, approver function).
STAFFED = {
    "drafter": ("drafter", ""),
    "legal": ("approver", "legal"),
    "comms": ("approver", "communications"),
    "spokesperson": ("spokesperson", ""),
}
SEVERITY = 3  # the product-defect playbook's policy at 3: "Legal, then communications"
CATEGORY = "product"
TEMPLATE = "Holding statement (X)"  # the playbook's English holding statement for X
BLANK, FILLED = "[product]", "our KX-200 kettle"
POST_URL = "https://x.com/maisondurand/status/1790000000000000001"
HOLDING_TASK = "Publish the holding statement"
# The hand-off notices each person should get once every hand-off notifies (issue 12):
# the bell kinds of incidents.notifications.choices.NotificationKind.
EXPECTED_NOTICES = {
    "lead": {"published"},
    "drafter": {"added_to_cell", "published"},
    "legal": {"added_to_cell", "review_requested", "published"},
    "comms": {"added_to_cell", "review_requested", "published"},
    "spokesperson": {"added_to_cell", "ready_to_publish"},
}

# Runs in every page before the page's own scripts. Keeps, in the tab's sessionStorage
# (which outlives a reload), each document load with its cause as the page saw it:
# "reload" (the browser's reload: the Navigation Timing type), "history" (back/forward),
# "click" (a trusted click less than 15 s before, in the previous document of this tab: a
# link, a form's button) or "address" (anything else: typed in the address bar). Also the
# time of the last trusted click, on the browser's clock (epoch ms).
INSTRUMENT = """
(() => {
  if (window.top !== window) return;
  const KEY = "golden-hour";
  const clock = () => performance.timeOrigin + performance.now();
  let state = null;
  try { state = JSON.parse(sessionStorage.getItem(KEY)); } catch (error) { return; }
  state = state || { loads: [], gestureAt: 0, clickAt: 0 };
  const entry = performance.getEntriesByType("navigation")[0];
  const type = entry ? entry.type
    : ["navigate", "reload", "back_forward"][performance.navigation.type] || "navigate";
  const at = clock();
  const byClick = state.gestureAt > 0 && at - state.gestureAt < 15000;
  const cause = type === "reload" ? "reload" : type === "back_forward" ? "history"
    : byClick ? "click" : "address";
  state.loads.push({ url: location.pathname + location.search, cause, at });
  state.gestureAt = 0;
  sessionStorage.setItem(KEY, JSON.stringify(state));
  window.addEventListener("click", (event) => {
    if (!event.isTrusted) return;
    const now = JSON.parse(sessionStorage.getItem(KEY));
    now.gestureAt = now.clickAt = clock();
    sessionStorage.setItem(KEY, JSON.stringify(now));
  }, true);
})();
"""

# Installed in a recipient's page before the actor clicks: the first moment (browser clock)
# an element matching the selector (and holding the text) is in the document. Also, on the
# panel the selector starts with (its first part, e.g. "#approvals-inbox"): the first live
# event that asked it to refresh (static/js/app.js refreshPanels dispatches "panel-refresh"
# to it; seen here in the capture phase), and the first answer its GET received after that
# (htmx:beforeSwap; the swap, a morph, follows).
WATCH = """
([name, selector, text]) => {
  window.goldenSeen = window.goldenSeen || {};
  window.goldenSignal = window.goldenSignal || {};
  window.goldenAnswer = window.goldenAnswer || {};
  const clock = () => performance.timeOrigin + performance.now();
  const panel = selector.split(" ")[0];
  const onPanel = (event) => event.target instanceof Element && event.target.matches(panel);
  const signalled = (event) => {
    if (onPanel(event) && !window.goldenSignal[name]) window.goldenSignal[name] = clock();
  };
  const answered = (event) => {
    if (onPanel(event) && window.goldenSignal[name] && !window.goldenAnswer[name]) {
      window.goldenAnswer[name] = clock();
    }
  };
  window.addEventListener("panel-refresh", signalled, true);
  document.addEventListener("htmx:beforeSwap", answered, true);
  const seen = () => [...document.querySelectorAll(selector)]
    .some((el) => !text || el.textContent.includes(text));
  if (seen()) return false;
  const observer = new MutationObserver(() => {
    if (window.goldenSeen[name] || !seen()) return;
    window.goldenSeen[name] = clock();
    window.removeEventListener("panel-refresh", signalled, true);
    document.removeEventListener("htmx:beforeSwap", answered, true);
    observer.disconnect();
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true,
                                attributes: true });
  return true;
}
"""


def prepare(password: str) -> dict:
    """The committee's accounts (created or reset: names, roster e-mails, password) and the
    default playbooks. Returns {key: user}. Idempotent; runs outside the browsers."""
    from incidents.playbooks.defaults import ensure_default_playbooks

    ensure_default_playbooks()
    users = {}
    for key, username, first, last, email, _label in COMMITTEE:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.first_name, user.last_name, user.email, user.is_active = first, last, email, True
        user.set_password(password)
        user.save()
        users[key] = user
    return users


def playbook_id() -> int:
    from incidents.playbooks.defaults import PRODUCT_DEFECT
    from incidents.playbooks.models import Playbook

    return Playbook.objects.get(name=PRODUCT_DEFECT, is_active=True).pk


class ScenarioError(AssertionError):
    """The scenario could not go on the way people would (a page did not offer the step)."""


@dataclass
class Handoff:
    name: str
    actor: str
    recipient: str
    shows: str  # what the recipient's page showed
    delay_ms: float | None  # click -> the recipient's page shows it; None: never shown live
    clicked_at: float = 0.0  # epoch ms, browser clock
    seen_at: float | None = None  # epoch ms, browser clock
    # Requests the five pages sent the server between the click and the recipient's page
    # showing it (the action's own, its next page, every live refresh): sync views share one
    # thread per server process, so these queue.
    requests: int | None = None
    entry: tuple[str, str] = ("", "")  # the timeline entry the action writes: (kind, actor key)
    signal_at: float | None = None  # epoch ms: the live event reached the recipient's page
    # delay_ms in four parts: click -> the action's timeline entry written on the server
    # (request_ms), -> the live event in the recipient's page (event_ms: commit, channel
    # layer, socket), -> the panel's GET answered (get_ms), -> the page shows it (swap_ms:
    # htmx's swap and settle, the morph).
    request_ms: float | None = None
    event_ms: float | None = None
    get_ms: float | None = None
    swap_ms: float | None = None


@dataclass
class Persona:
    """One person in one browser. Every interaction goes through these methods, which count
    it under the current phase ("incident": declaring and staffing; "statement": the holding
    statement, from its drafting to its publication)."""

    key: str
    label: str
    user: object
    page: object
    timeout_ms: int
    phase: str = "setup"
    counts: dict = field(default_factory=dict)  # phase -> Counter(clicks, choices, typed)
    first_load: int = 0  # loads before the scenario started (sign-in, the waiting page)
    # The requests the server answers for this page: documents and htmx's (static files
    # and the socket apart), as Playwright saw them.
    requests: list = field(default_factory=list)

    def __post_init__(self):
        self.page.on(
            "request",
            lambda r: r.resource_type in ("document", "xhr", "fetch") and self.requests.append(r),
        )

    def _count(self, what: str) -> None:
        self.counts.setdefault(self.phase, Counter())[what] += 1

    def click(self, locator, *, navigates: bool = False) -> float:
        """Click like a person (a trusted click); wait for the page it opens. Returns the
        click's time on the browser's clock (epoch ms)."""
        self._count("clicks")
        if navigates:
            self._count("navigations")  # each must be one load caused by a click
            with self.page.expect_event("load", timeout=self.timeout_ms):
                locator.click()
        else:
            locator.click()
        return self.state()["clickAt"]

    def choose(self, locator, value: str) -> None:
        self._count("choices")
        locator.select_option(value)

    def type(self, locator, text: str) -> None:
        self._count("typed")
        locator.fill(text)

    def state(self) -> dict:
        return self.page.evaluate("() => JSON.parse(sessionStorage.getItem('golden-hour'))")

    def loads(self) -> list[dict]:
        """The page loads since the scenario started, each with its cause."""
        return self.state()["loads"][self.first_load :]

    def wait_live(self) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("body")).to_have_attribute(
            "data-live", "live", timeout=self.timeout_ms
        )

    def start(self, phase: str) -> None:
        self.phase = phase

    def watch(self, name: str, selector: str, text: str = "") -> None:
        if not self.page.evaluate(WATCH, [name, selector, text]):
            raise ScenarioError(f"{self.label}'s page already shows {name} before the hand-off")

    def seen_at(self, name: str, selector: str, text: str = "") -> list:
        """When the page showed it, when the live event that made it refresh arrived and
        when the refresh's answer did (epoch ms; None: not seen without a reload / no live
        event / no answer)."""
        from playwright.sync_api import expect

        target = self.page.locator(selector, has_text=text) if text else self.page.locator(selector)
        expect(target.first).to_be_attached(timeout=self.timeout_ms)
        return self.page.evaluate(
            "(name) => [(window.goldenSeen || {})[name] || null, "
            "(window.goldenSignal || {})[name] || null, (window.goldenAnswer || {})[name] || null]",
            name,
        )


@dataclass
class Result:
    """What one golden hour counted, copied from the pages once it ended."""

    labels: dict  # key -> what the report calls the person
    tallies: dict  # key -> {phase: Counter(clicks, choices, typed)}
    page_loads: dict  # key -> [{"url", "cause", "at"}], the loads after the start
    handoffs: list[Handoff]
    wall_s: float  # "Declare" click to the spokesperson's page showing "Published"
    staffed: dict  # key -> (role, function) in the cell after staffing
    task_completed: bool  # the holding-statement task completed itself on publication
    task_trigger: str  # the event the timeline names as having completed it
    notices: dict  # key -> {"bell": Counter(kind), "outbox": Counter(channel), "mail": n,
    # "unread": n}
    bell_shown: dict  # key -> the unread count each person's bell shows at the end
    statement_status: str

    def counts(self, key: str, phase: str | None = None) -> Counter:
        tally = self.tallies[key]
        if phase:
            return Counter(tally.get(phase, Counter()))
        return sum((Counter(c) for c in tally.values()), Counter())

    def statement_clicks(self) -> int:
        """Clicks and choices of the whole committee for the holding statement (typing apart)."""
        return sum(
            self.counts(key, "statement")["clicks"] + self.counts(key, "statement")["choices"]
            for key in self.labels
        )

    def loads_by_cause(self, key: str) -> Counter:
        return Counter(load["cause"] for load in self.page_loads[key])

    def manual_reloads(self) -> int:
        """Loads no click caused, after the scenario started (goal 0)."""
        return sum(
            count
            for key in self.labels
            for cause, count in self.loads_by_cause(key).items()
            if cause != "click"
        )


def open_persona(browser, base_url, key, user, password, *, timeout_ms, permissions=()):
    """A browser context of its own, instrumented, signed in through the login form."""
    label = next(c[5] for c in COMMITTEE if c[0] == key)
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.set_default_timeout(timeout_ms)
    if permissions:
        context.grant_permissions(list(permissions), origin=base_url)
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return Persona(key=key, label=label, user=user, page=page, timeout_ms=timeout_ms)


def open_committee(browser, base_url, users: dict, *, password: str, timeout_ms: int = 5_000):
    """Each person of the committee in a browser of their own, signed in: {key: Persona}.
    Close them with `close_committee`."""
    return {
        key: open_persona(
            browser,
            base_url,
            key,
            users[key],
            password,
            timeout_ms=timeout_ms,
            # The spokesperson copies the approved text to post it.
            permissions=("clipboard-read", "clipboard-write") if key == "spokesperson" else (),
        )
        for key in users
    }


def close_committee(people: dict, screenshots=None) -> None:
    """Close every browser; with `screenshots` (a directory), save each page first."""
    for key, person in people.items():
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            try:
                person.page.screenshot(path=str(screenshots / f"{key}.png"), full_page=True)
            except Exception as exc:  # a dead page must not hide the scenario's own failure
                print(f"could not save {key}'s screenshot: {exc}")
        person.page.context.close()


def run(
    people: dict,
    *,
    db: Callable,
    sent_mail: Callable[[], list] | None = None,
    title: str = "KX-200 kettle lids cracking after a few uses",
    settle: Callable[[], None] | None = None,
) -> Result:
    """Play the golden hour with the committee of `open_committee`; returns what was counted
    and measured.

    `db(fn)` runs an ORM read where it may (outside Playwright's event loop); `sent_mail()`
    lists the e-mails delivered so far as (recipients, subject) pairs, or None when they
    cannot be seen; `settle()` waits until background delivery is done (a worker's).
    Raises ScenarioError (an AssertionError) when a page does not offer the next step."""
    from playwright.sync_api import expect

    pb = db(playbook_id)
    users = {key: person.user for key, person in people.items()}
    lead, drafter, legal, comms, spokesperson = (
        people[k] for k in ("lead", "drafter", "legal", "comms", "spokesperson")
    )
    # Where each person waits when the crisis starts.
    waiting = {"lead": "/", "drafter": "/", "legal": "/approvals/", "comms": "/approvals/"}
    waiting["spokesperson"] = "/"
    for key, person in people.items():
        person.page.goto(waiting[key])
        person.wait_live()
        person.first_load = len(person.state()["loads"])
        person.counts = {}
    bell_before = {key: _bell(person) for key, person in people.items()}
    mail_before = len(sent_mail()) if sent_mail is not None else 0
    handoffs: list[Handoff] = []

    def handoff(name, actor, recipients, shows, selector, text, act, entry):
        """`act()` clicks (returns the click's time); each recipient's page must show it.
        `entry`: the kind of timeline entry the action writes."""
        for person in recipients:
            person.watch(name, selector, text)
        clicked_at = act()
        for person in recipients:
            seen, signal, answer = person.seen_at(name, selector, text)
            delay = round(seen - clicked_at, 1) if seen else None
            handoffs.append(
                Handoff(
                    name=name,
                    actor=actor.label,
                    recipient=person.label,
                    shows=shows,
                    delay_ms=delay,
                    clicked_at=clicked_at,
                    entry=(entry, actor.key),
                    seen_at=seen,
                    signal_at=signal,
                )
            )
            if seen and signal and answer and signal <= answer <= seen:
                handoffs[-1].get_ms = round(answer - signal, 1)
                handoffs[-1].swap_ms = round(seen - answer, 1)

    # --- The lead declares from the playbook and staffs the cell -----------------------------
    for person in people.values():
        person.start("incident")
    lead.click(lead.page.locator("header nav").get_by_role("link", name="Declare an incident"),
               navigates=True)  # fmt: skip
    lead.type(lead.page.locator("#id_title"), title)
    lead.choose(lead.page.locator("#id_category"), CATEGORY)
    lead.choose(lead.page.locator("#id_severity"), str(SEVERITY))
    lead.choose(lead.page.locator("#id_playbook"), str(pb))
    lead.click(lead.page.locator("#id_activate"))
    started = time.perf_counter()
    lead.click(lead.page.get_by_role("button", name="Declare the incident"), navigates=True)
    if not re.search(r"/incidents/\d+/$", lead.page.url):
        raise ScenarioError(f"declaring did not open the room: {lead.page.url}")
    incident_id = int(re.search(r"/incidents/(\d+)/$", lead.page.url).group(1))
    lead.wait_live()
    lead.click(lead.page.get_by_role("link", name="Staff from the roster"), navigates=True)
    ticked = lead.page.locator("input[name=pick]:checked")
    expect(ticked).to_have_count(len(STAFFED), timeout=lead.timeout_ms)
    row = "#incident-list a.incident-link"
    handoff(
        "added to the cell",
        lead,
        [drafter, spokesperson],
        "the incident on the dashboard",
        row,
        title,
        lambda: lead.click(
            lead.page.get_by_role("button", name="Add the ticked people to the cell"),
            navigates=True,
        ),
        "member_added",
    )
    staffed = db(lambda: _cell(incident_id))

    # --- The holding statement ---------------------------------------------------------------
    for person in people.values():
        person.start("statement")
    for person in (drafter, spokesperson):
        person.click(person.page.locator(row, has_text=title), navigates=True)
        person.wait_live()
    drafter.click(
        drafter.page.locator("#statements-panel").get_by_role("link", name="New statement"),
        navigates=True,
    )
    drafter.click(drafter.page.get_by_role("link", name=TEMPLATE, exact=True), navigates=True)
    text = drafter.page.locator("#id_text").input_value()
    if BLANK not in text:
        raise ScenarioError(f"the template has no {BLANK} to fill in: {text!r}")
    drafter.type(drafter.page.locator("#id_text"), text.replace(BLANK, FILLED))
    inbox_item = "#approvals-inbox a.statement-link"
    handoff(
        "review requested",
        drafter,
        [legal],
        "the statement in My approvals",
        inbox_item,
        "",
        lambda: drafter.click(
            drafter.page.get_by_role("button", name="Save and submit for approval"),
            navigates=True,
        ),
        "statement_submitted",
    )
    legal.click(legal.page.locator(inbox_item).first, navigates=True)
    legal.wait_live()
    handoff(
        "legal approved",
        legal,
        [comms],
        "the statement in My approvals",
        inbox_item,
        "",
        lambda: legal.click(
            legal.page.get_by_role("button", name=re.compile(r"^Approve revision")),
            navigates=True,
        ),
        "statement_approved",
    )
    comms.click(comms.page.locator(inbox_item).first, navigates=True)
    comms.wait_live()
    approved = "#statements-panel .statement-item .chip.stmt-approved"
    handoff(
        "ready to publish",
        comms,
        [spokesperson],
        "“Approved” in the room's statements",
        approved,
        "",
        lambda: comms.click(
            comms.page.get_by_role("button", name=re.compile(r"^Approve revision")),
            navigates=True,
        ),
        "statement_approved",
    )
    ready = spokesperson.page.locator(
        "#statements-panel .statement-item", has=spokesperson.page.locator(".chip.stmt-approved")
    )
    spokesperson.click(ready.locator("a.statement-link"), navigates=True)
    spokesperson.wait_live()
    spokesperson.click(spokesperson.page.locator(".publish-box button[data-copy]"))
    spokesperson.type(spokesperson.page.locator("#id_url"), POST_URL)
    done_task = "#tasks-panel .tasks-done li.task.is-done"
    handoff(
        "published",
        spokesperson,
        [lead],
        "the holding-statement task done in the room",
        done_task,
        HOLDING_TASK,
        lambda: spokesperson.click(
            spokesperson.page.get_by_role("button", name="Mark as published"), navigates=True
        ),
        "statement_published",
    )
    expect(spokesperson.page.locator(".page-head .chip.stmt-published")).to_be_visible(
        timeout=spokesperson.timeout_ms
    )
    wall = time.perf_counter() - started

    if settle is not None:
        settle()
    task, status = db(lambda: _outcome(incident_id))
    keys = list(people)
    notices = db(lambda: _notices(incident_id, {k: users[k] for k in keys}))
    mails = sent_mail()[mail_before:] if sent_mail is not None else None
    for key in keys:
        address = users[key].email.lower()
        notices[key]["mail"] = (
            None
            if mails is None
            else sum(1 for to, _subject in mails if address in {a.lower() for a in to})
        )
    bell = {key: _bell(person) - bell_before[key] for key, person in people.items()}
    written = db(lambda: _written(incident_id, users))
    for h in handoffs:
        at = written.get(h.entry)
        if at is not None:
            h.request_ms = round(at - h.clicked_at, 1)
            if h.signal_at:
                h.event_ms = round(h.signal_at - at, 1)
    started_at = [(r.timing or {}).get("startTime", 0) for p in people.values() for r in p.requests]
    for h in handoffs:
        if h.seen_at:
            h.requests = sum(1 for at in started_at if h.clicked_at <= at <= h.seen_at)
    for person in people.values():
        person.requests.clear()
    return Result(
        labels={key: person.label for key, person in people.items()},
        tallies={key: {k: Counter(v) for k, v in p.counts.items()} for key, p in people.items()},
        page_loads={key: person.loads() for key, person in people.items()},
        handoffs=handoffs,
        wall_s=wall,
        staffed=staffed,
        task_completed=task is not None,
        task_trigger=task or "",
        notices=notices,
        bell_shown=bell,
        statement_status=status,
    )


def _bell(person: Persona) -> int:
    """The unread count the person's bell shows now."""
    count = person.page.locator("#bell .bell-count")
    return int(count.inner_text()) if count.count() else 0


def _written(incident_id: int, users: dict) -> dict:
    """When (epoch ms, server clock) each (kind, actor key) last wrote a timeline entry."""
    from incidents.models import TimelineEntry

    keys = {user.pk: key for key, user in users.items()}
    written = {}
    entries = TimelineEntry.objects.filter(incident_id=incident_id).order_by("seq")
    for kind, actor_id, at in entries.values_list("kind", "actor_id", "recorded_at"):
        if actor_id in keys:
            written[(kind, keys[actor_id])] = at.timestamp() * 1000
    return written


def _cell(incident_id: int) -> dict:
    from incidents.models import Membership

    by_user = {
        m.user.get_username(): (m.role, m.function)
        for m in Membership.objects.active().filter(incident_id=incident_id).select_related("user")
    }
    return {key: by_user.get(username) for key, username, *_rest in COMMITTEE}


def _outcome(incident_id: int) -> tuple[str | None, str]:
    """The trigger that completed the holding-statement task (None: not done by itself), and
    the holding statement's status."""
    from incidents.models import TimelineEntry
    from incidents.playbooks.models import Task
    from statements.models import Statement

    task = Task.objects.get(incident_id=incident_id, completes_on="holding_published")
    entry = (
        TimelineEntry.objects.filter(
            incident_id=incident_id, kind="task_completed", data__task=task.pk
        )
        .order_by("seq")
        .first()
    )
    # The completion's `trigger` names the event that completed it; a task ticked by hand
    # has none.
    trigger = ((entry.data or {}).get("trigger") or {}) if entry else {}
    statement = Statement.objects.get(incident_id=incident_id, kind="holding")
    done = task.status == "done" and trigger.get("event")
    return (trigger["event"] if done else None), statement.status


def _notices(incident_id: int, users: dict) -> dict:
    """Per person: their bell rows by kind and their outbox rows by channel, for this
    incident."""
    from incidents.notifications.models import Notification
    from incidents.outbox.models import OutboundMessage

    found = {}
    for key, user in users.items():
        bell = Counter(
            Notification.objects.filter(user=user, incident_id=incident_id).values_list(
                "kind", flat=True
            )
        )
        outbox = Counter(
            OutboundMessage.objects.filter(user=user, incident_id=incident_id).values_list(
                "channel", flat=True
            )
        )
        # What their own actions settled (an approver's "Approval needed" once approved).
        unread = Notification.objects.filter(
            user=user, incident_id=incident_id, read_at__isnull=True
        ).count()
        found[key] = {"bell": bell, "outbox": outbox, "unread": unread}
    return found


# --- The report -------------------------------------------------------------------------------

GOAL_CLICKS = 12
GOAL_RELOADS = 0
GOAL_HANDOFF_MS = 1000


def table(headers: list[str], rows: list[list]) -> list[str]:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*headers), line.format(*("-" * w for w in widths))] + [
        line.format(*(str(x) for x in row)) for row in rows
    ]


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(result: Result) -> str:
    """The figures as plain-text tables, against the goals of issue 12."""
    out = []
    rows = []
    for key, label in result.labels.items():
        incident, statement = result.counts(key, "incident"), result.counts(key, "statement")
        loads = result.loads_by_cause(key)
        rows.append(
            [
                label,
                incident["clicks"] + incident["choices"],
                statement["clicks"] + statement["choices"],
                incident["typed"] + statement["typed"],
                loads.get("click", 0),
                sum(n for cause, n in loads.items() if cause != "click"),
            ]
        )
    headers = ["person", "clicks: declare+staff", "clicks: statement", "typed fields",
               "loads by click", "manual reloads"]  # fmt: skip
    total = result.statement_clicks()
    reloads = result.manual_reloads()
    out += table(headers, rows)
    out.append(
        f"holding statement, whole committee: {total} clicks beyond typing "
        f"(goal <= {GOAL_CLICKS}: {_mark(total <= GOAL_CLICKS)}); manual reloads {reloads} "
        f"(goal {GOAL_RELOADS}: {_mark(reloads == GOAL_RELOADS)})"
    )
    out.append("")

    def ms(value):
        return "?" if value is None else f"{value:.0f}"

    rows = [
        [h.name, h.actor, h.recipient, h.shows,
         "not shown" if h.delay_ms is None else f"{h.delay_ms:.0f}",
         ms(h.request_ms), ms(h.event_ms), ms(h.get_ms), ms(h.swap_ms),
         "?" if h.requests is None else h.requests,
         _mark(h.delay_ms is not None and h.delay_ms < GOAL_HANDOFF_MS)]
        for h in result.handoffs
    ]  # fmt: skip
    out += table(
        ["hand-off", "from", "to", "their page shows", "delay ms", "= request", "+ event",
         "+ GET", "+ swap", "requests", "< 1 s"],
        rows,
    )  # fmt: skip
    out.append("")
    out.append(f"wall time, Declare click -> Published: {result.wall_s:.1f} s (scripted pace)")
    task = f"completed itself on {result.task_trigger}" if result.task_completed else "NOT done"
    out.append(f"holding-statement task: {task}")
    out.append("")
    rows = []
    for key, label in result.labels.items():
        n = result.notices[key]
        bell = ", ".join(f"{k} {c}" if c > 1 else k for k, c in sorted(n["bell"].items()))
        outbox = ", ".join(f"{ch} {c}" for ch, c in sorted(n["outbox"].items()))
        mail = "n/a" if n.get("mail") is None else n["mail"]
        rows.append([label, bell or "-", result.bell_shown[key], outbox or "-", mail])
    out += table(
        ["person", "bell rows (kinds)", "bell shown", "outbox rows", "e-mails delivered"], rows
    )
    return "\n".join(out)
