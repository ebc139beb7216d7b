"""The public delivery API, its OGC collection and its feeds speak the visitor's language: errors a
resident (or their browser's script) can cause, and the feeds' own words."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest

from app import i18n
from app.delivery import projects, vote
from tests.ballot_data import Ballot, publish_ballot

ATOM = "{http://www.w3.org/2005/Atom}"
SPANISH = {"Accept-Language": "es-US,es;q=0.9"}


@pytest.fixture
def ballot(session, settings, resident, staff) -> Ballot:
    published = publish_ballot(session, settings, resident, staff)
    vote.record(session=session, actor=staff, held_on=date.today() - timedelta(days=30), yes_votes=6120,
                no_votes=4311)
    return published


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_an_unknown_project_is_not_found_in_the_askers_language(client, ballot):
    english = _problem(client.get("/api/v1/delivery/projects/999999"), 404)
    assert english["title"] == "Not found" and english["detail"] == "This project is not being delivered."
    spanish = client.get("/api/v1/delivery/projects/999999", headers=SPANISH)
    assert _problem(spanish, 404) == {"type": "about:blank", "status": 404, "title": "No se encontró",
                                      "detail": "Este proyecto no está en ejecución."}
    assert spanish.headers["Content-Language"] == "es"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in spanish.headers["Vary"].split(",")}
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")  # the switcher's choice, as on the pages
    assert _problem(client.get("/api/v1/delivery/projects/999999"), 404)["title"] == "No se encontró"
    out_of_range = _problem(client.get("/api/v1/delivery/projects/99999999999"), 404)["detail"]
    assert out_of_range.startswith("proposal_id: 99999999999 está fuera de rango"), out_of_range
    not_a_number = _problem(client.get("/api/v1/delivery/projects/abc"), 422)
    assert not_a_number["title"] == "Algunos campos no son válidos"
    assert "proposal_id" in not_a_number["detail"] and "número entero" in not_a_number["detail"]


def test_a_projects_timeline_is_in_the_askers_words(client, session, staff, ballot):
    pid = ballot.on[0]
    projects.add_spending(session=session, actor=staff, proposal_id=pid, spent_on=date.today(),
                          amount_cents=12_345_00, description="Paving crew")
    english = client.get(f"/api/v1/delivery/projects/{pid}")
    assert [t["text"] for t in english.json()["timeline"]] == ["$12,345 spent: Paving crew"]
    spanish = client.get(f"/api/v1/delivery/projects/{pid}", headers=SPANISH)
    assert spanish.json()["timeline"][0]["text"].endswith("gastados: Paving crew")
    assert spanish.json()["phase"] == english.json()["phase"]  # keys stay as they are
    assert spanish.headers["Content-Language"] == "es" and "Accept-Language" in spanish.headers["Vary"]


def test_the_collections_bad_parameters_are_explained_in_the_askers_language(client, ballot):
    items = "/ogc/collections/delivery/items"
    cases = {  # query → (status, English words, Spanish words)
        "f=xml": (400, "f must be json or html, not 'xml'.", "f debe ser json o html, no 'xml'."),
        "limit=-1": (400, "limit must be a whole number from 0 to", "limit debe ser un número entero de 0 a"),
        "offset=2000000000": (400, "offset must be a whole number from 0", "offset debe ser un número entero de 0"),
        "limit=99999999999": (422, "out of range", "fuera de rango"),
        "colour=red": (400, "Unknown parameter 'colour'", "Parámetro desconocido 'colour'"),
        "bbox=a,b": (400, "bbox must be four numbers", "bbox debe ser cuatro números"),
        "bbox=10,10,0,0": (400, "minimum longitude and latitude before", "longitud y latitud mínimas antes"),
        "limit=x": (422, "limit", "número entero"),
    }
    for query, (status, english, spanish) in cases.items():
        assert english in _problem(client.get(f"{items}?{query}"), status)["detail"], query
        assert spanish in _problem(client.get(f"{items}?{query}", headers=SPANISH), status)["detail"], query
    missing = _problem(client.get(f"{items}/999999", headers=SPANISH), 404)["detail"]
    assert missing == "No hay ningún proyecto de la boleta 999999 en ejecución."
    assert _problem(client.get(f"{items}/999999"), 404)["detail"] == "No ballot project 999999 is being delivered."
    assert _problem(client.get("/ogc/collections/delivery?f=xml", headers=SPANISH), 400)["title"] == "Error"


def test_an_unknown_projects_feed_is_not_found_in_the_askers_language(client, ballot):
    assert _problem(client.get("/projects/999999/updates.atom", headers=SPANISH), 404)["detail"] == \
        "Este proyecto no está en ejecución."
    page = client.get("/projects/999999/updates.atom", headers={**SPANISH, "Accept": "text/html"})
    assert page.status_code == 404 and "Este proyecto no está en ejecución." in page.text


def test_a_feed_keeps_the_language_it_was_subscribed_in(client, ballot):
    """A feed reader sends no cookie and seldom a language: the Spanish pages link their feeds with
    ?lang=es, so the feed stays Spanish in the reader; the old addresses still negotiate as before."""
    pid = ballot.on[0]
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")
    page = client.get(f"/projects/{pid}").text
    assert f'type="application/atom+xml" href="/projects/{pid}/updates.atom?lang=es"' in page
    assert f'href="/projects/{pid}/updates.atom?lang=es">' in page  # the visible link too
    assert 'type="application/atom+xml" href="/projects.atom?lang=es"' in client.get("/projects").text
    client.cookies.clear()
    reader = ET.fromstring(client.get("/projects.atom?lang=es").content)  # no cookie, no Accept-Language
    assert reader.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert reader.find(f"{ATOM}title").text.endswith("la ejecución de los proyectos de la boleta")
    assert reader.find(f"{ATOM}link[@rel='self']").get("href").endswith("/projects.atom?lang=es")
    one = ET.fromstring(client.get(f"/projects/{pid}/updates.atom?lang=es").content)
    assert one.find(f"{ATOM}title").text.startswith("Novedades de «")
    assert one.find(f"{ATOM}link[@rel='self']").get("href").endswith(f"/projects/{pid}/updates.atom?lang=es")
    english = ET.fromstring(client.get("/projects.atom?lang=en", headers=SPANISH).content)  # the link wins
    assert english.find(f"{ATOM}title").text.endswith("delivering the ballot projects")
    plain = ET.fromstring(client.get("/projects.atom").content)  # old addresses: unchanged
    assert plain.find(f"{ATOM}link[@rel='self']").get("href").endswith("/projects.atom")
    assert plain.find(f"{ATOM}title").text.endswith("delivering the ballot projects")
    unknown = ET.fromstring(client.get("/projects.atom?lang=fr", headers=SPANISH).content)  # negotiated
    assert unknown.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert unknown.find(f"{ATOM}link[@rel='self']").get("href").endswith("/projects.atom")
    assert 'href="/projects.atom"' in client.get("/projects").text  # English pages keep their links
