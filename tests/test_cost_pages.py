"""Staff edit, import and export the cost catalog; the catalog and estimate API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiLineString
from sqlmodel import Session, select

from app.costing import catalog
from models.accounts import User
from models.costs import CatalogVersion
from models.layers import PavementSegment
from tests.conftest import csrf_of, post_form, sign_in


def edit_form(session: Session, **changes: str) -> dict[str, object]:
    version = catalog.ensure_defaults(session=session)
    rows = [catalog.rule_fields(t) for t in catalog.draft_of(session=session, version=version).treatments]
    form: dict[str, object] = {"base_year": "2015", "design_engineering": "15", "contingency": "20",
                               "escalation": "3", "lane_width": "3.658", "width_local": "8.077",
                               "width_arterial": "12.192", "width_collector": "10.058", "width_default": "8.077",
                               "width_sidewalk": "1.524", "source": "Somerville 2015", "note": "2026 bids"}
    for column in catalog.CSV_COLUMNS:
        form[column] = [row[column] for row in rows] + [""]
    for key, value in changes.items():
        form[key] = value
    return form


def versions(session: Session) -> int:
    return len(session.exec(select(CatalogVersion)).all())


def test_staff_start_from_the_defaults_then_edit_into_a_new_version(
        client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    assert "Start from Groundwork" in client.get("/staff/costs").text
    assert client.post("/staff/costs/defaults", data={"csrf_token": csrf_of(client, "/staff/costs")}).status_code == 303
    page = client.get("/staff/costs")
    assert "$1.51 per sq yd" in page.text and "2015 dollars" in page.text

    form = edit_form(session)
    costs = list(form["unit_cost_dollars"])  # type: ignore[call-overload]
    costs[1] = "2.25"  # crack seal
    form["unit_cost_dollars"] = costs
    response = client.post("/staff/costs/edit", data={**form, "csrf_token": csrf_of(client, "/staff/costs/edit")})
    assert response.status_code == 303, response.text
    current = catalog.current_version(session=session)
    assert current and current.number == 2 and current.note == "2026 bids"
    assert "$2.25 per sq yd" in client.get("/staff/costs").text
    old = client.get("/staff/costs/versions/1")
    assert "$1.51 per sq yd" in old.text and "Make current again" in old.text
    assert "Version 2" in client.get("/staff/costs/versions").text


def test_bad_edits_explain_and_save_nothing(client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    form = edit_form(session)
    costs = list(form["unit_cost_dollars"])  # type: ignore[call-overload]
    costs[2] = "lots"
    highs = list(form["max_pci"])  # type: ignore[call-overload]
    highs[1] = "95"  # crack seal now overlaps do nothing
    response = client.post("/staff/costs/edit", data={**form, "unit_cost_dollars": costs,
                                                       "csrf_token": csrf_of(client, "/staff/costs/edit")})
    assert response.status_code == 400
    assert "Treatment 3: unit_cost_dollars must be an amount" in response.text
    response = client.post("/staff/costs/edit", data={**form, "max_pci": highs, "contingency": "abc",
                                                       "csrf_token": csrf_of(client, "/staff/costs/edit")})
    assert "Contingency must be a percentage" in response.text
    response = client.post("/staff/costs/edit", data={**form, "max_pci": highs,
                                                       "csrf_token": csrf_of(client, "/staff/costs/edit")})
    assert response.status_code == 400 and "both cover PCI 88–95" in response.text
    assert versions(session) == 1


def test_csv_export_and_import_through_the_pages(client: TestClient, session: Session, staff: User) -> None:
    catalog.ensure_defaults(session=session)
    sign_in(client, staff.email)
    exported = client.get("/staff/costs/catalog.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    text = exported.text.replace("Crack seal,sq_yd,1.51", "Crack seal,sq_yd,1.75")
    token = csrf_of(client, "/staff/costs")
    response = client.post("/staff/costs/import", data={"csrf_token": token, "note": "new crack seal price"},
                           files={"file": ("catalog.csv", text.encode(), "text/csv")})
    assert response.status_code == 303
    assert "$1.75 per sq yd" in client.get("/staff/costs").text

    bad = text + "pavement,evil,=HYPERLINK(\"x\"),sq_yd,1,,,,,,\n"
    response = client.post("/staff/costs/import", data={"csrf_token": csrf_of(client, "/staff/costs")},
                           files={"file": ("catalog.csv", bad.encode(), "text/csv")})
    assert response.status_code == 400
    assert "Row 16: name looks like a spreadsheet formula" in response.text
    assert versions(session) == 2
    assert client.get("/staff/costs/catalog.csv?version=1").text == catalog.export_csv(
        session=session, version=catalog.get_version_by_number(session=session, number=1))  # type: ignore[arg-type]


def test_the_catalog_pages_follow_the_viewers_language(client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    english = client.get("/staff/costs").text
    assert "<h1>Cost catalog</h1>" in english and "Start from Groundwork" in english
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    assert "Empezar con el catálogo predeterminado" in client.get("/staff/costs").text
    assert client.post("/staff/costs/defaults", data={"csrf_token": csrf_of(client, "/staff/costs")}).status_code == 303
    page = client.get("/staff/costs").text
    assert "<h1>Catálogo de costos</h1>" in page and "La versión 1 del catálogo es la vigente." in page
    assert "dólares de 2015" in page and "por yd²" in page and "Historial de versiones" in page
    assert "Cost catalog</h1>" not in page and "per sq yd" not in page
    edit = client.post("/staff/costs/edit", data={**edit_form(session, base_year="soon"),
                                                  "csrf_token": csrf_of(client, "/staff/costs/edit")})
    assert edit.status_code == 400 and "<h1>Editar el catálogo de costos</h1>" in edit.text
    assert "No se guardó nada:" in edit.text and "El año base debe ser un año, por ejemplo 2015." in edit.text
    history = client.get("/staff/costs/versions").text
    assert "Historial del catálogo de costos" in history and ">vigente</span>" in history
    assert "<h1>Versión 1 del catálogo de costos</h1>" in client.get("/staff/costs/versions/1").text
    assert versions(session) == 1


def test_the_catalog_pages_are_staff_only(client: TestClient, session: Session, resident: User) -> None:
    catalog.ensure_defaults(session=session)
    for path in ("/staff/costs", "/staff/costs/edit", "/staff/costs/versions"):
        response = client.get(path, headers={"accept": "text/html"})
        assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    sign_in(client, resident.email)
    token = csrf_of(client, "/")
    for path in ("/staff/costs", "/staff/costs/edit", "/staff/costs/versions/1", "/staff/costs/catalog.csv"):
        assert client.get(path).status_code == 403
    assert client.post("/staff/costs/import", data={"csrf_token": token},
                       files={"file": ("c.csv", b"x", "text/csv")}).status_code == 403
    assert client.post("/staff/costs/versions/1/restore", data={"csrf_token": token}).status_code == 403
    assert versions(session) == 1


def test_catalog_and_estimate_api(client: TestClient, session: Session, resident: User) -> None:
    assert client.get("/api/v1/catalog").status_code == 404
    version = catalog.ensure_defaults(session=session)
    segment = PavementSegment(geom=from_shape(MultiLineString([[(-71.1, 42.39), (-71.099, 42.39)]]), srid=4326),
                              length_m=91.44, width_m=9.144, pci=30, functional_class="arterial")
    session.add(segment)
    session.commit()

    body = client.get("/api/v1/catalog").json()
    assert body["number"] == 1 and body["escalation_bps"] == 300
    assert {"key": "crack_seal", "unit_cost_cents": 151} .items() <= next(
        t for t in body["treatments"] if t["key"] == "crack_seal").items()
    assert [v["number"] for v in client.get("/api/v1/catalog/versions").json()] == [1]
    assert client.get("/api/v1/catalog/versions/9").status_code == 404

    request = {"assets": [{"layer": "pavement", "id": segment.id}], "scheduled_year": 2016}
    assert client.post("/api/v1/estimates", json=request).status_code in (401, 403)  # anonymous
    sign_in(client, resident.email)
    headers = {"X-CSRF-Token": csrf_of(client, "/")}
    result = client.post("/api/v1/estimates", json=request, headers=headers).json()
    # 1,000 sq yd × $98.24 = $98,240 + 15 % + 20 % = $132,624 × 1.03 = $136,602.72
    assert result["catalog_version_id"] == version.id
    assert result["lines"][0]["treatment_key"] == "mill_overlay_3in_arterial"
    assert result["lines"][0]["quantity"] == "1000.00"
    assert (result["construction_cents"], result["total_cents"]) == (9_824_000, 13_660_272)
    assert result["final_cents"] == 13_660_272
    bad = client.post("/api/v1/estimates", headers=headers,
                      json={**request, "override": {"amount_cents": -1, "reason": "cheaper"}})
    assert bad.status_code == 422 and "more than $0" in bad.json()["detail"]
    missing = client.post("/api/v1/estimates", headers=headers,
                          json={"assets": [{"layer": "pavement", "id": 999999}], "scheduled_year": 2016})
    assert missing.status_code == 422 and "No such asset" in missing.json()["detail"]
    assert "/api/v1/estimates" in client.get("/openapi.json").json()["paths"]


def test_two_staff_editing_at_once_do_not_lose_an_update(client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    form = edit_form(session, base_number="1")
    token = csrf_of(client, "/staff/costs/edit")
    assert client.post("/staff/costs/edit", data={**form, "csrf_token": token}).status_code == 303
    stale = client.post("/staff/costs/edit", data={**form, "note": "mine", "csrf_token": token})
    assert stale.status_code == 400
    assert "Someone saved catalog version 2 while you were editing version 1" in stale.text
    assert versions(session) == 2


def test_the_catalogs_refusals_are_whole_sentences_in_the_viewers_language(
        client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    form = edit_form(session)
    costs, highs = list(form["unit_cost_dollars"]), list(form["max_pci"])  # type: ignore[call-overload]
    costs[2], highs[1] = "lots", "95"

    def refusals() -> tuple[str, str, str]:
        edit = client.post("/staff/costs/edit", data={**form, "unit_cost_dollars": costs,
                                                      "csrf_token": csrf_of(client, "/staff/costs/edit")}).text
        overlap = client.post("/staff/costs/edit", data={**form, "max_pci": highs,
                                                         "csrf_token": csrf_of(client, "/staff/costs/edit")}).text
        bad = catalog.export_csv(session=session, version=catalog.current_version(session=session))  # type: ignore[arg-type]
        csv = client.post("/staff/costs/import", data={"csrf_token": csrf_of(client, "/staff/costs")},
                          files={"file": ("catalog.csv", (bad + "pavement,evil,Evil,furlong,1,,,,,,\n").encode())}).text
        return edit, overlap, csv

    edit, overlap, csv = refusals()
    assert "Treatment 3: unit_cost_dollars must be an amount such as 82.82, not &#39;lots&#39;." in edit
    assert "both cover PCI 88–95 (any class); make the ranges meet without overlapping." in overlap
    assert "Row 16: the unit must be one of " in csv
    assert post_form(client, "/language", {"lang": "es", "next": "/"}, page="/").status_code == 303
    edit, overlap, csv = refusals()
    assert "Tratamiento 3: unit_cost_dollars debe ser un monto como 82.82, no &#39;lots&#39;." in edit
    assert "cubren ambos el PCI 88–95 (cualquier tipo); haga que los rangos se toquen sin superponerse." in overlap
    assert "Fila 16: la unidad debe ser una de estas: " in csv
    assert "must" not in edit + overlap + csv and versions(session) == 1
