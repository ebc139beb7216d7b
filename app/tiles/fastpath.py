"""The lean path for tile requests: an ASGI middleware in front of the whole application.

A ``GET /tiles/{layer}/{z}/{x}/{y}.mvt`` whose layer versions are fresh in memory
(app/tiles/versions.py) is answered here with no session, no CSRF, no dependencies and no
database: ``304`` when ``If-None-Match`` matches, else the tile from the shared disk cache.
Everything else (a stale version, a cache miss, a bad address) goes on to the application's route,
which renders and caches the tile. Tile answers from either path carry the same few headers:
no ``Vary: Cookie`` (a tile is the same for everyone) and no page headers (CSP and the like).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.layers.specs import UnknownLayer
from app.settings import TileSettings
from app.tiles.cache import TileCache
from app.tiles.grid import TileOutOfRange
from app.tiles.service import MEDIA_TYPE, TileServer, plan_tile
from app.web import etag_matches

TILE_PATH = re.compile(r"/tiles/([a-z_]{1,30})/(\d{1,2})/(\d{1,10})/(\d{1,10})\.mvt")
_KEPT = {b"content-type", b"content-length", b"etag", b"cache-control", b"x-content-type-options",
         b"set-cookie", b"strict-transport-security"}


class TileFastPath:
    def __init__(self, app: ASGIApp, *, server: TileServer, tiles: TileSettings) -> None:
        self.app, self.server, self.tiles = app, server, tiles

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
        query = parse_qs(scope["query_string"].decode("latin-1")) if scope["query_string"] else {}
        requested = query.get("v", [None])[0]
        try:
            plan = plan_tile(versions=versions, tiles=self.tiles, dialect=self.server.dialect,
                             layer_id=match[1], z=int(match[2]), x=int(match[3]), y=int(match[4]),
                             requested=requested)
        except (UnknownLayer, TileOutOfRange):
            return False  # the route explains
        if requested is not None and not plan.revisioned:
            return False  # another version than this worker knows: the route reads the versions
        headers = [(b"etag", plan.etag.encode()), (b"cache-control", plan.cache_control(self.tiles).encode()),
                   (b"x-content-type-options", b"nosniff")]
        if etag_matches(Headers(scope=scope).get("if-none-match"), plan.etag):
            await _respond(send, 304, headers, b"")
            return True
        path = self.server.cache_path(plan)
        content = TileCache.get(path) if path is not None else None
        if content is None:
            return False
        if not content:
            await _respond(send, 204, headers, b"")
        else:
            await _respond(send, 200, [(b"content-type", MEDIA_TYPE.encode()),
                                       (b"content-length", str(len(content)).encode()), *headers], content)
        return True


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
