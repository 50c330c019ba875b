"""A real headless browser for testing the HTML pages lineage generates.

Debian's Chromium driven by the ``playwright`` Python package (its bundled Node driver,
no browser download). A page is opened from a file, every http(s)/ws(s) request is
recorded and, offline, aborted; console messages, uncaught exceptions, dialogs
(``alert``/``confirm``/``prompt``) and a screenshot are collected::

    from support.browser import BrowserUnavailable, open_page

    with open_page("graph.html", settle="window.__ready === true") as page:
        assert page.errors == []
        assert page.blocked_requests == []
        assert not page.screenshot.is_blank()
        assert not page.injected_script_ran
        assert page.evaluate("network.body.data.nodes.length") == 3

Many pages in one Chromium: ``with BrowserSession() as s: s.open_page(...)``; each page
gets its own browser context (no shared storage). Only one session per thread at a time
(playwright's sync API runs its own event loop; it also cannot run inside a running
asyncio loop).

Installing (see :func:`install_hint`): ``apt-get install -y chromium`` and
``pip install playwright``. Never ``playwright install``: it downloads a browser build.
When either is missing, :class:`BrowserUnavailable` says which, and tests skip with it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM_FLAGS",
    "OFFLINE_FLAGS",
    "XSS_PAYLOADS",
    "BrowserSession",
    "BrowserUnavailable",
    "ConsoleMessage",
    "Dialog",
    "PageError",
    "PageResult",
    "Request",
    "Screenshot",
    "SettleTimeout",
    "decode_png",
    "find_chromium",
    "install_hint",
    "open_page",
    "write_temp_page",
]

#: Flags every launch gets. Playwright already adds most of them (``--headless`` from
#: ``headless=True``, ``--no-sandbox`` because ``chromium_sandbox`` defaults to False);
#: they are repeated so that the launch does not depend on playwright's defaults.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--dns-prefetch-disable",
)

#: Extra flags for offline sessions. Even with --disable-background-networking,
#: Chromium 156 resolves accounts.google.com and update.googleapis.com at start-up;
#: mapping every host name to NOTFOUND stops every DNS query (page requests are
#: aborted earlier, by the route handler, and recorded).
OFFLINE_FLAGS: tuple[str, ...] = ("--host-resolver-rules=MAP * ~NOTFOUND",)

#: Strings that, if a page renders them as HTML or breaks out of a script block with
#: them, run a script that the harness sees (a dialog or a ``window.__xss`` entry).
XSS_PAYLOADS: tuple[str, ...] = (
    "</script><script>alert('xss-script')</script>",
    "<img src=x onerror=\"alert('xss-img')\">",
    "<svg onload=\"window.__xss.push('xss-svg')\">",
    '"><img src=x onerror="window.__xss.push(\'xss-attr\')">',
    "</style></title></textarea><script>window.__xss.push('xss-close')</script>",
    "\u2028\u2029';alert('xss-quote');'",
)

_CHROMIUM_CANDIDATES = (
    # Debian's /usr/bin/chromium is a shell wrapper that sources /etc/chromium.d (adds
    # --enable-remote-extensions, exports API keys, prints shell errors): take the real
    # binary behind it when it is there.
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)

_LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Installed before any page script: a place for payloads to report to, so that an
# injected script is seen even when it does not open a dialog.
_INIT_SCRIPT = "window.__xss = window.__xss || [];"

_CANVAS_BOX_JS = """() => {
  let best = null, area = 0;
  for (const c of document.querySelectorAll('canvas')) {
    const r = c.getBoundingClientRect();
    const x0 = Math.max(0, r.left), y0 = Math.max(0, r.top);
    const x1 = Math.min(window.innerWidth, r.right), y1 = Math.min(window.innerHeight, r.bottom);
    const a = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
    if (a > area) { area = a; best = [x0, y0, x1 - x0, y1 - y0]; }
  }
  return best && best.map(v => Math.round(v * window.devicePixelRatio));
}"""


class BrowserUnavailable(RuntimeError):
    """Chromium or playwright is missing or cannot start; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}\n{install_hint()}")
        self.reason = reason


class SettleTimeout(RuntimeError):
    """The page did not reach its settle condition in time; ``result`` has what was seen."""

    def __init__(self, message: str, result: PageResult) -> None:
        super().__init__(message)
        self.result = result


def install_hint() -> str:
    """The commands that make the harness available (root on Debian; prefix sudo if not)."""
    return (
        "Install the browser harness (Debian/Ubuntu, as root; otherwise prefix sudo):\n"
        "  apt-get update\n"
        "  apt-get install -y chromium\n"
        "  python -m pip install 'playwright>=1.50'   # or: pip install -e '.[test]'\n"
        "Do not run `playwright install`: it downloads its own browser build.\n"
        "Another Chromium or Chrome binary can be used by setting LINEAGE_CHROMIUM=/path/to/it."
    )


def find_chromium() -> str:
    """Path of the Chromium binary to drive, or raise :class:`BrowserUnavailable`."""
    env = os.environ.get("LINEAGE_CHROMIUM")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise BrowserUnavailable(f"LINEAGE_CHROMIUM={env!r} is not an executable file")
    for candidate in _CHROMIUM_CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserUnavailable("no Chromium binary found (looked for Debian's chromium package)")


def _import_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable(f"the Python package playwright is not installed ({exc})") from exc
    return sync_playwright


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ConsoleMessage:
    type: str  # "log", "error", "warning", "info", "debug", ...
    text: str
    url: str = ""
    line: int = 0

    @property
    def is_blocked_request_noise(self) -> bool:
        """Chromium's own "Failed to load resource" line for a request the harness aborted."""
        return self.type == "error" and "ERR_BLOCKED_BY_CLIENT" in self.text


@dataclass(frozen=True)
class PageError:
    """An uncaught exception (or unhandled rejection) in the page."""

    message: str
    stack: str = ""


@dataclass(frozen=True)
class Request:
    url: str
    method: str
    resource_type: str
    blocked: bool


@dataclass(frozen=True)
class Dialog:
    type: str  # "alert", "confirm", "prompt", "beforeunload"
    message: str


# ------------------------------------------------------------------------ screenshots


@dataclass(frozen=True)
class Image:
    """Decoded 8-bit image: ``rows[y][x * channels + c]``."""

    width: int
    height: int
    channels: int
    rows: tuple[bytes, ...]

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        i = x * self.channels
        return tuple(self.rows[y][i : i + self.channels])

    def colours(self, box: tuple[int, int, int, int] | None = None, limit: int = 2) -> set[bytes]:
        """Distinct pixel values in ``box`` (x, y, w, h), stopping once ``limit`` are seen."""
        x, y, w, h = self._clip(box)
        ch = self.channels
        seen: set[bytes] = set()
        for row in self.rows[y : y + h]:
            part = row[x * ch : (x + w) * ch]
            first = part[:ch]
            if part != first * w:  # fast path: a flat row is one comparison
                seen.update(part[i : i + ch] for i in range(0, len(part), ch))
            else:
                seen.add(first)
            if len(seen) >= limit:
                break
        return seen

    def _clip(self, box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
        if box is None:
            return 0, 0, self.width, self.height
        x, y, w, h = (int(v) for v in box)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _swar_add(a: int, b: int, nbytes: int) -> int:
    """Bytewise (a + b) mod 256 of two big-endian byte strings held as ints."""
    low = int.from_bytes(b"\x7f" * nbytes, "big")
    high = int.from_bytes(b"\x80" * nbytes, "big")
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def _unfilter_sub(filt: bytes, bpp: int) -> bytes:
    # recon[i] = filt[i] + recon[i - bpp]: a prefix sum with stride bpp, done in
    # log2(len) bytewise additions of the row shifted by bpp, 2*bpp, 4*bpp, ...
    n = len(filt)
    acc = int.from_bytes(filt, "big")
    shift = bpp
    while shift < n:
        acc = _swar_add(acc, acc >> (8 * shift), n)
        shift *= 2
    return acc.to_bytes(n, "big")


def _unfilter_avg(filt: bytes, prior: bytes, bpp: int) -> bytes:
    out = bytearray(filt)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        out[i] = (out[i] + ((left + prior[i]) >> 1)) & 0xFF
    return bytes(out)


def _unfilter_paeth(filt: bytes, prior: bytes, bpp: int) -> bytes:
    out = bytearray(filt)
    for i in range(len(out)):
        a = out[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[i] = (out[i] + pred) & 0xFF
    return bytes(out)


def decode_png(data: bytes) -> Image:
    """Decode an 8-bit, non-interlaced PNG (what Chromium writes) with the standard library."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace:
        raise ValueError(
            f"unsupported PNG (depth {depth}, colour type {colour_type}, interlace {interlace})"
        )
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) < height * (stride + 1):
        raise ValueError("truncated PNG data")
    rows: list[bytes] = []
    prior = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, filt = raw[start], raw[start + 1 : start + 1 + stride]
        if kind == 0:
            row = filt
        elif kind == 1:
            row = _unfilter_sub(filt, channels)
        elif kind == 2:
            row = _swar_add(int.from_bytes(filt, "big"), int.from_bytes(prior, "big"), stride)
            row = row.to_bytes(stride, "big")
        elif kind == 3:
            row = _unfilter_avg(filt, prior, channels)
        elif kind == 4:
            row = _unfilter_paeth(filt, prior, channels)
        else:
            raise ValueError(f"bad PNG filter type {kind} in row {y}")
        rows.append(row)
        prior = row
    return Image(width, height, channels, tuple(rows))


@dataclass
class Screenshot:
    """A viewport screenshot; ``canvas_box`` is the largest visible <canvas> (x, y, w, h)."""

    png: bytes
    canvas_box: tuple[int, int, int, int] | None = None
    _image: Image | None = field(default=None, repr=False, compare=False)

    @property
    def image(self) -> Image:
        if self._image is None:
            self._image = decode_png(self.png)
        return self._image

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def is_blank(self, box: tuple[int, int, int, int] | None = None) -> bool:
        """True when ``box`` (default: the canvas, else the whole shot) is one flat colour."""
        region = box if box is not None else self.canvas_box
        return len(self.image.colours(region, limit=2)) <= 1

    def save(self, path: str | os.PathLike[str]) -> Path:
        out = Path(path)
        out.write_bytes(self.png)
        return out


# ---------------------------------------------------------------------------- pages


class PageResult:
    """What one page did. Live until :meth:`close` (or the end of its ``with`` block)."""

    def __init__(self, path: Path, offline: bool) -> None:
        self.path = path
        self.url = path.as_uri()
        self.offline = offline
        self.console: list[ConsoleMessage] = []
        self.page_errors: list[PageError] = []
        self.requests: list[Request] = []  # every non-local request the page attempted
        self.failed_requests: list[tuple[str, str]] = []  # (url, reason), local ones too
        self.dialogs: list[Dialog] = []
        self.xss_markers: list[Any] = []  # window.__xss at the snapshot
        self.screenshot: Screenshot | None = None
        self.load_ms: float = 0.0  # navigation until the load event
        self.settle_ms: float = 0.0  # navigation until the settle condition held
        self.page: Any = None  # the playwright Page, for mouse/keyboard work
        self._context: Any = None
        self._owned_session: BrowserSession | None = None

    # -- summaries
    @property
    def blocked_requests(self) -> list[Request]:
        return [r for r in self.requests if r.blocked]

    @property
    def console_errors(self) -> list[ConsoleMessage]:
        """Console errors, without the lines Chromium logs for requests the harness aborted."""
        return [m for m in self.console if m.type == "error" and not m.is_blocked_request_noise]

    @property
    def errors(self) -> list[str]:
        """Uncaught exceptions and console errors, as text: empty for a healthy page."""
        return [f"pageerror: {e.message}" for e in self.page_errors] + [
            f"console.error: {m.text} ({m.url})" if m.url else f"console.error: {m.text}"
            for m in self.console_errors
        ]

    @property
    def injected_script_ran(self) -> bool:
        """A dialog opened or something was pushed to ``window.__xss``."""
        return bool(self.dialogs or self.xss_markers)

    # -- live page helpers
    def evaluate(self, js: str, arg: Any = None) -> Any:
        """Evaluate a JS expression or function source in the page; returns its JSON value."""
        self._require_open()
        return self.page.evaluate(js, arg)

    def take_screenshot(self) -> Screenshot:
        """A fresh viewport screenshot (also stored as ``self.screenshot``)."""
        self._require_open()
        box = self.page.evaluate(_CANVAS_BOX_JS)
        png = self.page.screenshot(type="png", animations="disabled")
        self.screenshot = Screenshot(png, tuple(box) if box else None)
        return self.screenshot

    def snapshot(self) -> None:
        """Refresh ``xss_markers`` and ``screenshot`` from the live page."""
        self._require_open()
        self.xss_markers = list(self.page.evaluate("window.__xss || []"))
        self.take_screenshot()

    def summary(self) -> str:
        lines = [f"page {self.url} (offline={self.offline})"]
        lines += [f"  {e}" for e in self.errors]
        lines += [f"  request {r.method} {r.url} blocked={r.blocked}" for r in self.requests]
        lines += [f"  failed {u}: {why}" for u, why in self.failed_requests]
        lines += [f"  dialog {d.type}: {d.message!r}" for d in self.dialogs]
        lines += [f"  __xss {m!r}" for m in self.xss_markers]
        return "\n".join(lines)

    def close(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            finally:
                self._context = None
                self.page = None
                if self._owned_session is not None:
                    self._owned_session.close()
                    self._owned_session = None

    def __enter__(self) -> PageResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if self.page is None:
            raise RuntimeError("page already closed: use it inside its `with` block")


class BrowserSession:
    """One headless Chromium; each :meth:`open_page` gets a fresh browser context.

    Playwright's ``launch`` gives Chromium a fresh, empty ``--user-data-dir`` under the
    temp dir and deletes it on close (``--user-data-dir`` may not be passed in args).
    """

    def __init__(
        self,
        *,
        offline: bool = True,
        executable: str | None = None,
        viewport: tuple[int, int] = (1280, 900),
        timeout_ms: int = 30_000,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.offline = offline
        self.viewport = viewport
        self.timeout_ms = timeout_ms
        self.executable = executable or find_chromium()
        sync_playwright = _import_playwright()
        args = [*CHROMIUM_FLAGS, *(OFFLINE_FLAGS if offline else ()), *extra_args]
        self._pw = None
        self._browser = None
        try:
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable,
                headless=True,
                args=args,
                timeout=timeout_ms,
            )
        except Exception as exc:
            self.close()
            if "asyncio loop" in str(exc):
                raise  # a usage error, not a missing browser
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BrowserUnavailable(
                f"Chromium at {self.executable} did not start: {first}"
            ) from exc

    def open_page(
        self,
        html_path: str | os.PathLike[str],
        *,
        wait_ms: int = 100,
        settle: str | Callable[[PageResult], bool] | None = None,
        settle_timeout_ms: int = 20_000,
        screenshot: bool = True,
    ) -> PageResult:
        """Load ``html_path`` (a file) and collect what it does.

        ``settle``: a JS expression or function source that becomes truthy once the page
        is ready (``"window.__ready"``), or a Python callable polled with the result.
        After the load event and ``settle``, waits ``wait_ms`` more, then records
        ``window.__xss`` and (if ``screenshot``) a screenshot. The page stays open for
        :meth:`PageResult.evaluate` until the result is closed.
        """
        if self._browser is None:
            raise RuntimeError("session closed")
        path = Path(html_path).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        result = PageResult(path, self.offline)
        width, height = self.viewport
        context = self._browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            service_workers="block",
            accept_downloads=False,
        )
        result._context = context
        try:
            self._wire(context, result)
            page = context.new_page()
            result.page = page
            page.set_default_timeout(self.timeout_ms)
            self._watch(page, result)
            start = time.perf_counter()
            page.goto(result.url, wait_until="load")
            result.load_ms = (time.perf_counter() - start) * 1000
            self._settle(page, result, settle, settle_timeout_ms)
            result.settle_ms = (time.perf_counter() - start) * 1000
            if wait_ms:
                page.wait_for_timeout(wait_ms)
            result.xss_markers = list(page.evaluate("window.__xss || []"))
            if screenshot:
                result.take_screenshot()
        except BaseException:
            result.close()
            raise
        return result

    def close(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to close
                self._browser.close()
            self._browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals
    def _wire(self, context: Any, result: PageResult) -> None:
        offline = self.offline
        context.add_init_script(_INIT_SCRIPT)

        def on_route(route: Any) -> None:
            if route.request.url.startswith(_LOCAL_SCHEMES):
                route.continue_()
            elif offline:
                route.abort("blockedbyclient")
            else:
                route.continue_()

        def on_request(request: Any) -> None:
            if not request.url.startswith(_LOCAL_SCHEMES):
                result.requests.append(
                    Request(request.url, request.method, request.resource_type, offline)
                )

        def on_failed(request: Any) -> None:
            result.failed_requests.append((request.url, request.failure or ""))

        def on_websocket(ws: Any) -> None:
            result.requests.append(Request(ws.url, "GET", "websocket", offline))
            if offline:
                ws.close(code=1008, reason="offline")
            else:
                ws.connect_to_server()

        context.route("**/*", on_route)
        context.route_web_socket(re.compile(r".*"), on_websocket)
        context.on("request", on_request)
        context.on("requestfailed", on_failed)

    @staticmethod
    def _watch(page: Any, result: PageResult) -> None:
        def on_console(msg: Any) -> None:
            loc = msg.location or {}
            result.console.append(
                ConsoleMessage(msg.type, msg.text, loc.get("url", ""), loc.get("lineNumber", 0))
            )

        def on_pageerror(err: Any) -> None:
            result.page_errors.append(
                PageError(getattr(err, "message", str(err)), getattr(err, "stack", "") or "")
            )

        def on_dialog(dialog: Any) -> None:
            result.dialogs.append(Dialog(dialog.type, dialog.message))
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("dialog", on_dialog)

    @staticmethod
    def _settle(
        page: Any,
        result: PageResult,
        settle: str | Callable[[PageResult], bool] | None,
        timeout_ms: int,
    ) -> None:
        if settle is None:
            return
        if isinstance(settle, str):
            try:
                page.wait_for_function(settle, timeout=timeout_ms, polling=50)
            except Exception as exc:
                if type(exc).__name__ != "TimeoutError":
                    raise
                raise SettleTimeout(
                    f"{settle!r} not true after {timeout_ms} ms\n{result.summary()}", result
                ) from exc
            return
        deadline = time.perf_counter() + timeout_ms / 1000
        while not settle(result):
            if time.perf_counter() > deadline:
                raise SettleTimeout(
                    f"settle callable not true after {timeout_ms} ms\n{result.summary()}", result
                )
            page.wait_for_timeout(50)


def open_page(
    html_path: str | os.PathLike[str],
    *,
    offline: bool = True,
    wait_ms: int = 100,
    settle: str | Callable[[PageResult], bool] | None = None,
    settle_timeout_ms: int = 20_000,
    screenshot: bool = True,
    viewport: tuple[int, int] = (1280, 900),
    session: BrowserSession | None = None,
) -> PageResult:
    """Open one page in its own Chromium (or in ``session``); close the result when done.

    With ``session``, the session's ``offline`` and ``viewport`` apply instead.

    Raises :class:`BrowserUnavailable` when Chromium or playwright is missing.
    """
    owned = session is None
    active = session or BrowserSession(offline=offline, viewport=viewport)
    try:
        result = active.open_page(
            html_path,
            wait_ms=wait_ms,
            settle=settle,
            settle_timeout_ms=settle_timeout_ms,
            screenshot=screenshot,
        )
    except BaseException:
        if owned:
            active.close()
        raise
    if owned:
        result._owned_session = active
    return result


def write_temp_page(html: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``html`` to a fresh ``.html`` file (UTF-8) and return its path."""
    fd, name = tempfile.mkstemp(suffix=".html", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    return Path(name)
