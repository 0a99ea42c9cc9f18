#!/usr/bin/env python3
"""The operator console (`aurora-bridge console`) in a real browser: Selenium driving headless Chromium.

ops/browser starts Kafka, the sandbox, a gateway, a worker and the console, adds the two operators,
and runs this script with Debian's python3 (python3-selenium, chromium, chromium-driver). Everything
comes from the environment:

  BROWSER_CONSOLE_URL       the console, e.g. http://127.0.0.1:PORT
  BROWSER_GATEWAY_URL       the gateway, where the webhooks go
  BROWSER_SANDBOX_URL       the sandbox (its /sandbox/* control routes)
  BROWSER_TENANT            the tenant's slug
  BROWSER_AURORA_TENANT_ID  its Aurora tenant id (the sandbox's forbid/allow routes take it)
  BROWSER_WEBHOOK_TOKEN     its webhook token (X-Aurora-Webhook-Token)
  BROWSER_REPLAY_NAME, BROWSER_REPLAY_TOKEN       the operator with the replay role
  BROWSER_READONLY_NAME, BROWSER_READONLY_TOKEN   the operator with the read-only role
  BROWSER_PROJECT_A, BROWSER_AGREEMENT_A, BROWSER_CUSTOMER_A ("First Last")
                            a signed agreement that becomes a Coperniq project
  BROWSER_PROJECT_B, BROWSER_AGREEMENT_B
                            a signed agreement that is dead-lettered (Aurora answers 403 on the
                            agreement read: aurora.forbidden, permanent), then replayed
  BROWSER_ARTIFACTS         screenshots, and on a failure failure.png, failure.html and the
                            browser's console log (default .build/artifacts/console)
  BROWSER_CHROMIUM, BROWSER_CHROMEDRIVER   default /usr/bin/chromium, /usr/bin/chromedriver

Exits 0 after one summary line, or 1 after saying which step expected what.
"""
import html.parser
import json
import os
import signal
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None or value == "":
        sys.exit(f"console_test: {name} is not set (ops/browser sets it)")
    return value


CONSOLE = env("BROWSER_CONSOLE_URL").rstrip("/")
GATEWAY = env("BROWSER_GATEWAY_URL").rstrip("/")
SANDBOX = env("BROWSER_SANDBOX_URL").rstrip("/")
TENANT = env("BROWSER_TENANT")
AURORA_TENANT_ID = env("BROWSER_AURORA_TENANT_ID")
WEBHOOK_TOKEN = env("BROWSER_WEBHOOK_TOKEN")
REPLAY_NAME, REPLAY_TOKEN = env("BROWSER_REPLAY_NAME"), env("BROWSER_REPLAY_TOKEN")
READONLY_NAME, READONLY_TOKEN = env("BROWSER_READONLY_NAME"), env("BROWSER_READONLY_TOKEN")
PROJECT_A, AGREEMENT_A, CUSTOMER_A = env("BROWSER_PROJECT_A"), env("BROWSER_AGREEMENT_A"), env("BROWSER_CUSTOMER_A")
PROJECT_B, AGREEMENT_B = env("BROWSER_PROJECT_B"), env("BROWSER_AGREEMENT_B")
ARTIFACTS = env("BROWSER_ARTIFACTS", ".build/artifacts/console")
CHROMIUM = env("BROWSER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = env("BROWSER_CHROMEDRIVER", "/usr/bin/chromedriver")
# The Aurora endpoint the worker reads first (the agreement, EventProcessor.attempt): forbidden, it
# answers 403, which is ErrorClass.forbidden("aurora"), permanent: a dead letter at the first attempt.
FORBIDDEN_ENDPOINT = "agreement"

STATES = {"received", "retrying", "dead letter", "replayed", "created", "updated", "skipped"}
KINDS = {"received", "attempt-failed", "retry-wait", "dead-letter", "replayed", "outcome"}


class Failure(Exception):
    """An expectation that did not hold: what was expected and what was found."""


step = "setup"
driver = None


def expect(condition, expected, found):
    if not condition:
        raise Failure(f"expected {expected}; found {found}")


def text(element):
    """The element's text as written in the page (not as CSS renders it), spaces collapsed."""
    return " ".join((element.get_attribute("textContent") or "").split())


def path_of(url):
    return urllib.parse.urlsplit(url or "").path


def here():
    return f"{driver.current_url} (title {driver.title!r})"


def shot(name):
    driver.save_screenshot(os.path.join(ARTIFACTS, name))


# --- waiting -----------------------------------------------------------------------------------

def wait_for(what, condition, timeout=10):
    """Waits (WebDriverWait) for `condition(driver)` to be truthy; returns its value."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d))
    except TimeoutException:
        raise Failure(f"expected {what} within {timeout} s; the page is {here()}") from None


def wait_reloading(what, condition, timeout=30, interval=1.0):
    """For server-rendered state that appears later: reloads until `condition(driver)` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition(driver)
        except WebDriverException:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"expected {what} within {timeout} s (reloading); the page is {here()}")
        time.sleep(interval)
        driver.refresh()


def one(css):
    """A waitable condition: the first element matching `css`, or None."""
    return lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, css)), None)


def new_page_after(action, what):
    """Runs `action` (a click on a link or a form's button) and waits until it has loaded a new page:
    the old page's window carries a mark, the new one does not (the element-staleness check of
    Selenium 4.8 meets 'Node ... does not belong to the document' from Chromium mid-navigation)."""
    driver.execute_script("window.__consoleTestOldPage = true")
    action()

    def loaded(d):
        try:
            return d.execute_script("return window.__consoleTestOldPage === undefined && document.readyState === 'complete'")
        except WebDriverException:
            return False  # between the two pages
    try:
        WebDriverWait(driver, 15, poll_frequency=0.1).until(loaded)
    except TimeoutException:
        raise Failure(f"expected {what} to load a new page within 15 s; the page is {here()}") from None


def click_through(element, what):
    new_page_after(element.click, what)


def present(css):
    return bool(driver.find_elements(By.CSS_SELECTOR, css))


def at_login(d):
    return path_of(d.current_url) == "/login" and d.find_elements(By.CSS_SELECTOR, "form#login")


def entry_kinds():
    return [e.get_attribute("data-kind") for e in driver.find_elements(By.CSS_SELECTOR, "ol#timeline li.entry")]


def state():
    found = driver.find_elements(By.ID, "state")
    return text(found[0]).lower() if found else None


# --- checks every logged-in page gets --------------------------------------------------------

NAV = {"nav-overview": "/", "nav-search": "/search", "nav-tenants": "/tenants", "nav-dead-letters": "/dead-letters"}


def check_page(operator, role):
    for link, target in NAV.items():
        found = driver.find_elements(By.CSS_SELECTOR, f"nav a#{link}")
        expect(found, f"a nav link a#{link}", f"none on {here()}")
        expect(path_of(found[0].get_attribute("href")) == target, f"a#{link} to {target}", found[0].get_attribute("href"))
    found = driver.find_elements(By.ID, "operator")
    expect(found, "#operator", f"none on {here()}")
    expect(f"{operator} · {role}" in text(found[0]), f"#operator to show '{operator} · {role}'", repr(text(found[0])))
    expect(present("form#logout button#logout-submit"), "form#logout with button#logout-submit", f"none on {here()}")
    forms = driver.execute_script("""
        return Array.from(document.forms).filter(f => f.method === 'post').map(f => {
            const csrf = f.querySelector('input[type=hidden][name="_csrf"]');
            return {form: f.id || f.getAttribute('action'), csrf: csrf ? csrf.value : ''};
        });""")
    for form in forms:
        expect(form["csrf"], f"a hidden, non-empty _csrf in every POST form (form {form['form']})", f"none on {here()}")


def csrf_of_page():
    found = driver.find_elements(By.CSS_SELECTOR, 'form#logout input[name="_csrf"]')
    expect(found and found[0].get_attribute("value"), "a _csrf in form#logout", f"none on {here()}")
    return found[0].get_attribute("value")


# --- HTTP without the browser ----------------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(method, url, fields=None, headers=None):
    """(status, headers, body text); redirects are not followed."""
    data = urllib.parse.urlencode(fields, doseq=True).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with OPENER.open(request, timeout=15) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


def browser_cookie():
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def console_post(path, fields, cookie):
    # As a browser's form post sends them: some CSRF defences also look at Origin and Referer.
    return http("POST", CONSOLE + path, fields, {"Cookie": cookie, "Origin": CONSOLE, "Referer": CONSOLE + "/dead-letters"})


class Elements(html.parser.HTMLParser):
    """Collects the start tags of an HTML page: (tag, attributes)."""

    def __init__(self, page):
        super().__init__()
        self.tags = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag=None, id=None, cls=None, name=None):
        return [a for t, a in self.tags if (tag is None or t == tag) and (id is None or a.get("id") == id)
                and (cls is None or cls in (a.get("class") or "").split()) and (name is None or a.get("name") == name)]


def send_webhook(project, agreement):
    query = urllib.parse.urlencode({"project_id": project, "agreement_id": agreement, "status": "signed"})
    status, _, body = http("GET", f"{GATEWAY}/webhooks/aurora/{TENANT}?{query}", headers={"X-Aurora-Webhook-Token": WEBHOOK_TOKEN})
    expect(status == 200, f"the gateway to answer 200 to project {project}'s webhook", f"{status}: {body[:300]}")
    return json.loads(body)["eventId"]


def sandbox_control(action):
    url = f"{SANDBOX}/sandbox/aurora/{AURORA_TENANT_ID}/{action}/{FORBIDDEN_ENDPOINT}"
    status, _, body = http("POST", url, {})
    expect(status == 200, f"the sandbox to answer 200 to POST {url}", f"{status}: {body[:300]}")


# --- the steps ---------------------------------------------------------------------------------

def login(token, operator, role, screenshot=None):
    driver.get(CONSOLE + "/login")
    form = wait_for("the login form (form#login)", one("form#login"))
    expect((form.get_attribute("method") or "").lower() == "post" and path_of(form.get_attribute("action")) == "/login",
           "form#login to POST to /login", f"method {form.get_attribute('method')!r}, action {form.get_attribute('action')!r}")
    field = driver.find_element(By.CSS_SELECTOR, "form#login input#token")
    expect(field.get_attribute("type") == "password" and field.get_attribute("name") == "token",
           "input#token to be name=token type=password", f"name {field.get_attribute('name')!r}, type {field.get_attribute('type')!r}")
    expect(driver.find_elements(By.CSS_SELECTOR, 'form#login input[type=hidden][name="_csrf"]'), "a hidden _csrf in form#login", "none")
    field.clear()
    field.send_keys(token)
    if screenshot:
        shot(screenshot)
    click_through(driver.find_element(By.ID, "login-submit"), "button#login-submit")
    wait_for(f"{operator} to land on the overview (/) after logging in",
             lambda d: path_of(d.current_url) == "/" and d.find_elements(By.CSS_SELECTOR, "nav a#nav-overview"))
    check_page(operator, role)


def step_login():
    global step
    step = "1. login"
    # Logged out: any page sends to /login; a wrong token is a 401 page with #error.
    driver.get(CONSOLE + "/dead-letters")
    wait_for("a logged-out visit to /dead-letters to be sent to /login", at_login)
    status, headers, _ = http("GET", CONSOLE + "/")
    expect(status in (301, 302, 303, 307) and path_of(headers.get("Location")) == "/login",
           "a logged-out GET / to redirect to /login", f"{status}, Location {headers.get('Location')!r}")
    # The status of a wrong token, which the browser does not show: the login page's cookies and _csrf, then the post.
    status, headers, body = http("GET", CONSOLE + "/login")
    cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
    csrf = [a.get("value") for a in Elements(body).find(tag="input", name="_csrf")]
    expect(status == 200 and csrf, "GET /login to answer 200 with a _csrf input", f"{status}, {len(csrf)} _csrf inputs")
    status, _, body = http("POST", CONSOLE + "/login", {"token": "not-an-operator-token", "_csrf": csrf[0]},
                           {"Cookie": cookie, "Origin": CONSOLE, "Referer": CONSOLE + "/login"})
    expect(status == 401 and Elements(body).find(id="error"), "401 with #error for a wrong token", f"{status}: {body[:300]}")
    driver.find_element(By.ID, "token").send_keys("not-an-operator-token")
    click_through(driver.find_element(By.ID, "login-submit"), "button#login-submit")
    wait_for("a wrong token's page with #error (a refused token, not a CSRF refusal)",
             lambda d: any(text(e) and "csrf" not in text(e).lower() for e in d.find_elements(By.ID, "error")))
    expect(not present("nav a#nav-overview"), "no navigation after a wrong token", f"the nav on {here()}")
    login(REPLAY_TOKEN, REPLAY_NAME, "replay", screenshot="login.png")


def search(term):
    click_through(driver.find_element(By.ID, "nav-search"), "a#nav-search")
    form = wait_for("the search form (form#search-form)", one("form#search-form"))
    expect((form.get_attribute("method") or "get").lower() == "get", "form#search-form to use GET", form.get_attribute("method"))
    field = driver.find_element(By.CSS_SELECTOR, "form#search-form input#q")
    expect(field.get_attribute("name") == "q", "input#q to be name=q", field.get_attribute("name"))
    field.clear()
    field.send_keys(term)
    click_through(driver.find_element(By.ID, "search-submit"), "button#search-submit")
    expect(path_of(driver.current_url) == "/search" and "q=" in driver.current_url, f"/search?q={term}", driver.current_url)


def result_for(event):
    def find(d):
        for row in d.find_elements(By.CSS_SELECTOR, "table#results tr.result"):
            for link in row.find_elements(By.CSS_SELECTOR, "a.event-link"):
                if path_of(link.get_attribute("href")) == f"/events/{event}":
                    return row
        return None
    return find


def step_search_and_timeline():
    global step
    step = "2. search and timeline"
    event = send_webhook(PROJECT_A, AGREEMENT_A)
    first, last = CUSTOMER_A.split(" ", 1)
    search(last)
    row = wait_reloading(f"a tr.result linking to /events/{event} when searching {last!r} (the customer's last name)", result_for(event))
    title = text(row.find_element(By.CSS_SELECTOR, "td.title"))
    expect(f"{first} {last}" in title, f"td.title to be the Coperniq title ({CUSTOMER_A} – street)", repr(title))
    shot("search.png")
    # The other things a search matches, now that the event is indexed.
    for term in [PROJECT_A, AGREEMENT_A, event, first, last[:3]]:
        driver.get(CONSOLE + "/search?" + urllib.parse.urlencode({"q": term}))
        wait_for(f"searching {term!r} to list /events/{event}", result_for(event), timeout=5)
    driver.get(CONSOLE + "/search?q=nosuchcustomerxyz")
    wait_for("#no-results when searching 'nosuchcustomerxyz'", one("#no-results"), timeout=5)
    expect(not present("tr.result"), "no tr.result for 'nosuchcustomerxyz'", f"{len(driver.find_elements(By.CSS_SELECTOR, 'tr.result'))} rows")

    search(last)
    row = wait_for(f"a result for /events/{event}", result_for(event))
    click_through(row.find_element(By.CSS_SELECTOR, "a.event-link"), "the result's a.event-link")
    heading = wait_for("h1#event-id", one("h1#event-id"))
    expect(event in text(heading), f"h1#event-id to contain {event}", repr(text(heading)))
    wait_reloading(f"#state 'created' and an a.coperniq-link on event {event}'s timeline",
                   lambda d: state() == "created" and present("ol#timeline li.entry[data-kind=outcome] a.coperniq-link"))
    kinds = entry_kinds()
    expect(set(kinds) <= KINDS, f"li.entry data-kind values within {sorted(KINDS)}", kinds)
    expect("received" in kinds and "outcome" in kinds, "received and outcome entries", kinds)
    check_page(REPLAY_NAME, "replay")
    shot("timeline.png")
    return event


def step_dead_letter_and_replay():
    global step
    step = "3. dead letter and replay"
    sandbox_control("forbid")
    try:
        event = send_webhook(PROJECT_B, AGREEMENT_B)
        click_through(driver.find_element(By.ID, "nav-dead-letters"), "a#nav-dead-letters")
        wait_for("/dead-letters", lambda d: path_of(d.current_url) == "/dead-letters")
        row_css = f'tr.dead-letter[data-event-id="{event}"]'
        wait_reloading(f"a {row_css} on /dead-letters (Aurora answers 403 on its {FORBIDDEN_ENDPOINT})", one(row_css))
    finally:
        sandbox_control("allow")
    check_page(REPLAY_NAME, "replay")
    form = driver.find_elements(By.CSS_SELECTOR, "form#replay-form")
    expect(form, "form#replay-form for the replay role", f"none on {here()}")
    expect((form[0].get_attribute("method") or "").lower() == "post" and path_of(form[0].get_attribute("action")) == "/dead-letters/replay",
           "form#replay-form to POST to /dead-letters/replay", f"method {form[0].get_attribute('method')!r}, action {form[0].get_attribute('action')!r}")
    expect(present("button#dry-run"), "button#dry-run for the replay role", "none")
    expect(not present("#read-only-note"), "no #read-only-note for the replay role", "one")
    box = driver.find_elements(By.CSS_SELECTOR, f"{row_css} input.select")
    expect(box and box[0].get_attribute("name") == "key" and box[0].get_attribute("value"),
           f"a checkbox input.select name=key with a value in {row_css}", box[0].get_attribute("outerHTML") if box else "none")
    key = box[0].get_attribute("value")
    shot("dead-letters.png")

    if not box[0].is_selected():
        box[0].click()
    click_through(driver.find_element(By.ID, "dry-run"), "button#dry-run")
    wait_for("the dry run's #plan", one("#plan"))
    would = driver.find_elements(By.CSS_SELECTOR, "#plan li.would-replay")
    expect(len(would) == 1, "one li.would-replay (one dead letter ticked)", f"{len(would)}")
    expect(not present("#plan li.already-replayed"), "no li.already-replayed", "some")
    confirm = driver.find_elements(By.CSS_SELECTOR, "form#confirm-form")
    expect(confirm, "form#confirm-form", f"none on {here()}")
    expect(path_of(confirm[0].get_attribute("action")) == "/dead-letters/replay/confirm", "form#confirm-form to POST to /dead-letters/replay/confirm",
           confirm[0].get_attribute("action"))
    keys = [i.get_attribute("value") for i in driver.find_elements(By.CSS_SELECTOR, 'form#confirm-form input[name="key"]')]
    expect(keys == [key], f"form#confirm-form to carry the ticked key {key!r}", keys)
    check_page(REPLAY_NAME, "replay")
    shot("replay-dry-run.png")

    click_through(driver.find_element(By.ID, "confirm-replay"), "button#confirm-replay")
    wait_for("#replay-result", one("#replay-result"))
    replay_id = driver.find_elements(By.ID, "replay-id")
    expect(replay_id and text(replay_id[0]), "a non-empty #replay-id", "none")
    replayed = [link for link in driver.find_elements(By.CSS_SELECTOR, "#replay-result li.replayed a.event-link")
                if path_of(link.get_attribute("href")) == f"/events/{event}"]
    expect(replayed, f"an li.replayed with an a.event-link to /events/{event}",
           [text(li) for li in driver.find_elements(By.CSS_SELECTOR, "li.replayed")])
    shot("replay-result.png")

    click_through(replayed[0], "the li.replayed's a.event-link")
    heading = wait_for("h1#event-id", one("h1#event-id"))
    expect(event in text(heading), f"h1#event-id to contain {event}", repr(text(heading)))
    wait_reloading(f"#state 'created' with replayed and outcome entries on event {event}'s timeline",
                   lambda d: state() == "created" and {"replayed", "outcome"} <= set(entry_kinds()))
    kinds = entry_kinds()
    expect(set(kinds) <= KINDS, f"li.entry data-kind values within {sorted(KINDS)}", kinds)
    # In time order (oldest or newest first: the contract does not say which).
    story = list(dict.fromkeys(k for k in kinds if k in ("dead-letter", "replayed", "outcome")))
    expect(story in (["dead-letter", "replayed", "outcome"], ["outcome", "replayed", "dead-letter"]),
           "dead-letter, replayed and outcome entries in time order", kinds)
    shot("replayed-timeline.png")

    # The same dead letter again: the dry run says it was replayed already (posted from the page, as
    # its form would, so that the list's own choices about replayed rows do not matter here).
    csrf = csrf_of_page()
    new_page_after(lambda: driver.execute_script("""
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/dead-letters/replay';
        for (const [name, value] of [['key', arguments[0]], ['_csrf', arguments[1]]]) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();""", key, csrf), "a form posting the key again to /dead-letters/replay")
    wait_for("the dry run's #plan for a dead letter replayed before", one("#plan"))
    expect(present("#plan li.already-replayed") and not present("#plan li.would-replay"),
           "li.already-replayed and no li.would-replay", f"{len(driver.find_elements(By.CSS_SELECTOR, '#plan li'))} li in #plan")
    return event, key


def step_overview_and_tenants():
    global step
    step = "4. overview and tenants"
    click_through(driver.find_element(By.ID, "nav-overview"), "a#nav-overview")
    wait_for("svg#events-chart on the overview", lambda d: path_of(d.current_url) == "/" and d.find_elements(By.CSS_SELECTOR, "svg#events-chart"))
    for css in ["svg#latency-chart", "table#lag"]:
        expect(present(css), f"{css} on the overview", "none")
    check_page(REPLAY_NAME, "replay")
    shot("overview.png")
    click_through(driver.find_element(By.ID, "nav-tenants"), "a#nav-tenants")
    wait_for("table#tenants", one("table#tenants"))
    expect(present(f'table#tenants tr.tenant[data-tenant="{TENANT}"]'), f'tr.tenant[data-tenant="{TENANT}"]',
           [r.get_attribute("data-tenant") for r in driver.find_elements(By.CSS_SELECTOR, "tr.tenant")])
    check_page(REPLAY_NAME, "replay")
    shot("tenants.png")


def step_csrf(key):
    global step
    step = "5. CSRF"
    cookie, csrf = browser_cookie(), csrf_of_page()
    expect(cookie, "a session cookie in the browser", "no cookies")
    status, _, body = console_post("/dead-letters/replay", {"key": key}, cookie)
    expect(status == 403 and "csrf" in body.lower(), "403 mentioning CSRF for POST /dead-letters/replay without _csrf", f"{status}: {body[:300]}")
    status, _, body = console_post("/dead-letters/replay", {"key": key, "_csrf": "not-the-token"}, cookie)
    expect(status == 403 and "csrf" in body.lower(), "403 mentioning CSRF for a wrong _csrf", f"{status}: {body[:300]}")
    status, _, body = console_post("/dead-letters/replay/confirm", {"key": key}, cookie)
    expect(status == 403 and "csrf" in body.lower(), "403 mentioning CSRF for POST /dead-letters/replay/confirm without _csrf",
           f"{status}: {body[:300]}")
    # The control: the same cookie with the page's _csrf is a dry run (so the 403s were the CSRF check).
    status, _, body = console_post("/dead-letters/replay", {"key": key, "_csrf": csrf}, cookie)
    expect(status == 200 and Elements(body).find(id="plan"), "200 with #plan for the same POST with the page's _csrf", f"{status}: {body[:300]}")
    return cookie


def step_read_only(key, event, replay_cookie):
    global step
    step = "6. read-only"
    click_through(driver.find_element(By.ID, "logout-submit"), "button#logout-submit")
    wait_for("/login after logging out", at_login)
    status, headers, _ = http("GET", CONSOLE + "/dead-letters", headers={"Cookie": replay_cookie})
    expect(status in (301, 302, 303, 307) and path_of(headers.get("Location")) == "/login",
           "the logged-out session's cookie to be sent to /login", f"{status}, Location {headers.get('Location')!r}")
    driver.delete_all_cookies()
    login(READONLY_TOKEN, READONLY_NAME, "read-only")
    click_through(driver.find_element(By.ID, "nav-dead-letters"), "a#nav-dead-letters")
    wait_for("#read-only-note on /dead-letters", one("#read-only-note"))
    expect(present(f'tr.dead-letter[data-event-id="{event}"]'), f"the dead letter of {event} listed", "none")
    for css in ["form#replay-form", "button#dry-run", "input.select"]:
        expect(not present(css), f"no {css} for the read-only role", f"{len(driver.find_elements(By.CSS_SELECTOR, css))}")
    check_page(READONLY_NAME, "read-only")
    shot("read-only.png")
    cookie, csrf = browser_cookie(), csrf_of_page()
    for path in ["/dead-letters/replay", "/dead-letters/replay/confirm"]:
        status, _, body = console_post(path, {"key": key, "_csrf": csrf}, cookie)
        expect(status == 403 and Elements(body).find(id="error"), f"403 with #error for the read-only role's POST {path} (valid _csrf)",
               f"{status}: {body[:300]}")


def save_failure():
    try:
        driver.save_screenshot(os.path.join(ARTIFACTS, "failure.png"))
        with open(os.path.join(ARTIFACTS, "failure.html"), "w", encoding="utf-8") as out:
            out.write(f"<!-- {driver.current_url} -->\n{driver.page_source}")
    except Exception as error:  # noqa: BLE001 - the browser may be gone
        print(f"console_test: could not save the failing page: {error}", file=sys.stderr)


def save_console_log(name):
    """The browser's console messages (JavaScript errors, failed loads); returns the severe ones."""
    try:
        entries = driver.get_log("browser")
    except Exception:  # noqa: BLE001 - the browser may be gone
        return []
    if entries:
        with open(os.path.join(ARTIFACTS, name), "w", encoding="utf-8") as out:
            out.writelines(f"{e.get('level')} {e.get('message')}\n" for e in entries)
    # Expected: the wrong token's 401 page, and a favicon the console need not have.
    return [e for e in entries if e.get("level") == "SEVERE" and "/favicon.ico" not in e.get("message", "")
            and "status of 401" not in e.get("message", "")]


def main():
    global driver
    os.makedirs(ARTIFACTS, exist_ok=True)
    for old in os.listdir(ARTIFACTS):
        if old.endswith((".png", ".html", ".log", ".out", ".err")):  # an earlier run's (ops/browser copies logs here on a failure)
            os.remove(os.path.join(ARTIFACTS, old))
    started = time.monotonic()
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as error:
        print(f"console_test: could not start {CHROMIUM} through {CHROMEDRIVER}: {error.msg}", file=sys.stderr)
        return 1

    def time_limit(*_):  # ops/browser's `timeout`: report where it stood, save the page, quit the browser
        raise Failure("the time limit ran out (SIGTERM)")
    signal.signal(signal.SIGTERM, time_limit)
    try:
        driver.set_window_size(1366, 900)
        driver.set_page_load_timeout(30)
        step_login()
        event_a = step_search_and_timeline()
        event_b, key = step_dead_letter_and_replay()
        step_overview_and_tenants()
        replay_cookie = step_csrf(key)
        step_read_only(key, event_b, replay_cookie)
        severe = save_console_log("browser-console.log")
        if severe:
            print(f"console_test: warning: {len(severe)} severe browser console message(s), see {ARTIFACTS}/browser-console.log", file=sys.stderr)
    except Exception as error:  # noqa: BLE001 - every failure is reported the same way, with the page saved
        if isinstance(error, Failure):
            detail = str(error)
        elif isinstance(error, WebDriverException):
            detail = f"{type(error).__name__}: {error.msg}"
        else:
            traceback.print_exc()
            detail = f"{type(error).__name__}: {error}"
        print(f"console_test: FAILED at step {step}: {detail}", file=sys.stderr)
        save_failure()
        save_console_log("failure-console.log")
        print(f"console_test: failure.png, failure.html and the browser's console log are in {ARTIFACTS}", file=sys.stderr)
        return 1
    finally:
        try:
            driver.quit()
        except Exception:  # noqa: BLE001 - already gone
            pass
    print(f"console_test: passed in {time.monotonic() - started:.1f} s: {driver.capabilities.get('browserVersion', 'chromium')} headless;"
          f" event {event_a} found by name and its project linked; event {event_b} dead-lettered ({FORBIDDEN_ENDPOINT} 403),"
          f" replayed from a dry run and created; overview, tenants, CSRF refusals and the read-only role as specified;"
          f" screenshots in {ARTIFACTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
