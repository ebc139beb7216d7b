"""English and Spanish: the switcher remembers the choice; money and numbers follow the locale."""

from __future__ import annotations

from app import i18n
from tests.conftest import post_form, sign_in


def test_switching_to_spanish_is_remembered(client):
    assert "Create an account" in client.get("/").text
    response = post_form(client, "/language", {"lang": "es", "next": "/"}, page="/")
    assert response.status_code == 303
    page = client.get("/").text
    assert '<html lang="es">' in page
    assert "Crear una cuenta" in page and "Cómo funciona" in page


def test_browser_language_is_used_until_a_choice_is_made(client):
    page = client.get("/", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"}).text
    assert "Vea las calles" in page


def test_signed_in_choice_is_kept_on_the_account(client, resident, session):
    sign_in(client, resident.email)
    post_form(client, "/language", {"lang": "es", "next": "/"}, page="/")
    session.refresh(resident)
    assert resident.locale == "es"


def test_unknown_language_falls_back_to_english(client):
    post_form(client, "/language", {"lang": "xx", "next": "/"}, page="/")
    assert '<html lang="en">' in client.get("/").text


def test_money_and_numbers_are_formatted_per_locale():
    i18n.activate("en")
    assert i18n.money(14_450_000_000) == "$144,500,000"
    assert i18n.money(123456, whole=False) == "$1,234.56"
    assert i18n.money_short(14_450_000_000) == "$144.5M"
    assert i18n.number(1234.5, 1) == "1,234.5"
    i18n.activate("es")
    assert i18n.number(1234.5, 1) in ("1234,5", "1.234,5", "1,234.5")
    assert "144" in i18n.money(14_450_000_000)
    i18n.activate("en")
