"""Spanish for content: category, treatment, layer and district names in the viewer's language,
English where staff gave no Spanish name, and staff editing the Spanish names."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from app import program as programs
from app.costing import catalog, defaults
from app.layers import district_names
from models.layers import District
from models.program import Category
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, sign_in


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    published = publish_ballot(session, settings, resident, staff)
    draft = programs.draft_of(programs.program_view(session=session))  # type: ignore[arg-type]
    for c in draft.categories:
        c.name_es = "Pavimento" if c.key == "pavement" else None  # sidewalks: no Spanish name
    programs.save_program(session=session, actor=staff, draft=draft)
    west = session.exec(select(District).where(District.name == "West Ward")).one()
    district_names.save_spanish_names(session=session, actor=staff, names={west.id: "Barrio Oeste"})
    return published


def _text(response) -> str:
    assert response.status_code == 200, response.text[:500]
    return html.unescape(response.text)


def _spanish_treatment(text: str) -> str | None:
    return next((name for name in defaults.SPANISH_NAMES.values() if name in text), None)


def test_a_spanish_viewer_sees_spanish_names_and_english_where_there_is_none(client, session, ballot):
    client.cookies.set("gw_lang", "es")
    project = ballot.on[0]
    pages = {path: _text(client.get(path)) for path in (
        "/map", "/map/table", "/proposals", f"/proposals/{project}", "/ballot", "/dashboards/management", "/data")}
    assert "Estado del pavimento" in pages["/map"] and "Pavement condition" not in pages["/map"]
    assert "Barrio Oeste" in pages["/map"] and "East Ward" in pages["/map"]  # no Spanish name: English
    assert "Barrio Oeste" in pages["/map/table"]
    for path in ("/proposals", "/ballot", "/dashboards/management"):
        assert "Pavimento" in pages[path], path
        assert "Barrio Oeste" in pages[path], path
        assert ">West Ward<" not in pages[path], path  # (a filter may keep the English name as its value)
    assert "Sidewalks" in pages["/proposals"]  # the category without a Spanish name
    assert "Pavimento" in pages[f"/proposals/{project}"]
    assert _spanish_treatment(pages[f"/proposals/{project}"]), "no Spanish treatment name on the project page"
    assert "Estado del pavimento" in pages["/data"]
    assert "Nombre en español" in pages["/data"]  # the districts' name_es column, described in Spanish
    data = client.get("/data/catalog.json")
    titles = [d["title"] for d in data.json()["dataset"]]
    assert "Estado del pavimento" in titles and "Pavement condition" not in titles

    client.cookies.set("gw_lang", "en")
    english = {path: _text(client.get(path)) for path in ("/map", "/ballot", f"/proposals/{project}")}
    assert "Pavement condition" in english["/map"] and "West Ward" in english["/map"]
    assert "Pavement" in english["/ballot"] and "Pavimento" not in english["/ballot"]
    assert "Barrio Oeste" not in english["/ballot"]
    assert _spanish_treatment(english[f"/proposals/{project}"]) is None
    english_catalog = client.get("/data/catalog.json")
    assert english_catalog.headers["ETag"] != data.headers["ETag"]  # a cache never serves one for the other
    assert "Pavement condition" in [d["title"] for d in english_catalog.json()["dataset"]]


def test_staff_enter_spanish_names_on_the_program_page_and_residents_see_them(client, session, ballot, staff):
    sign_in(client, staff.email)
    page = _text(client.get("/staff/program"))
    assert 'name="category_name_es"' in page and "Barrio Oeste" in page
    east = session.exec(select(District).where(District.name == "East Ward")).one()
    form = _program_form(client)
    form["category_name_es"] = ["Pavimento y puentes", "Aceras"]
    form[f"district_es_{east.id}"] = ["Barrio Este"]
    assert client.post("/staff/program", data=form).status_code == 303
    client.cookies.set("gw_lang", "es")
    shown = _text(client.get("/proposals"))
    assert "Pavimento y puentes" in shown and "Aceras" in shown and "Barrio Este" in shown

    too_long = _program_form(client)
    too_long[f"district_es_{east.id}"] = ["x" * 201]
    too_long["category_name_es"] = ["Otro nombre", "Aceras"]
    refused = client.post("/staff/program", data=too_long)
    assert refused.status_code == 400 and "200 characters" in html.unescape(refused.text)
    session.expire_all()
    assert session.get(District, east.id).name_es == "Barrio Este"  # nothing changed
    assert {c.name_es for c in session.exec(select(Category))} == {"Pavimento y puentes", "Aceras"}


def _program_form(client) -> dict[str, list[str] | str]:
    """The program editor's form as the page fills it."""
    import re

    page = client.get("/staff/program").text
    form: dict[str, list[str] | str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        form.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")  # type: ignore[union-attr]
    for select_tag in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select_tag[1])
        form[select_tag[0]] = [chosen.group(1) if chosen else ""]
    form["csrf_token"] = csrf_of(client, "/staff/program")
    return form


def test_a_treatment_keeps_its_spanish_name_through_the_catalog_csv(session, staff):
    version = catalog.ensure_defaults(session=session)
    exported = catalog.export_csv(session=session, version=version)
    assert "Sellado de grietas" in exported and "name_es" in exported.splitlines()[0]
    edited = exported.replace("Sellado de grietas", "Sellado")
    new = catalog.import_csv(session=session, actor=staff, text=edited)
    names = {t.key: t.name_es for t in catalog.treatments_of(session=session, version=new)}
    assert names["crack_seal"] == "Sellado" and names["patching"] == "Bacheo"
    without = ("layer_kind,key,name,unit,unit_cost_dollars,min_pci,max_pci\n"
               "pavement,crack_seal,Crack seal,sq_yd,1.51,68,88\n")
    assert catalog.parse_csv(without)[0].name_es is None  # a file without the column: English only


def test_the_demo_program_and_default_catalog_ship_spanish_names():
    from datetime import date

    categories = {c.key: c.name_es for c in programs.demo_draft(start=date(2026, 1, 1)).categories}
    assert categories["pavement"] == "Pavimento y puentes" and categories["transit"] == "Transporte público"
    assert all(t.name_es for t in catalog.default_draft().treatments)


def test_the_editor_panel_and_the_staff_review_name_treatments_in_the_viewers_language(client, session, resident,
                                                                                        staff):
    from tests.triage_data import build_triage

    t = build_triage(session, resident)
    proposal = t.proposals[0]
    editor_path = f"/groups/{t.group.id}/proposals/{proposal.id}"
    sign_in(client, resident.email)
    client.cookies.set("gw_lang", "es")
    spanish = _text(client.get(editor_path))
    assert _spanish_treatment(spanish), "no Spanish treatment name in the editor's side panel"
    client.cookies.set("gw_lang", "en")
    assert _spanish_treatment(_text(client.get(editor_path))) is None

    client.cookies.clear()
    sign_in(client, staff.email)
    client.cookies.set("gw_lang", "es")
    review = _text(client.get(f"/staff/triage/{proposal.id}"))
    name = _spanish_treatment(review)
    assert name, "no Spanish treatment name on the staff review"
    assert f'aria-label="Cantidad de {name}"' in review  # the revision form names the line the same way
    client.cookies.set("gw_lang", "en")
    assert _spanish_treatment(_text(client.get(f"/staff/triage/{proposal.id}"))) is None


def test_the_maps_own_words_follow_the_page_language(client, ballot):
    import json
    import re

    def map_words(language: str) -> tuple[dict, dict]:
        client.cookies.set("gw_lang", language)
        page = client.get("/map").text
        found = re.search(r'data-config="([^"]*)"\s*data-messages="([^"]*)"', page)  # on #map
        assert found
        return json.loads(html.unescape(found.group(2))), json.loads(html.unescape(found.group(1)))

    spanish, config = map_words("es")
    assert spanish["conditionBand"] == "Categoría de estado" and spanish["classes"]["arterial"] == "Arterial"
    assert spanish["allOfStreet"] == "Toda la calle {street} en la tabla"  # the script fills the placeholder
    assert "Bueno" in {e["label"] for e in config["styles"]["pavement"]}  # popups name the bands in Spanish
    english, config = map_words("en")
    assert english["conditionBand"] == "Condition band" and english["sidewalkOf"] == "{street} sidewalk"
    assert "Good" in {e["label"] for e in config["styles"]["pavement"]}


def test_the_maps_proposals_panel_names_categories_in_the_viewers_language(client, ballot):
    client.cookies.set("gw_lang", "es")
    panel = client.get("/map/proposals-panel")
    assert "Pavimento" in _text(panel) and "Cookie" in panel.headers["Vary"]  # a cache keeps each language apart
    client.cookies.set("gw_lang", "en")
    assert "Pavimento" not in _text(client.get("/map/proposals-panel"))


def test_the_ballots_totals_name_tiers_in_the_viewers_language(client, ballot):
    client.cookies.set("gw_lang", "es")
    page = _text(client.get("/ballot"))
    assert '<th scope="row">Nivel 1</th>' in page and '<th scope="row">Tier 1</th>' not in page
    client.cookies.set("gw_lang", "en")
    assert '<th scope="row">Tier 1</th>' in _text(client.get("/ballot"))
