"""Pre-rendering a layer's low zooms into the shared disk cache when a worker sees a new version.

As in tests/test_tile_cache.py, "workers" are applications on their own engines sharing one committed
database and one cache directory; an import elsewhere is plain SQL on a third connection.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.db import make_engine
from app.main import create_app
from app.tiles import postgis, spatialite
from app.tiles.grid import TileAddress
from app.tiles.service import TileServer, encoder_key, plan_tile, render_tile
from tests import test_tile_cache
from tests.conftest import make_settings
from tests.layer_data import tile_of

BBOX = (-71.10, 42.32, -71.01, 42.39)  # load_city's layer extent
committed = test_tile_cache.committed  # the same committed city fixture, on both databases


def _expected(min_zoom: int, max_zoom: int) -> set[str]:
    tiles = set()
    for z in range(min_zoom, max_zoom + 1):
        _, west, north = tile_of(BBOX[0], BBOX[3], z)
        _, east, south = tile_of(BBOX[2], BBOX[1], z)
        tiles |= {f"{z}/{x}/{y}" for x in range(west, east + 1) for y in range(north, south + 1)}
    return tiles


def _worker(url: str, cache_dir: Path, **tiles: Any) -> TestClient:
    settings = make_settings(url)
    settings.tiles.cache_dir = str(cache_dir)
    settings.tiles.revision_ttl_s = 600
    for name, value in tiles.items():
        setattr(settings.tiles, name, value)
    return TestClient(create_app(settings, engine=make_engine(url), check_schema=False), base_url="http://testserver")


def _server(client: TestClient) -> TileServer:
    return client.app.state.tiles  # type: ignore[attr-defined]


def _notice(client: TestClient) -> str:
    """A request that reads the layers' versions (the worker notices any new one); the pavement tag."""
    [template] = client.get("/tiles/pavement.json").json()["tiles"]
    return str(template.split("v=")[1])


def _resurvey_elsewhere(url: str, pci: int) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE pavement_segment SET pci = :pci WHERE street_name = 'ELM ST'"), {"pci": pci})
        connection.execute(text("UPDATE layer SET revision = revision + 1 WHERE kind = 'pavement'"))
    engine.dispose()


def _tag_in_database(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        revision, key = connection.execute(text("SELECT revision, tile_key FROM layer WHERE kind = 'pavement'")).one()
    engine.dispose()
    return f"{revision}-{key}" if key else str(revision)


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _idle(client: TestClient) -> None:
    prerender = _server(client).prerender
    assert prerender is not None
    _wait(prerender.idle)


def _version_dir(client: TestClient, tag: str) -> Path:
    cache = _server(client).cache
    assert cache is not None
    return cache.root / "pavement" / tag


def _cached(client: TestClient, tag: str) -> dict[str, Path]:
    """The pavement tiles cached at ``tag``, by address."""
    directory = _version_dir(client, tag)
    return {"/".join(p.relative_to(directory).with_suffix("").parts[1:]): p for p in directory.glob("*/*/*/*.mvt")}


def _done(client: TestClient, tag: str) -> bool:
    return any(_version_dir(client, tag).glob(".prerender-*.done"))


def _elm_pcis(content: bytes) -> set[int]:
    if not content:
        return set()
    features = mapbox_vector_tile.decode(content).get("pavement", {}).get("features", [])
    return {f["properties"].get("pci") for f in features if f["properties"].get("street") == "ELM ST"}


def test_a_new_version_s_low_zooms_are_in_the_cache_before_anyone_asks(committed: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with _worker(committed, tmp_path / "tiles") as worker:
        first = _notice(worker)  # a worker's first read: the current versions are pre-rendered too
        _wait(lambda: _done(worker, first))
        assert set(_cached(worker, first)) == _expected(11, 13)
        _resurvey_elsewhere(committed, 12)
        tag = _notice(worker)
        assert tag != first
        _wait(lambda: _done(worker, tag))
        cached = _cached(worker, tag)
        assert set(cached) == _expected(11, 13)  # pavement starts at zoom 11; up to prerender_max_zoom
        assert not (_server(worker).cache.root / "sidewalk").exists()  # type: ignore[union-attr]  # from 14
        server = _server(worker)
        tiles = worker.app.state.settings.tiles  # type: ignore[attr-defined]
        engine = make_engine(committed)
        with Session(engine) as session:  # exactly what a request draws for this version
            for address, path in cached.items():
                z, x, y = map(int, address.split("/"))
                plan = plan_tile(versions=server.read(session), tiles=tiles, dialect=server.dialect,
                                 layer_id="pavement", z=z, x=x, y=y)
                assert plan.version.tag == tag
                assert path.read_bytes() == render_tile(session=session, tiles=tiles, plan=plan), address
        engine.dispose()
        assert any(_elm_pcis(path.read_bytes()) == {12} for path in cached.values())

        def no_drawing(**_: Any) -> Any:
            raise AssertionError("drawn, not read from the cache")

        monkeypatch.setattr(postgis, "encode", no_drawing)
        monkeypatch.setattr(spatialite, "encode", no_drawing)
        z, x, y = tile_of(-71.0925, 42.3830, 12)
        response = worker.get(f"/tiles/pavement/{z}/{x}/{y}.mvt?v={tag}")
        assert response.status_code == 200 and response.content == cached[f"{z}/{x}/{y}"].read_bytes()
        assert _elm_pcis(response.content) == {12}


def test_a_change_while_pre_rendering_never_leaves_old_data_under_the_new_version(
        committed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = threading.Event()
    originals = {module: module.encode for module in (postgis, spatialite)}

    def import_meanwhile(module: Any) -> Callable[..., Any]:
        def encode(**options: Any) -> Any:
            if (threading.current_thread().name == "tile-prerender" and options["spec"].id == "pavement"
                    and not changed.is_set()):
                _resurvey_elsewhere(committed, 12)  # commits between the pre-render's version read and its draw
                changed.set()
            return originals[module](**options)
        return encode

    for module in originals:
        monkeypatch.setattr(module, "encode", import_meanwhile(module))
    old = _tag_in_database(committed)
    with _worker(committed, tmp_path / "tiles") as worker:  # at start, it pre-renders the current versions
        _wait(changed.is_set)
        _idle(worker)
        old_tiles = _cached(worker, old)
        for path in old_tiles.values():
            assert _elm_pcis(path.read_bytes()) <= {31}
        assert not _done(worker, old) and len(old_tiles) < len(_expected(11, 13)), "the rest was dropped"
        new = _notice(worker)
        assert new != old
        _wait(lambda: _done(worker, new))
        cached = _cached(worker, new)
        assert set(cached) == _expected(11, 13)
        for path in cached.values():
            assert _elm_pcis(path.read_bytes()) <= {12}
        assert any(_elm_pcis(path.read_bytes()) == {12} for path in cached.values())


def test_a_second_worker_does_not_redo_the_work(committed: str, tmp_path: Path) -> None:
    cache = tmp_path / "shared-tiles"
    with _worker(committed, cache) as a:
        tag = _notice(a)
        _wait(lambda: _done(a, tag))
        _idle(a)
        before = {address: path.stat().st_ino for address, path in _cached(a, tag).items()}
        assert set(before) == _expected(11, 13)
        with _worker(committed, cache) as b:
            assert _notice(b) == tag
            _idle(b)
            assert _server(b).prerender.drawn == 0  # type: ignore[union-attr]
            assert {address: path.stat().st_ino for address, path in _cached(b, tag).items()} == before

            # while one worker pre-renders a version (it holds the lock), another skips it
            _resurvey_elsewhere(committed, 12)
            new = _tag_in_database(committed)
            directory = _version_dir(a, new)
            directory.mkdir(parents=True)
            encoder = encoder_key(tiles=a.app.state.settings.tiles, dialect=_server(a).dialect)  # type: ignore[attr-defined]
            with open(directory / f".prerender-{encoder}.lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "another worker" at work
                drawn = _server(b).prerender.drawn  # type: ignore[union-attr]
                assert _notice(b) == new
                _idle(b)
                assert _server(b).prerender.drawn == drawn and _cached(b, new) == {}  # type: ignore[union-attr]
            assert not _done(b, new)


def test_pre_rendering_is_off_at_zero(committed: str, tmp_path: Path) -> None:
    with _worker(committed, tmp_path / "tiles", prerender_max_zoom=0) as worker:
        assert _server(worker).prerender is None
        tag = _notice(worker)
        time.sleep(0.3)
        assert not _version_dir(worker, tag).exists()
        z, x, y = tile_of(-71.0925, 42.3830, 12)
        assert worker.get(f"/tiles/pavement/{z}/{x}/{y}.mvt?v={tag}").status_code == 200  # drawn on request
        assert set(_cached(worker, tag)) == {f"{z}/{x}/{y}"}


def test_the_tiles_over_an_extent_stop_at_the_last_whole_zoom_within_the_limit() -> None:
    from app.tiles.prerender import covering

    world = (-180.0, -85.0, 180.0, 85.0)
    assert [str(a) for a in covering(world, range(0, 3), limit=5)] == ["0/0/0", "1/0/0", "1/0/1", "1/1/0", "1/1/1"]
    assert list(covering(BBOX, range(11, 14))) == [
        TileAddress(*map(int, a.split("/"))) for a in sorted(_expected(11, 13), key=lambda a: (
            int(a.split("/")[0]), int(a.split("/")[1]), int(a.split("/")[2])))]
