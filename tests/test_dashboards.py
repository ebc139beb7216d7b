"""Dashboards on a hand-made city: the numbers a person would check by hand."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app import dashboards
from app.i18n import money, money_short
from app.pavement_plan import service as plan
from tests.triage_data import build_triage


@pytest.fixture
def t(session: Session, resident):
    return build_triage(session, resident)


def test_leadership_headlines(client, session, t):
    d = dashboards.leadership(session=session)
    # four equal blocks of PCI 30, 45, 72, 90: the length-weighted network PCI is their mean
    assert d.network_pci == pytest.approx((30 + 45 + 72 + 90) / 4, abs=0.5)
    assert d.poor_share == pytest.approx(0.5, abs=0.02)  # PCI 30 and 45 are poor or worse
    assert d.proposals_submitted == 4
    assert d.proposed_cents == sum(p.final_cents or 0 for p in t.proposals)
    assert d.budget_cents == 14_450_000_000 - 14_450_000_000 * 300 // 10_000
    page = client.get("/dashboards")
    assert page.status_code == 200 and "max-age" in page.headers["cache-control"]
    assert 'data-testid="proposals-submitted">4<' in page.text
    assert 'data-testid="network-pci">59<' in page.text
    assert money_short(d.proposed_cents) in page.text
    needs = plan.needs(session=session)
    assert needs.total_cents > 0 and f'data-testid="network-needs">{money_short(needs.total_cents)}<' in page.text
    assert "<title id=" in page.text and "Show the numbers as a table" in page.text


def test_management_by_district_and_category(client, session, t):
    d = dashboards.management(session=session)
    by_cat = {c.category.key: (c.count, c.cents) for c in d.by_category}
    assert by_cat["pavement"][0] == 3 and by_cat["sidewalks"][0] == 1
    assert sum(c.count for c in d.by_category) == 4
    west = next(r for r in d.by_district if r.name == "West Ward")
    east = next(r for r in d.by_district if r.name == "East Ward")
    assert west.count + east.count == 4
    assert west.poor_miles > 0 and east.poor_miles == 0  # the poor blocks are the two west ones
    page = client.get("/dashboards/management").text
    assert "West Ward" in page and "Pavement &amp; bridges" in page
    needs = plan.needs(session=session)
    assert money(needs.total_cents) in page and "Pavement network needs by district" in page
    west_needs = next(g for g in needs.by_district if g.label == "West Ward")
    assert west_needs.cents > 0 and money_short(west_needs.cents) in page


def test_operational_lists_worst_segments_and_lights_in_a_district(client, session, t):
    city = dashboards.operational(session=session)
    assert city.lights_total == 1 and city.gaps_total == 1
    west_key = next(k for k, name in city.areas if name == "West Ward")
    east_key = next(k for k, name in city.areas if name == "East Ward")
    west = dashboards.operational(session=session, area=west_key)
    east = dashboards.operational(session=session, area=east_key)
    assert west.lights_total == 1 and east.lights_total == 0
    page = client.get(f"/dashboards/operational?area={west_key}").text
    assert "/map?layer=streetlight&amp;feature=" in page and "P1" in page
    assert client.get("/dashboards/operational?area=999").status_code == 404


def test_operational_lists_failed_and_serious_segments_worst_first(client, session, t):
    from shapely.geometry import LineString, MultiLineString

    from app.layers.store import FeatureRecord, write_layer
    from models.layers import LayerKind

    def seg(x: float, pci: float, name: str) -> FeatureRecord:
        return FeatureRecord(MultiLineString([LineString([(x, 33.95), (x + 0.002, 33.95)])]),
                             {"street_name": name, "pci": pci, "functional_class": "local"}, source_id=f"{x}")
    write_layer(session=session, kind=LayerKind.pavement, source="worst", actor=None, records=[
        seg(-83.405, 15.0, "Elm Street"), seg(-83.403, 4.0, "Ash Street"), seg(-83.401, 80.0, "Oak Street"),
        seg(-83.390, 8.0, "East Lane")])
    city = dashboards.operational(session=session)
    assert [s.street for s in city.segments] == ["Ash Street", "East Lane", "Elm Street"]
    assert city.segments_total == 3 and {s.band for s in city.segments} == {"Failed", "Serious"}
    west_key = next(k for k, name in city.areas if name == "West Ward")
    west = dashboards.operational(session=session, area=west_key)
    assert [s.street for s in west.segments] == ["Ash Street", "Elm Street"]
    page = client.get(f"/dashboards/operational?area={west_key}").text
    assert "Ash Street" in page and "East Lane" not in page and "/map?layer=pavement&amp;feature=" in page
