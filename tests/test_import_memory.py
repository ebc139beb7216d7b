"""An import holds a batch of the file, not the file: four times the features, about the same memory."""

from __future__ import annotations

import functools
import json
import tracemalloc
from pathlib import Path

from sqlmodel import Session, func, select

from app.importers import impact, service, sources
from app.importers.checks import ImportOptions
from app.settings import ImportSettings
from models.layers import LayerKind, Streetlight


def _lights(path: Path, count: int) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"POLE_ID": f"P{i}", "STATUS": "working" if i % 7 else "out",
                                           "WATTS": 100 + i % 5, "STREET": f"Elm St {i % 90}"},
         "geometry": {"type": "Point", "coordinates": [-71.10 + (i % 200) * 1e-4, 42.37 + (i // 200) * 1e-4]}}
        for i in range(count)]}))
    return path


def _peak(session: Session, path: Path, tmp_path: Path, *, check_only: bool = False) -> int:
    """The most Python memory traced while the file is previewed or imported (bytes)."""
    options = ImportOptions(kind=LayerKind.streetlight)
    settings = ImportSettings(work_dir=str(tmp_path / "imports"))
    tracemalloc.start()
    try:
        if check_only:
            service.preview(str(path), options, session=session, settings=settings, work_dir=tmp_path / "work")
        else:
            service.import_layer(session=session, source=str(path), options=options, actor=None, settings=settings)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_import_and_its_preview_hold_a_batch_not_the_file(session: Session, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "BATCH", 500)  # and the stored layer compared 500 at a time, and the GeoJSON
    monkeypatch.setattr(impact, "_BATCH", 500)  # scanned 64 KB at a time (else 1 MB: these files' size)
    monkeypatch.setattr(sources, "_scan_geojson", functools.partial(sources._scan_geojson, chunk_size=1 << 16))
    small, large = _lights(tmp_path / "small.geojson", 2_000), _lights(tmp_path / "large.geojson", 8_000)
    _peak(session, small, tmp_path)  # the first run loads what every run needs (GDAL's drivers, caches)
    imported = (_peak(session, small, tmp_path), _peak(session, large, tmp_path))
    assert session.exec(select(func.count()).select_from(Streetlight)).one() == 8_000
    checked = (_peak(session, small, tmp_path, check_only=True), _peak(session, large, tmp_path, check_only=True))
    for few, many in (imported, checked):
        # a record of a checked light alone is over 1 KB: 6,000 more of them would be 6 MB more
        assert many - few < 1_000_000, (few, many)
