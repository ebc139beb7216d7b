"""The staff import page: upload → preview (nothing written) → confirm writes; staff only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.importers import uploads
from app.importers.uploads import UploadTooLarge
from app.settings import ImportSettings, Settings
from models.layers import Layer, LayerKind, PavementSegment
from tests.conftest import csrf_of, make_settings, sign_in
from tests.import_jobs import run_import_jobs

LINE = [[-71.10, 42.37], [-71.10, 42.371]]


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    return tmp_path / "imports"


@pytest.fixture
def settings(database, work_dir: Path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(database.url, imports=ImportSettings(work_dir=str(work_dir), max_upload_mb=1))


def _streets(*pcis: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ID": f"S{i + 1}", "Street": f"Elm St {i}", "PCI": pci},
         "geometry": {"type": "LineString", "coordinates": [[x + i * 0.001, y] for x, y in LINE]}}
        for i, pci in enumerate(pcis)]}).encode()


def _upload(client, content: bytes, name: str = "streets.geojson", **fields: str):  # type: ignore[no-untyped-def]
    data = {"kind": "pavement", "csrf_token": csrf_of(client, "/staff/import"), **fields}
    return client.post("/staff/import", data=data, files=[("files", (name, content, "application/geo+json"))])


def _segments(session: Session) -> int:
    return session.exec(select(func.count()).select_from(PavementSegment)).one()


def test_preview_shows_mapping_and_errors_and_writes_nothing_then_confirm_writes(client, session: Session, staff,
                                                                                settings, work_dir: Path):
    sign_in(client, staff.email)
    page = client.get("/staff/import")
    assert page.status_code == 200 and 'href="/staff/import"' in page.text and "Import a condition layer" in page.text

    response = _upload(client, _streets(88, 140, 31))
    assert response.status_code == 303 and response.headers["location"] == "/staff/import/preview"
    assert len(list(work_dir.iterdir())) == 1  # kept on disk for any worker, not in memory

    preview = client.get("/staff/import/preview")
    assert preview.status_code == 200
    assert '<option value="PCI" selected>PCI</option>' in preview.text
    assert '<option value="Street" selected>Street</option>' in preview.text
    assert "ID S2" in preview.text and "PCI must be between 0 and 100, not 140" in preview.text
    assert "Import the 2 valid rows and skip the 1 listed above" in preview.text
    assert "Elm St 0" in preview.text  # the first rows
    assert _segments(session) == 0 and session.get(Layer, "pavement") is None

    token = csrf_of(client, "/staff/import/preview")
    refused = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "map_pci": "PCI",
                                                        "map_street_name": "Street", "map_source_id": "ID"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/staff/import/jobs/")
    assert run_import_jobs(session, settings) == 1
    failed = client.get(refused.headers["location"]).text
    assert "Nothing was imported" in failed and 'href="/staff/import/preview"' in failed
    assert _segments(session) == 0

    done = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "skip_invalid": "on",
                                                     "map_pci": "PCI", "map_street_name": "Street",
                                                     "map_source_id": "ID"}, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"].startswith("/staff/import/jobs/")
    assert "Waiting for a worker" in client.get(done.headers["HX-Redirect"]).text
    assert run_import_jobs(session, settings) == 1
    job_page = client.get(done.headers["HX-Redirect"]).text
    assert "Imported 2 features into Pavement condition, skipped 1 rows (revision 1)" in job_page
    assert 'value="100"' in job_page and "Writing — done" in job_page
    assert sorted(session.exec(select(PavementSegment.source_id, PavementSegment.band)).all()) == [
        ("S1", "good"), ("S3", "very_poor")]
    listing = client.get("/staff/import").text
    assert "streets.geojson" in listing and staff.display_name in listing
    assert list(work_dir.iterdir()) == []  # the held upload is gone


def test_changing_the_mapping_on_the_preview(client, session: Session, staff):
    sign_in(client, staff.email)
    _upload(client, _streets(88, "abc"))
    token = csrf_of(client, "/staff/import/preview")
    client.post("/staff/import/confirm", data={"csrf_token": token, "action": "recheck", "map_pci": "",
                                               "map_street_name": "Street", "map_source_id": "ID"})
    preview = client.get("/staff/import/preview").text
    assert "not a number" not in preview and "Import 2 features" in preview
    assert _segments(session) == 0


def test_a_file_level_error_is_shown_without_an_import_button(client, session: Session, staff):
    sign_in(client, staff.email)
    _upload(client, b'{"type": "FeatureCollection", "features": [', name="broken.geojson")
    preview = client.get("/staff/import/preview").text
    assert "broken.geojson is not valid JSON" in preview and "Import 0 features" not in preview
    assert 'value="import"' not in preview


def test_upload_over_the_limit_is_refused_with_413_before_it_is_read(client, session: Session, staff,
                                                                     work_dir: Path):
    sign_in(client, staff.email)
    response = _upload(client, b" " * 1_200_000)
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.text
    assert not work_dir.exists() or list(work_dir.iterdir()) == []
    assert _segments(session) == 0


def test_residents_cannot_import(client, resident):
    sign_in(client, resident.email)
    assert client.get("/staff/import").status_code == 403
    assert client.get("/staff/import/preview").status_code == 403
    token = csrf_of(client, "/")
    assert client.post("/staff/import", data={"csrf_token": token, "kind": "pavement"},
                       files=[("files", ("a.geojson", _streets(50), "application/geo+json"))]).status_code == 403
    assert client.post("/staff/import/confirm", data={"csrf_token": token}).status_code == 403
    assert 'href="/staff/import"' not in client.get("/").text


def test_held_upload_stops_reading_at_the_limit(work_dir: Path):
    class Endless:
        """A stream of 1 MB chunks that never ends, counting what was read."""

        reads = 0

        def read(self, size: int) -> bytes:
            self.reads += 1
            return b" " * size

    limits = ImportSettings(work_dir=str(work_dir), max_upload_mb=2)
    pending = uploads.start(settings=limits, kind=LayerKind.pavement, uploaded_by=None)
    stream = Endless()
    with pytest.raises(UploadTooLarge, match="larger than the limit of 2 MB"):
        uploads.store_files(pending, [("big.geojson", stream)], settings=limits)  # type: ignore[list-item]
    assert stream.reads == 2  # 2 × 1 MiB passes 2,000,000 bytes: it stopped there
    assert list(work_dir.iterdir()) == []


def test_the_import_says_when_proposals_lose_assets_the_new_data_no_longer_has(client, session: Session, staff,
                                                                                 settings):
    from models.accounts import Group
    from models.proposals import Proposal, ProposalAsset

    sign_in(client, staff.email)

    def import_streets(*pcis: object) -> str:
        _upload(client, _streets(*pcis))
        token = csrf_of(client, "/staff/import/preview")
        job = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "map_pci": "PCI",
                                                         "map_street_name": "Street", "map_source_id": "ID"})
        run_import_jobs(session, settings)
        return client.get(job.headers["location"]).text

    first = import_streets(60, 70, 80)
    assert "no longer in the layer" not in first
    group = Group(name="Friends of Elm St")
    session.add(group)
    session.flush()
    proposal = Proposal(group_id=group.id, title="Repave Elm St")
    session.add(proposal)
    session.flush()
    session.add_all(ProposalAsset(proposal_id=proposal.id, layer="pavement", asset_id=segment.id,
                                  source_key=segment.source_id)
                    for segment in session.exec(select(PavementSegment)).all())
    session.commit()
    listing = import_streets(65)  # the resurvey keeps S1 only
    assert "Imported 1 features into Pavement condition" in listing
    assert "2 assets that proposals covered are no longer in the layer" in listing
    session.expire_all()
    links = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal.id)).all()
    assert sorted(link.missing for link in links) == [False, True, True]
