"""The whole cycle in Debian's Chromium, every step through the pages as people use them.

Staff import Somerville's real pavement survey through the import page and set up the program and
the cost catalog; two community groups draft proposals by clicking streets on the map and submit
them; staff triage, merge an overlap, revise a cost, optimize at 150 % and then 100 % of revenue
and publish; a resident finds a street, opens a project, reads why another was cut, switches to
Spanish, prints the ballot guide and downloads the CSV; the main pages are walked by keyboard alone.
axe-core checks every page visited. ``pytest -m cycle`` runs it alone.

Screenshots of each step go to $GROUNDWORK_CYCLE_ARTIFACTS (else the test's tmp directory). With
$GROUNDWORK_TOUR_DIR set (e.g. docs/tour), the SpatiaLite run also writes the README tour's
pictures there (the visible window, PNG).
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from geoalchemy2.shape import to_shape
from playwright.sync_api import expect
from shapely.geometry import LineString, MultiLineString
from sqlmodel import col, select

from app import accounts
from app.settings import ImportSettings
from models.accounts import Role
from models.layers import PavementSegment
from tests.conftest import make_settings, shared_file
from tests.live import MAP_READY, axe_violations, launch_chromium, live_server, script_errors

pytestmark = [pytest.mark.browser, pytest.mark.cycle]
DESKTOP = {"width": 1280, "height": 800}
PASSWORDS = {"engineer@city.gov": "a-staff-password", "ana@example.org": "ana-group-password",
             "ben@example.org": "ben-group-password"}
# Somerville's segments (their survey ids) each proposal covers; Highland Avenue's two proposals share 277.02
HIGHLAND = ["277", "277.01", "277.02"]  # Medford St to Lowell St
HIGHLAND_EAST = ["277.02", "277.03"]  # Central St to Cherry St
SYCAMORE = ["547.3", "547.2"]  # Broadway to Pembroke St
PEARL = ["451.1", "451"]  # Crescent St to Cross St
EDITOR_READY = ("() => window.groundworkEditorMap && window.groundworkEditorMap.loaded()"
                " && window.groundworkEditorMap.areTilesLoaded()"
                " && window.groundworkEditorMap.getLayer('asset-pavement') && !window.groundworkEditorMap.isMoving()")
FOCUS_VISIBLE = """() => { const e = document.activeElement; if (!e || e === document.body) { return false; }
  const s = getComputedStyle(e); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def server(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("imports")
    with live_server(request.param, tmp_path_factory.mktemp("live"),
                     imports=ImportSettings(work_dir=str(work))) as live:
        settings = make_settings(str(live.engine.url))
        with live.session() as session:  # the people; everything they make, they make in the pages
            accounts.create_user(session=session, settings=settings, email="engineer@city.gov",
                                 password=PASSWORDS["engineer@city.gov"], role=Role.staff, display_name="Eva Engineer")
            for email, name in (("ana@example.org", "Ana"), ("ben@example.org", "Ben")):
                accounts.create_user(session=session, settings=settings, email=email, password=PASSWORDS[email],
                                     display_name=name)
        yield live


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


class Walk:
    """Screenshots (numbered, in order) and the axe check for each page the cycle visits."""

    def __init__(self, kind: str, artifacts: Path, tour: Path | None) -> None:
        self.kind, self.artifacts, self.tour, self.count = kind, artifacts, tour, 0
        self.checked: list[str] = []

    def check(self, page: Any, name: str, *, tour: str | None = None) -> None:
        problems = axe_violations(page)
        assert problems == [], (name, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in problems])
        self.checked.append(name)
        self.shot(page, name, tour=tour)

    def shot(self, page: Any, name: str, *, tour: str | None = None) -> None:
        self.count += 1
        page.screenshot(path=str(self.artifacts / f"{self.count:02d}-{name}-{self.kind}.png"), full_page=True)
        if tour and self.tour is not None:
            path = self.tour / f"{tour}.png"
            page.screenshot(path=str(path))
            small_png(path)


def small_png(path: Path) -> None:
    """A screenshot for the README, made small: 256 colours (screens of flat colour and text keep well;
    the octree keeps the map's category colours apart, where median cut merges them)."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    reduced.save(path, optimize=True)


@pytest.fixture
def walk(server, tmp_path) -> Walk:
    artifacts = Path(os.environ.get("GROUNDWORK_CYCLE_ARTIFACTS") or tmp_path / "cycle")
    artifacts.mkdir(parents=True, exist_ok=True)
    tour_dir = os.environ.get("GROUNDWORK_TOUR_DIR")
    tour = Path(tour_dir) if tour_dir and server.kind == "spatialite" else None
    if tour is not None:
        tour.mkdir(parents=True, exist_ok=True)
    return Walk(server.kind, artifacts, tour)


def sign_in(browser: Any, server: Any, email: str) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = script_errors(page)
    page.goto(server.url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORDS[email])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(staff)?$"))
    return page, errors


def staff_nav(page: Any, name: str) -> None:
    page.locator("[aria-label=Staff]").get_by_role("link", name=name, exact=True).click()


def middles(server: Any) -> dict[str, tuple[float, float]]:
    """Where each segment's middle is, to click it as a person would on the line they see."""
    wanted = HIGHLAND + HIGHLAND_EAST + SYCAMORE + PEARL
    points = {}
    with server.session() as session:
        for segment in session.exec(select(PavementSegment).where(col(PavementSegment.source_id).in_(wanted))):
            line = to_shape(segment.geom)
            if isinstance(line, MultiLineString):
                line = max(line.geoms, key=lambda part: part.length)
            assert isinstance(line, LineString)
            middle = line.interpolate(0.5, normalized=True)
            points[str(segment.source_id)] = (middle.x, middle.y)
    assert set(points) == set(wanted)
    return points


# -- 1. staff set up: import, program, catalog ---------------------------------------------------------------

def staff_set_up(page: Any, server: Any, walk: Walk) -> None:
    walk.check(page, "staff-desk")
    staff_nav(page, "Import data")
    shp = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    page.get_by_label("Layer", exact=True).select_option("pavement")
    page.locator("#files").set_input_files(sorted(str(p) for p in shp.parent.glob("BL_SEGMENTS_2015.*")))
    walk.check(page, "import-form")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(server.url + "/staff/import/preview")
    assert page.get_by_label("pci", exact=True).input_value() == "OCI"  # the survey's column, found
    walk.check(page, "import-preview", tour="01-import-preview")
    page.get_by_label("Import the 567 valid rows and skip the 2 listed above").check()
    page.get_by_role("button", name="Import 567 features").click()
    page.wait_for_url(re.compile(r".*/staff/import/jobs/\d+$"))
    page.get_by_text("Imported 567 features into Pavement condition, skipped 2 rows").wait_for(timeout=60_000)
    walk.check(page, "import-done")

    staff_nav(page, "Program")
    page.get_by_label("Name", exact=True).fill("Somerville Streets 2027")
    page.get_by_label("Expected revenue (dollars)").fill("6,000,000")
    for row in range(1, 6):  # the demo's floors and caps are for a $144.5M program
        page.get_by_label(f"Category {row} cap in dollars").fill("")
        page.get_by_label(f"Category {row} floor in dollars").fill("")
    page.get_by_label("Tier row 1 share in percent").fill("100")
    for field in ("number", "name", "share in percent"):  # one tier: an empty row is removed
        page.get_by_label(f"Tier row 2 {field}", exact=True).fill("")
    page.get_by_label("Tier row 2 funded only if revenue exceeds the forecast").uncheck()
    today = date.today()
    days = {"drafting": (-30, -1), "accepting_proposals": (0, 20), "staff_review": (21, 40), "whittling": (41, 60),
            "published": (61, 90), "vote": (91, 91)}
    for key, (first, last) in days.items():
        page.locator(f"input[name=phase_{key}_starts_on]").fill((today + timedelta(days=first)).isoformat())
        page.locator(f"input[name=phase_{key}_ends_on]").fill((today + timedelta(days=last)).isoformat())
    page.get_by_role("button", name="Save the program").click()
    page.get_by_text("The program is saved.").wait_for()
    assert "Accepting proposals" in page.locator(".lead").inner_text()
    walk.check(page, "program")

    staff_nav(page, "Cost catalog")
    page.get_by_role("button", name="Start from Groundwork's default catalog").click()
    page.get_by_role("cell", name="$98.24 per sq yd").first.wait_for()
    walk.check(page, "cost-catalog")


# -- 2. two groups draft and submit by clicking on the map ---------------------------------------------------

def click_segment(page: Any, where: tuple[float, float]) -> None:
    """Zoom to the street as a member would, then click the segment's line."""
    page.evaluate("([lng, lat]) => window.groundworkEditorMap.jumpTo({center: [lng, lat], zoom: 17})", list(where))
    page.wait_for_function(EDITOR_READY, timeout=20_000)
    page.locator("#editor-map").scroll_into_view_if_needed()
    point = page.evaluate("([lng, lat]) => window.groundworkEditorMap.project([lng, lat])", list(where))
    box = page.locator("#editor-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def draft_and_submit(page: Any, walk: Walk, points: dict[str, tuple[float, float]], title: str,
                     segments: list[str], *, shot: str | None = None, tour: str | None = None) -> None:
    back = page.get_by_role("link", name="Our proposals")
    if back.count():  # from the editor, back to the group's list
        back.first.click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    page.wait_for_function(EDITOR_READY, timeout=30_000)
    page.get_by_label("Scheduled year").fill("2027")
    for count, source_id in enumerate(segments, start=1):
        click_segment(page, points[source_id])
        page.get_by_test_id("selection-count").filter(
            has_text=f"{count} pavement segment{'s' if count > 1 else ''}").wait_for()
    assert page.get_by_test_id("estimate-total").inner_text().startswith("$")
    page.get_by_label("Category").select_option(label="Pavement & bridges")
    if shot:  # the whole selection in view, beside its estimate
        ends = [points[segments[0]], points[segments[-1]]]
        page.evaluate("([a, b]) => window.groundworkEditorMap.jumpTo({center: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2],"
                      " zoom: 15.6})", ends)
        page.wait_for_function(EDITOR_READY, timeout=20_000)
        page.evaluate("() => document.querySelector('#editor-map').scrollIntoView({block: 'center'})")
        walk.check(page, shot, tour=tour)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    page.get_by_role("button", name="Submit the saved version").click()
    page.get_by_text("Submitted. City staff will review it").wait_for()


def group_drafts(page: Any, walk: Walk, points: dict[str, tuple[float, float]], group: str,
                 proposals: list[tuple[str, list[str]]], *, first: bool) -> None:
    page.locator(".site-nav").get_by_role("link", name="My groups").click()
    page.get_by_label("Group name").fill(group)
    page.get_by_role("button", name="Create group").click()
    page.wait_for_url(re.compile(r".*/groups/\d+$"))
    if first:
        walk.check(page, "group")
    page.get_by_role("link", name=re.compile("Proposals and budget")).click()
    for index, (title, segments) in enumerate(proposals):
        draft_and_submit(page, walk, points, title, segments,
                         shot="editor" if first and index == 0 else None,
                         tour="02-editor" if first and index == 0 else None)
    page.get_by_role("link", name="Our proposals").first.click()
    assert page.locator("table.proposal-list tbody tr").count() == len(proposals)
    if first:
        walk.check(page, "group-list")


# -- 3. staff triage, merge, revise, optimize, publish -------------------------------------------------------

def staff_whittle(page: Any, server: Any, walk: Walk) -> dict[str, Any]:
    page.goto(server.url + "/staff")
    walk.check(page, "staff-desk-with-work")
    staff_nav(page, "Triage")
    rows = page.locator("#triage-table tbody tr")
    assert rows.count() == 4
    for box in page.locator("#triage-table input[type=checkbox]").all():
        box.check()
    page.get_by_label("New state").select_option("feasible")
    page.get_by_role("button", name="Change state").click()
    page.get_by_text("4 proposals now “Feasible”").wait_for()
    walk.check(page, "triage")

    page.get_by_role("link", name="Overlaps and duplicates").click()
    group = page.locator("article.overlap-group").first
    assert "strong: shared assets" in group.inner_text().lower()
    keep = group.get_by_label("Keep")
    keep.select_option(label=keep.locator("option", has_text="Repave Highland Avenue").inner_text())
    merged = group.get_by_label("Merge into it (withdrawn, linked)")
    merged.select_option(label=merged.locator("option", has_text="Highland Ave, Central to Cherry").inner_text())
    group.get_by_label("Note the group sees").fill("The same blocks as Repave Highland Avenue; one project now.")
    walk.check(page, "overlaps", tour="05-overlaps")
    group.get_by_role("button", name="Merge").click()
    page.get_by_text(re.compile(r"Merged into #\d+ “Repave Highland Avenue”")).wait_for()

    page.get_by_role("link", name="← Triage").click()
    page.get_by_role("link", name=re.compile("Repave Highland Avenue")).first.click()
    page.wait_for_url(re.compile(r".*/staff/triage/\d+$"))
    unit_cost = page.get_by_label(re.compile(r"^Unit cost of .* in dollars$")).first
    unit_cost.fill("90.00")
    page.get_by_label("Reason for the revision (required)").fill("2026 bids for Highland Avenue came in lower.")
    page.get_by_role("button", name="Save staff estimate").click()
    page.get_by_text("Staff estimate saved.").wait_for()
    page.wait_for_function("() => document.querySelector('#review-map canvas') !== null")
    walk.check(page, "review-revised", tour="06-review")

    staff_nav(page, "Scenarios")
    for name, share in (("Everything at 150 %", "150"), ("Ballot at 100 %", "100")):
        page.get_by_label("Name").fill(name)
        page.get_by_label("Target share of revenue (%)").fill(share)
        page.get_by_role("button", name="Create").click()
        page.get_by_role("button", name="Optimize").click()
        page.get_by_role("heading", name="Optimum (applied to the scenario)").wait_for()
        if share == "150":
            assert page.locator(".rule-broken li", has_text="need a public reason").count() == 0  # all fit
            walk.check(page, "scenario-150")
            staff_nav(page, "Scenarios")
    scenario_url = page.url.rsplit("/optimize", 1)[0]
    walk.check(page, "scenario-100", tour="07-scenario")
    missing = page.locator(".rule-broken li", has_text="need a public reason").inner_text()
    left_out = re.findall(r"#(\d+) “([^”]+)”", missing)  # (id, title) of each proposal left out
    assert left_out, "at 100 % of revenue something must be cut"
    for proposal_id, _title in left_out:
        page.goto(f"{server.url}/staff/triage/{proposal_id}")
        page.get_by_label("Public notes").fill("Within this budget, the other streets on the list do more for the "
                                              "money. It is first in line for the next program.")
        page.get_by_role("button", name="Save notes").click()
        page.get_by_text("Review notes saved.").wait_for()

    page.goto(scenario_url)
    page.get_by_role("link", name="Review and publish…").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    walk.check(page, "publish-confirm")
    page.get_by_role("button", name=re.compile(r"Yes, publish version \d+")).click()
    page.wait_for_url(server.url + "/ballot")
    return {"cut": [i for i, _ in left_out], "cut_titles": [t for _, t in left_out]}


# -- 4. a resident looks before voting -----------------------------------------------------------------------

def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the focus is on ``selector``; it must be visibly focused there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_VISIBLE), f"the focus on {selector} cannot be seen"
            return
    raise AssertionError(f"Tab never reached {selector}")


def resident_looks(browser: Any, server: Any, walk: Walk, points: dict[str, tuple[float, float]], cut: list[str],
                   cut_titles: list[str]) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors = script_errors(page)

    page.goto(server.url + "/")
    walk.check(page, "home", tour="08-home")
    # find a street on the map (the keyboard's way: skip link, the search field, a result, Enter)
    page.locator(".site-nav").get_by_role("link", name="Map").click()
    page.wait_for_function(MAP_READY, timeout=45_000)
    tab_to(page, ".skip-link")
    page.keyboard.press("Enter")
    tab_to(page, "#street-search")
    page.keyboard.type("Highland")
    page.locator("#street-results a", has_text="HIGHLAND AVE").wait_for()
    tab_to(page, "#street-results a")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#map').dataset.street === 'HIGHLAND AVE'")
    page.get_by_label("Public proposals, by category").check()  # drawn beside the streets, never over them
    page.wait_for_function("() => window.groundworkMap.queryRenderedFeatures({layers: ['gw-proposals-line']}).length"
                           " > 0 && !window.groundworkMap.isMoving() && window.groundworkMap.areTilesLoaded()",
                           timeout=15_000)
    walk.check(page, "map-street", tour="09-map")

    # the ballot list, then a project on it, by keyboard
    page.locator(".site-nav").get_by_role("link", name="Ballot list").click()
    page.wait_for_url(server.url + "/ballot")
    walk.check(page, "ballot", tour="10-ballot")
    on_ballot = page.locator("#main table a[href^='/proposals/']").all_inner_texts()
    assert on_ballot and all(title not in on_ballot for title in cut_titles)
    tab_to(page, "#main table a[href^='/proposals/']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    page.wait_for_function("() => document.querySelector('#project-map').dataset.ready === 'true'", timeout=30_000)
    walk.check(page, "project")

    # why another was cut
    page.goto(server.url + f"/proposals/{cut[0]}")
    page.get_by_role("heading", name="Not selected — why").wait_for()
    assert "first in line for the next program" in page.content()
    walk.check(page, "project-cut", tour="12-not-selected")

    # Spanish
    page.select_option("#language-choice", "es")
    page.locator(".language-switcher button").click()
    page.wait_for_function("() => document.documentElement.lang === 'es'")
    page.get_by_role("heading", name="No seleccionado: por qué").wait_for()
    walk.check(page, "project-cut-es")
    page.goto(server.url + "/ballot")
    walk.check(page, "ballot-es", tour="13-ballot-es")
    # the ballot guide, printed
    page.emulate_media(media="print")
    expect(page.locator(".site-nav")).to_be_hidden()
    walk.shot(page, "ballot-print", tour="14-ballot-print")
    assert len(page.pdf(format="Letter")) > 1000
    page.emulate_media(media="screen")

    # the list as CSV
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert {row["title"] for row in rows} == set(on_ballot), rows[:2]

    # the map's own words too: a street's popup
    page.goto(server.url + "/map")
    page.wait_for_function(MAP_READY, timeout=45_000)
    where = list(points[HIGHLAND[0]])
    page.evaluate("(c) => window.groundworkMap.jumpTo({center: c, zoom: 17})", where)
    page.wait_for_function("() => !window.groundworkMap.isMoving() && window.groundworkMap.areTilesLoaded()"
                           " && window.groundworkMap.loaded()", timeout=20_000)
    point = page.evaluate("(c) => window.groundworkMap.project(c)", where)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.get_by_text("Categoría de estado").wait_for()
    assert "HIGHLAND AVE" in popup.inner_text() and "Toda la calle HIGHLAND AVE en la tabla" in popup.inner_text()
    walk.check(page, "map-popup-es", tour="15-map-es")
    assert errors == []
    context.close()


def test_the_whole_cycle_in_a_browser(server, browser, walk):
    try:
        whole_cycle(server, browser, walk)
    except Exception:
        for number, context in enumerate(browser.contexts):  # what each person saw when it stopped
            for page in context.pages:
                page.screenshot(path=str(walk.artifacts / f"failed-{number}-{walk.kind}.png"), full_page=True)
        raise


def whole_cycle(server: Any, browser: Any, walk: Walk) -> None:
    laps: list[str] = []
    started = lap = time.monotonic()

    def done(step: str) -> None:
        nonlocal lap
        laps.append(f"{step} {time.monotonic() - lap:.0f} s")
        lap = time.monotonic()

    staff, staff_errors = sign_in(browser, server, "engineer@city.gov")
    staff_set_up(staff, server, walk)
    points = middles(server)
    done("staff set-up")

    ana, ana_errors = sign_in(browser, server, "ana@example.org")
    group_drafts(ana, walk, points, "Highland Avenue Neighbors",
                 [("Repave Highland Avenue", HIGHLAND), ("Sycamore Street, Broadway to Pembroke", SYCAMORE)],
                 first=True)
    ben, ben_errors = sign_in(browser, server, "ben@example.org")
    group_drafts(ben, walk, points, "Ward 3 Safe Streets",
                 [("Highland Ave, Central to Cherry", HIGHLAND_EAST), ("Pearl Street, Cross to Crescent", PEARL)],
                 first=False)
    done("groups")

    outcome = staff_whittle(staff, server, walk)
    walk.check(staff, "ballot-published")
    done("whittling")
    resident_looks(browser, server, walk, points, outcome["cut"], outcome["cut_titles"])
    done("resident")
    assert staff_errors == ana_errors == ben_errors == []
    print(f"cycle on {server.kind}: {time.monotonic() - started:.0f} s ({', '.join(laps)}), "
          f"{len(walk.checked)} pages checked with axe")
