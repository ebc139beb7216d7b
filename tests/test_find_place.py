"""Finding a street on the map: names as you type (starting matches first), their extent and
condition; the page without JavaScript; the map page carries the search box and the proposals panel."""

from __future__ import annotations

from shapely.geometry import LineString, MultiLineString
from sqlmodel import Session

from app.layers.store import FeatureRecord, write_layer
from app.layers.streets import find_streets
from models.layers import LayerKind


def _streets(session: Session) -> None:
    def seg(x: float, name: str, pci: float) -> FeatureRecord:
        return FeatureRecord(MultiLineString([LineString([(x, 33.95), (x + 0.002, 33.95)])]),
                             {"street_name": name, "pci": pci, "functional_class": "local"}, source_id=f"{name}{x}")
    write_layer(session=session, kind=LayerKind.pavement, source="test", actor=None, records=[
        seg(-83.40, "Main Street", 40.0), seg(-83.398, "Main Street", 80.0), seg(-83.39, "Old Main Road", 70.0),
        seg(-83.38, "Oak Avenue", 55.0), seg(-83.37, "100% Lane", 20.0)])


def test_find_streets_ranks_and_measures(session):
    _streets(session)
    found = find_streets(session=session, query="main")
    assert [m.name for m in found] == ["Main Street", "Old Main Road"]
    main = found[0]
    assert main.segments == 2 and main.average_pci == 60.0
    assert main.bounds is not None and main.bounds[0] == -83.40 and main.bounds[2] == -83.396
    assert find_streets(session=session, query="m") == []
    assert find_streets(session=session, query="%") == []  # LIKE wildcards are text
    assert [m.name for m in find_streets(session=session, query="100%")] == ["100% Lane"]


def test_street_search_pages(client, session):
    _streets(session)
    partial = client.get("/map/streets?q=oak", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert 'data-street-bounds="-83.380000,33.950000,-83.378000,33.950000"' in partial.text
    page = client.get("/map/streets?q=oak")
    assert "<html" in page.text and "/map/table?q=Oak%20Avenue" in page.text
    assert "No street matches" in client.get("/map/streets?q=zzz", headers={"HX-Request": "true"}).text
    map_page = client.get("/map").text
    assert 'id="street-search"' in map_page and "/map/proposals-panel" in map_page
    assert "/static/js/map-public.js" in map_page


def test_street_results_say_how_many_proposals_are_there(client, session, resident):
    from tests.triage_data import build_triage

    build_triage(session, resident)
    main = find_streets(session=session, query="main street")[0]
    assert main.proposals == 3  # the three pavement proposals; the sidewalk one is not on the pavement
    assert "3 proposals" in client.get("/map/streets?q=main", headers={"HX-Request": "true"}).text
