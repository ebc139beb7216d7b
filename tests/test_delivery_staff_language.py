"""The staff delivery pages follow the viewer's language: a staff member who chose Spanish records the
vote and revenue, edits the phases, works on a project and reviews its completion in Spanish (headings,
labels, buttons, form errors and flashes); an English viewer's pages are unchanged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import i18n
from tests.ballot_data import Ballot, publish_ballot
from tests.conftest import csrf_of, sign_in

TODAY = date.today()


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    return publish_ballot(session, settings, resident, staff)


def _vote(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"held_on": (TODAY - timedelta(days=1)).isoformat(), "yes_votes": "6,120", "no_votes": "4311",
            "csrf_token": csrf_of(client, "/staff/delivery"), **fields}
    return client.post("/staff/delivery/vote", data=data)


def test_a_spanish_speaking_staff_member_delivers_in_spanish(client, ballot, staff):
    sign_in(client, staff.email)
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")
    before = client.get("/staff/delivery").text
    assert "El resultado de la votación" in before and "Todavía no se ha registrado." in before
    assert ">Registrar el resultado</button>" in before and "Ingresos recaudados" in before
    assert "The result of the vote" not in before and "Record the result" not in before
    refused = _vote(client, no_votes="lots")
    assert refused.status_code == 422
    assert "No se registró: Indique el número de votos como un número entero" in refused.text
    recorded = _vote(client)
    assert recorded.status_code == 303
    after = client.get("/staff/delivery").text
    assert "El resultado de la votación está registrado." in after  # the flash
    assert "Registrado: se aprobó el" in after and "Estimación (rango)" in after
    money = client.post("/staff/delivery/revenue", data={"year": "2027", "collected": "lots",
                                                         "csrf_token": csrf_of(client, "/staff/delivery")})
    assert money.status_code == 422 and "El importe recaudado" in money.text

    phases = client.get("/staff/delivery/phases").text
    assert "Agregar una fase" in phases and ">Guardar Diseño</button>" in phases
    assert "Avance que se muestra sin hitos (%)" in phases and "Add a phase" not in phases

    pid = ballot.on[0]
    project = client.get(f"/staff/delivery/{pid}").text
    assert "Pasar a la siguiente fase" in project and ">Publicar la actualización</button>" in project
    assert ">Registrar el gasto</button>" in project and "Fase <strong" in project
    award = client.post(f"/staff/delivery/{pid}/award", data={
        "award_amount": "1,000.00", "awarded_on": TODAY.isoformat(), "contractor": "",
        "csrf_token": csrf_of(client, f"/staff/delivery/{pid}")})
    assert award.status_code == 422 and "No se cambió nada:" in award.text

    review = client.get(f"/staff/delivery/{pid}/complete?on={TODAY.isoformat()}").text
    assert "Confirmar: terminar y actualizar los activos" in review and "Dejar fuera" in review
    assert "Leave out" not in review


def test_an_english_viewer_keeps_the_english_staff_pages(client, ballot, staff):
    sign_in(client, staff.email)
    assert "Not recorded yet." in client.get("/staff/delivery").text
    assert _vote(client).status_code == 303
    page = client.get("/staff/delivery").text
    assert "The result of the vote is recorded." in page and "Recorded: passed on" in page
    assert "Estimate (range)" in page and "Registrado" not in page
    phases = client.get("/staff/delivery/phases").text
    assert ">Save Design</button>" in phases and "Progress shown without milestones (%)" in phases
    pid = ballot.on[0]
    project = client.get(f"/staff/delivery/{pid}").text
    assert "Move to the next phase" in project and ">Publish the update</button>" in project
    review = client.get(f"/staff/delivery/{pid}/complete?on={TODAY.isoformat()}").text
    assert "Confirm: complete and update the assets" in review and "Dejar fuera" not in review


def test_a_refused_amount_is_one_sentence_in_the_viewers_language(client, ballot, staff):
    sign_in(client, staff.email)

    def refused() -> str:
        response = client.post("/staff/delivery/revenue", data={"year": "2027", "collected": "lots",
                                                                "csrf_token": csrf_of(client, "/staff/delivery")})
        assert response.status_code == 422
        return response.text

    assert "The amount collected must be an amount in dollars, such as 1,250.00." in refused()
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")
    spanish = refused()
    assert "El importe recaudado debe ser un monto en dólares, por ejemplo 1,250.00." in spanish
    assert "must be an amount" not in spanish
