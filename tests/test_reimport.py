"""The second pass: re-importing a city's data keeps every proposal's assets, says what it does
before it writes, and refuses data from the wrong place — on the command line and on the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import db, settings
from app.cli import cli
from app.db import make_engine, new_session
from app.demo.loader import load_demo_city
from app.demo.proposals import seed_demo_proposals
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer, preview
from models.layers import FEATURE_TABLES, Layer, LayerKind, Streetlight
from models.proposals import Proposal, ProposalAsset, ProposalState
from tests.conftest import Database, csrf_of, fresh_database, make_settings, shared_file, sign_in
from tests.import_jobs import run_import_jobs

ASSETS = (LayerKind.pavement, LayerKind.sidewalk, LayerKind.ramp, LayerKind.streetlight)
SMALL = 0.1


def _links(session: Session) -> dict[str, list[tuple[int, str, int, bool]]]:
    rows = session.exec(select(ProposalAsset).order_by(col(ProposalAsset.id)))
    by_layer: dict[str, list[tuple[int, str, int, bool]]] = {}
    for link in rows:
        by_layer.setdefault(link.layer, []).append((link.proposal_id, link.source_key or "", link.asset_id,
                                                    link.missing))
    return by_layer


def _assets(session: Session, kind: LayerKind) -> dict[str, tuple[int, dict[str, object]]]:
    table = FEATURE_TABLES[kind]
    return {row.source_id: (row.id, row.attributes)  # type: ignore[attr-defined]
            for row in session.exec(select(table))}  # type: ignore[call-overload]


@pytest.fixture(params=["spatialite", "postgis"])
def demo_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A committed database with the demo city (small) and its proposals, for the command line."""
    url, remove = fresh_database(request.param, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    engine = make_engine(url)
    with new_session(engine) as session:
        load_demo_city(session=session, scale=SMALL, today=date(2026, 11, 25))
        seed_demo_proposals(session=session, settings=make_settings(url))
    engine.dispose()
    yield url
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    settings.get_settings.cache_clear()
    remove()  # type: ignore[operator]


def _run(*args: str):  # type: ignore[no-untyped-def]
    db.get_engine().dispose()
    return CliRunner().invoke(cli, list(args))


def _snapshot(url: str) -> tuple[dict[str, list[tuple[int, str, int, bool]]], dict[LayerKind, dict]]:
    engine = make_engine(url)
    with new_session(engine) as session:
        state = _links(session), {kind: _assets(session, kind) for kind in ASSETS}
    engine.dispose()
    return state


def test_reimporting_every_asset_layer_from_its_own_export_loses_nothing_on_the_command_line(demo_url, tmp_path):
    links_before, assets_before = _snapshot(demo_url)
    assert all(links_before.get(kind.value) for kind in ASSETS), "the demo's proposals cover every asset layer"
    for export_format in ("gpkg", "csv", "geojson"):
        for kind in ASSETS:
            path = tmp_path / f"{kind.value}.{export_format}"
            exported = _run("export", kind.value, "--format", export_format, "-o", str(path))
            assert exported.exit_code == 0, exported.output
            dry = _run("import", kind.value, str(path), "--dry-run")
            assert dry.exit_code == 0, dry.output
            assert "0 added, 0 changed" in dry.output and "0 removed" in dry.output
            assert "no proposal loses an asset" in dry.output
            again = _run("import", kind.value, str(path))
            assert again.exit_code == 0, again.output
            said = " ".join(again.output.split())  # as one line (the console wraps it)
            written = said.split("Rows:")[1] if "Rows:" in said else said.split("No row changed")[1]
            assert "added" not in written and "removed" not in written, said  # every row kept in place
        links_after, assets_after = _snapshot(demo_url)
        assert links_after == links_before, f"links changed through {export_format}"
        for kind in ASSETS:
            before, after = assets_before[kind], assets_after[kind]
            assert len(after) == len(before), f"{kind.value} count through {export_format}"
            assert {key: row_id for key, (row_id, _) in after.items()} == \
                   {key: row_id for key, (row_id, _) in before.items()}
            assert {k: attrs for k, (_, attrs) in after.items()} == {k: attrs for k, (_, attrs) in before.items()}


def test_another_citys_file_over_the_demo_city_is_refused_and_changes_nothing(demo_url):
    lights = shared_file("cambridge", "INFRA_StreetLights.geojson")
    links_before, assets_before = _snapshot(demo_url)
    refused = _run("import", "streetlight", str(lights))
    assert refused.exit_code != 0
    output = " ".join(refused.output.split())
    assert "6,117 of 6,117 features lie outside the city" in output
    assert "42.378°N, 71.114°W" in output and "Check the coordinate system" in output
    assert _snapshot(demo_url) == (links_before, assets_before)
    dry = " ".join(_run("import", "streetlight", str(lights), "--dry-run").output.split())
    assert "Refused:" in dry and "Needs --allow-unlinking" in dry and "Relight" in dry


@pytest.fixture(scope="module", params=["spatialite", "postgis"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """This module's database holds the demo city and its proposals, loaded once; each test still
    runs inside a transaction that is rolled back."""
    url, remove = fresh_database(request.param, tmp_path_factory.mktemp(request.param))
    engine = make_engine(url)
    with new_session(engine) as session:
        load_demo_city(session=session, scale=SMALL, today=date(2026, 11, 25))
        seed_demo_proposals(session=session, settings=make_settings(url))
    yield Database(request.param, url, engine)
    engine.dispose()
    remove()  # type: ignore[operator]


@pytest.fixture
def city(database: Database) -> None:
    """The demo city is in this module's database already."""


def _options(kind: LayerKind, **values: object) -> ImportOptions:
    return ImportOptions(kind=kind, **values)  # type: ignore[arg-type]


def _export_geojson(session: Session, kind: LayerKind, path: Path) -> dict:
    from app.opendata import exports
    from app.opendata.formats import ExportFormat

    plan = exports.plan_export(session=session, dataset_id=kind.value, export_format=ExportFormat.geojson)
    exports.write_file(session=session, plan=plan, path=path)
    return json.loads(path.read_text())


PROTECTED = [s.value for s in (ProposalState.submitted, ProposalState.under_review, ProposalState.feasible,
                               ProposalState.shortlisted, ProposalState.on_ballot, ProposalState.needs_info)]


def _protected_lights(session: Session) -> list[int]:
    """The streetlights (row ids) that submitted-or-later proposals cover."""
    return list(session.exec(select(ProposalAsset.asset_id)
                             .join(Proposal, col(Proposal.id) == ProposalAsset.proposal_id)
                             .where(ProposalAsset.layer == "streetlight", col(Proposal.state).in_(PROTECTED))))


def _protected_poles(session: Session) -> set[tuple[int, str | None]]:
    """(proposal, pole's source id) for every light a submitted-or-later proposal covers now."""
    return set(session.exec(select(ProposalAsset.proposal_id, Streetlight.source_id)
                            .join(Streetlight, col(Streetlight.id) == ProposalAsset.asset_id)
                            .join(Proposal, col(Proposal.id) == ProposalAsset.proposal_id)
                            .where(ProposalAsset.layer == "streetlight", col(Proposal.state).in_(PROTECTED))))


def test_an_import_that_takes_assets_from_submitted_proposals_needs_agreement(session, settings, city, tmp_path):
    data = _export_geojson(session, LayerKind.streetlight, tmp_path / "lights.geojson")
    covered = set(_protected_lights(session))
    poles = _protected_poles(session)
    assert covered
    data["features"] = [f for f in data["features"] if f["properties"]["id"] not in covered]  # a survey without them
    smaller = tmp_path / "fewer-lights.geojson"
    smaller.write_text(json.dumps(data))
    revision = session.get(Layer, "streetlight").revision
    with pytest.raises(ImportFailed) as refused:
        import_layer(session=session, source=str(smaller), options=_options(LayerKind.streetlight), actor=None,
                     settings=settings.imports)
    assert "removes assets from" in str(refused.value) and "--allow-unlinking" in str(refused.value)
    assert session.get(Layer, "streetlight").revision == revision  # nothing was written
    assert set(_protected_lights(session)) == covered
    with pytest.raises(ImportFailed, match="changed since the preview"):
        import_layer(session=session, source=str(smaller), options=_options(LayerKind.streetlight), actor=None,
                     settings=settings.imports, allow_unlinking=True, expected_unlinking=999)
    done = import_layer(session=session, source=str(smaller), options=_options(LayerKind.streetlight), actor=None,
                        settings=settings.imports, allow_unlinking=True)
    assert done.layer.feature_count == len(data["features"])
    missing = session.exec(select(func.count()).select_from(ProposalAsset)
                           .where(ProposalAsset.layer == "streetlight", col(ProposalAsset.missing).is_(True))).one()
    assert missing >= len(covered)  # the links stay, marked missing (drafts' links too)
    assert not _protected_poles(session)
    # the full inventory again: every link comes back to the same poles
    restored = import_layer(session=session, source=str(tmp_path / "lights.geojson"),
                            options=_options(LayerKind.streetlight), actor=None, settings=settings.imports)
    assert restored.impact is not None and restored.impact.links_restored >= len(covered)
    assert _protected_poles(session) == poles
    assert not session.exec(select(ProposalAsset).where(col(ProposalAsset.missing).is_(True))).all()


def test_a_large_import_worked_out_a_few_features_at_a_time_says_and_writes_the_same(session, settings, city,
                                                                                     tmp_path, monkeypatch):
    """The file is read, checked and staged in batches and the impact compares the stored layer as it streams
    in (so a large import does not hold it all): with batches of two the preview says, and the import writes,
    what one batch does."""
    from app.importers import impact, sources

    data = _export_geojson(session, LayerKind.streetlight, tmp_path / "lights.geojson")
    covered = set(_protected_lights(session))
    features = [f for f in data["features"] if f["properties"]["id"] not in covered]
    for feature in features[:3]:
        feature["properties"]["status"] = "out"
    features[3]["geometry"]["coordinates"][0] += 0.0001
    data["features"] = features[1:] + [{**features[0], "properties": {**features[0]["properties"], "id": None,
                                                                      "source_id": "NEW-1"}}]
    survey = tmp_path / "next-year.geojson"
    survey.write_text(json.dumps(data))

    def assessed() -> dict[str, object]:
        result = preview(str(survey), _options(LayerKind.streetlight), session=session, settings=settings.imports,
                         work_dir=tmp_path / "work")
        assert result.impact is not None
        return result.impact.as_dict()

    whole = assessed()
    monkeypatch.setattr(impact, "_BATCH", 2)
    monkeypatch.setattr(sources, "BATCH", 2)
    assert assessed() == whole
    assert (whole["added"], whole["changed"]) == (1, 3) and whole["removed"] == 1 + len(covered)
    assert whole["condition"] == ["Status changes: 2 now out."]
    ids = {key: row_id for key, (row_id, _) in _assets(session, LayerKind.streetlight).items()}
    done = import_layer(session=session, source=str(survey), options=_options(LayerKind.streetlight), actor=None,
                        settings=settings.imports, allow_unlinking=True)
    assert done.layer.report["rows"] == {"added": 1, "changed": 3, "removed": 1 + len(covered),
                                         "unchanged": len(features) - 4}
    after = _assets(session, LayerKind.streetlight)
    assert all(after[key][0] == row_id for key, row_id in ids.items() if key in after)  # kept rows keep their ids
    assert session.exec(select(Streetlight).where(Streetlight.source_id == "NEW-1")).one().district_id is not None


def test_a_file_without_ids_is_matched_by_geometry(session, settings, city, tmp_path):
    data = _export_geojson(session, LayerKind.pavement, tmp_path / "pavement.geojson")
    before = _links(session)["pavement"]
    for feature in data["features"]:  # another system's export: no ids, coordinates nudged by ~1 m
        for key in ("id", "source_id"):
            feature["properties"].pop(key)
        feature["properties"] = {k[4:] if k.startswith("src_") else k: v for k, v in feature["properties"].items()
                                 if k not in ("SEG_ID",) and k != "src_SEG_ID"}
        feature["geometry"]["coordinates"] = [[[x + 0.00001, y] for x, y in part]
                                              for part in feature["geometry"]["coordinates"]]
    nudged = tmp_path / "resurvey.geojson"
    nudged.write_text(json.dumps(data))
    result = preview(str(nudged), _options(LayerKind.pavement), session=session, settings=settings.imports,
                     work_dir=tmp_path / "work")
    assert result.impact is not None
    assert result.impact.matched_by_geometry == len(data["features"]) and result.impact.removed == 0
    assert any("matched to the current layer by geometry" in note for note in result.report.notes)
    done = import_layer(session=session, source=str(nudged), options=_options(LayerKind.pavement), actor=None,
                        settings=settings.imports)
    assert done.layer.feature_count == len(data["features"])
    assert _links(session)["pavement"] == before


def test_the_preview_page_shows_what_the_import_does_and_asks_before_unlinking(client, session, settings, city,
                                                                               staff, tmp_path):
    data = _export_geojson(session, LayerKind.streetlight, tmp_path / "lights.geojson")
    covered = set(_protected_lights(session))
    data["features"] = [f for f in data["features"] if f["properties"]["id"] not in covered]
    data["features"][0]["properties"]["status"] = "out" if data["features"][0]["properties"]["status"] != "out" \
        else "working"
    sign_in(client, staff.email)
    token = csrf_of(client, "/staff/import")
    response = client.post("/staff/import", data={"csrf_token": token, "kind": "streetlight"},
                           files={"files": ("lights.geojson", json.dumps(data).encode(), "application/geo+json")})
    assert response.status_code == 303
    page = client.get("/staff/import/preview").text
    assert "What this import does" in page and "Proposals that would lose assets" in page
    assert "(needs confirmation)" in page and 'name="allow_unlinking" required' in page
    assert "<svg" in page and "import-map__point" in page
    revision = session.get(Layer, "streetlight").revision
    token = csrf_of(client, "/staff/import/preview")
    job = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import"})
    run_import_jobs(session, settings)
    session.expire_all()
    assert session.get(Layer, "streetlight").revision == revision  # refused without the agreement
    assert "removes assets from" in client.get(job.headers["location"]).text
    listing = client.get("/staff/import/preview").text
    agreed = listing.split('name="expected_unlinking" value="')[1].split('"')[0]
    token = csrf_of(client, "/staff/import/preview")
    client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "allow_unlinking": "on",
                                               "expected_unlinking": agreed})
    run_import_jobs(session, settings)
    session.expire_all()
    assert session.get(Layer, "streetlight").revision == revision + 1
    assert session.exec(select(func.count()).select_from(Streetlight)).one() == len(data["features"])


def test_the_preview_page_refuses_a_file_from_another_city(client, session, settings, city, staff):
    lights = shared_file("cambridge", "INFRA_StreetLights.geojson")
    sign_in(client, staff.email)
    token = csrf_of(client, "/staff/import")
    client.post("/staff/import", data={"csrf_token": token, "kind": "streetlight"},
                files={"files": ("lights.geojson", lights.read_bytes(), "application/geo+json")})
    page = client.get("/staff/import/preview").text
    assert "This data is not where the city is." in page and "1,422 km" in page
    assert 'name="new_area" required' in page
    revision = session.get(Layer, "streetlight").revision
    token = csrf_of(client, "/staff/import/preview")
    client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import", "allow_unlinking": "on"})
    run_import_jobs(session, settings)
    session.expire_all()
    assert session.get(Layer, "streetlight").revision == revision


def test_a_shapefile_whose_prj_is_unknown_is_refused_never_read_as_longitude_latitude(session, settings, city,
                                                                                      tmp_path):
    geometry = np.array([shapely.to_wkb(shapely.Point(-83.38, 33.95))], dtype=object)
    pyogrio.raw.write(tmp_path / "poles.shp", geometry, [np.array(["A1"], dtype=object)], fields=["PoleID"],
                      geometry_type="Point", crs="EPSG:4326", driver="ESRI Shapefile")
    (tmp_path / "poles.prj").write_text('PROJCS["County grid",GEOGCS["unknown"],PROJECTION["Bogus"]]')
    revision = session.get(Layer, "streetlight").revision
    with pytest.raises(ImportFailed, match="its .prj declares a coordinate system that is not known"):
        import_layer(session=session, source=str(tmp_path / "poles.shp"), options=_options(LayerKind.streetlight),
                     actor=None, settings=settings.imports)
    assert session.get(Layer, "streetlight").revision == revision


def test_reimporting_an_own_export_on_the_page_keeps_every_link(client, session, settings, city, staff, tmp_path):
    from app.opendata import exports
    from app.opendata.formats import ExportFormat

    before = _links(session)
    sign_in(client, staff.email)
    for kind, export_format in ((LayerKind.pavement, ExportFormat.gpkg), (LayerKind.sidewalk, ExportFormat.csv),
                                (LayerKind.ramp, ExportFormat.geojson)):
        path = tmp_path / f"{kind.value}.{export_format.value}"
        plan = exports.plan_export(session=session, dataset_id=kind.value, export_format=export_format)
        exports.write_file(session=session, plan=plan, path=path)
        count = session.get(Layer, kind.value).feature_count
        token = csrf_of(client, "/staff/import")
        client.post("/staff/import", data={"csrf_token": token, "kind": kind.value},
                    files={"files": (path.name, path.read_bytes(), "application/octet-stream")})
        page = client.get("/staff/import/preview").text
        assert "No proposal loses an asset." in page and "allow_unlinking" not in page
        assert f"<dt>Unchanged</dt><dd>{count:,}</dd>" in page
        token = csrf_of(client, "/staff/import/preview")
        job = client.post("/staff/import/confirm", data={"csrf_token": token, "action": "import"})
        run_import_jobs(session, settings)
        assert f"Imported {count:,} features" in client.get(job.headers["location"]).text
    session.expire_all()
    assert _links(session) == before


def test_lines_that_line_up_far_from_the_city_get_the_clear_refusal(session, settings, city, tmp_path):
    lines = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"SEG_ID": f"V{i}", "PCI": 50},
         "geometry": {"type": "LineString", "coordinates": [[10.0, 50.0 + i * 0.001], [10.0, 50.001 + i * 0.001]]}}
        for i in range(40)]}
    path = tmp_path / "vertical.geojson"
    path.write_text(json.dumps(lines))
    with pytest.raises(ImportFailed, match="40 of 40 features lie outside the city"):
        import_layer(session=session, source=str(path), options=_options(LayerKind.pavement), actor=None,
                     settings=settings.imports, allow_unlinking=True)


def test_rows_are_located_again_when_the_districts_change_while_the_file_is_checked(session, settings, city,
                                                                                    tmp_path, monkeypatch):
    """The file's rows are given their district as they are staged; a boundary import that commits before the
    write (a long check) must not leave them with the districts of before: they are located again."""
    from geoalchemy2.shape import to_shape

    from app.importers import service
    from app.layers import store
    from models.layers import District

    _export_geojson(session, LayerKind.streetlight, tmp_path / "lights.geojson")
    first, second = session.exec(select(District).order_by(col(District.id))).all()[:2]
    real = service.Checker.check
    redrawn: list[bool] = []

    def check_while_the_districts_change(self, batch):  # type: ignore[no-untyped-def]
        if not redrawn:  # as a district import would: the shapes change, the layer's revision moves on
            first.geom, second.geom = second.geom, first.geom
            layer = session.get(Layer, LayerKind.district.value)
            assert layer is not None
            layer.revision += 1
            session.add_all([first, second, layer])
            session.flush()
            redrawn.append(True)
        return real(self, batch)

    monkeypatch.setattr(service.Checker, "check", check_while_the_districts_change)
    import_layer(session=session, source=str(tmp_path / "lights.geojson"), options=_options(LayerKind.streetlight),
                 actor=None, settings=settings.imports, allow_unlinking=True)
    lights = session.exec(select(Streetlight).order_by(col(Streetlight.id))).all()
    located = store._locate(session, [to_shape(light.geom) for light in lights])
    assert redrawn and [(light.district_id, light.tract_id) for light in lights] == located
    assert any(light.district_id in (first.id, second.id) for light in lights)
