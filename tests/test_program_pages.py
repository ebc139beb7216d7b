"""Staff edit the program in the browser's form; residents cannot; the API shows it."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import program as programs
from models.accounts import User
from tests.conftest import csrf_of, sign_in

FORM = {
    "revision": "", "name": "TSPLOST 2023", "revenue": "$144,500,000", "years": "5", "management": "3",
    "band_scheme": "astm7",
    "category_key": ["pavement", "sidewalks", ""], "category_name": ["Pavement & bridges", "Sidewalks", ""],
    "category_cap": ["", "30,000,000", ""], "category_floor": ["40,000,000", "", ""],
    "tier_number": ["1", "2", ""], "tier_name": ["Tier 1", "Tier 2", ""], "tier_share": ["85", "15", ""],
    "tier_exceeds": ["1"],
    "district_name": ["District 1", ""], "district_share": ["10", ""],
    "phase_drafting_starts_on": "2027-01-01", "phase_drafting_ends_on": "2027-01-31",
    "phase_accepting_proposals_starts_on": "2027-02-01", "phase_accepting_proposals_ends_on": "2027-03-31",
}


def post(client: TestClient, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post("/staff/program", data={**data, "csrf_token": csrf_of(client, "/staff/program")})


def test_staff_set_up_the_program_in_dollars_and_percent(client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    page = client.get("/staff/program")
    assert page.status_code == 200 and "Athens-Clarke" in page.text
    response = post(client, FORM)
    assert response.status_code == 303, response.text
    view = programs.program_view(session=session)
    assert view is not None
    assert view.program.expected_revenue_cents == 14_450_000_000
    assert view.program.program_management_bps == 300
    assert [(c.key, c.cap_cents, c.floor_cents) for c in view.categories] == [
        ("pavement", None, 4_000_000_000), ("sidewalks", 3_000_000_000, None)]
    assert [(t.number, t.share_bps, t.funded_only_if_revenue_exceeds) for t in view.tiers] == [
        (1, 8500, False), (2, 1500, True)]
    assert [(d.district, d.min_share_bps) for d in view.district_shares] == [("District 1", 1000)]
    assert programs.current_phase(view, date(2027, 2, 10)).value == "accepting_proposals"  # type: ignore[union-attr]
    page = client.get("/staff/program")
    assert "The program is saved." in page.text and 'value="144500000.00"' in page.text

    api = client.get("/api/v1/program").json()
    assert api["expected_revenue_cents"] == 14_450_000_000 and api["budget_cents"] == 14_016_500_000
    assert [t["amount_cents"] for t in api["tiers"]] == [11_914_025_000, 2_102_475_000]


def test_refused_forms_explain_and_keep_what_was_typed(client: TestClient, session: Session, staff: User) -> None:
    sign_in(client, staff.email)
    response = post(client, {**FORM, "tier_share": ["85", "10", ""], "revenue": "144,500,000"})
    assert response.status_code == 400
    assert "add up to 100 % (they add up to 95 %)" in response.text
    assert 'value="144,500,000"' in response.text
    response = post(client, {**FORM, "revenue": "lots", "category_floor": ["-5", "", ""]})
    assert response.status_code == 400
    assert "The expected revenue must be an amount in dollars" in response.text
    assert "the floor must not be negative" in response.text
    response = post(client, {**FORM, "category_floor": ["100,000,000", "100,000,000", ""]})
    assert "floors add up to more than the program&#39;s budget" in response.text
    assert programs.program_view(session=session) is None


def test_the_program_is_staff_only(client: TestClient, resident: User) -> None:
    anonymous = client.get("/staff/program", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    sign_in(client, resident.email)
    assert client.get("/staff/program").status_code == 403
    assert client.post("/staff/program", data={**FORM, "csrf_token": csrf_of(client, "/")}).status_code == 403
    assert client.get("/api/v1/program").status_code == 404  # public, but not set up yet


def test_the_editor_follows_the_viewers_language(client: TestClient, staff: User) -> None:
    sign_in(client, staff.email)
    assert "Save the program" in client.get("/staff/program").text
    language = client.post("/language", data={"lang": "es", "next": "/", "csrf_token": csrf_of(client, "/")})
    assert language.status_code == 303
    page = client.get("/staff/program").text
    assert "<h1>Programa</h1>" in page and "Ingresos previstos (dólares)" in page and "Guardar el programa" in page
    assert "Proporción (%)" in page and "Recepción de propuestas" in page and "Save the program" not in page
    refused = post(client, {**FORM, "years": "five", "phase_vote_starts_on": "2027-06-01"})
    assert refused.status_code == 400 and "El programa no se guardó:" in refused.text
    assert "El período de recaudación debe ser un número entero de años." in refused.text
    assert "Votación: indique una fecha de inicio y una de fin." in refused.text
    assert "The program has not been set up yet." in client.get("/api/v1/program").text  # English for clients
    assert post(client, FORM).status_code == 303
    saved = client.get("/staff/program").text
    assert "El programa se guardó." in saved and "previstos en 5 años;" in saved


def test_the_services_refusals_are_whole_sentences_in_the_viewers_language(client: TestClient, staff: User) -> None:
    sign_in(client, staff.email)
    bad = {**FORM, "revenue": "lots", "category_floor": ["-5", "", ""], "tier_share": ["85", "10,5", ""]}
    english = post(client, bad).text
    assert "The expected revenue must be an amount in dollars, such as 1,250.00." in english
    assert "Pavement &amp; bridges: the floor must not be negative." in english
    assert "Tier 2: the share must be a percentage, such as 8.5." in english
    assert "The expected revenue must be more than $0." not in english  # one refusal for the revenue
    client.post("/language", data={"lang": "es", "next": "/", "csrf_token": csrf_of(client, "/")})
    spanish = post(client, bad).text
    assert "La recaudación prevista debe ser un monto en dólares, por ejemplo 1,250.00." in spanish
    assert "Pavement &amp; bridges: el mínimo no puede ser un monto negativo." in spanish
    assert "Nivel 2: la proporción debe ser un porcentaje, por ejemplo 8.5." in spanish
    assert "must be" not in spanish and "Los ingresos previstos deben ser de más de $0." not in spanish
    refused = post(client, {**FORM, "tier_share": ["85", "10", ""], "phase_drafting_ends_on": "2026-12-01"}).text
    assert "Las proporciones de los niveles deben sumar 100 % (suman 95 %)." in refused
    assert "Redacción: termina antes de comenzar." in refused
