"""The table view: a layer at a time, sorted on whitelisted columns, filtered, paged, escaped."""

from __future__ import annotations

import re

from shapely.geometry import LineString, MultiLineString
from sqlmodel import Session, select

from app.layers.store import FeatureRecord, write_layer
from models.layers import District, LayerKind
from tests.map_data import load_city


def _streets(text: str) -> list[str]:
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    return re.findall(r"<tr>\s*<td[^>]*>([^<]*)</td>", body)


def _column(text: str, index: int) -> list[str]:
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[index]).strip() for row in rows]


def test_table_lists_pavement_sorted_by_street_with_map_links(client, session: Session):
    load_city(session)
    page = client.get("/map/table")
    assert page.status_code == 200
    assert _streets(page.text) == ["Elm St", "Far Rd", "Main St", "Main St", "Oak Ave"]
    assert re.search(r'<th scope="col" aria-sort="ascending"><a class="sort-link" [^>]*data-sort-key="street">',
                     page.text)
    assert _column(page.text, 4) == ["Not rated", "Failed", "Good", "Very poor", "Fair"]
    assert _column(page.text, 5) == ["0.21", "0.07", "0.69", "0.34", "0.14"]  # miles, two decimals
    assert _column(page.text, 6) == ["East", "Outside districts", "West", "West", "East"]
    assert re.search(r'<a href="/map\?layer=pavement&amp;feature=\d+">Show on map', page.text)
    assert 'href="/map"' in page.text and '<a href="/map/table?layer=streetlight">Streetlights</a>' in page.text


def test_sorting_by_pci_descending_puts_unrated_last_and_flips_the_link(client, session: Session):
    load_city(session)
    page = client.get("/map/table?layer=pavement&sort=pci&dir=desc")
    assert _column(page.text, 3) == ["90", "60", "30", "5", "—"]
    assert re.search(r'aria-sort="descending" class="num"><a class="sort-link" '
                     r'href="/map/table\?layer=pavement&amp;sort=pci"', page.text)
    assert client.get("/map/table?layer=pavement&sort=pci").text.count('aria-sort="ascending"') == 1


def test_filters_street_band_and_district(client, session: Session):
    load_city(session)
    west = str(session.exec(select(District).where(District.name == "West")).one().id)
    assert _streets(client.get("/map/table?q=mAiN").text) == ["Main St", "Main St"]
    assert _column(client.get("/map/table?category=fair").text, 0) == ["Oak Ave"]
    assert _streets(client.get("/map/table?category=unrated").text) == ["Elm St"]
    assert _streets(client.get(f"/map/table?area={west}&sort=pci").text) == ["Main St", "Main St"]
    assert _streets(client.get("/map/table?area=outside").text) == ["Far Rd"]
    none = client.get("/map/table?q=%25")  # a literal percent sign matches nothing, it is not a wildcard
    assert "No segments match these filters." in none.text
    lights = client.get("/map/table?layer=streetlight&category=out")
    assert _column(lights.text, 0) == ["F1", "W2", "W3"] and "Street or pole contains" in lights.text
    ramps = client.get("/map/table?layer=ramp&sort=condition")
    assert _column(ramps.text, 2) == ["Good", "Poor", "Poor", "Not rated"]
    sidewalks = client.get("/map/table?layer=sidewalk&sort=gap&dir=desc")
    assert _column(sidewalks.text, 3)[0] == "Yes, missing"


def test_paging_fifty_rows_at_a_time(client, session: Session):
    records = [FeatureRecord(MultiLineString([LineString([(-83.4, 33.9 + i * 0.001), (-83.4, 33.9005 + i * 0.001)])]),
                             {"street_name": f"Street {i:03d}", "pci": 50}) for i in range(120)]
    write_layer(session=session, kind=LayerKind.pavement, source="many", actor=None, records=records)
    first = client.get("/map/table")
    assert len(_streets(first.text)) == 50 and "120 segments; showing 1–50 (page 1 of 3)." in first.text
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last = client.get("/map/table?page=3")
    assert _streets(last.text)[0] == "Street 100" and len(_streets(last.text)) == 20
    assert '<a class="button button--quiet" href="/map/table?layer=pavement&amp;page=2"' in last.text
    assert len(_streets(client.get("/map/table?page=9").text)) == 20  # past the end: the last page


def test_htmx_gets_only_the_results_and_names_are_escaped(client, session: Session):
    write_layer(session=session, kind=LayerKind.pavement, source="x", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(-83.4, 33.9), (-83.4, 33.91)])]),
                      {"street_name": '<script>alert("x")</script> & Co', "pci": 70})])
    partial = client.get("/map/table?sort=pci", headers={"HX-Request": "true", "HX-Target": "table-results"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and 'id="table-results"' in partial.text
    assert "<script>alert" not in partial.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in partial.text
    assert '<input type="hidden" form="table-filters" name="sort" value="pci">' in partial.text
    assert "<html" in client.get("/map/table", headers={"HX-Request": "true", "HX-Target": "main"}).text


def test_bad_table_requests_are_clear_400s(client, session: Session):
    load_city(session)
    cases = {"/map/table?layer=roads": "There is no layer called 'roads'.",
             "/map/table?layer=district": "cannot be browsed as a table",
             "/map/table?sort=geom": "cannot be sorted by 'geom'",
             "/map/table?category=shiny": "Unknown condition band 'shiny'.",
             "/map/table?area=west": "Unknown district 'west'.",
             "/map/table?dir=sideways": "Sort direction must be asc or desc.",
             "/map/table?page=0": "Pages are numbered from 1."}
    for url, message in cases.items():
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 400, url
        assert message in response.text.replace("&#39;", "'"), url
