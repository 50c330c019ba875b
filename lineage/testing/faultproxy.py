"""FaultProxy: a TCP proxy on 127.0.0.1 that answers chosen requests the way a broken network,
a captive portal or a hostile server does, in front of a Hub (usually the fake Hub).

What it owns: a ``ThreadingHTTPServer`` (standard library only) that forwards each request to
an upstream HTTP server and relays the answer, unless a fault matches the request. Clients talk
to it over real sockets (``HF_ENDPOINT=proxy.url``), so what they see is what a socket gives
them: a body that never finishes, a body cut short, HTML where JSON was expected.

Faults (:meth:`FaultProxy.fault`), each for requests of one ``kind`` (``list``: model
listings, ``info``: ``/api/models/{id}``, None: any), ``times`` times (None: for ever),
optionally narrowed by ``match(path, query)``:

- ``trickle``: the upstream answer, its body sent one byte every ``every`` seconds;
- ``truncate``: the answer cut after ``keep`` bytes of body, sent without ``Content-Length``
  and then closed, so the client sees a short body (not a protocol error);
- ``malformed``: status 200, a JSON content type, a body that is not JSON;
- ``html``: status 200, an HTML page (a captive portal, a proxy's error page);
- ``junk``: a listing whose items are replaced by values that are not model records (numbers,
  lists, objects without an id, ``{"id": "a/b", "createdAt": 12}``), ``Link`` kept;
- ``empty``: an empty listing page (``[]``) with a fresh ``next`` link back to the proxy;
- ``next-elsewhere``: the answer with its ``Link: rel=next`` moved to ``origin``;
- ``redirect-elsewhere``: a 307 to the same path and query on ``origin``.

Every request is recorded with its headers (:attr:`FaultProxy.requests`), so a test can
check what reached which origin (a token sent where it must not go, say).

What it does not do: TLS, HTTP/2, chunked request bodies, or faults in the request direction.
Run it from a shell with ``python -m lineage.testing.faultproxy UPSTREAM --fault KIND``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from lineage.testing._http import Served, TrackingServer

__all__ = ["FAULTS", "FaultProxy", "ProxyFault", "ProxyRecord", "main"]

FAULTS = (
    "trickle",
    "truncate",
    "malformed",
    "html",
    "junk",
    "empty",
    "next-elsewhere",
    "redirect-elsewhere",
)
# Items no Hub listing holds: what a broken cache or a hostile server may serve instead.
JUNK_ITEMS: list[Any] = [
    12,
    "Qwen/Qwen2.5-7B",
    None,
    [],
    {"no": "id"},
    {"id": 7},
    {"id": "a/b", "createdAt": 12},
]
HTML_PAGE = (
    b"<!doctype html><html><head><title>Sign in to the network</title></head>"
    b"<body><h1>Welcome</h1><p>Accept the terms to continue.</p></body></html>"
)
MALFORMED_BODY = b'[{"id": "a/b", "createdAt": "2025-01-01T00:00:00.000Z"}, {"id": '
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}

Query = dict[str, list[str]]


class ProxyRecord(NamedTuple):
    method: str
    path: str  # percent-decoded, without the query string
    query: Query
    headers: dict[str, str]  # as received, names lowercased
    fault: str | None  # the fault that answered, None if relayed as is


@dataclass
class ProxyFault:
    """One fault; ``remaining`` counts down as requests consume it (None: never)."""

    name: str
    kind: str | None = None
    remaining: int | None = 1
    match: Callable[[str, Query], bool] | None = None
    every: float = 1.0  # trickle: seconds between bytes
    keep: int = 10  # truncate: bytes of body sent
    origin: str = ""  # next-elsewhere, redirect-elsewhere: scheme://host:port

    def applies(self, kind: str, path: str, query: Query) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and (self.kind is None or self.kind == kind)
            and (self.match is None or bool(self.match(path, query)))
        )


class _Answer(NamedTuple):
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class FaultProxy(Served):
    """A proxy in front of ``upstream`` (``http://host:port``); see the module docstring.

    Use as a context manager (``with FaultProxy(hub.url) as proxy: ... proxy.url``) or call
    ``start()``/``stop()``.
    """

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http://host:port URL, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self._address = (host, port)
        self._faults: list[ProxyFault] = []
        self._records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    # ---- lifecycle: start/stop, a context manager, url (Served) --------------------------

    def _new_server(self) -> _Server:
        return _Server(self._address, self)

    def _starting(self) -> None:
        self.stopping.clear()

    def _stopping(self) -> None:
        self.port  # noqa: B018 - remembered for messages after the stop
        self.stopping.set()  # trickles stop sending

    @property
    def port(self) -> int:
        """The port it listens on (still known after ``stop()``, for messages to name it)."""
        if self._server is not None:
            self._address = (self._address[0], self._server.server_address[1])
        if not self._address[1]:
            raise RuntimeError("FaultProxy is not running; call start() or use it as a context")
        return self._address[1]

    # ---- faults and records ---------------------------------------------------------------

    def fault(
        self,
        name: str,
        kind: str | None = None,
        *,
        times: int | None = 1,
        match: Callable[[str, Query], bool] | None = None,
        every: float = 1.0,
        keep: int = 10,
        origin: str = "",
    ) -> ProxyFault:
        """Answer the next ``times`` requests of ``kind`` (None: any; ``times=None``: every
        one) with fault ``name`` (one of :data:`FAULTS`). Faults are consumed in order."""
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; one of {', '.join(FAULTS)}")
        if name.endswith("-elsewhere") and not origin.startswith(("http://", "https://")):
            raise ValueError(f"{name} needs origin='http://host:port'")
        fault = ProxyFault(name, kind, times, match, every, keep, origin.rstrip("/"))
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[ProxyRecord]:
        """Every request received so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def count(self, kind: str | None = None) -> int:
        return sum(1 for r in self.requests if kind is None or _kind_of(r.path) == kind)

    def _take(self, kind: str, path: str, query: Query) -> ProxyFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(kind, path, query):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # ---- one request --------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        path, query = unquote(split.path), parse_qs(split.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._take(_kind_of(path), path, query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self._records.append(
                ProxyRecord(
                    handler.command, path, query, headers, fault.name if fault is not None else None
                )
            )
        host = handler.headers.get("Host") or f"{self._address[0]}:{self.port}"
        if fault is not None and fault.name == "redirect-elsewhere":
            location = f"{fault.origin}{handler.path}"
            answer = _Answer(307, "Temporary Redirect", [("Location", location)], b"")
        elif fault is not None and fault.name == "empty":
            kept = "&".join(p for p in split.query.split("&") if p and not p.startswith("cursor="))
            url = f"http://{host}{split.path}?{kept}&cursor={uuid.uuid4().hex}"
            answer = _json_answer([], [("Link", f'<{url}>; rel="next"')])
        elif fault is not None and fault.name == "html":
            answer = _Answer(200, "OK", [("Content-Type", "text/html; charset=utf-8")], HTML_PAGE)
        elif fault is not None and fault.name == "malformed":
            answer = _Answer(200, "OK", [("Content-Type", "application/json")], MALFORMED_BODY)
        else:
            answer = self._relay(handler, body)
            if fault is not None and fault.name == "junk":
                answer = _json_answer(JUNK_ITEMS, [h for h in answer.headers if h[0] == "Link"])
            elif fault is not None and fault.name == "next-elsewhere":
                answer = answer._replace(headers=_moved_links(answer.headers, fault.origin))
        if fault is not None and fault.name == "trickle":
            self._send(handler, answer, every=fault.every)
        elif fault is not None and fault.name == "truncate":
            self._send(handler, answer, keep=fault.keep)
        else:
            self._send(handler, answer)

    def _relay(self, handler: _Handler, body: bytes) -> _Answer:
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(handler.command, handler.path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return _Answer(response.status, response.reason, kept, data)
        except OSError as exc:
            return _Answer(502, "Bad Gateway", [("Content-Type", "text/plain")], str(exc).encode())
        finally:
            connection.close()

    def _send(
        self, handler: _Handler, answer: _Answer, *, every: float = 0.0, keep: int | None = None
    ) -> None:
        head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        head += [f"{k}: {v}" for k, v in answer.headers]
        body = answer.body if handler.command != "HEAD" else b""
        if keep is None:
            head.append(f"Content-Length: {len(answer.body)}")
        else:
            # Close-delimited: the client cannot tell a cut body from a whole one.
            head.append("Connection: close")
            body = body[:keep]
            handler.close_connection = True
        try:
            handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            if not every:
                handler.wfile.write(body)
                return
            for i in range(len(body)):
                if self.stopping.wait(every if i else 0):
                    break
                handler.wfile.write(body[i : i + 1])
        except OSError:  # the client gave up: that is what the fault is for
            handler.close_connection = True


def _json_answer(payload: Any, headers: list[tuple[str, str]]) -> _Answer:
    body = json.dumps(payload).encode()
    return _Answer(200, "OK", [("Content-Type", "application/json"), *headers], body)


def _moved_links(headers: list[tuple[str, str]], origin: str) -> list[tuple[str, str]]:
    """``Link`` headers whose URLs point at ``origin`` instead (same path and query)."""
    moved = []
    for name, value in headers:
        if name.lower() == "link" and value.startswith("<") and ">" in value:
            url, rest = value[1:].split(">", 1)
            parts = urlsplit(url)
            value = f"<{origin}{parts.path}?{parts.query}>{rest}"
        moved.append((name, value))
    return moved


def _kind_of(path: str) -> str:
    if path == "/api/models":
        return "list"
    if path.startswith("/api/models/"):
        return "info"
    return "other"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FaultProxy/1.0"
    disable_nagle_algorithm = True  # a trickled byte goes out at once
    server: _Server

    def do_GET(self) -> None:
        self.server.proxy._handle(self)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(TrackingServer):
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lineage.testing.faultproxy",
        description="Serve UPSTREAM (a fake Hub, say) through a proxy that answers some requests "
        "wrongly, to see what lineage does with a broken network or a hostile server.",
    )
    parser.add_argument("upstream", help="the server to relay, http://host:port")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--fault", action="append", default=[], choices=FAULTS, help="a fault (repeatable)"
    )
    parser.add_argument(
        "--kind", choices=("list", "info"), help="only model listings, or only lookups"
    )
    parser.add_argument(
        "--times", type=int, metavar="N", help="answer N requests with each fault [default: all]"
    )
    parser.add_argument("--every", type=float, default=1.0, help="trickle: seconds per byte")
    parser.add_argument("--keep", type=int, default=10, help="truncate: bytes of body kept")
    parser.add_argument("--origin", default="http://localhost:9", help="*-elsewhere: the origin")
    args = parser.parse_args(argv)
    try:
        proxy = FaultProxy(args.upstream, host=args.host, port=args.port)
        for name in args.fault:
            proxy.fault(
                name, args.kind, times=args.times, every=args.every, keep=args.keep,
                origin=args.origin,
            )  # fmt: skip
    except ValueError as exc:
        parser.error(str(exc))
    with proxy:
        try:
            print(f"FaultProxy: {args.upstream} at {proxy.url}", flush=True)
            print(f"  faults: {', '.join(args.fault) or 'none'}", flush=True)
            print(f"  export HF_ENDPOINT={proxy.url}   (Ctrl-C to stop)", flush=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
