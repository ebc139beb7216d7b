"""`groundwork serve`'s HTTP protocol (app/serving.py): the same bytes as uvicorn's httptools protocol,
a response of known length in one write, and nothing held back that a client waits for."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from typer.testing import CliRunner
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.serving import HttpProtocol

TILE = b"\x1a\x02x" * 700


class Wire:
    """A connection's transport that records each write (one ``writelines`` is one system call)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        if data:
            self.writes.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        self.writes.append(b"".join(chunks))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


async def tile_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    if path == "/tile":
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/vnd.mapbox-vector-tile"), (b"content-length", str(len(TILE)).encode())]})
        await send({"type": "http.response.body", "body": TILE})
    elif path == "/unchanged":
        await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"a"')]})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/upload":
        body = (await receive())["body"]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})
    elif path == "/export":  # a streamed body whose first part takes a while
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]})
        await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"a,b\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"1,2\n"})
    elif path == "/broken":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        raise RuntimeError("failed after starting the answer")


async def exchange(protocol_class: Any, request: bytes, *,
                   watch_after: float | None = None) -> tuple[Wire, list[bytes]]:
    """Send ``request`` on a new connection; the wire once answered (and what it held ``watch_after`` s in)."""
    config = Config(tile_app, http=protocol_class, log_level="critical", access_log=False, lifespan="off")
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Fri, 04 Dec 2026 17:00:00 GMT"), (b"server", b"uvicorn")]
    protocol = config.http_protocol_class(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    wire = Wire()
    protocol.connection_made(wire)  # type: ignore[arg-type]
    protocol.data_received(request)
    seen: list[bytes] = []
    if watch_after is not None:
        await asyncio.sleep(watch_after)
        seen = list(wire.writes)
    for _ in range(200):
        if state.total_requests or wire.closed:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.01)
    return wire, seen


def _both(request: bytes) -> tuple[Wire, Wire]:
    async def run() -> tuple[Wire, Wire]:
        return (await exchange("httptools", request))[0], (await exchange(HttpProtocol, request))[0]
    return asyncio.run(run())


@pytest.mark.parametrize("request_bytes", [
    b"GET /tile HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /tile HTTP/1.0\r\nHost: x\r\n\r\n",  # connection closes after the answer
    b"GET /unchanged HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\n\r\n",
    b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
], ids=["tile", "http-1.0", "304", "100-continue"])
def test_a_response_of_known_length_leaves_in_one_write_with_uvicorn_s_bytes(request_bytes: bytes) -> None:
    uvicorn_wire, ours = _both(request_bytes)
    assert b"".join(ours.writes) == b"".join(uvicorn_wire.writes)
    answers = [w for w in ours.writes if not w.startswith(b"HTTP/1.1 100 ")]
    assert len(answers) == 1
    if request_bytes.startswith(b"GET /tile"):
        assert answers[0].endswith(TILE) and len(uvicorn_wire.writes) == 2  # uvicorn: head, then body


def test_a_head_request_and_a_streamed_body_get_their_headers_at_once() -> None:
    uvicorn_wire, ours = _both(b"HEAD /tile HTTP/1.1\r\nHost: x\r\n\r\n")
    assert ours.writes == uvicorn_wire.writes and ours.writes[0].startswith(b"HTTP/1.1 200 OK")

    wire, seen = asyncio.run(exchange(HttpProtocol, b"GET /export HTTP/1.1\r\nHost: x\r\n\r\n", watch_after=0.02))
    assert len(seen) == 1 and seen[0].startswith(b"HTTP/1.1 200 OK")  # before the first part of the body
    assert b"".join(wire.writes).endswith(b"4\r\na,b\n\r\n4\r\n1,2\n\r\n0\r\n\r\n")


def test_an_answer_that_fails_after_starting_still_sends_its_head_before_closing() -> None:
    uvicorn_wire, ours = _both(b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
    assert ours.writes == uvicorn_wire.writes and ours.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert ours.closed


def test_groundwork_serve_runs_uvicorn_with_this_protocol_and_no_access_log_it_would_drop(monkeypatch,
                                                                                         tmp_path) -> None:
    import app.commands.server as server
    from app.cli import cli

    calls: list[dict[str, Any]] = []
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    monkeypatch.setattr(server.migrate, "ensure_current", lambda engine: None)
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **options: calls.append(options))
    for level, logged in (("warning", False), ("info", True)):
        monkeypatch.setenv("GROUNDWORK_LOG_LEVEL", level)
        server.get_settings.cache_clear()
        result = CliRunner().invoke(cli, ["serve", "--port", "8765"])
        assert result.exit_code == 0, result.output
        assert calls[-1]["http"] is HttpProtocol and calls[-1]["access_log"] is logged
    server.get_settings.cache_clear()


def test_whatever_else_uvicorn_asks_of_the_connection_reaches_it_after_the_held_head() -> None:
    from app.serving import _OneWrite

    class Transport:
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.sent.append(data)

        def writelines(self, chunks: Any) -> None:
            self.sent.append(b"".join(chunks))

        def get_extra_info(self, name: str) -> str:
            return f"info:{name}"

    transport = Transport()
    writer = _OneWrite(transport, holds=True)  # type: ignore[arg-type]
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.sent == []  # held for the body
    assert writer.get_extra_info("peername") == "info:peername"
    assert transport.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"]  # a later uvicorn's call flushes it
    writer.writelines([b"o", b"k"])
    assert transport.sent[-1] == b"ok"
