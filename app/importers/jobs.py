"""Import jobs: an import confirmed on the staff page runs in the background, its state in the database.

``enqueue`` records the job (table ``import_job``: state queued → running → done or failed, the
stage — reading, checking, writing — with done/total, a message, the result, who and when). Worker
threads of the server (``Worker``, started with the app) ``claim`` queued jobs: ``SELECT … FOR UPDATE
SKIP LOCKED`` on PostGIS, an ``UPDATE … WHERE state = 'queued'`` that only one claimer can win on
SpatiaLite, so two workers never run one job. A running job's worker writes a heartbeat every
``job_heartbeat_s``; a job whose heartbeat is older than ``job_stale_s`` lost its worker (the server
stopped or was killed) and is marked failed by whoever finds it. Its layer is as it was: the write
is one transaction (``app/layers/store.write_layer``). The worker thread runs each claimed job in a
Python process of its own (``settings.imports.job_process``, on by default) and beats for it: the
import's CPU stays apart from the server's requests and its memory is given back when it ends; a
process that dies (out of memory, killed) fails its job with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.db import make_engine, new_session, pinned, writing
from app.importers import service, uploads
from app.importers.report import ImportFailed
from app.settings import PROJECT_ROOT, ImportSettings, get_settings
from models.accounts import User
from models.base import utcnow
from models.imports import ImportJob, JobState
from models.layers import Layer, LayerKind

log = logging.getLogger(__name__)
STAGES = ("reading", "checking", "writing")
STOPPED = ("The import stopped before it finished: the server running it was stopped or restarted. Nothing was "
           "written to the layer. Start the import again.")
Sessions = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class StageView:
    name: str
    status: str  # done, current, waiting


@dataclass(frozen=True)
class JobView:
    """What the progress page shows."""

    id: int
    kind_title: str
    name: str
    state: str
    finished: bool
    stage: str | None
    done: int
    total: int
    stages: list[StageView]
    message: str | None
    result: dict[str, Any] | None
    upload_token: str  # the waiting upload it imports (the staff member's session names it until it is done)
    preview: bool = False  # a check for the preview page, not an import

    @property
    def checking_percent(self) -> int:
        """A preview job's progress: reading the first 15 %, checking up to 70 %, comparing the rest."""
        return self._progress({"reading": (0, 15), "checking": (15, 55), "comparing": (70, 30)})

    @property
    def percent(self) -> int:
        """Overall progress: reading is the first tenth, checking up to 60 %, writing the rest."""
        return self._progress({"reading": (0, 10), "checking": (10, 50), "writing": (60, 40)})

    def _progress(self, spans: dict[str, tuple[int, int]]) -> int:
        """Percent done, each stage spanning (start, width) of the bar."""
        if self.state == JobState.done.value:
            return 100
        start, width = spans.get(self.stage or "", (0, 0))
        return start + (width * self.done // self.total if self.total else 0)


def enqueue(*, session: Session, pending: uploads.PendingImport, actor: User | None, skip_invalid: bool,
            allow_unlinking: bool, expected_unlinking: int | None, new_area: bool) -> ImportJob:
    """Queue the waiting import; a worker picks it up within ``job_poll_s``. Its checks are forgotten."""
    forget_previews(session=session, pending=pending, actor=actor)
    job = _job(session, pending, actor, skip_invalid=skip_invalid, allow_unlinking=allow_unlinking,
               expected_unlinking=expected_unlinking, new_area=new_area)
    session.commit()
    return job


def _job(session: Session, pending: uploads.PendingImport, actor: User | None, **choices: Any) -> ImportJob:
    """A queued job for the waiting upload, added to the session: ``choices`` go into its request beside it."""
    job = ImportJob(kind=pending.kind, name=pending.name[:2000], created_by_id=actor.id if actor else None,
                    request={"pending": asdict(pending), **choices})
    session.add(job)
    session.flush()
    return job


PREVIEW_KEPT_S = 600  # a check shown again within this time; later the layer and proposals may have moved on


def preview_job(*, session: Session, pending: uploads.PendingImport, actor: User) -> ImportJob:
    """The job checking the waiting upload as it stands — its file, the choices made on the preview and the
    layer's revision — queued now if there is none, if the last check ended over ``PREVIEW_KEPT_S`` ago or was
    stopped by a restart (any other failure is shown, with "Check again": ``forget_previews``). One unit of
    work of its own (BEGIN IMMEDIATE on SQLite: two tabs queue one check)."""
    session.commit()  # end the request's reads: the unit of work below starts from the latest data
    with writing(session):
        key = _preview_key(pending, _revision(session, pending.kind))
        fresh = utcnow() - timedelta(seconds=PREVIEW_KEPT_S)
        for job in _previews(session, actor, pending.kind):
            if job.request.get("preview_key") != key:
                continue
            ended_long_ago = job.finished_at is not None and job.finished_at < fresh
            if not ended_long_ago and job.message != STOPPED:  # a restart stopped it: check again by itself
                return job
            break
        for job in _previews(session, actor, pending.kind):  # this upload's other checks are superseded
            if _token(job) == pending.token and job.state != JobState.running.value:
                session.delete(job)
        job = _job(session, pending, actor, skip_invalid=False, allow_unlinking=False, expected_unlinking=None,
                   new_area=False, preview=True, preview_key=key)
    return job


def forget_previews(*, session: Session, pending: uploads.PendingImport | None, actor: User | None) -> None:
    """Delete the checks of an upload being imported, cancelled or replaced (their results served its preview
    only: a large file's sample, problems and map), and this staff member's checks that ended more than a day
    ago (``work_max_age_s``-old uploads are gone too). A running check ends by itself. The caller commits."""
    if actor is None:
        return
    old = utcnow() - timedelta(days=1)
    for job in _previews(session, actor, None):
        if job.state == JobState.running.value:
            continue
        if (pending is not None and _token(job) == pending.token) or (job.finished_at and job.finished_at < old):
            session.delete(job)


def _previews(session: Session, actor: User, kind: str | None) -> list[ImportJob]:
    query = select(ImportJob).where(col(ImportJob.created_by_id) == actor.id)
    if kind is not None:
        query = query.where(col(ImportJob.kind) == kind)
    return [job for job in session.exec(query.order_by(col(ImportJob.id).desc()).limit(50))
            if job.request.get("preview")]


def _token(job: ImportJob) -> str | None:
    return (job.request.get("pending") or {}).get("token")


def _revision(session: Session, kind: str) -> int:
    layer = session.get(Layer, kind)
    return layer.revision if layer is not None else 0


def _preview_key(pending: uploads.PendingImport, revision: int) -> str:
    return hashlib.sha256(json.dumps([asdict(pending), revision], sort_keys=True).encode()).hexdigest()


def fail_stale(*, session: Session, stale_s: float) -> int:
    """Mark running jobs whose worker stopped beating as failed; returns how many."""
    cutoff = utcnow() - timedelta(seconds=stale_s)
    running = col(ImportJob.state) == JobState.running.value
    stale = list(session.exec(select(ImportJob.id).where(running, col(ImportJob.heartbeat_at) < cutoff)))
    session.rollback()  # end the read, so the update below starts from the latest data (SQLite)
    if not stale:
        return 0
    result = session.exec(update(ImportJob).where(col(ImportJob.id).in_(stale), running,
                                                  col(ImportJob.heartbeat_at) < cutoff)
                          .values(state=JobState.failed.value, message=STOPPED, finished_at=utcnow()))
    session.commit()
    return int(result.rowcount or 0)


def claim(*, session: Session, worker: str) -> ImportJob | None:
    """Take the oldest queued job for ``worker``, or None. Never the same job for two claimers."""
    now = utcnow()
    queued = col(ImportJob.state) == JobState.queued.value
    if session.get_bind().dialect.name == "postgresql":
        job = session.exec(select(ImportJob).where(queued).order_by(col(ImportJob.id)).limit(1)
                           .with_for_update(skip_locked=True)).first()
        if job is None:
            session.rollback()
            return None
        job.state, job.worker, job.started_at, job.heartbeat_at = JobState.running.value, worker, now, now
        session.add(job)
        session.commit()
        return job
    candidates = list(session.exec(select(ImportJob.id).where(queued).order_by(col(ImportJob.id)).limit(10)))
    session.rollback()  # the update must not run in the read's snapshot
    for job_id in candidates:
        won = session.exec(update(ImportJob).where(col(ImportJob.id) == job_id, queued)
                           .values(state=JobState.running.value, worker=worker, started_at=now, heartbeat_at=now))
        session.commit()
        if won.rowcount == 1:
            return session.get(ImportJob, job_id, populate_existing=True)
    return None


def run(job: ImportJob, *, session: Session, settings: ImportSettings) -> ImportJob:
    """Run a claimed job to done or failed, recording its stages as it goes: on one connection from start to end,
    as the import's scratch table lives on it while the stages are committed."""
    session.commit()  # the caller's reads end (on SQLite a writing session's would hold the write lock)
    with pinned(session) as held:
        found = held.get(ImportJob, job.id) if held is not session else job
        return _run(found or job, session=held, settings=settings)


def _run(job: ImportJob, *, session: Session, settings: ImportSettings) -> ImportJob:
    request = job.request
    pending = uploads.PendingImport(**request["pending"])
    actor = session.get(User, job.created_by_id) if job.created_by_id else None
    last = [0.0]

    def stage(name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if name == job.stage and done != total and now - last[0] < 0.5:
            return
        session.commit()  # the unit of work so far ends first: the update below is the first statement of its own
        job.stage, job.done, job.total, job.heartbeat_at = name, done, total, utcnow()
        session.add(job)
        session.commit()
        last[0] = now

    if request.get("preview"):
        return _check(job, pending, session=session, settings=settings, stage=stage)

    def record_done(outcome: service.ImportResult) -> None:
        """The job is done in the layer's own unit of work: killed a moment later, it still says what it did."""
        report = outcome.report
        skipped = f", skipped {report.rejected_count:,} rows" if report.rejected_count else ""
        message = (f"Imported {report.valid:,} features into {outcome.layer.title}{skipped} "
                   f"(revision {outcome.layer.revision}). {outcome.rows_note or ''}").strip()
        result = {"revision": outcome.layer.revision, "features": outcome.layer.feature_count,
                  "imported": report.valid, "skipped": report.rejected_count, "links_note": outcome.links_note}
        if not _record(session, job, JobState.done, message, result):
            log.warning("import job %s: no longer running as this worker's (ended elsewhere); writing nothing", job.id)
            raise ImportFailed("This job was ended elsewhere while it ran (taken for stopped); nothing was "
                               "written by it.")

    try:
        service.import_layer(
            session=session, source=pending.source, options=pending.options(skip_invalid=bool(request["skip_invalid"])),
            actor=actor, settings=settings, work_dir=Path(pending.directory) / "work", name=pending.name,
            allow_unlinking=bool(request["allow_unlinking"]), expected_unlinking=request.get("expected_unlinking"),
            new_area=bool(request["new_area"]), stage=stage, on_written=record_done)
    except ImportFailed as problem:
        session.rollback()
        details = problem.report.as_dict() if problem.report is not None else None
        return _finish(session, job, JobState.failed, f"Nothing was imported. {problem}", {"report": details})
    except Exception:  # a bug or the database gone: the job says so; the layer is as it was
        session.rollback()
        log.exception("import job %s failed", job.id)
        return _finish(session, job, JobState.failed, "The import failed unexpectedly; nothing was written to the "
                       "layer. The error is in the server's log.", None)
    session.commit()  # the last stage's progress (the job itself was done with the layer)
    uploads.discard(pending)
    return session.get(ImportJob, job.id, populate_existing=True) or job


def _check(job: ImportJob, pending: uploads.PendingImport, *, session: Session, settings: ImportSettings,
           stage: service.Stage) -> ImportJob:
    """A preview job: check the waiting upload as the preview page would, and keep what it found (and its
    map) in the job's result for the page to show. Nothing is written."""
    from app.importers import preview_result
    from app.importers.preview_map import preview_map

    try:
        uploads.fetch_if_remote(pending, settings=settings)
        found = service.preview(pending.source, pending.options(), session=session, settings=settings,
                                work_dir=Path(pending.directory) / "work", name=pending.name, stage=stage)
        drawn = preview_map(session=session, kind=LayerKind(pending.kind), geometries=found.drawn,
                            total=found.valid)
        result = preview_result.as_result(found, drawn)
        json.dumps(result, allow_nan=False)  # what the database will keep: JSON, no NaN (PostgreSQL refuses it)
    except ImportFailed as problem:
        session.rollback()
        details = problem.report.as_dict() if problem.report is not None else None
        return _finish(session, job, JobState.failed, str(problem), {"report": details})
    except Exception:
        session.rollback()
        log.exception("preview job %s failed", job.id)
        return _finish(session, job, JobState.failed, "Checking the file failed unexpectedly; nothing was written. "
                       "The error is in the server's log.", None)
    return _finish(session, job, JobState.done, "Checked.", result, last="comparing")


def _finish(session: Session, job: ImportJob, state: JobState, message: str,
            result: dict[str, Any] | None, *, last: str = "writing") -> ImportJob:
    """Record how the job ended, in a unit of work of its own (see ``_record``)."""
    session.rollback()
    _record(session, job, state, message, result, last=last)
    session.commit()
    return session.get(ImportJob, job.id, populate_existing=True) or job


def _record(session: Session, job: ImportJob, state: JobState, message: str, result: dict[str, Any] | None,
            *, last: str = "writing") -> bool:
    """Write how the job ended — only by its own worker, and only while it is running or was taken for
    stopped while it was in fact still writing (a long SQLite write holds off its heartbeats); False
    when it is not this worker's to end. ``last``: the job's last stage (a preview's is checking)."""
    values: dict[str, Any] = {"state": state.value, "message": message, "result": result,
                              "finished_at": utcnow(), "heartbeat_at": utcnow()}
    if state is JobState.done:
        values.update(stage=last, done=1, total=1)
    mine = (col(ImportJob.id) == job.id) & (col(ImportJob.worker) == job.worker) & (
        (col(ImportJob.state) == JobState.running.value)
        | ((col(ImportJob.state) == JobState.failed.value) & (col(ImportJob.message) == STOPPED)))
    return bool(session.exec(update(ImportJob).where(mine).values(**values)).rowcount)


def run_next(*, sessions: Sessions, settings: ImportSettings, worker: str,
             beat: Callable[[int], AbstractContextManager[None]] | None = None,
             job_sessions: Sessions | None = None) -> ImportJob | None:
    """Fail stale jobs, claim the next one and run it; None when nothing is queued. ``job_sessions``: the
    session to run a claimed job in (a writing one: on SQLite each of its units of work then holds the write
    lock from its first read, so the heartbeat committing meanwhile cannot make it fail), else the one
    ``sessions`` gave."""
    with sessions() as session:
        fail_stale(session=session, stale_s=settings.job_stale_s)
        job = claim(session=session, worker=worker)
        if job is None:
            return None
        assert job.id is not None
        if job_sessions is None or job.request.get("preview"):  # a preview only reads: no write lock
            return _run_beating(job, session, settings, beat)
    with job_sessions() as writer:
        claimed = writer.get(ImportJob, job.id)
        assert claimed is not None
        return _run_beating(claimed, writer, settings, beat)


def _run_beating(job: ImportJob, session: Session, settings: ImportSettings,
                 beat: Callable[[int], AbstractContextManager[None]] | None) -> ImportJob:
    assert job.id is not None
    if beat is None:
        return run(job, session=session, settings=settings)
    with beat(job.id):
        return run(job, session=session, settings=settings)


def view(*, session: Session, job_id: int) -> JobView | None:
    """The job as its progress page shows it. Reading writes nothing: the workers' loop marks a job
    whose worker died as failed."""
    job = session.get(ImportJob, job_id, populate_existing=True)
    if job is None:
        return None
    finished = job.state in (JobState.done.value, JobState.failed.value)
    current = STAGES.index(job.stage) if job.stage in STAGES else -1
    stages = []
    for index, name in enumerate(STAGES):
        if job.state == JobState.done.value or index < current:
            status = "done"
        elif index == current and not finished:
            status = "current"
        else:
            status = "waiting"
        stages.append(StageView(name, status))
    return JobView(job.id or 0, LayerKind(job.kind).title, job.name, job.state, finished, job.stage, job.done,
                   job.total, stages, job.message, job.result, str(job.request["pending"]["token"]),
                   bool(job.request.get("preview")))


class _Heartbeat:
    """Beats for one running job from its own connection until the job ends."""

    def __init__(self, engine: Engine, job_id: int, every_s: float) -> None:
        self.engine, self.job_id, self.every_s = engine, job_id, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                with new_session(self.engine) as session:
                    session.execute(update(ImportJob).where(col(ImportJob.id) == self.job_id,
                                                            col(ImportJob.state) == JobState.running.value)
                                    .values(heartbeat_at=utcnow()))
                    session.commit()
            except Exception:  # the next beat tries again; a job that stays silent is failed as stale
                log.warning("import job %s: heartbeat failed", self.job_id, exc_info=True)


class Worker:
    """A thread of the server that runs queued import jobs, one at a time."""

    def __init__(self, engine: Engine, settings: ImportSettings, number: int = 1) -> None:
        self.engine, self.settings = engine, settings
        self.process: subprocess.Popen[bytes] | None = None  # the running job's own process
        self.name = f"{socket.gethostname()}:{os.getpid()}:{number}"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"import-worker-{number}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.settings.job_process:
                    ran = self._next_in_a_process()
                else:
                    ran = run_next(sessions=lambda: new_session(self.engine), settings=self.settings,
                                   worker=self.name,
                                   beat=lambda job_id: _Heartbeat(self.engine, job_id, self.settings.job_heartbeat_s),
                                   job_sessions=lambda: new_session(self.engine, write=True))
            except Exception:  # the database away for a moment: try again after the pause
                log.warning("import worker %s: could not look for jobs", self.name, exc_info=True)
                ran = None
            if ran is None:
                self.stopping.wait(self.settings.job_poll_s)

    def _next_in_a_process(self) -> ImportJob | None:
        """Claim the next job and run it in a Python process of its own, beating for it meanwhile: the
        import's CPU never competes with the server's requests for the interpreter, and the memory a large
        file takes is given back when the process ends. A process that ends without finishing its job
        (killed, out of memory) fails the job with a clear message; the layer is as it was."""
        with new_session(self.engine) as session:
            fail_stale(session=session, stale_s=self.settings.job_stale_s)
            job = claim(session=session, worker=self.name)
        if job is None or job.id is None:
            return None
        with _Heartbeat(self.engine, job.id, self.settings.job_heartbeat_s):
            code = self._run_process(job.id)
        with new_session(self.engine) as session:
            ended = session.get(ImportJob, job.id, populate_existing=True) or job
            if ended.state == JobState.running.value:
                log.error("import job %s: its process ended (exit code %s) before the job did", job.id, code)
                message = STOPPED if self.stopping.is_set() else (
                    "The import could not start: the server could not start a process for it (" + code + "). "
                    "Nothing was written to the layer. Start the import again." if isinstance(code, str) else
                    f"The import stopped unexpectedly: the process running it ended (exit code {code}), for "
                    "example out of memory. Nothing was written to the layer. Start the import again; if it "
                    "happens again, the server's log has more.")
                ended = _finish(session, ended, JobState.failed, message, None)
            return ended

    def _run_process(self, job_id: int) -> int | str:
        """Run the job in its own process until it ends: its exit code, or why it could not start. The
        process inherits the server's working directory and environment (the same database and settings)."""
        path = os.environ.get("PYTHONPATH")
        environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT) + (os.pathsep + path if path else "")}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from app.importers.jobs import run_in_this_process; run_in_this_process()"],
                stdin=subprocess.PIPE, env=environment)
            assert self.process.stdin is not None
            with self.process.stdin:  # on stdin, not the command line: the URL may hold a password
                self.process.stdin.write(json.dumps({
                    "url": self.engine.url.render_as_string(hide_password=False), "job": job_id,
                    "server": os.getpid(), "settings": self.settings.model_dump(mode="json")}).encode())
        except OSError as error:  # no memory to start it, or it died at once
            log.exception("import job %s: could not start its process", job_id)
            if self.process is not None and self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            return error.strerror or type(error).__name__
        while True:
            try:
                return self.process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if self.stopping.is_set():  # the server is stopping: so does its import
                    self.process.terminate()


def run_in_this_process() -> None:
    """A job's own process (``Worker._next_in_a_process``): its database, settings and job id come on stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops this process itself
    logging.basicConfig(level=get_settings().log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    asked = json.loads(sys.stdin.read())
    parent = int(asked["server"])  # not os.getppid() now: the server may be gone already

    def orphaned() -> None:  # the server was killed: stop too (the transaction rolls back), as a thread would
        while os.getppid() == parent:
            time.sleep(1)
        log.error("import job %s: the server that started it is gone; stopping", asked["job"])
        os._exit(1)

    threading.Thread(target=orphaned, name="import-job-parent-watch", daemon=True).start()
    engine = make_engine(asked["url"])
    try:
        with new_session(engine) as session:
            job = session.get(ImportJob, asked["job"])
            checking = bool(job is not None and job.request.get("preview"))
        with new_session(engine, write=not checking) as session:  # a preview only reads: no write lock
            job = session.get(ImportJob, asked["job"])
            if job is not None and job.state == JobState.running.value:
                run(job, session=session, settings=ImportSettings.model_validate(asked["settings"]))
    finally:
        engine.dispose()
