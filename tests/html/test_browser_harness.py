"""The headless-browser harness sees what a person's browser would: drawing, errors,
network attempts and injected scripts. Skips, with the install commands, when Chromium
or playwright is missing."""

from __future__ import annotations

import struct
import zlib

import pytest
from support.browser import (
    BrowserSession,
    BrowserUnavailable,
    SettleTimeout,
    decode_png,
    install_hint,
)

CANVAS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>canvas</title></head>
<body style="margin:0;background:#fff">
<canvas id="c" width="320" height="200"></canvas>
<script>
  const ctx = document.getElementById("c").getContext("2d");
  ctx.fillStyle = "#2a6"; ctx.fillRect(40, 30, 120, 90);
  ctx.strokeStyle = "#c33"; ctx.lineWidth = 4;
  ctx.beginPath(); ctx.moveTo(10, 190); ctx.lineTo(310, 10); ctx.stroke();
  console.log("drawn");
  window.__ready = true;
</script>
</body></html>
"""

EMPTY_CANVAS_PAGE = """<!doctype html><html><body style="margin:0">
<canvas width="200" height="100"></canvas><script>window.__ready = true;</script>
</body></html>
"""

FETCH_PAGE = """<!doctype html><html><body>
<script>
  fetch("https://example.com/data.json")
    .then(() => { window.__outcome = "loaded"; })
    .catch(() => { window.__outcome = "failed"; });
</script>
</body></html>
"""

ALERT_PAGE = """<!doctype html><html><body>
<div id="out"></div>
<script>
  // what an escaping bug looks like: data rendered as HTML
  document.getElementById("out").innerHTML = "<img src=x onerror=\\"alert('pwned')\\">";
  window.__xss.push("marker");
</script>
</body></html>
"""

ERROR_PAGE = """<!doctype html><html><body>
<script>console.error("boom"); undefinedFunction();</script>
</body></html>
"""


@pytest.fixture(scope="module")
def session():
    try:
        s = BrowserSession(offline=True, viewport=(640, 400))
    except BrowserUnavailable as exc:
        pytest.skip(f"browser harness unavailable: {exc.reason}")
    with s:
        yield s


def _write(tmp_path, name, html):
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_canvas_page_draws_without_errors(session, tmp_path):
    path = _write(tmp_path, "canvas.html", CANVAS_PAGE)
    with session.open_page(path, settle="window.__ready === true") as page:
        assert page.errors == [], page.summary()
        assert page.requests == []
        assert [m.text for m in page.console if m.type == "log"] == ["drawn"]
        shot = page.screenshot
        assert shot.canvas_box == (0, 0, 320, 200)
        assert not shot.is_blank()
        assert shot.image.pixel(100, 75)[:3] == (0x22, 0xAA, 0x66)
        assert not page.injected_script_ran
        assert page.evaluate("document.title") == "canvas"


def test_empty_canvas_is_blank(session, tmp_path):
    path = _write(tmp_path, "empty.html", EMPTY_CANVAS_PAGE)
    with session.open_page(path, settle="window.__ready") as page:
        assert page.screenshot.canvas_box == (0, 0, 200, 100)
        assert page.screenshot.is_blank()


def test_network_request_is_recorded_and_blocked(session, tmp_path):
    path = _write(tmp_path, "fetch.html", FETCH_PAGE)
    with session.open_page(path, settle="window.__outcome !== undefined") as page:
        assert page.evaluate("window.__outcome") == "failed"
        assert [r.url for r in page.blocked_requests] == ["https://example.com/data.json"]
        # Chromium's own "Failed to load resource" line for the abort is not an error
        assert page.errors == [], page.summary()


def test_injected_script_is_detected(session, tmp_path):
    path = _write(tmp_path, "alert.html", ALERT_PAGE)
    with session.open_page(path, settle="window.__xss.length > 0", wait_ms=300) as page:
        assert [(d.type, d.message) for d in page.dialogs] == [("alert", "pwned")]
        assert page.xss_markers == ["marker"]
        assert page.injected_script_ran


def test_errors_and_settle_timeout_are_reported(session, tmp_path):
    path = _write(tmp_path, "error.html", ERROR_PAGE)
    with session.open_page(path) as page:
        assert any("boom" in e for e in page.errors)
        assert any("undefinedFunction" in e.message for e in page.page_errors)
    with pytest.raises(SettleTimeout, match="never"):
        session.open_page(path, settle="window.never === 1", settle_timeout_ms=300)


def _png(width, height, rows, filters):
    raw = b"".join(bytes([f]) + row for f, row in zip(filters, rows, strict=True))

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_png_decoder_undoes_filters():
    # 2x3 RGB: row 0 unfiltered, row 1 "Up" (+1 per byte), row 2 "Sub" (+2 per pixel step)
    rows = [bytes([10, 20, 30, 40, 50, 60]), bytes([1] * 6), bytes([5, 5, 5, 2, 2, 2])]
    image = decode_png(_png(2, 3, rows, [0, 2, 1]))
    assert image.pixel(1, 0) == (40, 50, 60)
    assert image.pixel(1, 1) == (41, 51, 61)
    assert image.pixel(0, 2) == (5, 5, 5) and image.pixel(1, 2) == (7, 7, 7)


def test_install_hint_names_the_commands():
    hint = install_hint()
    assert "apt-get install -y chromium" in hint
    assert "pip install" in hint and "playwright" in hint
