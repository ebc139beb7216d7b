"""Surveyed lengths (`--map length=COLUMN`): stored for pavement and sidewalks, used by costing, the
ones far from the geometry listed; a bad value names its row and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from app import db
from app import settings as settings_module
from app.cli import cli
from app.costing import catalog
from app.costing.estimate import PavementAsset, estimate
from app.costing.service import AssetRef, price_assets
from app.geometry import geodesic_length_m
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.layers import Layer, LayerKind, PavementSegment, SidewalkSegment

LON, LAT = -71.10, 42.37
FOOT = 0.3048


def _segment(i: int) -> LineString:  # about 111 m, north-south
    return LineString([(LON + i * 0.001, LAT), (LON + i * 0.001, LAT + 0.001)])


def _file(path: Path, lengths: list[object], **extra: object) -> Path:
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(_segment(i)),
                 "properties": {"SEG_ID": f"S{i}", "Street": f"ELM ST {i}", "PCI": 40, "WIDTH_FT": 30,
                                "LEN": value, **extra}} for i, value in enumerate(lengths)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _import(session: Session, settings, path: Path, kind: str = "pavement", **options):  # type: ignore[no-untyped-def]
    return import_layer(session=session, source=str(path), options=ImportOptions(
        kind=LayerKind(kind), mapping={"length": "LEN"}, **options), actor=None, settings=settings.imports)


def test_surveyed_lengths_are_stored_used_by_costing_and_the_far_ones_listed(session: Session, settings,
                                                                             tmp_path: Path) -> None:
    drawn = geodesic_length_m(_segment(0))
    close, far = round(drawn / FOOT * 1.05, 1), round(drawn / FOOT * 1.6, 1)  # 5 % and 60 % longer
    done = _import(session, settings, _file(tmp_path / "streets.geojson", [close, far, close]))
    report = done.report
    assert report.length_units == "feet (assumed: give --units metres, miles or kilometres if they are not feet)"
    assert report.length_differences == 1
    assert report.length_worst[0]["where"] == "SEG_ID S1, ELM ST 1"
    assert report.length_worst[0]["difference_pct"] == pytest.approx(60, abs=0.2)
    stored = {s.source_id: s for s in session.exec(select(PavementSegment))}
    assert stored["S1"].length_m == pytest.approx(far * FOOT)
    assert stored["S0"].area_m2 == pytest.approx(close * FOOT * 30 * FOOT)

    version = catalog.ensure_defaults(session=session)
    snapshot = catalog.snapshot(session=session, version=version)
    priced = price_assets(session=session, refs=[AssetRef("pavement", stored["S1"].id or 0)],
                          scheduled_year=snapshot.base_year)
    by_survey = estimate([PavementAsset(stored["S1"].id or 0, far * FOOT, "local", 30 * FOOT, None, 40.0)], snapshot,
                         scheduled_year=snapshot.base_year)
    by_geometry = estimate([PavementAsset(stored["S1"].id or 0, drawn, "local", 30 * FOOT, None, 40.0)], snapshot,
                           scheduled_year=snapshot.base_year)
    assert priced.total_cents == by_survey.total_cents > by_geometry.total_cents

    again = _import(session, settings, _file(tmp_path / "streets.geojson", [close, far, close]))  # re-import
    assert again.impact is not None and again.impact.unchanged == 3 and again.impact.changed == 0

    miles = _import(session, settings, _file(tmp_path / "walks.geojson", [0.02, 0.07]), kind="sidewalk",
                    length_units="miles")
    walks = sorted(session.exec(select(SidewalkSegment.length_m)).all())
    assert walks == pytest.approx([0.02 * 1609.344, 0.07 * 1609.344])
    assert miles.report.length_differences == 1 and miles.report.length_units == "miles (given with --units)"


@pytest.mark.parametrize(("value", "message"), [("abc", "'abc' is not a number"),
                                                (-12, "a length must be more than 0, not -12"),
                                                (0, "a length must be more than 0, not 0")])
def test_a_bad_length_names_its_row_and_nothing_is_written(session: Session, settings, tmp_path: Path,
                                                           value: object, message: str) -> None:
    with pytest.raises(ImportFailed, match=f"SEG_ID S1, length: {message} \\(column LEN\\). Nothing was written"):
        _import(session, settings, _file(tmp_path / "streets.geojson", [350, value, 350]))
    assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 0
    assert session.get(Layer, "pavement") is None


def test_the_command_line_takes_length_units_and_prints_the_far_segments(database, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", database.url)
    settings_module.get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        path = _file(tmp_path / "streets.geojson", [0.07, 0.5])  # kilometres: 70 m and 500 m against 111 m
        refused = CliRunner().invoke(cli, ["import", "pavement", str(path), "--map", "length=LEN", "--units",
                                           "furlongs"])
        assert refused.exit_code == 1 and "choose feet or metres" in refused.output
        shown = CliRunner().invoke(cli, ["import", "pavement", str(path), "--map", "length=LEN", "--units", "km",
                                         "--dry-run"])
        said = " ".join(shown.output.split())
        assert shown.exit_code == 0, shown.output
        assert "length units: kilometres (given with --units)" in said
        assert "more than 10 % off the geometry's: 2 segments" in said
        assert "SEG_ID S1, ELM ST 1: surveyed 500.0 m" in said and "SEG_ID S0, ELM ST 0: surveyed 70.0 m" in said
        assert "(-37" in said  # shorter than drawn: a negative difference
    finally:
        db.get_engine().dispose()
        db.get_engine.cache_clear()
        settings_module.get_settings.cache_clear()


def test_a_resurvey_that_changes_only_a_length_is_said_to_change_that_segment(session: Session, settings,
                                                                             tmp_path: Path) -> None:
    _import(session, settings, _file(tmp_path / "first.geojson", [400, 400, 400]))
    again = _import(session, settings, _file(tmp_path / "again.geojson", [400, 900, 400]))
    assert again.impact is not None and (again.impact.changed, again.impact.unchanged) == (1, 2)
    assert again.layer.report["rows"]["changed"] == 1  # what the preview said is what was written
    stored = {s.source_id: s.length_m for s in session.exec(select(PavementSegment))}
    assert stored["S1"] == pytest.approx(900 * FOOT)
