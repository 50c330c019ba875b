"""HTML family trees: export time, file size and browser settle time, against baselines.

Two parts, each measured against its baseline in the same run.

**Single-root families** of 1k, 10k and 100k models (synthetic, built once, cached under
/tmp/lineage-bench):

- ours, default (``--max-nodes 5000``) and drawing every model (``--max-nodes N``):
  export time (median of --repeat runs; the store's graph is loaded once, before) and
  file size;
- the baseline, pyvis 0.3.2 with its defaults as a user would write it (``Network()``,
  ``add_node``/``add_edge`` per model with a text tooltip, ``write_html``; physics on,
  vis-network from the CDN): export time and file size;
- for the 10k family, headless Chromium (Debian's, offline): time from navigation until
  the page has settled (ours: first full drawing; pyvis: physics stabilisation done), and
  whether it drew. The CDN page cannot draw offline at all, so the browser baseline is
  pyvis's ``cdn_resources="in_line"`` page, which is the same page with vis inlined.

**An organization** of 200 roots and 100k models (``lineage.testing.synthetic.organization``):
today's export (families in disks around the organization, labels placed without overlaps,
month slider) against the export as it was before issue 13 (vis-network page, radial rings;
its code taken from git at ``--baseline-ref`` into a temporary package): export time, file
size, Chromium settle time, and how many pairs of drawn labels overlap on the first view.

Targets (issues 6 and 13): the 10k family and the 100k organization settle in under 5 s;
the organization's file is under 10 MB.

    python benchmarks/bench_html.py
    python benchmarks/bench_html.py --sizes 1000,10000 --baseline-timeout 60 --org-models 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

CACHE = Path("/tmp/lineage-bench")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/support: the browser harness
# The last commit that changed the HTML export before issue 13: the organization baseline.
BASELINE_REF = "6ddb9d1c7594060a1c967ad942b5b1396bcd521b"
SETTLED = "document.body.dataset.state === 'stable'"
ROOT = "Qwen/Qwen2.5-7B"
RELATIONS = np.array(["adapter", "finetune", "quantized", "merge"])
RELATION_P = [0.40, 0.36, 0.20, 0.04]  # as lineage.testing.synthetic
SUFFIX = {"adapter": "lora", "finetune": "ft", "quantized": "GGUF", "merge": "merge"}
KNOWN_ORGS = ("unsloth", "bartowski", "mlx-community", "TheBloke", "NousResearch", "nvidia")


def family_batch(n: int, seed: int):
    """One root and n-1 derivatives shaped like a big Hub family.

    A third of the models derive from the root directly; the rest from an earlier model,
    fine-tunes and merges six times likelier to be built on than adapters and
    quantizations. Merges name a second, random earlier parent. Downloads are lognormal.
    """
    from lineage.records import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA, Batch

    rng = np.random.default_rng(seed)
    relation = rng.choice(4, size=n, p=RELATION_P)
    parent = np.zeros(n, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    pool = [0]
    for i in range(1, n):
        if rng.random() >= 0.35:
            parent[i] = pool[int(rng.integers(len(pool)))]
        if relation[i] == 3 and i > 2:
            other = int(rng.integers(i))
            second[i] = other if other != parent[i] else -1
        pool.extend([i] * (6 if relation[i] in (1, 3) else 1))
    users = np.char.add("user", (rng.zipf(1.6, size=n) % 5000).astype(str))
    known = np.array(KNOWN_ORGS)[rng.integers(len(KNOWN_ORGS), size=n)]
    org = np.where(rng.random(n) < 0.08, known, users)
    name = ROOT.split("/")[1]
    ids = [ROOT] + [f"{org[i]}/{name}-{SUFFIX[RELATIONS[relation[i]]]}-{i}" for i in range(1, n)]
    start = dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
    minutes = np.sort(rng.integers(0, 60 * 24 * 600, size=n))
    created = [start + dt.timedelta(minutes=int(m)) for m in minutes]
    downloads = rng.lognormal(2.0, 2.5, size=n).astype(np.int64)
    downloads[0] = 40_000_000
    models = pl.DataFrame(
        {
            "id": ids,
            "author": [i.split("/")[0] for i in ids],
            "created_at": created,
            "last_modified": created,
            "downloads": downloads // 10,
            "downloads_all_time": downloads,
            "likes": downloads // 1000,
            "pipeline_tag": ["text-generation"] * n,
            "library_name": ["transformers"] * n,
            "tags": [[] for _ in range(n)],
            "parameters": [None] * n,
            **dict.fromkeys(("model_type", "gguf_architecture", "gguf_parameters"), [None] * n),
            "adapter_base": [None] * n,
            "crawled": [True] * n,
            "seen_at": [created[-1]] * n,
            "source": ["bench"] * n,
        },
        schema=MODEL_SCHEMA,
    )
    has_second = second >= 0
    child = np.concatenate([np.arange(1, n), np.flatnonzero(has_second)])
    parents = np.concatenate([parent[1:], second[has_second]])
    position = np.concatenate([np.zeros(n - 1), np.ones(int(has_second.sum()))])
    id_array = np.array(ids, dtype=object)
    edges = pl.DataFrame(
        {
            "child": id_array[child].tolist(),
            "parent": id_array[parents].tolist(),
            "relation": RELATIONS[relation[child]].tolist(),
            "inferred": [False] * child.size,
            "source": ["tags"] * child.size,
            "position": position.astype(np.int32),
        },
        schema=EDGE_SCHEMA,
    )
    return Batch(models, edges, pl.DataFrame(schema=PROBLEM_SCHEMA))


def build_store(n: int, seed: int) -> Path:
    from lineage.store import Store

    path = CACHE / f"html-family-{n}-{seed}"
    if not (path / "models.parquet").exists():
        Store(path).commit(family_batch(n, seed))
    return path


def pyvis_baseline(ctx, path: Path, cdn: str) -> float:
    """The same family with pyvis's defaults, as a user would write it: seconds taken."""
    from pyvis.network import Network

    started = time.perf_counter()
    nodes = ctx.graph.nodes
    net = Network(directed=True, cdn_resources=cdn)
    for model, created, downloads, likes in nodes.select(
        "id", "created_at", "downloads_all_time", "likes"
    ).iter_rows():
        title = f"{model}\ncreated {created:%Y-%m-%d}\n{downloads:,} downloads, {likes:,} likes"
        net.add_node(model, label=model, title=title)
    ids = nodes["id"]
    edges = ctx.graph.edges.select("child", "parent", "relation")
    for child, parent, relation in edges.iter_rows():
        net.add_edge(ids[parent], ids[child], title=relation)
    net.write_html(str(path))
    return time.perf_counter() - started


def megabytes(path: Path) -> float:
    return path.stat().st_size / 1e6


def measure_exports(sizes: list[int], seed: int, repeat: int, out: Path, skip_pyvis_above: int):
    from lineage.analysis import load_context
    from lineage.html.export import export_family_html
    from lineage.store import Store

    rows = []
    for n in sizes:
        store = build_store(n, seed)
        started = time.perf_counter()
        ctx = load_context(Store(store))
        load_s = time.perf_counter() - started
        row = {"n": n, "load_s": load_s}
        for label, max_nodes in (("ours_default", 5000), ("ours_all", n)):
            path = out / f"{label}-{n}.html"
            times = []
            for _ in range(repeat):
                summary = export_family_html(ctx, ROOT, path, max_nodes=max_nodes)
                times.append(summary.seconds)
            row[label] = (statistics.median(times), megabytes(path), summary.nodes)
        if n <= skip_pyvis_above:
            remote = out / f"pyvis-remote-{n}.html"
            row["pyvis"] = (pyvis_baseline(ctx, remote, "remote"), megabytes(remote), n)
            if n in (10_000,) or n == min(sizes):
                pyvis_baseline(ctx, out / f"pyvis-inline-{n}.html", "in_line")
        rows.append(row)
        print_export_row(row)
    return rows


def print_export_row(row: dict) -> None:
    n = row["n"]
    d_s, d_mb, d_nodes = row["ours_default"]
    a_s, a_mb, _ = row["ours_all"]
    line = (
        f"{n:>7,} models (graph loaded in {row['load_s']:.2f} s) | ours --max-nodes 5000: "
        f"{d_s:6.2f} s {d_mb:5.1f} MB ({d_nodes:,} nodes) | ours, every model: "
        f"{a_s:6.2f} s {a_mb:5.1f} MB"
    )
    if "pyvis" in row:
        p_s, p_mb, _ = row["pyvis"]
        line += (
            f" | pyvis defaults: {p_s:7.2f} s {p_mb:5.1f} MB (+ vis from the CDN)"
            f" | ours/pyvis time: default {d_s / p_s:.3f}x, every model {a_s / p_s:.3f}x"
        )
    else:
        line += " | pyvis: skipped (--skip-pyvis-above)"
    print(line, flush=True)


def measure_browser(n: int, out: Path, repeat: int, baseline_timeout: float) -> None:
    from support.browser import BrowserSession, BrowserUnavailable, SettleTimeout

    try:
        session = BrowserSession(offline=True, timeout_ms=int(baseline_timeout * 1000) + 60_000)
    except BrowserUnavailable as exc:
        print(f"browser: skipped ({exc.reason})")
        return
    ours = SETTLED
    with session:
        for label in ("ours_default", "ours_all"):
            settle, load = [], []
            for _ in range(repeat):
                with session.open_page(out / f"{label}-{n}.html", settle=ours, wait_ms=0) as page:
                    assert page.errors == [] and page.requests == [], page.summary()
                    settle.append(page.settle_ms / 1000)
                    load.append(page.load_ms / 1000)
                    nodes = page.evaluate("window.lineage.data.nodes.kind.length")
                    blank = page.screenshot.is_blank()
            verdict = "PASS" if statistics.median(settle) < 5 else "FAIL"
            print(
                f"chromium, {n:,}-model family, {label}: {nodes:,} nodes settled in "
                f"{statistics.median(settle):.2f} s (median of {repeat}; load event "
                f"{statistics.median(load):.2f} s); blank={blank}; target < 5 s: {verdict}",
                flush=True,
            )
        inline = out / f"pyvis-inline-{n}.html"
        if not inline.exists():
            return
        seen = {"progress": "not started"}

        def stabilised(page) -> bool:
            # pyvis's template fades its loading bar out once stabilisation is done
            state = page.evaluate(
                "() => { const b = document.getElementById('loadingBar');"
                " const t = document.getElementById('text');"
                " return [typeof network !== 'undefined' && !!network && !!b"
                " && b.style.opacity === '0', t ? t.innerHTML : 'not started']; }"
            )
            seen["progress"] = state[1]
            return state[0]

        started = time.perf_counter()
        try:
            with session.open_page(
                inline,
                settle=stabilised,
                settle_timeout_ms=int(baseline_timeout * 1000),
                wait_ms=0,
            ) as page:
                print(
                    f"chromium, {n:,}-model family, pyvis defaults (vis inlined, physics on): "
                    f"settled in {page.settle_ms / 1000:.1f} s",
                    flush=True,
                )
        except SettleTimeout:
            print(
                f"chromium, {n:,}-model family, pyvis defaults (vis inlined, physics on): NOT "
                f"settled after {time.perf_counter() - started:.0f} s (stabilisation at "
                f"{seen['progress']})",
                flush=True,
            )
        try:
            with session.open_page(
                out / f"pyvis-remote-{n}.html",
                settle="typeof network !== 'undefined' && !!network",
                wait_ms=0,
                settle_timeout_ms=5000,
            ):
                print("chromium, pyvis CDN page offline: drew", flush=True)
        except SettleTimeout as exc:
            print(
                f"chromium, pyvis CDN page offline: never draws "
                f"({len(exc.result.blocked_requests)} requests to the CDN blocked)",
                flush=True,
            )


# -- an organization: today's page against the page before issue 13 ----------------------------


def baseline_export(ref: str):
    """``export_family_html`` as it was at ``ref``, importable next to today's lineage.

    Its three modules and two templates are read with ``git show`` into a temporary
    package; the modules it imports besides (errors, regions) are today's, which have the
    same interface. Its templates are read from that package, not from lineage's.
    """
    root = Path(tempfile.mkdtemp(prefix="lineage-html-baseline-"))
    package = root / "lineage_html_baseline"
    (package / "templates").mkdir(parents=True)

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout

    for name in ("html_export.py", "family_view.py"):
        text = show(f"lineage/{name}").replace(
            'resources.files("lineage")', "resources.files(__package__)"
        )
        (package / name).write_text(text)
    for name in ("family.html", "family.js"):
        (package / "templates" / name).write_text(show(f"lineage/templates/{name}"))
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("from lineage.errors import InputError, NotInStore\n")
    (package / "regions.py").write_text("from lineage.regions import attach_regions\n")
    sys.path.insert(0, str(root))
    return importlib.import_module("lineage_html_baseline.html_export").export_family_html


def build_org_store(roots: int, models: int, seed: int) -> Path:
    from lineage.records import parse_raw
    from lineage.store import Store
    from lineage.testing.synthetic import Mess, organization

    path = CACHE / f"html-org-{roots}-{models}-{seed}"
    if not (path / "models.parquet").exists():
        hub = organization(roots, models, seed=seed, mess=Mess.none())
        seen = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
        Store(path).commit(parse_raw(hub.raw, seen_at=seen, source="bench"))
    return path


# Pairs of drawn label boxes that intersect, on the page as it first appears: today's page
# reports its boxes; the baseline's are read from vis-network's label modules.
LABEL_OVERLAPS = """() => {
  const L = window.lineage;
  let boxes = [];
  if (L.frame) boxes = L.frame.labels;
  else {
    const net = L.network, scale = net.getScale(), c = document.querySelector('canvas');
    for (const id of Object.keys(net.body.nodes)) {
      const label = net.body.nodes[id].labelModule;
      if (!label || !label.elementOptions.label || !label.size.width) continue;
      if (label.fontOptions.size * scale < label.elementOptions.scaling.label.drawThreshold - 1)
        continue;
      const s = label.size, a = net.canvasToDOM({x: s.left, y: s.top});
      const b = net.canvasToDOM({x: s.left + s.width, y: s.top + s.height});
      if (b.x < 0 || b.y < 0 || a.x > c.clientWidth || a.y > c.clientHeight) continue;
      boxes.push([a.x, a.y, b.x - a.x, b.y - a.y]);
    }
  }
  boxes.sort((p, q) => p[0] - q[0]);
  let pairs = 0;
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length && boxes[j][0] < boxes[i][0] + boxes[i][2]; j++)
      if (boxes[j][1] < boxes[i][1] + boxes[i][3] && boxes[i][1] < boxes[j][1] + boxes[j][3])
        pairs++;
  return [boxes.length, pairs];
}"""


def measure_organization(roots: int, models: int, seed: int, repeat: int, out: Path, ref: str):
    from support.browser import BrowserSession, BrowserUnavailable

    from lineage.analysis import load_context
    from lineage.html.export import export_family_html
    from lineage.store import Store

    store = build_org_store(roots, models, seed)
    started = time.perf_counter()
    ctx = load_context(Store(store))
    print(
        f"organization: {roots} roots, {models:,} models (graph loaded in "
        f"{time.perf_counter() - started:.2f} s); baseline: the export at {ref[:10]}",
        flush=True,
    )
    baseline = baseline_export(ref)
    pages = {}
    for label, export in (("ours", export_family_html), ("before issue 13", baseline)):
        path = out / f"org-{label.replace(' ', '-')}.html"
        times = []
        for _ in range(repeat):
            times.append(export(ctx, "Qwen", path).seconds)
        pages[label] = path
        print(
            f"  {label:>15}: export {statistics.median(times):5.2f} s (median of {repeat}), "
            f"file {megabytes(path):5.2f} MB",
            flush=True,
        )
    ours_mb = megabytes(pages["ours"])
    print(
        f"  file: ours/baseline {ours_mb / megabytes(pages['before issue 13']):.2f}x; "
        f"target < 10 MB: {'PASS' if ours_mb < 10 else 'FAIL'}",
        flush=True,
    )
    try:
        session = BrowserSession(offline=True, timeout_ms=120_000)
    except BrowserUnavailable as exc:
        print(f"  browser: skipped ({exc.reason})")
        return
    settle: dict[str, float] = {}
    with session:
        for label, path in pages.items():
            runs = []
            for _ in range(repeat):
                with session.open_page(path, settle=SETTLED, wait_ms=0) as page:
                    assert page.errors == [] and page.requests == [], page.summary()
                    runs.append(page.settle_ms / 1000)
                    labels, overlaps = page.evaluate(LABEL_OVERLAPS)
                    blank = page.screenshot.is_blank()
            settle[label] = statistics.median(runs)
            print(
                f"  chromium, {label:>15}: settled in {settle[label]:.2f} s (median of {repeat}); "
                f"{labels} labels drawn, {overlaps} overlapping pairs; blank={blank}",
                flush=True,
            )
    verdict = "PASS" if settle["ours"] < 5 else "FAIL"
    print(
        f"  settle: ours/baseline {settle['ours'] / settle['before issue 13']:.2f}x; "
        f"target < 5 s: {verdict}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser-size", type=int, default=10_000)
    parser.add_argument(
        "--baseline-timeout",
        type=float,
        default=120.0,
        help="Seconds to wait for pyvis's page to stabilise in Chromium.",
    )
    parser.add_argument(
        "--skip-pyvis-above",
        type=int,
        default=10**9,
        help="Skip the pyvis export above this many models (its add_edge is quadratic).",
    )
    parser.add_argument("--org-roots", type=int, default=200)
    parser.add_argument("--org-models", type=int, default=100_000, help="0: skip")
    parser.add_argument(
        "--baseline-ref",
        default=BASELINE_REF,
        help="The git commit whose HTML export is the organization baseline.",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}; lineage export html vs pyvis 0.3.2 defaults")
    with tempfile.TemporaryDirectory(prefix="bench-html-") as tmp:
        out = Path(tmp)
        if sizes:
            measure_exports(sizes, args.seed, args.repeat, out, args.skip_pyvis_above)
        if args.browser_size in sizes:
            measure_browser(args.browser_size, out, args.repeat, args.baseline_timeout)
        if args.org_models:
            measure_organization(
                args.org_roots, args.org_models, args.seed, args.repeat, out, args.baseline_ref
            )


if __name__ == "__main__":
    main()
