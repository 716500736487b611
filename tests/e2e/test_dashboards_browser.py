"""The provisioned dashboards in headless Chromium, as a leader and as a street user.

Debian's ``chromium`` package drives the test through Playwright's Python API with
``executable_path``, so no browser is downloaded. Each dashboard must render every chart of
the spec with no chart error; screenshots land in ``artifacts/dashboards/`` (or
``$CITYOPS_TEST_ARTIFACTS/dashboards/``) for review. With ``CITYOPS_SCREENSHOTS=docs/img`` the
leader's views of the two main dashboards are also saved there, as the README shows them.
"""

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboards.provision import streets
from dashboards.settings import user_password
from dashboards.spec import STREETS, load_spec

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CITYOPS_TEST_ARTIFACTS", REPO / "artifacts")) / "dashboards"
# The README's pictures: the leader's first screen of these dashboards, when the switch is set.
SCREENSHOTS = os.environ.get("CITYOPS_SCREENSHOTS")
README_DASHBOARDS = ("city-vitals", "hotline-grid")
README_VIEW = {"x": 0, "y": 0, "width": 1600, "height": 1300}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Offline, Google Fonts and the map tiles cannot load; that is not a dashboard failure. Nor is
# the Content-Security-Policy blocking Superset 6.1's telemetry pixel, which it always renders.
HARMLESS_CONSOLE = re.compile(
    r"ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|Failed to fetch|"
    r"fonts\.googleapis|tile\.openstreetmap|Failed to load resource|"
    r"gateway\.scarf\.sh/pixel/\S+' violates the following Content Security Policy"
)
EXTERNAL = re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)[:/])")
CHART_ERROR = (
    ".ant-alert-error, .alert-danger, [data-test='chart-error'], [data-test='error-message']"
)
FAILURE_TEXT = re.compile(r"Unexpected error|Traceback|violates the following|出错|查询失败|Error:")

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium chromium-driver); "
        "CI installs it",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _log_in(page, url, username, password):
    page.goto(f"{url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    # Logged in once the redirect away from /login commits; the welcome page it lands on need
    # not finish loading (on a busy CI machine its load event once took over a minute).
    page.wait_for_url(lambda address: "/login" not in address, wait_until="commit", timeout=120_000)


def _open(page, url, slug, expected_charts):
    """Open a dashboard and wait until every chart has rendered."""
    from playwright.sync_api import expect

    page.goto(f"{url}/superset/dashboard/{slug}/?standalone=3")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=90_000)
    expect(page.locator(".chart-container")).to_have_count(expected_charts, timeout=90_000)
    expect(page.locator(".loading")).to_have_count(0, timeout=120_000)
    # ECharts draws after the data arrives.
    page.wait_for_timeout(1500)


def _busiest_street(snapshot):
    """The street with the most 12345 orders: its screenshots show the most."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        code = con.execute(
            "select street_code from events.fct_hotline_orders where street_code is not null "
            "group by street_code order by count(*) desc, street_code limit 1"
        ).fetchall()[0][0]
    return next(street for street in streets() if street.code == code)


@pytest.mark.parametrize("role", ["leader", "street"])
def test_every_dashboard_renders_every_chart_without_error(superset_instance, browser, role):
    target = superset_instance.target
    spec = load_spec()
    street = _busiest_street(target.serving_path) if role == "street" else None
    who = street.username if street else "leader"
    visible = [d for d in spec.dashboards if street is None or STREETS in d.roles]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # A tall window: dashboards render charts lazily as they scroll into view.
    context = browser.new_context(viewport={"width": 1600, "height": 3200}, locale="zh-CN")
    # Nothing leaves the machine: requests for external fonts and map tiles fail at once instead
    # of waiting on the closed network.
    context.route(EXTERNAL, lambda route: route.abort())
    page = context.new_page()
    console_errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not HARMLESS_CONSOLE.search(message.text)
            and console_errors.append(message.text[:300])
        ),
    )
    try:
        _log_in(page, target.url, who, user_password(target, who))
        for dashboard in visible:
            _open(page, target.url, dashboard.slug, len(dashboard.charts))
            page.screenshot(path=str(ARTIFACTS / f"{who}-{dashboard.slug}.png"), full_page=True)
            if SCREENSHOTS and street is None and dashboard.slug in README_DASHBOARDS:
                folder = REPO / SCREENSHOTS
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / f"{dashboard.slug}.png"), clip=README_VIEW)
            errors = page.locator(CHART_ERROR)
            assert errors.count() == 0, [
                errors.nth(i).inner_text()[:300] for i in range(errors.count())
            ]
            holders = page.locator(".dashboard-component-chart-holder")
            texts = [holders.nth(i).inner_text() for i in range(holders.count())]
            failing = [text[:200] for text in texts if FAILURE_TEXT.search(text)]
            assert failing == [], (dashboard.slug, failing)
            if street is not None and dashboard.slug == "hotline-grid":
                # Row-level security as the user sees it: the by-street table has one street.
                table = page.locator(".dashboard-component-chart-holder", has_text="KPIs by street")
                text = table.first.inner_text()
                assert street.name in text
                others = [s.name for s in streets() if s.name != street.name and s.name in text]
                assert others == [], others
        if street is not None:
            # The quality dashboard is not granted to street roles.
            page.goto(f"{target.url}/superset/dashboard/quality-catalogue/?standalone=3")
            page.wait_for_timeout(3000)
            assert page.locator(".chart-container").count() == 0
    finally:
        context.close()
    assert console_errors == []


OVERVIEW = "city-overview"
LAPTOP = {"width": 1440, "height": 900}


@pytest.mark.parametrize("role", ["leader", "street"])
def test_the_overview_is_the_landing_page_and_fits_one_laptop_screen(
    superset_instance, browser, role
):
    """城运总览 after login, on one 1440×900 screen, with a named map and points, offline."""
    from playwright.sync_api import expect

    target = superset_instance.target
    spec = load_spec()
    overview = next(d for d in spec.dashboards if d.slug == OVERVIEW)
    street = _busiest_street(target.serving_path) if role == "street" else None
    who = street.username if street else "leader"
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    # Every request to another host, and why it failed: the page's own policy must stop each
    # one before it leaves the machine (Superset 6.1 renders a telemetry pixel regardless of
    # its setting; the Content-Security-Policy blocks it).
    outside: dict[str, str | None] = {}
    page.on("request", lambda r: EXTERNAL.match(r.url) and outside.setdefault(r.url, None))
    page.on(
        "requestfailed",
        lambda r: EXTERNAL.match(r.url) and outside.__setitem__(r.url, r.failure),
    )
    try:
        # The login page speaks Chinese (Superset serves its language pack to logged-in users
        # only, and mistranslates "Sign in"; superset_config.py serves the corrected pack).
        page.goto(f"{target.url}/login/")
        page.wait_for_selector("#username", timeout=60_000)
        # Ant Design spaces the two characters of a button ("登 录").
        sign_in = page.locator("button[type=submit]")
        expect(sign_in).to_have_text(re.compile(r"登\s*录"), timeout=30_000)
        login_text = page.locator("body").inner_text()
        assert "Sign in" not in login_text and "Not In" not in login_text, login_text[:300]
        _log_in(page, target.url, who, user_password(target, who))
        page.wait_for_url(f"**/superset/dashboard/{OVERVIEW}/**", timeout=120_000)
        expect(page.locator(".chart-container")).to_have_count(len(overview.charts), timeout=90_000)
        expect(page.locator(".loading")).to_have_count(0, timeout=120_000)
        the_map = page.locator(".ov-map svg")
        expect(the_map).to_have_count(1, timeout=60_000)
        page.wait_for_timeout(1500)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{who}-{OVERVIEW}-1440x900.png"))
        if SCREENSHOTS and street is None:
            folder = REPO / SCREENSHOTS
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{OVERVIEW}.png"))
        # One screen: every chart's bottom inside the window (Superset's page keeps some empty
        # height of its own below the grid).
        bottoms = page.evaluate(
            "[...document.querySelectorAll('.dashboard-component-chart-holder')]"
            ".map(e => e.getBoundingClientRect().bottom)"
        )
        assert len(bottoms) == len(overview.charts)
        assert max(bottoms) <= LAPTOP["height"], bottoms
        # The map names every street and draws areas and points.
        names = page.locator(".ov-map text.street-name").all_text_contents()
        assert sorted(names) == sorted(s.name.removesuffix("街道") for s in streets())
        assert page.locator(".ov-map path.area").count() > 0
        assert page.locator(".ov-map .pt").count() > 0
        # Each dimension chip and each warning count links to its detail, filtered.
        chips = page.locator(".ov-chips a")
        expect(chips).to_have_count(8)
        assert "native_filters=(NATIVE_FILTER-dimension" in chips.first.get_attribute("href")
        status = page.locator(".ov-status").inner_text()
        assert "数据截至" in status and "红" in status
        assert page.locator(CHART_ERROR).count() == 0
        if street is not None:
            # Row-level security on the map: only the street's own areas are drawn in colour.
            areas = page.locator(".ov-map path.area.street").count()
            assert areas == 1, areas
    finally:
        context.close()
    assert all(reason in ("csp", "net::ERR_BLOCKED_BY_CSP") for reason in outside.values()), outside
