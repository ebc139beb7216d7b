"""The lean path for tile requests, in front of the whole application (app.main.Groundwork calls it
before FastAPI and any middleware).

A ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` whose layer versions are fresh in memory
(app/tiles/versions.py) is answered here with no session, no CSRF and no dependencies: ``304``
when ``If-None-Match`` matches, else the tile from this worker's memory (headers ready to send),
from the shared disk cache, or — on PostGIS — drawn on a connection of its own in a worker
thread (one statement, which also says which version the tile was drawn from). Everything else
(a stale version, a bad address, a tile to draw on SpatiaLite, a database error) goes on to the
application's route. Tile answers from either path carry the same few headers: no
``Vary: Cookie`` (a tile is the same for everyone) and no page headers (CSP and the like).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs

from anyio import to_thread
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.layers.specs import UnknownLayer
from app.settings import TileSettings
from app.tiles.grid import TileOutOfRange
from app.tiles.memory import HotTile
from app.tiles.service import TileServer, encoder_key, memory_key, plan_tile
from app.tiles.versions import NO_LAYER, LayerVersion
from app.web import etag_matches

TILE_PATH = re.compile(r"/tiles/([a-z_]{1,30})/(\d{1,2})/(\d{1,10})/(\d{1,10})\.mvt")
_KEPT = {b"content-type", b"content-length", b"etag", b"cache-control", b"x-content-type-options",
         b"set-cookie", b"strict-transport-security"}
log = logging.getLogger(__name__)


class TileFastPath:
    def __init__(self, app: ASGIApp, *, server: TileServer, tiles: TileSettings) -> None:
        self.app, self.server, self.tiles = app, server, tiles
        self.encoder = encoder_key(tiles=tiles, dialect=server.dialect)  # fixed for the app's life

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (match := TILE_PATH.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET" and await self._answer(scope, match, send):
            return

        async def send_lean(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 204, 304):
                message["headers"] = [(name, value) for name, value in message.get("headers", [])
                                      if name in _KEPT]
            await send(message)

        await self.app(scope, receive, send_lean)

    async def _answer(self, scope: Scope, match: re.Match[str], send: Send) -> bool:
        versions = self.server.versions.fresh()
        if versions is None:
            return False
        requested = _requested(scope["query_string"])
        layer_id, z, x, y = match[1], int(match[2]), int(match[3]), int(match[4])
        version = versions.get(layer_id, NO_LAYER)
        if requested is not None and requested != version.tag:
            return False  # another version than this worker knows: the route reads the versions
        hot = self._remembered(layer_id, version, z, x, y) or await self._fetch(versions, layer_id, z, x, y,
                                                                                 requested)
        if hot is None:
            return False
        revisioned = requested is not None
        if (condition := _header(scope, b"if-none-match")) is not None and etag_matches(condition, hot.etag):
            await _respond(send, 304, hot.revisioned_304 if revisioned else hot.plain_304, b"")
        else:
            await _respond(send, hot.status, hot.revisioned if revisioned else hot.plain, hot.body)
        return True

    def _remembered(self, layer_id: str, version: LayerVersion, z: int, x: int, y: int) -> HotTile | None:
        if self.server.memory is None:
            return None
        return self.server.memory.get(memory_key(layer_id=layer_id, version=version, encoder=self.encoder,
                                                 z=z, x=x, y=y))

    async def _fetch(self, versions: dict[str, LayerVersion], layer_id: str, z: int, x: int, y: int,
                     requested: str | None) -> HotTile | None:
        """The tile from the disk cache, else drawn (PostGIS); None: the route answers."""
        try:
            plan = plan_tile(versions=versions, tiles=self.tiles, dialect=self.server.dialect, layer_id=layer_id,
                             z=z, x=x, y=y, requested=requested)
        except (UnknownLayer, TileOutOfRange):
            return None  # the route explains
        if (hot := self.server.stored(plan, self.tiles)) is not None:
            return hot
        if not self.server.draws_alone:
            return None
        try:
            drawn, hot = await to_thread.run_sync(lambda: self.server.draw(tiles=self.tiles, plan=plan))
        except DBAPIError as error:  # e.g. a connection the server dropped: the route's session pings first
            log.warning("Drawing tile %s/%s failed on the lean path: %s", layer_id, plan.address, error)
            return None
        if drawn.version != plan.version:
            return None  # an import committed meanwhile: the route reads the versions and answers
        return hot


def _requested(query: bytes) -> str | None:
    """The ``v`` of the URL's query (a layer's version tag), if any."""
    if not query:
        return None
    if query.startswith(b"v=") and b"&" not in query:
        return query[2:].decode("latin-1")
    return parse_qs(query.decode("latin-1")).get("v", [None])[0]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
