"""The peers harness end to end at smoke size (scale 0.05, 1-second runs; no timing is asserted).

Needs wrk, nginx (scripts/test.sh installs them) and a PostGIS server (CI has one); skipped
without them. The harness installs ogr2ogr (gdal-bin) when it is missing, and tipg and pygeoapi
(PyPI) once in a virtualenv of the user's cache (outside the clone, reused by the next clone).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("wrk") and shutil.which("nginx") and os.environ.get("GROUNDWORK_TEST_POSTGRES_URL")),
    reason="the peers harness needs wrk, nginx (apt-get install wrk nginx-light) and GROUNDWORK_TEST_POSTGRES_URL")

IMPORT_FIGURES = [f"| import {layer} (" for layer in ("pavement", "streetlight")]


def _peers(*arguments: str) -> None:
    subprocess.run([sys.executable, "bench/peers.py", "--smoke", *arguments], cwd=ROOT, check=True, timeout=1800)


def _imports(report: str) -> list[str]:
    table = report[report.index("### Imports, every run"):report.index("### Bytes by zoom")]
    return [line for line in table.splitlines() if re.match(r"\| \d+ \| (pavement|streetlight) \|", line)]


def test_the_smoke_run_measures_every_server_and_imports_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    postgres = os.environ["GROUNDWORK_TEST_POSTGRES_URL"]
    _peers("--out", str(out), "--postgres-url", postgres)
    report = out.read_text()
    assert report.index("### Ratios") < report.index("### Every run") < report.index("### Imports, every run")
    for server in ("groundwork", "tipg", "pygeoapi", "nginx"):
        assert f"| {server} |" in report, server
    assert "**Machine.**" in report and "| groundwork | 14 |" in report  # bytes by zoom
    ratios = report[report.index("### Ratios"):report.index("### Every run")]
    for figure in IMPORT_FIGURES:  # time (wall, CPU) and peak memory beside ogr2ogr, each with its ratio
        rows = [line for line in ratios.splitlines() if line.startswith(figure)]
        assert [row.split("|")[1].split("), ")[1].strip() for row in rows] == ["wall time", "CPU time", "peak memory"]
        assert all(" ogr2ogr " in row and re.search(r"\| \d+\.\d\d× \|", row) for row in rows), rows
    runs = _imports(report)
    assert sorted(line.split("|")[4].strip() for line in runs) == ["groundwork import", "groundwork import",
                                                                   "ogr2ogr", "ogr2ogr"]
    tiles_rows = [line for line in report.splitlines() if line.startswith("| 1 | tipg | light |")]

    # Rerunning one part (here the imports, on the smoke's city) keeps the other parts' runs in the report.
    city = make_url(postgres).set(database="gw_peers_0_05").render_as_string(hide_password=False)
    _peers("--only", "imports", "--database-url", city, "--out", str(out))
    again = out.read_text()
    assert again.count("<!-- peers: written by bench/peers.py -->") == 1
    assert [line for line in again.splitlines() if line.startswith("| 1 | tipg | light |")] == tiles_rows
    assert len(_imports(again)) == 4
    assert "Tiles and items measured " in again and "; imports measured " in again and "--only imports" in again
