"""A resident in headless Chromium, on a phone and a desktop: find a street on the map, see the
proposals there, open the list and a project, support it once, read the dashboards, switch to
Spanish. Every page is checked with axe; screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

from typing import Any

import pytest

from app.proposals import states
from models.accounts import Role
from tests.conftest import PASSWORD, make_settings, make_user
from tests.live import MAP_READY, axe_violations, launch_chromium, live_server, screenshot, script_errors
from tests.triage_data import build_triage

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("resident")) as live:
        settings = make_settings("sqlite://")
        with live.session() as session:
            member = make_user(session, settings, "group@example.org")
            t = build_triage(session, member)
            staff = make_user(session, settings, "staff@city.gov", Role.staff)
            states.start_review(session=session, proposal_id=t.proposals[2].id, actor=staff)
            states.mark_not_feasible(session=session, proposal_id=t.proposals[2].id, actor=staff,
                                     reason="internal only", public_note="The state rebuilds this block in 2027.")
            for size in SIZES:
                make_user(session, settings, f"{size}@example.org")
        live.west_id = t.proposals[0].id  # type: ignore[attr-defined]
        yield live


# A point on a proposal's outline: the outline runs beside its street (line-gap-width), so walk
# out from the line's middle along its normal until the layer answers.
FIND_PROPOSAL_OUTLINE = """() => {
  const m = window.groundworkMap, layers = ['gw-proposals-line'];
  const r = m.getCanvas().getBoundingClientRect();
  for (const f of m.queryRenderedFeatures({layers})) {
    const lines = f.geometry.type === 'LineString' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const line of lines) {
      for (let i = 0; i + 1 < line.length; i++) {
        const a = m.project(line[i]), b = m.project(line[i + 1]);
        const len = Math.hypot(b.x - a.x, b.y - a.y);
        if (len < 20) { continue; }
        const mid = {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2}, n = {x: (a.y - b.y) / len, y: (b.x - a.x) / len};
        for (let d = 0; d < 40; d++) {
          const p = [mid.x + n.x * d, mid.y + n.y * d];
          if (p[0] < 5 || p[1] < 5 || p[0] > r.width - 5 || p[1] > r.height - 5) { break; }
          if (m.queryRenderedFeatures(p, {layers}).length) { return [r.left + p[0], r.top + p[1]]; }
        }
      }
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _check(page: Any, name: str) -> None:
    screenshot(page, name)
    problems = axe_violations(page)
    assert problems == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in problems]


@pytest.mark.parametrize("size", list(SIZES))
def test_resident_finds_a_street_opens_a_project_supports_it_in_spanish(server, browser, size):
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    errors = script_errors(page)
    tag = f"{size}-{server.kind}"

    # find a street on the map; the proposals layer draws there
    page.goto(server.url + "/map")
    page.wait_for_function(MAP_READY, timeout=45_000)
    page.locator("#toggle-proposals").wait_for(state="attached")
    if not page.locator("#street-search").is_visible():  # a phone starts with the map, the panel folded
        page.locator("[data-panel-toggle]").click()
    assert not page.locator("#toggle-proposals").is_checked()  # off until asked for: conditions come first
    page.locator("#toggle-proposals").check()
    page.locator("#street-search").fill("Main")
    result = page.locator("#street-results a", has_text="Main Street")
    result.wait_for(timeout=10_000)
    result.click()
    if size == "phone" and page.locator("[data-panel-toggle]").get_attribute("aria-expanded") == "true":
        page.locator("[data-panel-toggle]").click()  # fold the panel to see the street
    page.wait_for_function("() => document.querySelector('#map').dataset.street === 'Main Street'")
    page.wait_for_function("() => window.groundworkMap.queryRenderedFeatures("
                           "{layers: ['gw-proposals-line']}).length > 0", timeout=15_000)
    _check(page, f"resident-map-{tag}")
    # a click on a proposal's outline opens its popup, and only that one
    point = page.evaluate(FIND_PROPOSAL_OUTLINE)
    assert point, "no proposal outline to click"
    page.mouse.click(point[0], point[1])
    page.locator(".maplibregl-popup .proposal-popup").wait_for(timeout=5_000)
    page.wait_for_timeout(600)  # a second popup (the street's, from /ogc) would have opened by now
    assert page.locator(".maplibregl-popup").count() == 1
    page.keyboard.press("Escape")
    if size == "desktop":  # the proposals on the map filter by category
        page.select_option("#pf-category", "sidewalks")
        page.wait_for_function("() => { const f = window.groundworkMap.queryRenderedFeatures("
                               "{layers: ['gw-proposals-line']}); return f.length > 0 && "
                               "f.every(x => x.properties.category === 'sidewalks'); }", timeout=15_000)
        page.select_option("#pf-category", "")

    # the list, then a project
    page.goto(server.url + "/proposals")
    assert "Repave west Main" in page.content()
    _check(page, f"resident-proposals-{tag}")
    page.get_by_role("link", name="Repave west Main").click()
    page.wait_for_function("() => document.querySelector('#project-map').dataset.ready === 'true'", timeout=30_000)
    assert "Friends of Main Street" in page.content()
    _check(page, f"resident-project-{tag}")

    # the project that was cut says why, never the internal reason
    cut = page.context.new_page()
    cut.goto(server.url + "/proposals?status=not_feasible")
    cut.get_by_role("link", name="Repave east Main").click()
    assert "The state rebuilds this block in 2027." in cut.content() and "internal only" not in cut.content()
    cut.close()

    # sign in and support it; a second click changes nothing
    page.goto(server.url + f"/signin?next=/proposals/{server.west_id}")
    page.fill("#email", f"{size}@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**/proposals/{server.west_id}")
    before = page.locator("[data-testid=support-count]").inner_text()
    page.get_by_role("button", name="Support this proposal").click()
    page.wait_for_selector("text=You support this proposal.")
    after = page.locator("[data-testid=support-count]").inner_text()
    assert int(after.split()[0]) == int(before.split()[0]) + 1

    # dashboards
    page.goto(server.url + "/dashboards")
    _check(page, f"resident-dashboards-{tag}")
    page.goto(server.url + "/dashboards/management")
    _check(page, f"resident-management-{tag}")
    page.goto(server.url + "/dashboards/operational")
    _check(page, f"resident-operational-{tag}")
    page.goto(server.url + "/map/streets?q=main")
    _check(page, f"resident-streets-{tag}")

    # Spanish
    page.goto(server.url + f"/proposals/{server.west_id}")
    page.select_option("#language-choice", "es")
    page.locator(".language-switcher button").click()
    page.wait_for_function("() => document.documentElement.lang === 'es'")
    assert "Apoyo" in page.content() or "apoy" in page.content().lower()
    _check(page, f"resident-project-es-{tag}")
    page.goto(server.url + "/proposals")
    _check(page, f"resident-proposals-es-{tag}")
    page.goto(server.url + "/map")
    page.wait_for_function(MAP_READY, timeout=45_000)
    assert page.locator("label[for=street-search]").inner_text() == "Buscar una calle"
    if page.locator("#street-search").is_visible():
        page.locator("#street-search").fill("Main")
        page.locator("#street-results a", has_text="Main Street").click()
        page.wait_for_function("() => document.querySelector('#map-status').textContent === 'Se muestra Main Street.'")
    _check(page, f"resident-map-es-{tag}")
    assert errors == []
    context.close()


def test_pages_print_as_plain_documents(server, browser):
    page = browser.new_page(viewport=SIZES["desktop"])
    for path, name in (("/ballot", "ballot"), ("/proposals", "proposals"), (f"/proposals/{server.west_id}", "project")):
        page.goto(server.url + path)
        page.emulate_media(media="print")
        assert not page.locator(".site-nav").is_visible() and not page.locator(".language-switcher").is_visible()
        screenshot(page, f"print-{name}-{server.kind}")
        assert len(page.pdf(format="Letter")) > 1000  # Chromium prints it
        page.emulate_media(media="screen")
    page.close()
