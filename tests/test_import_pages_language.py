"""The staff import pages follow the viewer's language: a staff member who chose Spanish gets the form,
the preview, the job's progress and the page's own messages in Spanish; an English viewer's pages are
unchanged. (The import report's own sentences — row problems, the job's outcome — come from the
importer and are still English.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from app import i18n
from app.settings import ImportSettings, Settings
from tests.conftest import csrf_of, make_settings, sign_in
from tests.import_jobs import run_import_jobs

LINE = [[-71.10, 42.37], [-71.10, 42.371]]


@pytest.fixture
def settings(database, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(database.url, imports=ImportSettings(work_dir=str(tmp_path / "imports"), max_upload_mb=1))


def _streets(*pcis: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ID": f"S{i + 1}", "Street": f"Elm St {i}", "PCI": pci},
         "geometry": {"type": "LineString", "coordinates": [[x + i * 0.001, y] for x, y in LINE]}}
        for i, pci in enumerate(pcis)]}).encode()


def _upload(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"kind": "pavement", "csrf_token": csrf_of(client, "/staff/import"), **fields}
    return client.post("/staff/import", data=data,
                       files=[("files", ("streets.geojson", _streets(88, 140, 31), "application/geo+json"))])


def _import(client, session: Session, settings: Settings) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Confirm the waiting import with its one bad row skipped: the job's page before and after it runs."""
    token = csrf_of(client, "/staff/import/preview")
    queued = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "skip_invalid": "on",
                                                        "map_pci": "PCI", "map_street_name": "Street",
                                                        "map_source_id": "ID"})
    assert queued.status_code == 303, queued.text
    waiting = client.get(queued.headers["location"]).text
    assert run_import_jobs(session, settings) == 1
    return waiting, client.get(queued.headers["location"]).text


def _cancelled(client) -> str:  # type: ignore[no-untyped-def]
    _upload(client)
    token = csrf_of(client, "/staff/import/preview")
    assert client.post("/staff/import/cancel", data={"csrf_token": token}).status_code == 303
    return client.get("/staff/import").text


def test_a_spanish_speaking_staff_member_imports_in_spanish(client, session: Session, staff, settings):
    sign_in(client, staff.email)
    client.cookies.set(i18n.LANGUAGE_COOKIE, "es")
    page = client.get("/staff/import").text
    assert "Importar una capa de estado" in page and "Capas cargadas" in page and "Todavía no hay capas" in page
    assert '<option value="pavement">Estado del pavimento</option>' in page and ">Vista previa</button>" in page
    assert "Import a condition layer" not in page
    assert '<nav class="staff-bar" aria-label="Personal">' in page and ">Importar datos</a>" in page  # the staff bar
    assert ">Escritorio</a>" in page and ">Import data</a>" not in page
    refused = client.post("/staff/import", data={"kind": "", "url": "https://example.org/a.geojson",
                                                 "csrf_token": csrf_of(client, "/staff/import")})
    assert refused.status_code == 422 and "Elija qué tipo de capa es." in refused.text

    assert _upload(client).status_code == 303
    preview = client.get("/staff/import/preview").text
    assert "Vista previa — todavía no se ha escrito nada" in preview
    assert "Estado del pavimento desde streets.geojson" in preview and "Filas rechazadas" in preview
    assert "Importar las 2 filas válidas y omitir las 1 indicadas arriba" in preview
    assert ">Importar 2 elementos</button>" in preview and "Cancelar y empezar de nuevo" in preview
    assert "Columnas usadas" in preview and "Qué hace esta importación" in preview
    assert "Rows read" not in preview and "Check again" not in preview

    waiting, done = _import(client, session, settings)
    assert "Esperando a que un proceso de trabajo la inicie" in waiting
    assert "Escritura — terminada" in done and "Importar otra capa" in done and "Writing" not in done
    assert '<th scope="row">Estado del pavimento</th>' in client.get("/staff/import").text  # the loaded layer
    assert "No existe esa importación." in client.get("/staff/import/jobs/999999").text
    assert "Se canceló la importación; no se escribió nada." in _cancelled(client)


def test_an_english_viewer_keeps_the_english_pages(client, session: Session, staff, settings):
    sign_in(client, staff.email)
    page = client.get("/staff/import").text
    assert "Import a condition layer" in page and "No layers are loaded yet." in page
    assert '<option value="pavement">Pavement condition</option>' in page and "Importar" not in page
    refused = client.post("/staff/import", data={"kind": "", "url": "https://example.org/a.geojson",
                                                 "csrf_token": csrf_of(client, "/staff/import")})
    assert "Choose what kind of layer this is." in refused.text
    _upload(client)
    preview = client.get("/staff/import/preview").text
    assert "Preview — nothing has been written yet" in preview and "Pavement condition from streets.geojson" in preview
    assert ">Import 2 features</button>" in preview and "Vista previa" not in preview
    waiting, done = _import(client, session, settings)
    assert "Waiting for a worker to start it…" in waiting
    assert "Writing — done" in done and "Import another layer" in done
    assert "The import was cancelled; nothing was written." in _cancelled(client)
