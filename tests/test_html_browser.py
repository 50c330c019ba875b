"""Family tree pages in a real headless Chromium with the network cut off: they draw, say
what each model is, link to the Hub, and never run a script smuggled in through Hub text.

Skips (with the reason and the install commands) only where Chromium or playwright is
missing; see lineage.testing.browser.
"""

from __future__ import annotations

import pytest
from test_html_export import (
    HOSTILE_ROOT,
    hostile_store,
    page_data,
    rules_items,
    store_of,
)

from lineage.analysis import load_context
from lineage.html_export import export_family_html
from lineage.store import Store
from lineage.testing.browser import XSS_PAYLOADS, BrowserSession, BrowserUnavailable

STABLE = "document.body.dataset.state === 'stable'"

# DOM coordinates of a node's centre, after bringing it into view at a readable zoom.
NODE_AT = """(k) => {
  const net = window.lineage.network;
  net.focus(k, {scale: 1.5, animation: false});
  const p = net.canvasToDOM(net.getPositions([k])[k]);
  const r = document.getElementById('graph').getBoundingClientRect();
  return [r.left + p.x, r.top + p.y];
}"""
CARD = """(id) => {
  const c = document.getElementById(id);
  const links = [...c.querySelectorAll('a')].map(a => [a.href, a.target, a.rel, a.textContent]);
  return {hidden: c.hidden, text: c.innerText, links: links};
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
def toy_page(tmp_path_factory, toy_store):
    path = tmp_path_factory.mktemp("pages") / "qwen.html"
    export_family_html(load_context(Store(toy_store)), "Qwen/Qwen2.5-7B", path)
    return path


def open_stable(browser, path):
    page = browser.open_page(path, settle=STABLE, wait_ms=200)
    try:
        assert page.errors == [], page.summary()
        assert page.requests == [], page.summary()  # nothing fetched, nothing even tried
        assert not page.injected_script_ran, page.summary()
    except AssertionError:
        page.close()
        raise
    return page


def hover(page, k):
    x, y = page.evaluate(NODE_AT, k)
    page.page.mouse.move(x, y, steps=4)
    page.page.wait_for_function("!document.getElementById('tip').hidden", timeout=5000)
    return page.evaluate(CARD, "tip")


def click(page, k):
    x, y = page.evaluate(NODE_AT, k)
    page.page.mouse.click(x, y)
    page.page.wait_for_function("!document.getElementById('info').hidden", timeout=5000)
    return page.evaluate(CARD, "info")


def test_toy_tree_draws_offline(browser, toy_page):
    data = page_data(toy_page)
    with open_stable(browser, toy_page) as page:
        assert not page.screenshot.is_blank()
        box = page.screenshot.canvas_box
        assert box is not None and box[2] > 600 and box[3] > 400
        assert page.evaluate("window.lineage.nodes.length") == len(data["nodes"]["kind"]) == 22
        assert page.evaluate("window.lineage.edges.length") == 22
        assert page.evaluate("document.title") == "Family tree of Qwen/Qwen2.5-7B"
        legend = page.evaluate("document.getElementById('legend').innerText")
        for words in ("china", "finetune", "quantized", "root of this tree"):
            assert words in legend
        # the canvas holds what the data says: the root is drawn where it was laid out
        assert page.evaluate("window.lineage.network.getPositions([0])[0]") == {"x": 0, "y": 0}


def test_hover_card_and_pinned_card_with_hub_link(browser, toy_page):
    data = page_data(toy_page)
    k = data["nodes"]["id"].index("alice/qwen-chat-ft-GGUF")
    with open_stable(browser, toy_page) as page:
        tip = hover(page, k)
        assert tip["hidden"] is False
        for words in (
            "alice/qwen-chat-ft-GGUF",
            "relation: quantized of alice/qwen-chat-ft (relation inferred)",
            "created: 2025-",
            "9,000 all time",
            "organization: alice · region: unknown",
            "root family: Qwen/Qwen2.5-7B",
        ):
            assert words in tip["text"], tip["text"]
        info = click(page, k)
        assert "alice/qwen-chat-ft-GGUF" in info["text"]
        assert info["links"] == [
            [
                "https://huggingface.co/alice/qwen-chat-ft-GGUF",
                "_blank",
                "noopener noreferrer",
                "Open on the Hub ↗",
            ]
        ]
        # the pinned card closes with its button
        page.page.click("#info .close")
        assert page.evaluate("document.getElementById('info').hidden") is True
        page.snapshot()
        assert not page.injected_script_ran and page.errors == []


def test_find_a_model_by_name(browser, toy_page):
    with open_stable(browser, toy_page) as page:
        page.page.fill("#find", "gguf")
        page.page.press("#find", "Enter")
        assert page.evaluate("document.getElementById('find-status').textContent") == "1 of 1"
        selected = page.evaluate("window.lineage.network.getSelectedNodes()")
        ids = page_data(toy_page)["nodes"]["id"]
        assert [ids[k] for k in selected] == ["alice/qwen-chat-ft-GGUF"]
        assert "alice/qwen-chat-ft-GGUF" in page.evaluate(CARD, "info")["text"]
        page.page.fill("#find", "no-such-model")
        page.page.press("#find", "Enter")
        assert page.evaluate("document.getElementById('find-status').textContent") == (
            "no such model here"
        )


def test_hostile_hub_text_never_runs(browser, tmp_path):
    ctx = load_context(hostile_store(tmp_path / "s"))
    path = tmp_path / "hostile.html"
    # a summary node too: its card lists hostile ids
    export_family_html(ctx, HOSTILE_ROOT, path, max_nodes=9)
    data = page_data(path)
    n = data["nodes"]
    with open_stable(browser, path) as page:
        assert not page.screenshot.is_blank()
        assert page.evaluate("document.title") == f"Family tree of {HOSTILE_ROOT}"
        assert page.evaluate("document.querySelector('h1').textContent") == (
            f"Family tree of {HOSTILE_ROOT}"
        )
        for k, kind in enumerate(n["kind"]):
            tip = hover(page, k)
            info = click(page, k)
            if kind == "group":
                # hostile ids listed as text and as links to their (escaped) Hub pages
                for top in n["group"][k]["top"]:
                    assert top[0] in info["text"]
                assert all(href.startswith("https://huggingface.co/") for href, *_ in info["links"])
            else:
                assert n["id"][k] in tip["text"] and n["id"][k] in info["text"]
                if n["pipeline"][k]:
                    assert f"pipeline: {n['pipeline'][k]}" in info["text"]
            page.page.mouse.move(5, 5)
        for payload in XSS_PAYLOADS:
            page.page.fill("#find", payload)
            page.page.press("#find", "Enter")
        page.page.wait_for_timeout(300)  # time for an onerror handler to fire
        page.snapshot()
        assert page.dialogs == [] and page.xss_markers == [], page.summary()
        assert page.errors == [] and page.requests == []
        # nothing from the data became an element
        assert page.evaluate("document.querySelectorAll('img, svg[onload], iframe').length") == 0


def test_collapsed_family_opens_and_summary_nodes_list_their_models(browser, tmp_path):
    store = store_of(tmp_path / "s", rules_items())
    path = tmp_path / "rules.html"
    export_family_html(load_context(store), "lab/base", path, max_nodes=10)
    n = page_data(path)["nodes"]
    k = n["label"].index("+6 adapter")
    with open_stable(browser, path) as page:
        assert page.evaluate("window.lineage.nodes.length") == 10
        assert not page.screenshot.is_blank()
        info = click(page, k)
        assert info["text"].startswith("×\n+6 adapter\n6 adapter derivatives of lab/base")
        assert "Top by all-time downloads:" in info["text"]
        assert [link[3] for link in info["links"]] == [f"u{i}/lora" for i in range(5, -1, -1)]
