"""The shared tile cache: never a tile of an older revision, on both databases, across workers.

"Workers" here are two applications on their own engines (as two processes would be) sharing one
committed database and one cache directory; a change made with plain SQL on a third connection
reaches them only the way another process's import would (NOTIFY on PostGIS, the file on SpatiaLite).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import text
from sqlmodel import Session

from app.db import make_engine
from app.layers.store import FeatureRecord, write_layer
from app.main import create_app
from app.tiles.memory import HotTile, TileMemory
from models.layers import LayerKind
from tests.conftest import fresh_database, make_settings, sign_in
from tests.layer_data import CENTRE, load_city, tile_of

IMMUTABLE = "public, max-age=31536000, immutable"


def _url(z: int = 14) -> str:
    z, x, y = tile_of(*CENTRE, z)
    return f"/tiles/pavement/{z}/{x}/{y}.mvt"


def _pcis(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    features = mapbox_vector_tile.decode(response.content)["pavement"]["features"]
    return sorted(f["properties"].get("pci", -1) for f in features)


def _template(client: TestClient) -> str:
    [template] = client.get("/tiles/pavement.json").json()["tiles"]
    return template.removeprefix("http://testserver")


def _revisioned(client: TestClient, z: int = 14) -> str:
    z, x, y = tile_of(*CENTRE, z)
    return _template(client).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def test_tilejson_urls_are_immutable_and_the_plain_url_revalidates(client: TestClient, city_loaded) -> None:
    revisioned = _revisioned(client)
    first = client.get(revisioned)
    assert first.headers["Cache-Control"] == IMMUTABLE
    again = client.get(revisioned)  # now from the cache, on the lean path
    assert again.content == first.content and again.headers["Cache-Control"] == IMMUTABLE
    plain = client.get(_url())
    assert plain.content == first.content and plain.headers["Cache-Control"] == "public, max-age=60, must-revalidate"
    assert client.get(_url(), headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    for response in (first, again, plain):  # a tile is the same for everyone: small headers, no cookies
        assert "vary" not in response.headers and "set-cookie" not in response.headers
        assert "content-security-policy" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_signed_in_viewer_gets_the_same_public_tile(client: TestClient, city_loaded, resident) -> None:
    anonymous = client.get(_url())
    sign_in(client, "resident@example.org")
    mine = client.get(_url())
    assert mine.content == anonymous.content and "vary" not in mine.headers


def test_after_a_change_an_old_version_url_gets_the_new_tile_briefly_cached(
        client: TestClient, session: Session, city_loaded, settings) -> None:
    old_url = _revisioned(client)
    assert _pcis(client.get(old_url)) == [-1, 31, 73]
    lon, lat = CENTRE
    write_layer(session=session, kind=LayerKind.pavement, source="resurvey.geojson", actor=None, records=[
        FeatureRecord(MultiLineString([LineString([(lon, lat), (lon + 0.002, lat)])]),
                      {"street_name": "MAIN ST", "functional_class": "arterial", "pci": 95.0})])
    stale = client.get(old_url)
    assert _pcis(stale) == [95]
    assert stale.headers["Cache-Control"] == "public, max-age=60, must-revalidate"  # never a year for old URLs
    new_url = _revisioned(client)
    assert new_url != old_url
    fresh = client.get(new_url)
    assert _pcis(fresh) == [95] and fresh.headers["Cache-Control"] == IMMUTABLE
    old_tag = old_url.split("v=")[1]
    cached_under_old = list(Path(settings.tiles.cache_dir).glob(f"*/pavement/{old_tag}/**/*.mvt"))
    assert cached_under_old == [] or all(p.read_bytes() != fresh.content for p in cached_under_old)


@pytest.fixture
def city_loaded(session: Session, settings, tmp_path: Path) -> dict[str, list[int]]:
    settings.tiles.cache_dir = str(tmp_path / "tiles")
    return load_city(session)


# Two workers on one committed database ------------------------------------------------------------

@pytest.fixture(params=["spatialite", "postgis"])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url, remove = fresh_database(request.param, tmp_path)
    engine = make_engine(url)
    with Session(engine) as session:
        load_city(session)
        session.commit()
    engine.dispose()
    yield url
    remove()  # type: ignore[operator]


def _worker(url: str, cache_dir: Path) -> TestClient:
    settings = make_settings(url)
    settings.tiles.cache_dir = str(cache_dir)
    settings.tiles.revision_ttl_s = 600  # a change must be pushed, not waited for
    return TestClient(create_app(settings, engine=make_engine(url), check_schema=False), base_url="http://testserver")


def _resurvey_elsewhere(url: str, pci: int) -> None:
    """What another process's import does to the tables: new data, the revision bumped, committed."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE pavement_segment SET pci = :pci WHERE street_name = 'ELM ST'"), {"pci": pci})
        connection.execute(text("UPDATE layer SET revision = revision + 1 WHERE kind = 'pavement'"))
    engine.dispose()


def test_two_workers_share_the_cache_and_never_serve_an_older_revision(committed: str, tmp_path: Path) -> None:
    cache = tmp_path / "shared-tiles"
    with _worker(committed, cache) as a, _worker(committed, cache) as b:
        assert _pcis(a.get(_url())) == [-1, 31, 73]
        assert list(cache.rglob("*.mvt")), "worker A cached the tile"
        assert _pcis(b.get(_url())) == [-1, 31, 73]
        seen: dict[str, set[tuple[int, ...]]] = {}
        stop = threading.Event()

        def load(client: TestClient) -> None:
            while not stop.is_set():
                response = client.get(_url())
                seen.setdefault(response.headers["ETag"], set()).add(tuple(_pcis(response)))

        threads = [threading.Thread(target=load, args=(c,)) for c in (a, b)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        _resurvey_elsewhere(committed, 12)
        deadline = time.monotonic() + 5
        try:
            while time.monotonic() < deadline and not all(
                    _pcis(c.get(_url())) == [-1, 12, 73] for c in (a, b)):
                time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        for client in (a, b):
            assert _pcis(client.get(_url())) == [-1, 12, 73]  # within seconds, not the 600 s safety net
            assert _pcis(client.get(_revisioned(client))) == [-1, 12, 73]
        # under load, every ETag always came with one content: no tile of the old revision under the new one
        assert all(len(contents) == 1 for contents in seen.values()), seen
        assert {(-1, 31, 73), (-1, 12, 73)} <= {c for contents in seen.values() for c in contents}


def test_a_tilejson_read_after_an_import_elsewhere_leads_to_the_new_tiles_at_once(committed: str,
                                                                                  tmp_path: Path) -> None:
    cache = tmp_path / "shared-tiles"
    with _worker(committed, cache) as a:
        before = _revisioned(a)
        assert _pcis(a.get(before)) == [-1, 31, 73]
        _resurvey_elsewhere(committed, 55)
        after = _revisioned(a)  # TileJSON always reads the database
        assert after != before
        response = a.get(after)
        assert _pcis(response) == [-1, 55, 73] and response.headers["Cache-Control"] == IMMUTABLE



def test_a_worker_s_memory_never_serves_an_older_revision_after_an_import_elsewhere(committed: str,
                                                                                    tmp_path: Path) -> None:
    settings = make_settings(committed)
    settings.tiles.cache_dir = ""  # no disk cache: what is served again comes from the worker's memory
    settings.tiles.revision_ttl_s = 600
    app = create_app(settings, engine=make_engine(committed), check_schema=False)
    with TestClient(app, base_url="http://testserver") as worker:
        first = worker.get(_url())
        assert _pcis(first) == [-1, 31, 73] and len(app.state.tiles.memory) == 1
        again = worker.get(_url())
        assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
        _resurvey_elsewhere(committed, 44)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _pcis(worker.get(_url())) != [-1, 44, 73]:
            time.sleep(0.05)
        after = worker.get(_url())
        assert _pcis(after) == [-1, 44, 73] and after.headers["ETag"] != first.headers["ETag"]
        assert len(app.state.tiles.memory) == 1  # the older version's tile is gone from memory


def test_tile_memory_is_bounded_by_bytes_and_drops_the_least_recently_used_first() -> None:
    def tile(size: int) -> HotTile:
        return HotTile.of(etag='"t"', body=b"x" * size, media_type="application/x", cache_forever="a",
                          cache_briefly="b")

    memory = TileMemory(max_bytes=10_000)
    for n in range(4):
        memory.put(("pavement", "1-k", "e", 14, n, 0), tile(2_000))
    assert memory.get(("pavement", "1-k", "e", 14, 0, 0)) is not None  # now the most recently used
    memory.put(("pavement", "1-k", "e", 14, 4, 0), tile(2_000))
    assert memory.get(("pavement", "1-k", "e", 14, 1, 0)) is None  # the least recently used went first
    assert memory.get(("pavement", "1-k", "e", 14, 0, 0)) is not None and len(memory) == 4
    memory.put(("pavement", "2-k", "e", 14, 0, 0), tile(100))
    memory.forget(layer_id="pavement", keep="2-k")
    assert len(memory) == 1 and memory.get(("pavement", "1-k", "e", 14, 0, 0)) is None
