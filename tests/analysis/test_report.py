"""`lineage report`: one self-contained page of the finding. What it embeds (against the
library's own share, download share, families, quality and region tables), the command's
lines and errors, and the page in a real Chromium: it draws, requests nothing, logs no
error, answers hover, the arrow keys and the region buttons, and shows hostile Hub text as
text."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from support.browser import XSS_PAYLOADS, BrowserSession, BrowserUnavailable
from support.pages import hostile_store

from lineage.analysis import download_share, load_context, quality, share, unmapped_organizations
from lineage.records import parse_raw
from lineage.report import report_data, write_report
from lineage.store import Store
from lineage.testing.synthetic import generate

STABLE = "document.body.dataset.state === 'stable'"
DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)
SEEN = dt.datetime(2026, 6, 12, tzinfo=dt.UTC)


def snapshots_store(path: Path, models: int = 8000, dates: int = 6) -> Store:
    """A synthetic population crawled once (the 12th of June, 2026) after monthly
    snapshots of the models that existed at each date, so download share is a series."""
    population = generate(models, seed=5)
    raw = population.raw.filter(pl.col("created_at") < SEEN)
    store = Store(path)
    for k in range(dates, 0, -1):
        day = dt.date(2026 - (k >= 6), (6 - k - 1) % 12 + 1, 15)
        when = dt.datetime.combine(day, dt.time(), dt.UTC)
        then = raw.filter(pl.col("created_at") < when)
        store.commit(parse_raw(then, seen_at=when, source="synthetic"), snapshot_date=day)
    store.commit(parse_raw(raw, seen_at=SEEN, source="synthetic"), snapshot_date=SEEN.date())
    return store


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    ctx = load_context(snapshots_store(folder / "store"))
    path = folder / "report.html"
    return ctx, write_report(ctx, path), path


def embedded(path: Path) -> dict:
    blocks = DATA.findall(path.read_text(encoding="utf-8"))
    assert len(blocks) == 1
    return json.loads(blocks[0])


# -- what the page says -----------------------------------------------------------------------


def test_report_embeds_the_library_numbers(series):
    ctx, summary, path = series
    data = embedded(path)
    result = share(ctx)
    months = sorted(result.table["month"].unique().to_list())
    assert data["months"][0] == f"{months[0]:%Y-%m}" and data["months"][-1] == f"{months[-1]:%Y-%m}"
    assert summary.months == tuple(data["months"])
    # the share chart's numbers are share()'s
    index = {m: i for i, m in enumerate(data["months"])}
    for row in result.table.iter_rows(named=True):
        i = index[f"{row['month']:%Y-%m}"]
        assert data["derivatives"]["share"][row["group"]][i] == pytest.approx(
            row["share"], abs=1e-6
        )
        assert data["derivatives"]["count"][row["group"]][i] == row["count"]
    assert sum(data["derivatives"]["total"]) == summary.derivatives == result.counts["count"].sum()
    # the partial month, named
    assert summary.partial == SEEN.date() and data["meta"]["partial"] == "2026-06-12"
    assert any("2026-06 is partial" in f for f in data["meta"]["filters"])
    # download share: a series of the snapshot months
    downloads = download_share(ctx)
    assert data["downloads"]["snapshots"] == downloads.table["month"].n_unique() == 7
    last = downloads.table.filter(pl.col("month") == downloads.table["month"].max())
    for row in last.iter_rows(named=True):
        assert data["downloads"]["share"][row["group"]][-1] == pytest.approx(row["share"], abs=1e-6)
    # coverage and quality, as the library counts them
    unknown = result.table.filter(pl.col("group") == "unknown")
    assert data["coverage"]["unknown_derivatives"] == unknown["count"].sum()
    assert [u[0] for u in data["coverage"]["unmapped"]] == unmapped_organizations(ctx, top=10)[
        "org"
    ].to_list()
    assert [tuple(q[:2]) for q in data["quality"]] == quality(ctx).select("check", "count").rows()
    # the choices, in words, and the store's dates
    words = " ".join(data["meta"]["filters"])
    for phrase in (
        "more than 5 all-time downloads",
        "Root set: all",
        "Merges: split",
        "declared only",
    ):
        assert phrase in words
    store = data["meta"]["store"]
    assert store["last"] == "2026-06-12" and store["first"] == "2025-12-15"
    assert store["snapshots"] == 7 and data["meta"]["version"]


def test_drivers_add_up_to_each_regions_change(series):
    ctx, _, path = series
    data = embedded(path)
    drivers = data["drivers"]
    assert drivers["first"] == "2023" and drivers["last"] == "2026 (to Jun 12)"
    region = share(ctx).table
    families = share(ctx, by="family").table

    def period_share(table, year, group):
        part = table.filter(pl.col("month").dt.year() == year)
        return part.filter(pl.col("group") == group)["weight"].sum() / part["weight"].sum()

    for r in drivers["regions"]:
        assert r["first"] == pytest.approx(period_share(region, 2023, r["region"]), abs=1e-5)
        assert r["last"] == pytest.approx(period_share(region, 2026, r["region"]), abs=1e-5)
        changes = [f[3] for f in r["gainers"]]
        assert changes == sorted(changes, reverse=True) and all(c > 0 for c in changes)
        assert all(f[3] < 0 for f in r["losers"])
        for family, first, last, change in r["gainers"] + r["losers"]:
            assert first == pytest.approx(period_share(families, 2023, family), abs=1e-5)
            assert last == pytest.approx(period_share(families, 2026, family), abs=1e-5)
            assert change == pytest.approx(last - first, abs=1e-5)
    china = next(r for r in drivers["regions"] if r["region"] == "china")
    assert china["last"] > china["first"] + 0.3  # the synthetic trend, as published


def test_report_command(run_cli, series, tmp_path):
    ctx, _, _ = series
    out = tmp_path / "r.html"
    result = run_cli("report", "--store", str(ctx.store.path), "-o", str(out), "--since", "2024-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"report written to {out}: ")
    assert "2024-01 to 2026-06" in result.stderr and "partial" in result.stderr
    assert embedded(out)["months"][0] == "2024-01"
    # nothing passes: one line, exit 1, no file
    empty = tmp_path / "none.html"
    result = run_cli(
        "report", "--store", str(ctx.store.path), "-o", str(empty), "--since", "2030-01"
    )
    assert result.exit_code == 1 and not empty.exists()
    assert result.stderr.strip().splitlines() == [
        "error: nothing to report: no derivatives pass the filters"
    ]
    # an output that cannot be written: refused before the store is read
    result = run_cli(
        "report", "--store", str(ctx.store.path), "-o", str(tmp_path / "no" / "r.html")
    )
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1


# -- the page in a browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    try:
        session = BrowserSession(offline=True, viewport=(1280, 1600))
    except BrowserUnavailable as exc:
        pytest.skip(f"browser harness unavailable: {exc.reason}")
    with session:
        yield session


def open_report(browser, path):
    page = browser.open_page(path, settle=STABLE, wait_ms=100)
    page.snapshot()
    assert page.errors == [] and page.console_errors == [], page.summary()
    assert page.requests == [] and not page.injected_script_ran, page.summary()
    return page


def test_report_page_draws_and_answers_hover_keys_and_toggles(browser, series):
    _, _, path = series
    data = embedded(path)
    with open_report(browser, path) as page:
        assert not page.screenshot.is_blank((0, 0, 1280, 800))
        assert page.evaluate("document.querySelectorAll('#areas polygon').length") == 5
        assert page.evaluate("document.querySelectorAll('#download-lines polyline').length") == 5
        assert page.evaluate("document.querySelectorAll('rect.partial').length") == 1
        # hover a month: its counts and shares
        box = page.evaluate(
            "document.getElementById('share-chart').getBoundingClientRect().toJSON()"
        )
        i = len(data["months"]) - 4
        x = box["left"] + box["width"] * (48 + (i + 0.5) * (700 / len(data["months"]))) / 760
        page.page.mouse.move(x, box["top"] + box["height"] * 0.3)
        page.page.wait_for_function("() => !document.getElementById('share-tip').hidden")
        tip = page.evaluate("document.getElementById('share-tip').innerText")
        month = data["months"][i]
        assert tip.startswith(f"{month} · {data['derivatives']['total'][i]:,} derivatives")
        china = data["derivatives"]["share"]["china"][i]
        assert f"China\t{data['derivatives']['count']['china'][i]:,}\t{100 * china:.1f}%" in tip
        # the arrow keys move the month
        page.page.focus("#share-chart")
        page.page.keyboard.press("ArrowRight")
        assert page.evaluate("document.body.dataset.month") == data["months"][i + 1]
        page.page.keyboard.press("End")
        tip = page.evaluate("document.getElementById('share-tip').innerText")
        assert "partial: to 2026-06-12" in tip
        # a region's button hides it from both charts, and the card says so
        page.page.click("#toggles button[data-region='china']")
        pressed = "document.querySelector(\"#toggles [data-region='china']\").ariaPressed"
        assert page.evaluate(pressed) == "false"
        assert page.evaluate("document.querySelectorAll('#areas polygon').length") == 4
        assert (
            page.evaluate("document.querySelectorAll('#areas polygon[data-region=china]').length")
            == 0
        )
        assert page.evaluate("document.querySelectorAll('#download-lines polyline').length") == 4
        page.page.focus("#share-chart")
        page.page.keyboard.press("End")
        assert "China (hidden)" in page.evaluate("document.getElementById('share-tip').innerText")
        page.page.click("#toggles button[data-region='china']")
        assert page.evaluate("document.querySelectorAll('#areas polygon').length") == 5
        page.page.keyboard.press("Escape")
        # the tables
        text = page.evaluate("document.body.innerText")
        assert "The families that drove each region's change" in text
        assert "China: " in text and "rose" in text and "fell" in text
        assert "lineage quality" in text and data["quality"][0][0] in text
        assert f"lineage {data['meta']['version']}" in text
        page.snapshot()
        assert page.errors == [] and page.requests == []


def test_report_with_one_snapshot_says_download_share_is_not_a_series(browser, tmp_path):
    population = generate(3000, seed=2)
    store = Store(tmp_path / "s")
    store.commit(
        parse_raw(population.raw, seen_at=SEEN, source="synthetic"), snapshot_date=SEEN.date()
    )
    path = tmp_path / "r.html"
    summary = write_report(load_context(store), path)
    assert summary.download_months == 1
    with open_report(browser, path) as page:
        assert page.evaluate("document.querySelectorAll('#download-lines polyline').length") == 0
        note = page.evaluate("document.getElementById('downloads-note').textContent")
        assert note.startswith("One snapshot (2026-06): not a series.")


def test_hostile_hub_text_in_a_report_stays_text(browser, tmp_path):
    ctx = load_context(hostile_store(tmp_path / "s"))
    path = tmp_path / "hostile.html"
    data = report_data(ctx, min_downloads=0)
    write_report(ctx, path, min_downloads=0, title=XSS_PAYLOADS[0])
    assert "<img" not in DATA.findall(path.read_text())[0]
    shown = {f[0] for r in data["drivers"]["regions"] for f in r["gainers"] + r["losers"]}
    with open_report(browser, path) as page:
        assert page.evaluate("document.title") == XSS_PAYLOADS[0]
        text = page.evaluate("document.body.innerText")
        for family in shown:
            assert family in text
        assert page.evaluate("document.querySelectorAll('img, iframe, svg[onload]').length") == 0
        page.page.wait_for_timeout(200)
        page.snapshot()
        assert not page.injected_script_ran and page.dialogs == [], page.summary()
