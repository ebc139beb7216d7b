"""Field detection and normalization, width units, GeoPackage layers, Z coordinates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import LineString, Point
from sqlmodel import Session

from app.importers import fields
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import preview
from app.settings import ImportSettings
from models.layers import LayerKind


def _read(kind: LayerKind, name: str, value: object) -> object:
    spec = next(s for s in fields.specs(kind) if s.name == name)
    return spec.read(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("AR - Arterial", "arterial"), ("CO - Collector", "collector"), ("RT - Residential Local", "local"),
    ("RE - Residential Dead End", "local"), ("Minor Arterial", "arterial"), ("3", "arterial"), (5, "collector"),
    ("7", "local"), ("LOCAL", "local")])
def test_functional_class_codes(value: object, expected: str) -> None:
    assert _read(LayerKind.pavement, "functional_class", value) == expected


def test_values_normalized_for_lights_tracts_and_sidewalks() -> None:
    light = LayerKind.streetlight
    assert [_read(light, "owner", v) for v in ("City", "Georgia Power Co.", "Private", "DCR")] == [
        "city", "utility", "other", "other"]
    assert [_read(light, "status", v) for v in ("ON", "Out", "reported")] == ["working", "out", "reported"]
    assert [_read(light, "lamp_type", v) for v in ("LED", "High Pressure Sodium", "MH 250W", "Sodium vapour")] == [
        "LED", "HPS", "MH", "HPS"]
    assert [_read(LayerKind.tract, "poverty_rate", v) for v in (0.23, "23", "23%", None)] == [0.23, 0.23, 0.23, None]
    with pytest.raises(fields.ValueProblem):
        _read(LayerKind.tract, "poverty_rate", 230)
    assert [_read(LayerKind.sidewalk, "condition", v) for v in ("E", "good", "F", "Poor")] == [
        "excellent", "good", "fair", "poor"]
    with pytest.raises(fields.ValueWarning):
        _read(LayerKind.sidewalk, "condition", "wobbly")


def test_an_infinite_number_is_a_clear_problem_not_a_crash() -> None:
    # a GeoJSON or GeoPackage can carry inf as a real float: the row is refused with a reason
    for name, kind in (("pci", LayerKind.pavement), ("lanes", LayerKind.pavement), ("poverty_rate", LayerKind.tract)):
        for value in (float("inf"), float("-inf"), "Infinity"):
            with pytest.raises(fields.ValueProblem, match="is not a number"):
                _read(kind, name, value)


def test_detection_is_case_insensitive_prefers_the_latest_pci_year_and_checks_overrides() -> None:
    columns = ["objectid", "st_name", "PCI_2012", "PCI_2014", "width_ft", "func_class"]
    mapping = fields.detect_mapping(LayerKind.pavement, columns)
    assert mapping == {"street_name": "st_name", "functional_class": "func_class", "width": "width_ft",
                       "pci": "PCI_2014", "source_id": "objectid"}
    assert fields.detect_mapping(LayerKind.pavement, columns, {"pci": "PCI_2012"})["pci"] == "PCI_2012"
    with pytest.raises(ValueError, match="no column 'OCI'; its columns are objectid, st_name"):
        fields.detect_mapping(LayerKind.pavement, columns, {"pci": "OCI"})
    with pytest.raises(ValueError, match="pavement has no field 'colour'"):
        fields.detect_mapping(LayerKind.pavement, columns, {"colour": "st_name"})


def _streets(path: Path, properties: dict[str, object], z: bool = False) -> Path:
    coordinates = [[-71.10, 42.37, 5.0], [-71.10, 42.371, 6.0]] if z else [[-71.10, 42.37], [-71.10, 42.371]]
    geometry = {"type": "LineString", "coordinates": coordinates}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": geometry}]}))
    return path


def _preview(session: Session, path: Path, kind: str = "pavement", **options: object):  # type: ignore[no-untyped-def]
    return preview(str(path), ImportOptions(kind=LayerKind(kind), **options),  # type: ignore[arg-type]
                   settings=ImportSettings(), work_dir=path.parent / "work", session=session)


def test_width_units_from_the_column_name_or_given(session: Session, tmp_path: Path) -> None:
    by_name = _preview(session, _streets(tmp_path / "a.geojson", {"WIDTH_M": 8.0}))
    assert by_name.report.units.startswith("metres (from the column name")
    given = _preview(session, _streets(tmp_path / "b.geojson", {"Width": 30}), units="metres")
    assert given.report.units == "metres (given with --units)"
    assumed = _preview(session, _streets(tmp_path / "c.geojson", {"Width": 30}))
    assert assumed.report.units.startswith("feet (assumed")


def test_z_coordinates_are_dropped_with_a_note(session: Session, tmp_path: Path) -> None:
    result = _preview(session, _streets(tmp_path / "z.geojson", {"PCI": 50}, z=True))
    assert "Z (height) coordinates were dropped; the map is 2-D." in result.report.notes
    assert result.report.valid == 1


def test_geopackage_with_several_layers_asks_which(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    line = LineString([(-71.10, 42.37), (-71.10, 42.371)])
    pyogrio.raw.write(path, np.array([shapely.to_wkb(line)], dtype=object), [np.array([77.0])], ["PCI"],
                      layer="streets", driver="GPKG", geometry_type="LineString", crs="EPSG:4326")
    pyogrio.raw.write(path, np.array([shapely.to_wkb(Point(-71.1, 42.37))], dtype=object),
                      [np.array(["P1"], dtype=object)], ["PoleID"], layer="lights", driver="GPKG",
                      geometry_type="Point", crs="EPSG:4326", append=True)
    with pytest.raises(ImportFailed, match=r"city.gpkg has 2 layers \(streets, lights\); choose one with --layer"):
        _preview(session, path)
    assert _preview(session, path, layer="streets").report.field_map == {"pci": "PCI"}
    assert _preview(session, path, "streetlight", layer="lights").report.valid == 1
