"""Running the import jobs a test's requests queued, in the test's own session (its rolled-back transaction)."""

from __future__ import annotations

from contextlib import nullcontext

from sqlmodel import Session

from app.importers import jobs
from app.settings import Settings


def run_import_jobs(session: Session, settings: Settings) -> int:
    """Run every queued job, as a server's worker would; returns how many ran."""
    ran = 0
    while jobs.run_next(sessions=lambda: nullcontext(session), settings=settings.imports, worker="test") is not None:
        ran += 1
    return ran
