"""A threading HTTP server that knows its open connections: the fake Hub and the fault proxy
both close them on shutdown (a test's client may hold one open) and treat a client that hangs up
or times out mid-answer as part of the test, not an error to print; and the life of such a server
on a thread of its own, which both share (:class:`Served`)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class TrackingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]  # typeshed: an AF_INET address is (host, port)

    def process_request(self, request, client_address) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        # Clients that time out or hang up mid-answer are part of the fault tests.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class Served:
    """A :class:`TrackingServer` served on a daemon thread: ``start``/``stop``, a context
    manager, ``url``. A subclass makes the server (``_new_server``), says its ``port``, and
    may act just before it starts serving or stops (``_starting``, ``_stopping``)."""

    _address: tuple[str, int]
    _server: TrackingServer | None = None
    _thread: threading.Thread | None = None

    def _new_server(self) -> TrackingServer:
        raise NotImplementedError

    def _starting(self) -> None:
        """Called before a new server is made."""

    def _stopping(self) -> None:
        """Called before a running server shuts down."""

    @property
    def port(self) -> int:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is None:
            self._starting()
            self._server = self._new_server()
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self._server.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping()
        server, self._server = self._server, None
        server.shutdown()
        # Keep-alive connections would otherwise hold handler threads (and sockets) open.
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"
