"""A large file's preview is checked by a job in the background (its own process on a server), while the
page shows its progress; then the same preview shows as for a small file, and confirming imports as ever."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.importers.checks import ImportOptions
from app.importers.service import import_layer
from app.settings import ImportSettings, Settings
from models.imports import ImportJob
from models.layers import Layer, LayerKind, PavementSegment
from tests.conftest import csrf_of, make_settings, sign_in
from tests.import_jobs import run_import_jobs

LINE = [[-71.10, 42.37], [-71.10, 42.371]]


@pytest.fixture
def settings(database, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    # every file counts as large here (the default keeps files up to 5 MB in the request)
    return make_settings(database.url, imports=ImportSettings(work_dir=str(tmp_path / "imports"),
                                                              preview_in_request_mb=0))


def _streets(*pcis: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ID": f"S{i + 1}", "Street": f"Elm St {i}", "PCI": pci},
         "geometry": {"type": "LineString", "coordinates": [[x + i * 0.001, y] for x, y in LINE]}}
        for i, pci in enumerate(pcis)]}).encode()


def _upload(client, content: bytes, name: str = "streets.geojson"):  # type: ignore[no-untyped-def]
    data = {"kind": "pavement", "csrf_token": csrf_of(client, "/staff/import")}
    return client.post("/staff/import", data=data, files=[("files", (name, content, "application/geo+json"))])


def _jobs(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ImportJob)).one()


def test_a_large_files_preview_is_checked_in_the_background_and_shows_as_a_small_files_would(
        client, session: Session, staff, settings: Settings):
    sign_in(client, staff.email)
    assert _upload(client, _streets(88, 140, 31)).status_code == 303
    waiting = client.get("/staff/import/preview")
    assert waiting.status_code == 200 and "checked in the background" in waiting.text
    assert "Waiting for a worker to check the file" in waiting.text and "<progress" in waiting.text
    polled = client.get("/staff/import/preview", headers={"HX-Request": "true"})
    assert 'id="import-checking"' in polled.text and "<html" not in polled.text
    assert _jobs(session) == 1  # polling follows the same job

    assert run_import_jobs(session, settings) == 1
    assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 0  # a check writes nothing
    assert session.get(Layer, "pavement") is None
    ended = client.get("/staff/import/preview", headers={"HX-Request": "true"})
    assert ended.status_code == 204 and ended.headers["HX-Refresh"] == "true"
    shown = client.get("/staff/import/preview").text
    assert '<option value="PCI" selected>PCI</option>' in shown
    assert "ID S2" in shown and "PCI must be between 0 and 100, not 140" in shown
    assert "Import the 2 valid rows and skip the 1 listed above" in shown and "Elm St 0" in shown
    assert "<svg" in shown  # the map, drawn by the job

    settings.imports.preview_in_request_mb = 100  # the same upload checked in the request: the same page
    assert client.get("/staff/import/preview").text == shown
    settings.imports.preview_in_request_mb = 0

    token = csrf_of(client, "/staff/import/preview")
    done = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "skip_invalid": "on",
                                                     "map_pci": "PCI", "map_street_name": "Street",
                                                     "map_source_id": "ID"})
    assert done.status_code == 303 and done.headers["location"].startswith("/staff/import/jobs/")
    assert run_import_jobs(session, settings) == 1
    assert sorted(session.exec(select(PavementSegment.source_id)).all()) == ["S1", "S3"]
    assert _jobs(session) == 1  # the check's result served the preview only: the import's job stays


def test_changing_the_mapping_checks_again_and_a_broken_file_says_why(client, session: Session, staff,
                                                                      settings: Settings):
    sign_in(client, staff.email)
    _upload(client, _streets(88, "abc"))
    client.get("/staff/import/preview")
    run_import_jobs(session, settings)
    assert "not a number" in client.get("/staff/import/preview").text
    token = csrf_of(client, "/staff/import/preview")
    client.post("/staff/import/confirm", data={"csrf_token": token, "action": "recheck", "map_pci": "",
                                               "map_street_name": "Street", "map_source_id": "ID"})
    assert "checked in the background" in client.get("/staff/import/preview").text  # new choices: a new check
    assert _jobs(session) == 1  # the check of the choices before is superseded, and gone
    assert run_import_jobs(session, settings) == 1
    again = client.get("/staff/import/preview").text
    assert "not a number" not in again and "Import 2 features" in again

    _upload(client, b'{"type": "FeatureCollection", "features": [')  # another upload replaces this one
    client.get("/staff/import/preview")
    assert run_import_jobs(session, settings) == 1
    broken = client.get("/staff/import/preview")
    assert broken.status_code == 200 and "is not valid JSON" in broken.text
    assert session.exec(select(ImportJob.state)).all() == ["failed"]  # the replaced upload's checks went with it
    assert client.get("/staff/import/preview").text == broken.text  # a problem with the file: not checked again
    client.post("/staff/import/cancel", data={"csrf_token": csrf_of(client, "/staff/import/preview")})
    assert _jobs(session) == 0  # the cancelled upload's check is gone
    polled = client.get("/staff/import/preview", headers={"HX-Request": "true"})  # a tab still polling
    assert polled.status_code == 204 and polled.headers["HX-Redirect"] == "/staff/import"


def test_a_check_is_made_again_when_the_layer_changed_or_it_failed_for_another_reason(
        client, session: Session, staff, settings: Settings, monkeypatch):
    from app.importers import service

    sign_in(client, staff.email)
    _upload(client, _streets(88, 70))
    real_preview = service.preview

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(service, "preview", broken)
    client.get("/staff/import/preview")
    assert run_import_jobs(session, settings) == 1
    failed = client.get("/staff/import/preview").text
    assert "Checking the file failed unexpectedly" in failed and 'value="recheck"' in failed
    monkeypatch.setattr(service, "preview", real_preview)
    assert client.get("/staff/import/preview").text == failed  # shown as it ended, until asked
    client.post("/staff/import/confirm", data={"csrf_token": csrf_of(client, "/staff/import/preview"),
                                               "action": "recheck"})  # "Check again"
    assert "checked in the background" in client.get("/staff/import/preview").text
    assert run_import_jobs(session, settings) == 1
    assert "Import 2 features" in client.get("/staff/import/preview").text
    preview_id = session.exec(select(ImportJob.id)).one()
    assert client.get(f"/staff/import/jobs/{preview_id}").status_code == 404  # a check is not an import

    segment = ImportOptions(kind=LayerKind.pavement)
    other = Path(settings.imports.work_dir).parent / "other.geojson"
    other.write_bytes(_streets(40))
    import_layer(session=session, source=str(other), options=segment, actor=None, settings=settings.imports)
    assert "checked in the background" in client.get("/staff/import/preview").text  # the layer moved on
    assert run_import_jobs(session, settings) == 1
    shown = client.get("/staff/import/preview").text
    assert "Import 2 features" in shown and 'id="import-checking"' not in shown


def test_a_small_zip_of_a_large_file_is_checked_in_the_background(client, session: Session, staff,
                                                                  settings: Settings):
    sign_in(client, staff.email)
    content = _streets(*([70] * 3000))
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("streets.geojson", content)
    settings.imports.preview_in_request_mb = (len(content) / 2) / 1_000_000
    assert len(packed.getvalue()) < len(content) / 2 < len(content)
    _upload(client, packed.getvalue(), "streets.zip")
    assert "checked in the background" in client.get("/staff/import/preview").text
