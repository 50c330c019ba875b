"""What a reader sees first in a family tree page, at the sizes people open: one model's
family of 3, 100, 2,000 and 15,000 models (shaped and named like the Hub's, names colliding
across namespaces: tests/support/trees.py), read back from a real Chromium as drawn.

In every first view: no label over another label or over a node not its own, no two nodes
overlapping, no label said twice, model dots within a fixed pixel range. A big family shows
its biggest sub-families as named, sized disks and its "+N" nodes by relation; focusing a
node frames its own subtree; the search finds models inside "+N" nodes and focuses the node
that holds them; a hover card goes when the keyboard moves the view; the month slider
shows the family growing on a layout that does not move.
"""

from __future__ import annotations

import math

import pytest
from support.browser import BrowserSession, BrowserUnavailable
from support.trees import family_store
from support.views import (
    circle_overlaps,
    duplicate_labels,
    first_view_figures,
    label_node_overlaps,
    label_overlaps,
)
from test_html_export import page_data

from lineage.analysis import load_context
from lineage.html.export import MODEL_PX, export_family_html

STABLE = "document.body.dataset.state === 'stable'"
ROOT = "Qwen/Qwen2.5-7B"
SIZES = (3, 100, 2000, 15000)
FRAME = """() => {
  const f = window.lineage.frame;
  return Object.assign({}, f, {labels: f.labels.length, nodes: f.nodes.length});
}"""


@pytest.fixture(scope="module")
def browser():
    try:
        session = BrowserSession(offline=True)
    except BrowserUnavailable as exc:
        pytest.skip(f"browser harness unavailable: {exc.reason}")
    with session:
        yield session


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The page of each family size, with its export summary, built once."""
    folder = tmp_path_factory.mktemp("trees")
    built = {}
    for n in SIZES:
        ctx = load_context(family_store(folder / f"store-{n}", n, seed=1))
        path = folder / f"tree-{n}.html"
        built[n] = (ctx, export_family_html(ctx, ROOT, path), path)
    return built


def open_stable(browser, path):
    page = browser.open_page(path, settle=STABLE, wait_ms=150, settle_timeout_ms=30_000)
    try:
        assert page.errors == [] and page.requests == [], page.summary()
    except AssertionError:
        page.close()
        raise
    return page


def no_faults(page, *, check_sizes=True):
    """The drawn frame, checked: no overlaps, no label twice, dots within the pixel range."""
    figures = first_view_figures(page)
    drawn = figures["drawn"]
    assert label_overlaps(drawn["labels"]) == []
    assert label_node_overlaps(drawn["labels"], drawn["nodes"]) == []
    assert circle_overlaps(drawn["nodes"]) == []
    assert duplicate_labels(drawn["labels"]) == {}
    if check_sizes and figures["model_radius"]:
        low, high = figures["model_radius"]
        assert MODEL_PX[0] - 0.5 <= low and high <= MODEL_PX[1], figures["model_radius"]
    return figures


def wait_frame(page, condition, timeout=10_000):
    page.page.wait_for_function(f"() => (f => {condition})(window.lineage.frame)", timeout=timeout)


def shapes(page):
    """The nodes of the last frame by node: (x, y, r, kind)."""
    return {k: (x, y, r, kind) for x, y, r, k, kind in first_view_figures(page)["drawn"]["nodes"]}


# -- first views ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_first_view_has_no_overlaps_and_distinct_labels(browser, pages, size):
    _ctx, summary, path = pages[size]
    n = page_data(path)["nodes"]
    with open_stable(browser, path) as page:
        print(f"{size:,} models: settled in {page.settle_ms:.0f} ms")
        figures = no_faults(page)
        frame = page.evaluate(FRAME)
        labels = {b[4]: b[5] for b in figures["drawn"]["labels"]}
        assert 0 in labels  # the root is named
        if size <= 100:
            # everything drawn as itself, the root a star of a fixed size, not the canvas
            assert frame["atoms"] + 1 == size and frame["closed"] == 0
            assert figures["drawn"]["nodes"][0][2] <= 11.0
        if size == 3:
            assert set(labels.values()) == set(n["label"])
        if size == 100:
            assert len(labels) >= 30
            # names collide: the page says the whole id for those
            names = [m.split("/")[1] for m in n["id"]]
            collide = {m for m in n["id"] if names.count(m.split("/")[1]) > 1}
            assert collide and all(n["label"][n["id"].index(m)] == m for m in collide)
        if size == 15000:
            assert summary.summary_nodes > 0 and frame["closed"] > 10
            # the biggest sub-family is one disk, named and sized; "+N" nodes by relation
            sub = max(
                (k for k in range(len(n["kind"])) if n["kind"][k] == "model" and n["below"][k]),
                key=lambda k: n["below"][k][-1][1],
            )
            models = n["below"][sub][-1][1]
            assert shapes(page)[sub][3] == "disk"
            assert labels[sub] == f"{n['label'][sub]} · {models:,}"
            groups = [text for k, text in labels.items() if n["kind"][k] == "group"]
            assert len(groups) >= 2 and all(text.startswith("+") for text in groups)


def test_node_size_does_not_depend_on_the_tree_size(browser, pages):
    """A model with the same downloads is drawn the same size in a tree of 3 and of 100."""
    radii = {}
    for size in (3, 100):
        _, _, path = pages[size]
        with open_stable(browser, path) as page:
            n = page_data(path)["nodes"]
            for k, (_, _, r, kind) in shapes(page).items():
                if kind == "model":
                    radii.setdefault(n["size"][k], set()).add((size, round(r, 1)))
    assert radii
    for wanted, seen in radii.items():
        assert {r for _, r in seen} <= {round(wanted, 1)}, (wanted, seen)


# -- focus, search, hover --------------------------------------------------------------------


def test_focus_frames_the_subtree_and_opens_it(browser, pages):
    _, _, path = pages[15000]
    n = page_data(path)["nodes"]
    below = {k: n["below"][k][-1][1] for k in range(len(n["kind"])) if n["below"][k]}
    biggest = max((k for k in below if n["kind"][k] == "model"), key=below.get)
    small = min(
        (k for k in below if n["kind"][k] == "model" and 15 <= below[k] <= 40),
        key=lambda k: abs(below[k] - 21),
    )
    with open_stable(browser, path) as page:
        width, height = page.evaluate(
            "[document.querySelector('#graph').clientWidth,"
            " document.querySelector('#graph').clientHeight]"
        )
        for k in (biggest, small):
            if k == biggest:  # a click on its disk in the first view
                x, y, _, _ = shapes(page)[k]
                box = page.evaluate(
                    "document.querySelector('#graph').getBoundingClientRect().toJSON()"
                )
                page.page.mouse.click(box["left"] + x, box["top"] + y)
            else:  # as the search, the breadcrumbs and the arrow keys focus
                page.evaluate("k => window.lineage.focus(k)", k)
            wait_frame(page, f"f.focus === {k}")
            state = page.evaluate("window.lineage.state()")
            cx, cy, r = n["disk"][k]
            s, tx, ty = state["scale"], state["tx"], state["ty"]
            sx, sy, sr = cx * s + tx, cy * s + ty, r * s
            # its whole disk in view, filling it: not a smudge at the edge
            assert sx - sr >= 0 and sy - sr >= 0 and sx + sr <= width and sy + sr <= height
            assert 2 * sr >= 0.8 * min(width, height)
            # open: its own derivatives drawn
            drawn = shapes(page)
            kids = [c for c in range(len(n["kind"])) if n["parent"][c] == k]
            assert kids and all(c in drawn for c in kids)
            no_faults(page, check_sizes=False)


def test_search_finds_a_model_inside_a_plus_n_node_and_focuses_it(browser, pages):
    _, summary, path = pages[15000]
    data = page_data(path)
    hidden_ids = data["hidden"]["ids"].split("\n")
    assert len(hidden_ids) == summary.collapsed  # every model inside a "+N" node
    target = hidden_ids[len(hidden_ids) // 2]
    group = data["hidden"]["node"][len(hidden_ids) // 2]
    label = data["nodes"]["label"][group]
    with open_stable(browser, path) as page:
        page.page.click("#find")
        page.page.keyboard.type(target)
        options = page.evaluate(
            "[...document.querySelectorAll('#matches li')].map(li => li.textContent)"
        )
        parent = data["nodes"]["group"][group]["parent"]
        assert f"{target} (inside {label} under {parent})" in options
        page.page.keyboard.press("ArrowDown")
        for _ in range(options.index(f"{target} (inside {label} under {parent})")):
            page.page.keyboard.press("ArrowDown")
        page.page.keyboard.press("Enter")
        wait_frame(page, f"f.focus === {group}")
        status = page.evaluate("document.getElementById('find-status').textContent")
        assert f"{target} is inside {label} under {parent}" in status
        crumbs = page.evaluate(
            "[...document.querySelectorAll('#crumbs button')].map(b => b.textContent)"
        )
        assert crumbs[-1] == label
        # the node that holds it is in view
        _x, _y, r, kind = shapes(page)[group]
        assert kind == "group" and r > 20


def test_hover_card_goes_when_the_keyboard_moves_the_view(browser, pages):
    _, _, path = pages[100]
    n = page_data(path)["nodes"]
    with open_stable(browser, path) as page:
        box = page.evaluate("document.querySelector('#graph').getBoundingClientRect().toJSON()")
        k = next(k for k, kind in enumerate(n["kind"]) if kind == "model")
        for key in ("+", "ArrowRight", "0"):
            x, y, _, _ = shapes(page)[k]
            page.page.mouse.move(box["left"] + 2, box["top"] + 2)
            page.page.mouse.move(box["left"] + x, box["top"] + y, steps=3)
            page.page.wait_for_function("() => !document.getElementById('tip').hidden")
            page.page.focus("#graph")
            page.page.keyboard.press(key)
            page.page.wait_for_function("() => document.getElementById('tip').hidden")
            seq = page.evaluate("window.lineage.frame.seq")
            page.page.keyboard.press("0")
            wait_frame(page, f"f.seq > {seq}")  # drawn again, fitted: where the next hover goes
        # and when the keyboard moves the focus (and so the view)
        page.evaluate("k => window.lineage.focus(k)", k)
        x, y = page.evaluate("k => window.lineage.show(k)", k)
        page.page.mouse.move(box["left"] + 2, box["top"] + 2)
        page.page.mouse.move(x, y, steps=3)
        page.page.wait_for_function("() => !document.getElementById('tip').hidden")
        page.page.focus("#graph")
        page.page.keyboard.press("ArrowUp")  # to its parent
        page.page.wait_for_function("() => document.getElementById('tip').hidden")


# -- months ------------------------------------------------------------------------------------


def test_month_slider_shows_growth_on_a_stable_layout(browser, pages):
    _ctx, _summary, path = pages[15000]
    data = page_data(path)
    n, _months = data["nodes"], data["meta"]["months"]
    total = data["meta"]["counts"]["total"]
    early = next(t for t, c in enumerate(total) if c >= total[-1] * 0.3)
    with open_stable(browser, path) as page:
        last = shapes(page)
        area_last = sum(r * r for _, _, r, kind in last.values() if kind in ("disk", "group"))
        page.page.fill("#month", str(early))
        wait_frame(page, f"f.month === {early}")
        frame = page.evaluate(FRAME)
        assert frame["models"] + frame["groupModels"] == total[early]
        then = shapes(page)
        no_faults(page)
        # nothing not yet created is drawn
        for k in then:
            assert n["kind"][k] == "group" or n["month"][k] is None or n["month"][k] <= early
        # nothing moved: the same nodes at the same places
        for k, (x, y, _, kind) in then.items():
            if kind in ("model", "root") and k in last and last[k][3] == kind:
                assert (x, y) == pytest.approx(last[k][:2], abs=0.01)
        # growth shows: disks have the area of the models they had then
        area_then = sum(r * r for _, _, r, kind in then.values() if kind in ("disk", "group"))
        share = total[early] / total[-1]
        assert area_then < area_last * min(1.0, share * 1.6)
        for k, (_, _, r, kind) in then.items():
            if kind in ("disk", "group") and k in last:
                assert r <= last[k][2] + 0.01
        assert any(
            then[k][2] < last[k][2] * 0.9 for k in then if k in last and then[k][3] == "disk"
        )
        assert not math.isnan(area_then)
