"""GDAL's OGC API – Features driver (what QGIS uses) reads /ogc from a live server.

GDAL runs in a child process: pyogrio holds the GIL while GDAL fetches pages, which would stall
the live server's thread in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from tests.layer_data import load_city
from tests.live import live_server

_READER = """
import json, sys
import pyogrio, pyogrio.raw
source, layer, page_size = sys.argv[1], sys.argv[2], sys.argv[3]
options = {"PAGE_SIZE": page_size} if page_size != "-" else {}
info = pyogrio.read_info(source, layer=layer)
meta, _, geometry, fields = pyogrio.raw.read(source, layer=layer, dataset_options=options)[:4]
names = list(meta["fields"])
print(json.dumps({
    "layers": [str(name) for name, _ in pyogrio.list_layers(source)],
    "count": int(info["features"]),
    "crs": info["crs"],
    "read": len(geometry),
    "fields": names,
    "columns": {name: [None if v is None else str(v) for v in column] for name, column in zip(names, fields)},
}))
"""


def _gdal_read(source: str, layer: str, page_size: str = "-") -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _READER, source, layer, page_size], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(params=["spatialite", "postgis"])
def served_city(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if "OAPIF" not in pyogrio.list_drivers():
        pytest.skip("pyogrio's bundled GDAL has no OAPIF driver")
    with live_server(request.param, tmp_path) as server:
        with server.session() as session:
            ids = load_city(session)
        yield server, ids


def test_gdal_lists_the_collections_and_reads_every_feature(served_city) -> None:  # type: ignore[no-untyped-def]
    server, ids = served_city
    result = _gdal_read(f"OAPIF:{server.url}/ogc", "pavement")
    assert set(result["layers"]) == {"pavement", "sidewalk", "ramp", "streetlight", "district", "tract", "address",
                                     "delivery"}
    assert result["count"] == result["read"] == len(ids["pavement"])
    assert result["crs"] in ("EPSG:4326", "OGC:CRS84")
    assert sorted(result["columns"]["street_name"]) == ["ELM ST", "MAIN ST", "MAIN ST", "OAK AVE"]
    assert "src_SEG" in result["fields"]  # the source's own columns come along


def test_gdal_pages_through_a_layer_larger_than_one_page(served_city) -> None:  # type: ignore[no-untyped-def]
    server, ids = served_city
    result = _gdal_read(f"OAPIF:{server.url}/ogc", "streetlight", page_size="1")  # follows the next links
    assert result["read"] == len(ids["streetlight"])
    assert sorted(result["columns"]["pole_id"]) == ["P-1", "P-2"]
