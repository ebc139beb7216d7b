"""Bad input: each gets a clear message naming the file, row or field, and nothing is written."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from sqlmodel import Session, func, select

from app.importers.archives import extract_zip
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.layers import District, Layer, LayerKind, PavementSegment, Streetlight

LON, LAT = -71.10, 42.37


def _import(session: Session, settings, kind: str, path: Path, **options):  # type: ignore[no-untyped-def]
    return import_layer(session=session, source=str(path), options=ImportOptions(kind=LayerKind(kind), **options),
                        actor=None, settings=settings.imports)


def _nothing_written(session: Session, model: type, kind: str) -> bool:
    count = session.exec(select(func.count()).select_from(model)).one()
    return count == 0 and session.get(Layer, kind) is None


def _geojson(path: Path, features: list[tuple[object, dict]]) -> Path:  # type: ignore[type-arg]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for geom, props in features]}))
    return path


def _near(dx: float, dy: float) -> tuple[float, float]:
    return LON + dx * 0.001, LAT + dy * 0.001


def _segment(i: int) -> LineString:
    return LineString([_near(i, 0), _near(i, 1)])


def test_invalid_json_names_line_and_column(session: Session, settings, tmp_path):
    path = tmp_path / "streets.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",, }\n]}')
    with pytest.raises(ImportFailed, match=r"streets.geojson is not valid JSON: .* at line 3, column"):
        _import(session, settings, "pavement", path)
    assert _nothing_written(session, PavementSegment, "pavement")


def test_a_bowtie_polygon_is_rejected_by_name_and_a_tiny_self_intersection_repaired(session: Session, settings,
                                                                                   tmp_path):
    bowtie = Polygon([_near(0, 0), _near(10, 10), _near(10, 0), _near(0, 10)])
    lobe = Polygon([_near(*p) for p in ((20, 0), (30, 0), (30, 10), (20, 10), (20, 5.1), (19.9, 4.9), (19.9, 5.1),
                                        (20, 4.9))])
    good = Polygon([_near(40, 0), _near(50, 0), _near(50, 10), _near(40, 10)])
    path = _geojson(tmp_path / "wards.geojson", [(bowtie, {"ID": "W1", "NAME": "Bowtie ward"}),
                                                 (lobe, {"ID": "W2", "NAME": "Lobe ward"}),
                                                 (good, {"ID": "W3", "NAME": "Square ward"})])
    with pytest.raises(ImportFailed, match=r"1 of 3 rows cannot be imported: ID W1, geometry: invalid polygon"):
        _import(session, settings, "district", path)
    assert _nothing_written(session, District, "district")

    result = _import(session, settings, "district", path, skip_invalid=True)
    assert sorted(session.exec(select(District.name)).all()) == ["Lobe ward", "Square ward"]
    assert [str(w) for w in result.report.warnings] == [
        "ID W2, geometry: repaired an invalid polygon (Self-intersection[-71.08005 42.375])"]


def test_mixed_geometry_types_fail_the_file(session: Session, settings, tmp_path):
    square = Polygon([_near(0, 0), _near(1, 0), _near(1, 1)])
    path = _geojson(tmp_path / "mixed.geojson", [(_segment(0), {"ID": 1}), (_segment(1), {"ID": 2}),
                                                 (square, {"ID": 3})])
    with pytest.raises(ImportFailed, match=r"mixed.geojson mixes geometry types \(2 lines, 1 polygons\)"):
        _import(session, settings, "pavement", path)
    assert _nothing_written(session, PavementSegment, "pavement")


def test_lines_and_multilines_mix_fine_but_points_are_not_pavement(session: Session, settings, tmp_path):
    multi = shapely.MultiLineString([_segment(5), _segment(6)])
    path = _geojson(tmp_path / "ok.geojson", [(_segment(0), {"ID": 1}), (multi, {"ID": 2})])
    assert _import(session, settings, "pavement", path).layer.feature_count == 2
    points = _geojson(tmp_path / "lights.geojson", [(Point(_near(0, 0)), {"ID": 1})])
    with pytest.raises(ImportFailed, match="Pavement condition needs lines, but lights.geojson has points"):
        _import(session, settings, "pavement", points)


def _shapefile(directory: Path, crs: str = "EPSG:2249") -> Path:
    """Two street segments in Massachusetts State Plane (US feet)."""
    to_plane = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lines = [shapely.transform(_segment(i), to_plane.transform, interleaved=False) for i in range(2)]
    path = directory / "streets.shp"
    pyogrio.raw.write(path, np.array(shapely.to_wkb(lines), dtype=object),
                      [np.array(["A1", "A2"], dtype=object), np.array([72.0, 31.5])], ["SEG_ID", "PCI"],
                      driver="ESRI Shapefile", geometry_type="LineString", crs=crs)
    return path


def test_shapefile_missing_its_dbf(session: Session, settings, tmp_path):
    path = _shapefile(tmp_path)
    path.with_suffix(".dbf").unlink()
    with pytest.raises(ImportFailed, match=r"streets.shp is missing its .dbf \(attribute table\)"):
        _import(session, settings, "pavement", path)
    assert _nothing_written(session, PavementSegment, "pavement")


def test_shapefile_missing_its_prj_asks_for_crs(session: Session, settings, tmp_path):
    path = _shapefile(tmp_path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(ImportFailed, match=r"no coordinate system \(its .prj file is missing\); give it with --crs"):
        _import(session, settings, "pavement", path)
    assert _nothing_written(session, PavementSegment, "pavement")
    result = _import(session, settings, "pavement", path, crs="EPSG:2249")
    assert result.layer.feature_count == 2
    segment = session.exec(select(PavementSegment).where(PavementSegment.source_id == "A1")).one()
    assert segment.band == "satisfactory" and segment.length_m == pytest.approx(111.0, rel=0.01)


def test_pci_out_of_range_or_not_a_number_rejects_those_rows(session: Session, settings, tmp_path):
    path = _geojson(tmp_path / "pci.geojson", [(_segment(0), {"ID": "S1", "PCI": 88}),
                                               (_segment(1), {"ID": "S2", "PCI": 140}),
                                               (_segment(2), {"ID": "S3", "PCI": "abc"})])
    with pytest.raises(ImportFailed) as failure:
        _import(session, settings, "pavement", path)
    assert [str(p) for p in failure.value.report.rejected] == [
        "ID S2, pci: PCI must be between 0 and 100, not 140 (column PCI)",
        "ID S3, pci: 'abc' is not a number (column PCI)"]
    assert _nothing_written(session, PavementSegment, "pavement")
    _import(session, settings, "pavement", path, skip_invalid=True)
    assert session.exec(select(PavementSegment.source_id, PavementSegment.band)).all() == [("S1", "good")]


def test_csv_in_latin1_imports_with_its_names_right(session: Session, settings, tmp_path):
    path = tmp_path / "lights.csv"
    path.write_bytes("PoleID,Street,Owner,Status,Latitude,Longitude,Note\n"
                     "P-1,Peña Street,Georgia Power,OUT,42.37,-71.10,=SUM(A1:A9)\n"
                     "P-2,Señora Ave,City of Athens,working,42.371,-71.101,\n".encode("latin-1"))
    result = _import(session, settings, "streetlight", path)
    assert any("not UTF-8" in note for note in result.report.notes)
    lights = {s.pole_id: s for s in session.exec(select(Streetlight)).all()}
    assert lights["P-1"].street_name == "Peña Street" and lights["P-2"].street_name == "Señora Ave"
    assert (lights["P-1"].owner, lights["P-1"].status) == ("utility", "out")
    assert (lights["P-2"].owner, lights["P-2"].status) == ("city", "working")
    assert lights["P-1"].attributes["Note"] == "=SUM(A1:A9)"  # kept as text, never evaluated


def test_csv_with_a_wkt_column(session: Session, settings, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text(f'id;street;pci;wkt\n1;Main St;64;"{_segment(0).wkt}"\n', encoding="utf-8-sig")
    _import(session, settings, "pavement", path)
    assert session.exec(select(PavementSegment.street_name, PavementSegment.band)).all() == [("Main St", "fair")]


def test_csv_without_coordinate_columns(session: Session, settings, tmp_path):
    path = tmp_path / "lights.csv"
    path.write_text("PoleID,Street\nP-1,Main St\n")
    with pytest.raises(ImportFailed, match="lights.csv has no coordinate columns.*Its columns are PoleID, Street"):
        _import(session, settings, "streetlight", path)
    assert _nothing_written(session, Streetlight, "streetlight")


def test_zip_with_parent_paths_is_not_unpacked(session: Session, settings, tmp_path):
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../escaped.geojson", "{}")
    with pytest.raises(ImportFailed, match=r"unsafe path '../../escaped.geojson'"):
        _import(session, settings, "pavement", archive)
    assert not (tmp_path.parent / "escaped.geojson").exists()
    assert _nothing_written(session, PavementSegment, "pavement")


def test_zip_bomb_is_refused_before_unpacking(session: Session, settings, tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("streets.geojson", b" " * 3_000_000)
    assert archive.stat().st_size < 50_000
    small = settings.model_copy(update={"imports": settings.imports.model_copy(update={"max_unzipped_mb": 2})})
    with pytest.raises(ImportFailed, match="bomb.zip would expand to 3 MB, over the limit of 2 MB"):
        _import(session, small, "pavement", archive)
    assert _nothing_written(session, PavementSegment, "pavement")


def test_zip_whose_directory_understates_a_size_is_not_unpacked(tmp_path):
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.csv", b"x" * 3_000_000)
    data = bytearray(archive.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # claim 10 bytes uncompressed
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed, match="liar.zip is damaged"):  # zipfile reads no more than declared
        extract_zip(archive, tmp_path / "out", max_bytes=1_000_000)
    assert not (tmp_path / "out").exists()


def test_zipped_shapefile_imports(session: Session, settings, tmp_path):
    shp = _shapefile(tmp_path / "src" if (tmp_path / "src").mkdir() is None else tmp_path)
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for sibling in shp.parent.glob("streets.*"):
            zipped.write(sibling, f"data/{sibling.name}")
    assert _import(session, settings, "pavement", archive).layer.feature_count == 2
