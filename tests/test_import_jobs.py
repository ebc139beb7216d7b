"""Background import jobs: queued in the database, claimed once, failed cleanly when their worker dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from app.db import make_engine, new_session
from app.importers import jobs, service, uploads
from app.settings import ImportSettings
from models.base import utcnow
from models.imports import ImportJob, JobState
from models.layers import Layer, LayerKind, PavementSegment
from tests.conftest import Database, csrf_of, fresh_database, make_settings, sign_in
from tests.import_jobs import run_import_jobs


def _streets(count: int, pci: float = 70) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"SEG_ID": f"S{i}", "Street": f"Elm St {i % 50}", "PCI": pci},
         "geometry": {"type": "LineString", "coordinates": [[-71.10 + i * 1e-4, 42.37], [-71.10 + i * 1e-4, 42.371]]}}
        for i in range(count)]}).encode()


def test_a_confirmed_import_runs_as_a_job_and_its_page_shows_the_stages(client, session: Session, staff, database,
                                                                         tmp_path: Path):
    settings = make_settings(database.url, imports=ImportSettings(work_dir=str(tmp_path / "imports")))
    client.app.state.settings = settings  # type: ignore[attr-defined]
    sign_in(client, staff.email)
    client.post("/staff/import", data={"kind": "pavement", "csrf_token": csrf_of(client, "/staff/import")},
                files=[("files", ("streets.geojson", _streets(3), "application/geo+json"))])
    queued = client.post("/staff/import/confirm", data={"csrf_token": csrf_of(client, "/staff/import/preview"),
                                                       "action": "import"})
    page = client.get(queued.headers["location"])
    assert 'hx-trigger="every 1s"' in page.text and '<meta http-equiv="refresh"' in page.text
    assert "Waiting for a worker" in page.text and '<progress class="import-job__bar" max="100" value="0"' in page.text
    assert session.get(Layer, "pavement") is None  # nothing written until a worker runs it
    assert run_import_jobs(session, settings) == 1
    done = client.get(queued.headers["location"])
    assert "Imported 3 features into Pavement condition (revision 1). Rows: 3 added." in done.text
    assert "every 1s" not in done.text and "http-equiv" not in done.text  # finished: no more polling
    assert "Reading — done" in done.text and "Checking — done" in done.text and "Writing — done" in done.text
    assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 3
    job = session.exec(select(ImportJob)).one()
    assert (job.state, job.created_by_id, job.result["revision"]) == ("done", staff.id, 1)  # type: ignore[index]


@pytest.fixture
def committed(database: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A database of its own whose rows are committed, as a server's workers see them."""
    url, remove = fresh_database(database.kind, tmp_path)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    remove()  # type: ignore[operator]


def _queue(engine, settings: ImportSettings, content: bytes, name: str = "streets.geojson") -> int:  # type: ignore[no-untyped-def]
    pending = uploads.start(settings=settings, kind=LayerKind.pavement, uploaded_by=None)
    uploads.store_files(pending, [(name, __import__("io").BytesIO(content))], settings=settings)
    pending.save()
    with new_session(engine) as session:
        job = jobs.enqueue(session=session, pending=pending, actor=None, skip_invalid=False, allow_unlinking=False,
                           expected_unlinking=None, new_area=False)
        assert job.id is not None
        return job.id


def test_two_claimers_never_take_the_same_job(committed, tmp_path: Path):
    _, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"))
    queued = {_queue(engine, settings, _streets(1)) for _ in range(6)}
    taken: list[int] = []
    start = threading.Barrier(3)

    def claimer(name: str) -> None:
        start.wait()
        while True:
            with new_session(engine) as session:
                job = jobs.claim(session=session, worker=name)
            if job is None:
                return
            taken.append(job.id)  # type: ignore[arg-type]

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(queued)  # every job once, none twice
    with new_session(engine) as session:
        assert {j.state for j in session.exec(select(ImportJob))} == {"running"}
        assert len({j.worker for j in session.exec(select(ImportJob))}) >= 1


_RUNNER = """
import os, sys
from sqlmodel import Session
from app.db import make_engine, new_session
from app.importers import jobs
from app.layers.changed_rows import StagedRows
from app.settings import ImportSettings

url, work_dir, marker = sys.argv[1:4]
real_apply = StagedRows.apply

def slow_apply(self, mode):  # stop halfway through writing, rows already changed, nothing committed
    written = real_apply(self, mode)
    assert written.changes, written
    open(marker, "w").write("writing")
    import time
    time.sleep(600)

StagedRows.apply = slow_apply
engine = make_engine(url)
jobs.run_next(sessions=lambda: new_session(engine), settings=ImportSettings(work_dir=work_dir), worker="doomed")
"""


def test_an_import_killed_while_writing_leaves_the_layer_as_it_was_and_its_job_failed(committed, tmp_path: Path):
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"), job_stale_s=2)
    first = _queue(engine, settings, _streets(40, pci=80))
    jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="first")
    with new_session(engine) as session:
        layer = session.get(Layer, "pavement")
        assert layer is not None and session.get(ImportJob, first).state == "done"  # type: ignore[union-attr]
        before = (layer.revision, session.exec(select(func.count()).select_from(PavementSegment)).one(),
                  session.exec(select(func.sum(PavementSegment.pci))).one())

    doomed = _queue(engine, settings, _streets(40, pci=20), "resurvey.geojson")
    marker = tmp_path / "marker"
    runner = subprocess.Popen([sys.executable, "-c", _RUNNER, url, settings.work_dir, str(marker)],
                              cwd=Path(__file__).resolve().parents[1], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert runner.poll() is None, "the import process ended before it was writing"
            assert time.monotonic() < deadline, "the import never reached its write"
            time.sleep(0.1)
        with new_session(engine) as session:
            job = session.get(ImportJob, doomed)
            assert job is not None and (job.state, job.stage) == ("running", "writing")
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()

    with new_session(engine) as session:
        layer = session.get(Layer, "pavement")
        after = (layer.revision, session.exec(select(func.count()).select_from(PavementSegment)).one(),  # type: ignore[union-attr]
                 session.exec(select(func.sum(PavementSegment.pci))).one())
        assert after == before  # the layer exactly as it was
        session.execute(update(ImportJob).where(ImportJob.id == doomed)  # type: ignore[arg-type]
                        .values(heartbeat_at=utcnow() - timedelta(seconds=5)))  # its worker's last beat, gone quiet
        session.commit()
    assert jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="later") is None
    with new_session(engine) as session:
        view = jobs.view(session=session, job_id=doomed)
        assert view is not None and view.state == "failed"
        assert "stopped before it finished" in (view.message or "") and "Nothing was written" in (view.message or "")


class _Killed(BaseException):
    """The job's process dying, where no handler runs."""


def test_a_job_killed_the_moment_its_layer_committed_still_says_it_was_imported(committed, tmp_path: Path,
                                                                                 monkeypatch):
    """The job's outcome is written in the layer's own unit of work: a process killed right after the layer
    committed leaves a job that says what was imported, never "Nothing was written" over a changed layer."""
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"), job_stale_s=2)
    job_id = _queue(engine, settings, _streets(40, pci=80))

    def die(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _Killed

    monkeypatch.setattr(jobs.uploads, "discard", die)  # the first thing the job does after the layer's commit
    with pytest.raises(_Killed):
        jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="w")
    with new_session(engine) as session:
        assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 40
        session.execute(update(ImportJob).where(ImportJob.id == job_id)  # type: ignore[arg-type]
                        .values(heartbeat_at=utcnow() - timedelta(seconds=5)))  # its worker gone quiet
        session.commit()
    assert jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="later") is None
    with new_session(engine) as session:
        view = jobs.view(session=session, job_id=job_id)
        assert view is not None and view.state == "done", view.message if view else None
        assert "Imported 40 features" in (view.message or "") and "Rows: 40 added." in (view.message or "")


def test_a_job_taken_for_stopped_while_still_writing_ends_as_it_really_ended(session, settings):
    """A long SQLite write holds off the heartbeat; if a worker marked the job failed meanwhile, its own
    worker's finish still records the truth — and nobody else's finish does."""
    job = ImportJob(kind="pavement", name="streets.geojson", request={}, state=JobState.failed.value,
                    worker="a", message=jobs.STOPPED)
    session.add(job)
    session.commit()
    other = ImportJob(kind="pavement", name="streets.geojson", request={}, state=JobState.failed.value,
                      worker="a", message=jobs.STOPPED)
    jobs._finish(session, other.model_copy(update={"id": job.id, "worker": "b"}), JobState.done, "Imported.", None)
    session.refresh(job)
    assert job.state == JobState.failed.value  # another worker cannot finish it
    jobs._finish(session, job, JobState.done, "Imported 3 features.", {"features": 3})
    session.refresh(job)
    assert (job.state, job.message) == (JobState.done.value, "Imported 3 features.")


def test_a_heartbeat_committed_while_the_job_reads_never_fails_its_import(committed, tmp_path: Path, monkeypatch):
    """The heartbeat commits from its own connection whenever it is due, even between the import's reads and
    its writes; on SpatiaLite that used to fail the import ("database is locked")."""
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"))
    job_id = _queue(engine, settings, _streets(40, pci=80))
    heartbeat_engine = make_engine(url)
    beats: list[threading.Thread] = []
    real_assess = service.assess

    def assess_then_beat(**kwargs):  # type: ignore[no-untyped-def]
        impact = real_assess(**kwargs)  # the job has read the layer and the proposals; its writes are next

        def beat() -> None:
            with heartbeat_engine.begin() as connection:
                connection.execute(update(ImportJob).where(ImportJob.id == job_id).values(heartbeat_at=utcnow()))

        thread = threading.Thread(target=beat)
        thread.start()
        thread.join(timeout=1)  # PostGIS: it has committed; SpatiaLite: it waits for the job's unit of work
        beats.append(thread)
        return impact

    monkeypatch.setattr(service, "assess", assess_then_beat)
    try:
        job = jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="w",
                            job_sessions=lambda: new_session(engine, write=True))
        for thread in beats:
            thread.join(timeout=30)
    finally:
        heartbeat_engine.dispose()
    assert job is not None and job.state == JobState.done.value, job.message if job else None
    assert beats and not any(thread.is_alive() for thread in beats)
    with new_session(engine) as session:
        assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 40


def _until(engine, job_id: int, states: tuple[str, ...], within_s: float = 90) -> ImportJob:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with new_session(engine) as session:
            job = session.get(ImportJob, job_id)
            if job is not None and job.state in states:
                return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach {states}")


def test_a_server_worker_runs_each_job_in_a_process_of_its_own_and_says_so_when_that_process_dies(
        committed, tmp_path: Path):
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"), job_poll_s=0.05, job_heartbeat_s=0.5)
    assert settings.job_process  # the default
    worker = jobs.Worker(engine, settings)
    worker.start()
    try:
        first = _queue(engine, settings, _streets(40, pci=80))
        done = _until(engine, first, ("done", "failed"))
        assert done.state == "done", done.message
        ran_first = worker.process
        assert ran_first is not None and ran_first.pid != os.getpid() and ran_first.wait(timeout=30) == 0

        doomed = _queue(engine, settings, _streets(40, pci=20), "resurvey.geojson")
        deadline = time.monotonic() + 60
        while worker.process is ran_first and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.process is not ran_first and worker.process is not None
        worker.process.kill()  # e.g. the machine ran out of memory
        failed = _until(engine, doomed, ("done", "failed"))
    finally:
        worker.stop()
    assert failed.state == "failed" and "The import stopped unexpectedly" in (failed.message or "")
    assert "Nothing was written to the layer" in (failed.message or "")
    with new_session(engine) as session:  # the layer is as the first import left it
        assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 40
        assert session.exec(select(func.sum(PavementSegment.pci))).one() == 40 * 80


_SERVER = """
import sys, time
from app.db import make_engine
from app.importers import jobs
from app.settings import ImportSettings

url, work_dir = sys.argv[1:3]
worker = jobs.Worker(make_engine(url), ImportSettings(work_dir=work_dir, job_poll_s=0.05))
worker.start()
time.sleep(600)
"""


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_jobs_process_stops_when_the_server_that_started_it_is_killed(committed, tmp_path: Path):
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"))
    job_id = _queue(engine, settings, _streets(30_000, pci=20))
    server = subprocess.Popen([sys.executable, "-c", _SERVER, url, settings.work_dir],
                              cwd=Path(__file__).resolve().parents[1], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while not (children := _children_of(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert children, "the server started no process for the job"
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        deadline = time.monotonic() + 45
        while Path(f"/proc/{children[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{children[0]}").exists(), "the job's process outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
    with new_session(engine) as session:
        assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 0  # nothing written
        assert session.get(ImportJob, job_id).state == JobState.running.value  # failed as stale by the next worker


def test_a_job_whose_process_cannot_start_fails_at_once_and_says_why(committed, tmp_path: Path, monkeypatch):
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"), job_poll_s=0.05)

    def no_memory(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(jobs.subprocess, "Popen", no_memory)
    job_id = _queue(engine, settings, _streets(10))
    worker = jobs.Worker(engine, settings)
    worker.start()
    try:
        failed = _until(engine, job_id, ("done", "failed"), within_s=30)
    finally:
        worker.stop()
    assert failed.message == ("The import could not start: the server could not start a process for it (Cannot "
                              "allocate memory). Nothing was written to the layer. Start the import again.")


def test_a_job_checking_a_large_file_leaves_the_site_free_to_write(committed, tmp_path: Path, monkeypatch):
    """On SpatiaLite the import job stages the file's rows in a temporary table: while it reads and checks, other
    connections (a sign-in, a saved proposal) write as usual; its write lock is taken for the comparison and
    the write alone. The staged rows outlive the job's progress commits (its connection is pinned)."""
    url, engine = committed
    settings = ImportSettings(work_dir=str(tmp_path / "imports"))
    monkeypatch.setattr(service.sources, "BATCH", 50)
    job_id = _queue(engine, settings, _streets(400, pci=60))
    waits: list[float] = []
    real = service.Checker.check

    def check_and_write_elsewhere(self, batch):  # type: ignore[no-untyped-def]
        with new_session(engine, write=True) as other:  # BEGIN IMMEDIATE: would wait while the job held the lock
            started = time.monotonic()
            other.execute(update(ImportJob).where(ImportJob.id == -1).values(message="x"))
            other.commit()
            waits.append(time.monotonic() - started)
        return real(self, batch)

    monkeypatch.setattr(service.Checker, "check", check_and_write_elsewhere)
    jobs.run_next(sessions=lambda: new_session(engine), settings=settings, worker="w",
                  job_sessions=lambda: new_session(engine, write=True))
    with new_session(engine) as session:
        job = session.get(ImportJob, job_id)
        assert job is not None and job.state == "done", job and job.message
        assert session.exec(select(func.count()).select_from(PavementSegment)).one() == 400
    assert len(waits) == 8 and max(waits) < 1.0, waits
