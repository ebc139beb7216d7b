"""The peers harness end to end at smoke size (scale 0.05, 2-second runs; no timing is asserted).

Needs wrk, nginx (scripts/test.sh installs them) and a PostGIS server (CI has one); skipped
without them. The first run also installs tipg and pygeoapi (PyPI) in their own virtualenv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("wrk") and shutil.which("nginx") and os.environ.get("GROUNDWORK_TEST_POSTGRES_URL")),
    reason="the peers harness needs wrk, nginx (apt-get install wrk nginx-light) and GROUNDWORK_TEST_POSTGRES_URL")


def test_the_smoke_run_measures_every_server_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    subprocess.run([sys.executable, "bench/peers.py", "--smoke", "--out", str(out),
                    "--postgres-url", os.environ["GROUNDWORK_TEST_POSTGRES_URL"]], cwd=ROOT, check=True,
                   timeout=1800)
    report = out.read_text()
    assert report.index("### Ratios") < report.index("### Every run")  # the ratio table comes first
    for server in ("groundwork", "tipg", "pygeoapi", "nginx"):
        assert f"| {server} |" in report, server
    assert "**Machine.**" in report and "| groundwork | 14 |" in report  # bytes by zoom
