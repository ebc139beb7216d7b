"""Every real city file in ../shared/data imports with the right counts, lengths and bands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pyogrio
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from sqlmodel import Session, col, func, select

from app import accounts
from app.db import make_engine, new_session
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.accounts import Group, Role
from models.audit import AuditEvent
from models.layers import CensusTract, CurbRamp, District, Layer, LayerKind, PavementSegment, Streetlight
from models.proposals import Proposal, ProposalAsset, ProposalState
from tests.conftest import make_settings, shared_file

pytestmark = pytest.mark.filterwarnings("ignore:Measured \\(M\\) geometry types:UserWarning")
GEOD = Geod(ellps="WGS84")
ASTM7 = ((85, "good"), (70, "satisfactory"), (55, "fair"), (40, "poor"), (25, "very_poor"), (10, "serious"),
         (0, "failed"))
MTC4 = ((70, "good"), (50, "fair"), (25, "poor"), (0, "failed"))


def _import(session: Session, settings, kind: str, path, **options):  # type: ignore[no-untyped-def]
    return import_layer(session=session, source=str(path), options=ImportOptions(kind=LayerKind(kind), **options),
                        actor=None, settings=settings.imports)


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _expected_band(pci: float, scheme: tuple[tuple[int, str], ...]) -> str:
    return next(name for floor, name in scheme if pci >= floor)


def _geodesic_lengths(path, source_crs: CRS) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Each feature's length computed here, independently: pyproj to WGS84, then the geodesic."""
    to_wgs84 = Transformer.from_crs(source_crs, "EPSG:4326", always_xy=True)
    meta, _, wkb, values = pyogrio.raw.read(path)
    ids = values[list(meta["fields"]).index("ID")]
    lengths = {}
    for feature_id, raw in zip(ids, wkb, strict=True):
        if raw is None:
            continue
        lonlat = shapely.transform(shapely.from_wkb(raw), to_wgs84.transform, interleaved=False)
        lengths[str(feature_id)] = GEOD.geometry_length(lonlat)
    return lengths


def test_cambridge_streetlights_city_owned_and_not(session: Session, settings):
    city = shared_file("cambridge", "INFRA_StreetLights.geojson")
    others = shared_file("cambridge", "INFRA_StreetLightsNotCityOwned.geojson")
    first = _import(session, settings, "streetlight", city)
    assert first.layer.feature_count == 6117
    first_revision = first.layer.revision
    owners = Counter(session.exec(select(Streetlight.owner)).all())
    assert owners["city"] == 5086 and owners["other"] == 4
    light = session.exec(select(Streetlight).where(Streetlight.pole_id == "791-2")).one()
    assert (light.street_name, light.fixture, light.status) == ("SEAGRAVE", "Cobrahead", "working")
    assert light.attributes["FixtureType"] == "A2"

    second = _import(session, settings, "streetlight", others, constants={"owner": "utility"}, append=True)
    assert second.layer.feature_count == 6117 + 1590
    assert second.layer.revision == first_revision + 1
    assert Counter(session.exec(select(Streetlight.owner)).all())["utility"] == 1590
    again = _import(session, settings, "streetlight", others, constants={"owner": "utility"}, append=True)
    assert again.layer.feature_count == 6117 + 1590  # appending the same file twice changes nothing


def test_cambridge_ramps_with_condition(session: Session, settings):
    result = _import(session, settings, "ramp", shared_file("cambridge", "DPW_PedestrianRamps.geojson"))
    assert result.layer.feature_count == 4605
    conditions = Counter(session.exec(select(CurbRamp.condition)).all())
    assert conditions == {"excellent": 3262, "good": 771, "fair": 495, "poor": 72, None: 5}


def test_cambridge_centerlines_as_pavement_without_pci(session: Session, settings):
    path = shared_file("cambridge", "TRANS_Centerlines.geojson")
    result = _import(session, settings, "pavement", path)
    assert result.layer.feature_count == 2643
    assert result.report.field_map["street_name"] == "Street"
    segments = session.exec(select(PavementSegment)).all()
    assert all(s.pci is None and s.band is None for s in segments)
    expected = _geodesic_lengths_geojson(path)
    for segment in segments[:300]:
        assert segment.length_m == pytest.approx(expected[segment.source_id], rel=0.005)


def _geodesic_lengths_geojson(path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    meta, _, wkb, values = pyogrio.raw.read(path)
    ids = values[list(meta["fields"]).index("ID")]
    return {str(i): GEOD.geometry_length(shapely.from_wkb(raw)) for i, raw in zip(ids, wkb, strict=True)}


def test_cambridge_neighbourhoods_and_tracts(session: Session, settings):
    districts = _import(session, settings, "district", shared_file("cambridge", "BOUNDARY_CDDNeighborhoods.geojson"))
    tracts = _import(session, settings, "tract", shared_file("cambridge", "DEMOGRAPHICS_Tracts2020.geojson"))
    assert districts.layer.feature_count == 13 and tracts.layer.feature_count == 33
    port = session.exec(select(District).where(District.name == "The Port")).one()
    assert port.code == "4" and port.area_m2 > 100_000
    tract = session.exec(select(CensusTract).where(CensusTract.geoid == "25017352500")).one()
    assert tract.name == "3525"
    assert tract.poverty_rate is None  # the 2020 tract file has no poverty or income column
    assert tract.area_m2 == pytest.approx(240701.0, rel=0.05)  # ALAND20 (no water in this tract)


def test_somerville_needs_agreement_to_skip_its_two_rows_without_geometry(session: Session, settings):
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    with pytest.raises(ImportFailed, match="ID 983.*ID 984.*Nothing was written") as failure:
        _import(session, settings, "pavement", path)
    assert failure.value.report.rejected_count == 2
    assert _count(session, PavementSegment) == 0 and session.get(Layer, "pavement") is None

    result = _import(session, settings, "pavement", path, skip_invalid=True)
    assert result.layer.feature_count == 567
    assert result.report.field_map["pci"] == "OCI" and "US survey foot" in result.report.units
    assert "Measured (M) coordinates were dropped." in result.report.notes
    segments = {s.source_id: s for s in session.exec(select(PavementSegment)).all()}
    assert len(segments) == 567

    expected = _geodesic_lengths(path, CRS.from_wkt(path.with_suffix(".prj").read_text()))
    for source_id, segment in segments.items():
        assert segment.length_m == pytest.approx(expected[source_id], rel=0.005)
        assert segment.band == _expected_band(segment.pci, ASTM7)
    cleveland = segments["116"]
    assert cleveland.pci == pytest.approx(56.8) and cleveland.band == "fair"
    assert cleveland.functional_class == "local" and cleveland.street_name == "CLEVELAND ST"
    assert cleveland.width_m == pytest.approx(26.5 * 1200 / 3937, rel=1e-6)
    assert str(cleveland.survey_date) == "2012-09-28"
    assert Counter(s.functional_class for s in segments.values()) == {"local": 450, "collector": 92, "arterial": 25}


def test_somerville_in_mtc_bands(session: Session, settings):
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    _import(session, settings, "pavement", path, skip_invalid=True, band_scheme="mtc4")
    for segment in session.exec(select(PavementSegment)).all():
        assert segment.band == _expected_band(segment.pci, MTC4)


def test_cli_refuses_somerville_without_skip_invalid_then_imports_567(tmp_path):
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "GROUNDWORK_DATABASE_URL": url, "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert run("db", "upgrade").returncode == 0
    refused = run("import", "pavement", str(path))
    assert refused.returncode == 1
    assert "ID 983" in refused.stderr and "ID 984" in refused.stderr and "Nothing was written" in refused.stderr
    dry = run("import", "pavement", str(path), "--dry-run", "--skip-invalid")
    assert dry.returncode == 0 and "nothing was written" in dry.stderr
    done = run("import", "pavement", str(path), "--skip-invalid", "--map", "pci=OCI")
    assert done.returncode == 0, done.stderr
    assert "Imported 567 features" in done.stderr and "revision 1" in done.stderr
    unknown = run("import", "pavement", str(path), "--map", "pci=NOPE")
    assert unknown.returncode == 1 and "no column 'NOPE'" in unknown.stderr and "OCI" in unknown.stderr

    # a staff member importing on the command line is recorded as such (--by); anyone else is refused
    engine = make_engine(url)
    with new_session(engine) as session:
        accounts.create_user(session=session, settings=make_settings(url), email="engineer@city.gov",
                             password="a-staff-password", role=Role.staff)
        accounts.create_user(session=session, settings=make_settings(url), email="resident@example.org",
                             password="a-resident-password", role=Role.resident)
    refused = run("import", "pavement", str(path), "--skip-invalid", "--map", "pci=OCI", "--by",
                  "resident@example.org")
    assert refused.returncode == 1 and "is not an active staff account" in refused.stderr
    dry = run("import", "pavement", str(path), "--dry-run", "--skip-invalid", "--by", "resident@example.org")
    assert dry.returncode == 1 and "is not an active staff account" in dry.stderr  # refused before it runs
    signed = run("import", "pavement", str(path), "--skip-invalid", "--map", "pci=OCI", "--by", "engineer@city.gov")
    assert signed.returncode == 0, signed.stderr
    with new_session(engine) as session:
        engineer = accounts.find_by_email(session=session, email="engineer@city.gov")
        assert engineer is not None
        imports = session.exec(select(AuditEvent).where(AuditEvent.action == "layer.import")
                               .order_by(col(AuditEvent.id))).all()
        assert [event.actor_id for event in imports] == [None, engineer.id]  # the first without --by
        assert session.get(Layer, "pavement").imported_by_id == engineer.id  # type: ignore[union-attr]
    engine.dispose()


def test_the_somerville_resurvey_keeps_every_link_and_updates_conditions(session, settings, tmp_path):
    source = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    first = import_layer(session=session, source=str(source), options=ImportOptions(kind=LayerKind.pavement,
                         skip_invalid=True), actor=None, settings=settings.imports)
    segments = {s.source_id: s for s in session.exec(select(PavementSegment))}
    assert first.layer.feature_count == len(segments) == 567
    group = Group(name="Somerville Streets")
    session.add(group)
    session.flush()
    proposal = Proposal(group_id=group.id, title="Fix Broadway", state=ProposalState.shortlisted.value)
    session.add(proposal)
    session.flush()
    chosen = sorted(segments)[:12]
    session.add_all(ProposalAsset(proposal_id=proposal.id, layer="pavement", asset_id=segments[k].id,
                                  source_key=k) for k in chosen)
    session.commit()
    before = {k: (segments[k].id, segments[k].pci) for k in chosen}
    meta, _, geometry, fields = pyogrio.raw.read(source)
    names = list(meta["fields"])
    oci = names.index(next(n for n in names if n.upper() == "OCI"))
    fields[oci] = fields[oci] - 5  # two years later, every street 5 points worse
    fields[oci][fields[oci] < 0] = 0
    resurvey = tmp_path / "somerville-2017.shp"
    pyogrio.raw.write(resurvey, geometry, fields, fields=names, crs=meta["crs"], geometry_type=meta["geometry_type"],
                      driver="ESRI Shapefile")
    result = import_layer(session=session, source=str(resurvey), options=ImportOptions(kind=LayerKind.pavement,
                          skip_invalid=True), actor=None, settings=settings.imports)
    assert result.impact is not None and result.impact.removed == 0 and result.impact.added == 0
    assert "PCI falls on" in result.impact.condition[0]
    session.expire_all()
    links = session.exec(select(ProposalAsset).where(ProposalAsset.proposal_id == proposal.id)).all()
    assert len(links) == 12 and not any(link.missing for link in links)
    for key in chosen:
        segment = session.get(PavementSegment, before[key][0])
        assert segment is not None and segment.source_id == key
        assert segment.pci == pytest.approx(max(before[key][1] - 5, 0))


def test_a_shapefile_that_counts_fewer_features_than_it_has_is_still_read_whole(session: Session, settings,
                                                                                 monkeypatch):
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    counted = pyogrio.read_info
    monkeypatch.setattr(pyogrio, "read_info", lambda *a, **k: {**counted(*a, **k), "features": 5})
    result = _import(session, settings, "pavement", path, skip_invalid=True)
    assert result.report.rows_read == 569 and _count(session, PavementSegment) == 567
