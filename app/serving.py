"""How the web server speaks HTTP: uvicorn's httptools protocol, with each response of a known length
sent in one write.

uvicorn writes a response's status line and headers as soon as the application starts the response,
then its body: two system calls and two TCP segments for a tile that nginx sends in one. Here the
head of a response with a ``Content-Length`` waits for the body's first write and leaves with it
(``writelines``: one ``writev``). The bytes on the wire are uvicorn's, unchanged; only their grouping
differs. A head is never held for a streamed body (no ``Content-Length``: its first chunk may take a
while) or for ``HEAD`` (no body follows), and one that is held when the response ends without a
body (an application error, then ``close``) is written first, as uvicorn would have.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_SIZED = b"\r\ncontent-length: "  # uvicorn writes header names in lower case, one per line


class HttpProtocol(HttpToolsProtocol):
    """``uvicorn.run(..., http=HttpProtocol)``: httptools, one write per response of known length."""

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:  # a request to answer (not a protocol upgrade)
            writer = _OneWrite(self.transport, holds=self.scope["method"] != "HEAD")
            self.cycle.transport = cast(asyncio.Transport, writer)


class _OneWrite:
    """The connection as one request's response sees it (``write``, ``close``, ``is_closing``)."""

    __slots__ = ("_transport", "_holds", "_head")

    def __init__(self, transport: asyncio.Transport, *, holds: bool) -> None:
        self._transport = transport
        self._holds = holds  # the response's head may still be held (until its first write)
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.writelines((head, data))
        elif self._holds and data != _CONTINUE:
            self._holds = False  # the first write after an interim 100 is the head
            if _SIZED in data:
                self._head = data
            else:
                self._transport.write(data)
        else:
            self._transport.write(data)

    def close(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def __getattr__(self, name: str) -> Any:
        """Anything else a later uvicorn asks of the connection goes to the real one, after the held head."""
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)
        return getattr(self._transport, name)
