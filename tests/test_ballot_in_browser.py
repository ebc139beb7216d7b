"""The published ballot list as a resident meets it, in Chromium on both databases: a map of the list,
every project linked, filters by category and tier; a cut project's page opens with why; supports
closed at publication (no button, and the POST is refused); the phase timeline on the home page and
/proposals; and every public page fits a 390 px phone without sideways scrolling."""

from __future__ import annotations

import pytest

from models.accounts import Role
from models.proposals import Proposal
from tests.ballot_data import publish_ballot
from tests.conftest import PASSWORD, make_settings, make_user
from tests.live import axe_violations, launch_chromium, live_server, screenshot, script_errors

pytestmark = pytest.mark.browser
BALLOT_READY = "() => document.querySelector('#ballot-map')?.dataset.ready === 'true'"


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    with live_server(request.param, tmp_path_factory.mktemp("ballot")) as live:
        settings = make_settings("sqlite://")
        with live.session() as session:
            member = make_user(session, settings, "group@example.org")
            staff = make_user(session, settings, "staff@city.gov", Role.staff)
            make_user(session, settings, "resident@example.org")
            ballot = publish_ballot(session, settings, member, staff)
            live.on = ballot.on  # type: ignore[attr-defined]
            live.off = ballot.off  # type: ignore[attr-defined]
            live.titles = {p.id: p.title for p in (session.get(Proposal, i) for i in ballot.on + ballot.off)}  # type: ignore[attr-defined]
            live.categories = {i: session.get(Proposal, i).category_key for i in ballot.on}  # type: ignore[attr-defined,union-attr]
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def test_the_ballot_list_has_a_map_links_and_filters(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = script_errors(page)
    page.goto(server.url + "/ballot")
    page.wait_for_function(BALLOT_READY, timeout=30_000)
    drawn = page.evaluate("() => window.groundworkBallotMap.queryRenderedFeatures({layers: "
                          "['ballot-line', 'ballot-area', 'ballot-point']}).map(f => f.properties.id)")
    assert set(drawn) == set(server.on)
    for pid in server.on:  # every project on the list links to its page
        assert page.locator(f"table a[href='/proposals/{pid}']").inner_text() == server.titles[pid]
    screenshot(page, f"ballot-map-{server.kind}")
    assert axe_violations(page) == []

    # a category filter keeps that category's projects in the table and on the map
    category = server.categories[server.on[0]]
    page.select_option("#bf-category", category)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**category={category}**")
    page.wait_for_function(BALLOT_READY, timeout=30_000)
    kept = [pid for pid in server.on if server.categories[pid] == category]
    rows = page.locator("table.data-table--stack tbody a").all_inner_texts()
    assert sorted(rows) == sorted(server.titles[pid] for pid in kept)
    drawn = page.evaluate("() => window.groundworkBallotMap.queryRenderedFeatures({layers: "
                          "['ballot-line', 'ballot-area', 'ballot-point']}).map(f => f.properties.id)")
    assert set(drawn) == set(kept)
    page.goto(server.url + "/ballot?tier=9")
    assert "No project on the list matches these filters." in page.content()
    assert [e for e in errors if "Uncaught" in e] == []
    page.close()


def test_a_cut_project_says_why_and_supports_are_closed(server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(server.url + f"/signin?next=/proposals/{server.off[0]}")
    page.fill("#email", "resident@example.org")
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"**/proposals/{server.off[0]}")
    why = page.locator("#why-not")
    assert why.locator("h2").inner_text() == "Not selected — why"
    assert why.locator("[data-testid=cut-reason]").inner_text() == "Over the budget this time"
    # the first section after the title: the reason comes before the map and the cost
    assert page.evaluate("() => document.querySelector('h1').nextElementSibling.nextElementSibling.id") == "why-not"
    assert page.get_by_role("button", name="Support this proposal").count() == 0
    assert "when the ballot list was published" in page.get_by_test_id("supports-closed").inner_text()
    screenshot(page, f"ballot-cut-project-{server.kind}")
    # a support sent anyway (an old tab, a script) is refused and counts nothing
    status = page.evaluate("""async (id) => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const r = await fetch('/proposals/' + id + '/support', {method: 'POST', redirect: 'manual',
          headers: {'Content-Type': 'application/x-www-form-urlencoded'},
          body: 'csrf_token=' + encodeURIComponent(token)});
        return [r.status, await r.text()]; }""", server.on[0])
    assert status[0] == 409 and "Supports closed" in status[1]
    page.goto(server.url + f"/proposals/{server.on[0]}")
    assert page.get_by_test_id("support-count").inner_text().startswith("0 ")
    context.close()


def test_the_phase_timeline_shows_where_the_program_is(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    for path in ("/", "/proposals"):
        page.goto(server.url + path)
        steps = page.locator(".timeline__step").all_inner_texts()
        assert [s.split("\n")[0] for s in steps] == ["Groups draft proposals", "Proposals accepted", "Staff review",
                                                     "Whittling to the budget", "Ballot list published", "Vote"]
        assert page.locator(".timeline__step[aria-current=step]").count() <= 1
        assert all("–" in s or "dates to be set" in s for s in steps)
    screenshot(page, f"timeline-proposals-{server.kind}")
    page.close()


PHONE_PAGES = ["/", "/map", "/map/table", "/proposals", "/ballot", "/dashboards", "/data", "/plan", "/plan/same-money"]


def test_every_public_page_fits_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for path in [*PHONE_PAGES, f"/proposals/{server.on[0]}", "/map/table?layer=pavement"]:
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("main h1").count() >= 1, path
        width = page.evaluate("() => document.documentElement.scrollWidth")
        wide = page.evaluate("() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
                             ".right > 391 && !e.closest('.site-nav, .table-wrap')).slice(0, 5)"
                             ".map(e => e.tagName + '.' + e.className)")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone: {wide}"
        screenshot(page, f"phone{path.replace('/', '-').replace('?', '-') or '-home'}-{server.kind}")
    # the header stays compact: the page's own content starts in the top third of the screen
    page.goto(server.url + "/proposals")
    assert page.evaluate("() => document.querySelector('header').getBoundingClientRect().height") <= 140
    page.close()
