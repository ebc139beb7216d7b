"""A Spanish-speaking resident's side of groups and proposals: accounts, a group, the list and the
editor speak Spanish once the language is chosen, with money in the Spanish (US) locale; and the
catalogue leaves no string untranslated."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlmodel import Session, select

from app import groups, i18n
from app.proposals import editor
from app.proposals.editor import ProposalInput
from app.proposals.selection import AssetKey
from models.outbox import OutboxMessage
from models.proposals import Proposal
from tests.conftest import PASSWORD, csrf_of, make_user, post_form, sign_in
from tests.proposal_city import build_city

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """Tests that format money in Spanish must not leave the test process speaking Spanish."""
    yield
    i18n.activate("en")


@pytest.fixture
def city(session: Session):
    return build_city(session)


def choose_spanish(client) -> None:  # type: ignore[no-untyped-def]
    """The footer's language switcher, as a resident uses it."""
    response = post_form(client, "/language", {"lang": "es", "next": "/"}, page="/")
    assert response.status_code == 303


def spanish(function, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    i18n.activate("es")
    try:
        return str(function(*args, **kwargs))
    finally:
        i18n.activate("en")


def _form(client, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_of(client, "/groups")})


def _group_with_draft(session: Session, settings, city):  # type: ignore[no-untyped-def]
    owner = make_user(session, settings, "duena@example.org")
    group = groups.create_group(session=session, creator=owner, name="Vecinos de Main Street")
    proposal = editor.create_proposal(session=session, group_id=group.id, actor=owner, data=ProposalInput(
        title="Repavimentar Main Street", category_key="pavement", scheduled_year=2027,
        assets=[AssetKey("pavement", city.segments[0]), AssetKey("pavement", city.segments[1])]))
    return owner, group, proposal


# -- the pages -----------------------------------------------------------------------------------

def test_register_in_spanish_with_a_form_error_and_a_welcome(client, session: Session, settings):
    choose_spanish(client)
    page = client.get("/register").text
    assert '<html lang="es">' in page
    assert "Crear una cuenta" in page and "Nombre que verán los demás" in page and "Contraseña" in page
    assert "Name shown to others" not in page
    short = post_form(client, "/register", {"email": "ana@example.org", "password": "corta"}, page="/register")
    minimum = settings.security.min_password_length
    assert short.status_code == 400
    assert f"Use una contraseña de al menos {minimum} caracteres." in short.text
    sent = post_form(client, "/register", {"email": "ana@example.org", "password": PASSWORD,
                                           "display_name": "Ana"}, page="/register")
    assert sent.status_code == 200 and "Hemos enviado un mensaje a ana@example.org" in sent.text
    mail = session.exec(select(OutboxMessage)).one()
    assert mail.subject == "Termine de crear su cuenta de Groundwork"
    link = re.search(r"http://testserver(/register/confirm/\S+)", mail.body)
    assert link and "Crear mi cuenta" in client.get(link.group(1)).text
    created = post_form(client, link.group(1), {}, page=link.group(1))
    assert created.status_code == 303
    assert "Le damos la bienvenida, Ana. Su cuenta está lista." in client.get("/").text


def test_sign_in_in_spanish_refuses_a_wrong_password_in_spanish(client, resident):
    choose_spanish(client)
    page = client.get("/signin").text
    assert "¿Olvidó su contraseña?" in page and "Iniciar sesión" in page and "Forgot your password?" not in page
    refused = post_form(client, "/signin", {"email": resident.email, "password": "not-the-password"})
    assert refused.status_code == 400
    assert "Ese correo electrónico y esa contraseña no coinciden con ninguna cuenta." in refused.text
    sign_in(client, resident.email)
    assert f"Sesión iniciada como {resident.display_name}." in client.get("/").text


def test_a_group_page_in_spanish(client, resident):
    sign_in(client, resident.email)
    choose_spanish(client)
    assert "Aún no forma parte de ningún grupo comunitario" in client.get("/groups").text
    empty = _form(client, "/groups", {"name": "  "})
    assert empty.status_code == 400 and "Póngale un nombre al grupo." in empty.text
    created = _form(client, "/groups", {"name": "Amigos de Oak Street"})
    assert created.status_code == 303
    page = client.get(created.headers["location"]).text
    assert "Se creó el grupo «Amigos de Oak Street». Invite a miembros y luego prepare propuestas." in page
    assert "Grupo comunitario" in page and "Miembros" in page and "responsable" in page
    assert "Salir del grupo" in page and "Invitar a un miembro" in page and "Leave group" not in page
    refused = _form(client, f"{created.headers['location']}/leave", {})
    assert refused.status_code == 400 and "Usted es el único responsable del grupo" in refused.text


def test_the_proposal_list_in_spanish_with_money_in_the_spanish_locale(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    choose_spanish(client)
    page = client.get(f"/groups/{group.id}/list").text
    assert "Nuestras propuestas" in page and "Presupuesto" in page and "Preparar una nueva propuesta" in page
    assert "del presupuesto del programa" in page and "Borrador" in page and "Draft a new proposal" not in page
    # the list's cost range uses the compact currency format: "$48.2 K" (a no-break space) in Spanish
    low = spanish(i18n.money_short, proposal.estimate_low_cents)
    assert "\xa0" in low and low != i18n.money_short(proposal.estimate_low_cents)
    assert f"{low}–{spanish(i18n.money_short, proposal.estimate_high_cents)}" in page
    assert spanish(i18n.money, proposal.final_cents) in page


def test_the_proposal_editor_in_spanish_with_a_form_error_and_a_flash(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    choose_spanish(client)
    path = f"/groups/{group.id}/proposals/{proposal.id}"
    page = client.get(path).text
    for text in ("Ubicación", "Año previsto", "Dibujar zona", "Nuestra propia cifra", "Guardar",
                 "Enviar la versión guardada", "Estimación", "Tramos en la calle", "2 tramos de pavimento"):
        assert text in page, text
    assert "Construction" not in page and "Select assets" not in page
    messages = json.loads(html.unescape(re.search(r'data-messages="([^"]*)"', page).group(1)))
    assert messages["added"] == "Se agregó {asset}."  # the map's status line (static/js/proposal-editor.js)
    assert f"<strong data-testid=\"estimate-total\">{spanish(i18n.money, proposal.estimate_total_cents)}" in page

    refused = _form(client, path, {"version": "1", "title": "Repavimentar", "scheduled_year": "dos mil"})
    assert refused.status_code == 400
    assert '<p class="field-error" id="scheduled_year-error">El año debe ser un número, como 2027.</p>' in refused.text
    refused = _form(client, path, {"version": "1", "title": "Repavimentar", "override_amount": "-5",
                                   "override_reason": "x"})
    assert refused.status_code == 400 and "La cifra propia no puede ser negativa." in refused.text

    saved = _form(client, path, {"version": "1", "title": "Repavimentar Main Street", "category_key": "pavement",
                                 "scheduled_year": "2027", "assets": f"pavement:{city.segments[0]}"})
    assert saved.status_code == 303
    page = client.get(path).text
    assert '<p class="flash flash--success">Guardado.</p>' in page
    assert "Historial de cambios" in page and "elementos seleccionados" in page


def test_the_editor_side_panel_answers_in_spanish(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    choose_spanish(client)
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client, "/groups")}
    response = client.post(f"/groups/{group.id}/proposals/{proposal.id}/preview", headers=headers,
                           data={"title": "x", "scheduled_year": "2027", "take": "street", "street": "Oak Street"})
    assert "No hay tramos de pavimento en «Oak Street»; su selección no cambia." in response.text


def test_error_pages_in_spanish(client, resident):
    sign_in(client, resident.email)
    choose_spanish(client)
    missing = client.get("/groups/999999", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "No se encontró" in missing.text and "Ese grupo no existe." in missing.text
    expired = client.post("/groups", data={"name": "x", "csrf_token": "stale"}, headers={"accept": "text/html"})
    assert expired.status_code == 403 and "Este formulario venció" in expired.text


def test_the_api_keeps_english_for_clients(client, session, settings, city):
    owner, group, proposal = _group_with_draft(session, settings, city)
    sign_in(client, owner.email)
    choose_spanish(client)
    response = client.put(f"/api/v1/groups/{group.id}/proposals/{proposal.id}",
                          json={"title": "", "version": 1}, headers={"X-CSRF-Token": csrf_of(client, "/groups")})
    assert response.status_code in (400, 422) and "Give the proposal a title" in response.text
    assert session.get(Proposal, proposal.id).version == 1


# -- the catalogue -------------------------------------------------------------------------------

def _catalogue():  # type: ignore[no-untyped-def]
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="es")


def test_every_spanish_message_is_translated_and_keeps_its_placeholders():
    catalogue = _catalogue()
    untranslated, fuzzy, broken = [], [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(ids[0])
        if message.fuzzy:
            fuzzy.append(ids[0])
        for source, translated in zip((ids[0], ids[-1]), (strings[0], strings[-1]), strict=True):
            if translated and sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                broken.append((source, translated))
    assert not untranslated, f"empty msgstr in {CATALOGUE.name}: {untranslated}"
    assert not fuzzy, f"fuzzy entries in {CATALOGUE.name}: {fuzzy}"
    assert not broken, f"placeholders differ: {broken}"


def test_every_string_in_the_code_is_in_the_spanish_catalogue():
    """Text marked for translation but never extracted would show in English: run
    scripts/translations.sh and translate what it adds."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    catalogue = _catalogue()
    missing = sorted({str(message) for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)
                      if message and not catalogue.get(message)}, key=str)
    assert not missing, f"not in {CATALOGUE.name}: {missing}"
