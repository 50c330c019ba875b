"""Resolving the consequential roots: the order, the budget, the files through the real
client, what the Hub does to files (renames, deletions, gates, faults, hostile content),
chains of inferred lineage in share, tree and HTML, and what moved.

The Hub is tests/support/roots_hub.py's (its right answers in EXPECTED), served by the fake Hub.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from support.roots_hub import EXPECTED, LLAMA3, MISTRAL, QWEN, roots_hub
from support.toyhub import client_for

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import InputError
from lineage.evidence import MAX_CARD_BYTES
from lineage.roots import UNPLACED_SHARE, resolution_order, resolve_roots
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, split_files


def crawled(path, hub: FakeHub) -> Store:
    store = Store(path)
    Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
    store.refresh()
    return store


@pytest.fixture
def hub():
    models, files = split_files(roots_hub())
    with FakeHub(models, files=files, page_size=20) as served:
        yield served


def file_requests(hub: FakeHub) -> list[str]:
    return [r.path for r in hub.requests if r.kind == "file"]


def inferred(store: Store) -> dict[str, tuple[list[str], set[str]]]:
    """child -> (parents in order, methods)."""
    out: dict[str, tuple[list[str], set[str]]] = {}
    for row in store.read("inferred_edges").iter_rows(named=True):
        parents, methods = out.setdefault(row["child"], ([], set()))
        parents.append(row["parent"])
        methods.add(row["method"])
    return out


def test_the_roots_files_give_each_its_origin(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)
    before = len(file_requests(hub))
    summary = resolve_roots(store, client_for(hub), budget=100)
    store.refresh()
    got = inferred(store)
    for root, expected in EXPECTED.items():
        if expected is None:
            assert root not in got, root
            continue
        parents, _, methods = expected
        assert got[root][0] == parents, root
        assert got[root][1] <= methods, (root, got[root][1])
    # Every request was a file of a model, through the resolve endpoint, counted.
    asked = file_requests(hub)[before:]
    assert len(asked) == summary.requests == store.read("crawls")["requests"][-1]
    assert all("/resolve/main/" in path for path in asked)
    assert summary.examined >= len(EXPECTED) and summary.calibration >= 1
    assert summary.resolved == sum(1 for e in EXPECTED.values() if e is not None)
    assert summary.requests_per_resolved == summary.requests / summary.resolved
    # The roots reach their families through the graph (chains included), with the
    # inferred lineage counted.
    from lineage.analysis import load_context, tree

    ctx = load_context(store, lineage="both")
    for root, expected in EXPECTED.items():
        if expected is not None:
            assert expected[1] in tree(ctx, root).roots, root


def test_order_in_turn_by_impact_and_unplaced_with_calibration_between(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)

    def order(**options) -> pl.DataFrame:
        return resolution_order(
            store.read("models"), store.read("edges"), store.read("lookups"),
            pl.DataFrame(schema={"model": pl.String}), **options,
        )  # fmt: skip

    def roots(frame: pl.DataFrame) -> list[str]:
        return frame.filter(pl.col("role") == "root")["id"].to_list()

    default = order()
    roles = default["role"].to_list()
    # By impact alone (share 0): the most downloaded derivatives first (Marcoro14's 6, of
    # 5,000 downloads each), an origin (Mistral, 6 derivatives) among the others.
    alone = order(unplaced_share=0).filter(pl.col("role") == "root")
    assert alone["impact"].to_list() == sorted(alone["impact"].to_list(), reverse=True)
    assert set(alone["region_known"]) == {True, False}
    # Every root of an organization without a region first (share 1), by impact.
    unplaced = order(unplaced_share=1).filter(pl.col("role") == "root")
    known = unplaced["region_known"].to_list()
    assert known == sorted(known) and known != alone["region_known"].to_list()
    for group in unplaced.partition_by("region_known"):
        assert group["impact"].to_list() == sorted(group["impact"].to_list(), reverse=True)
    # The default takes them in turn, by impact first: the next not read of each order.
    assert UNPLACED_SHARE == 0.5
    taken: list[str] = []
    for turn, model in enumerate(roots(default)):
        assert model == next(m for m in roots([alone, unplaced][turn % 2]) if m not in taken)
        taken.append(model)
    assert sorted(taken) == sorted(roots(alone))
    # So the origin with the third largest impact is read third (by impact's second turn),
    # not after every root without a region as share 1 reads it.
    assert roots(default)[:4] == [
        "mlabonne/Marcoro14-7B-slerp",
        "unsloth/llama-3-8b-bnb-4bit",
        MISTRAL,
        "HuggingFaceH4/zephyr-7b-sft-full",
    ]
    assert roots(unplaced).index(MISTRAL) > roots(unplaced).index("obscure-lab/Original-1B")
    # One calibration model after every four roots.
    assert roles[4] == "calibration" and roles[:4] == ["root"] * 4
    calibration = default.filter(pl.col("role") == "calibration")["id"]
    assert "AIDC-ai-business/Marcoroni-7B-v3" in calibration
    assert order(calibrate=0)["role"].unique().to_list() == ["root"]
    with pytest.raises(InputError, match="unplaced_share"):
        resolve_roots(store, client_for(hub), unplaced_share=2)


def test_a_budget_spends_that_many_requests_and_the_next_run_continues(tmp_path, hub):
    reference = crawled(tmp_path / "reference", hub)
    resolve_roots(reference, client_for(hub), budget=1000)
    budgeted = crawled(tmp_path / "budgeted", hub)
    start = len(file_requests(hub))
    first = resolve_roots(budgeted, client_for(hub), budget=2)
    # The top root's card, then its first source that is a parentless model itself.
    assert file_requests(hub)[start:] == [
        "/mlabonne/Marcoro14-7B-slerp/resolve/main/README.md",
        "/EmbeddedLLM/Mistral-7B-Merge-14-v0.1/resolve/main/README.md",
    ]
    assert first.requests == 2 and first.roots_left > 0 and 0 < first.impact_left < 1
    runs = 1
    while True:
        again = resolve_roots(budgeted, client_for(hub), budget=3)
        runs += 1
        if again.requests == 0:
            break
        assert again.requests <= 3 and runs < 20
    assert again.roots_left == 0
    # Nothing asked twice, and the store ends as one unlimited run leaves it.
    asked = file_requests(hub)[start:]
    assert len(asked) == len(set(asked))
    budgeted.refresh()
    drop = {"file_evidence": ["fetched_at"], "inferred_edges": ["inferred_at"]}
    for table, volatile in drop.items():
        a = budgeted.read(table).drop(volatile).sort(pl.all())
        b = reference.read(table).drop(volatile).sort(pl.all())
        assert a.equals(b), table
    assert budgeted.read("crawls")["strategy"].to_list().count("resolve-roots") == runs - 1


def test_a_root_a_card_names_is_read_right_after_it(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)
    start = len(file_requests(hub))
    first = resolve_roots(store, client_for(hub), budget=5)
    # Marcoro14's card names Merge-14 (parentless, no derivative), whose mergekit card names
    # Mistral and zephyr: roots further down the order, read right after it (Mistral's card
    # is absent, so its config), not in their turn: their families are Marcoro14's.
    assert file_requests(hub)[start:] == [
        "/mlabonne/Marcoro14-7B-slerp/resolve/main/README.md",
        "/EmbeddedLLM/Mistral-7B-Merge-14-v0.1/resolve/main/README.md",
        f"/{MISTRAL}/resolve/main/README.md",
        f"/{MISTRAL}/resolve/main/config.json",
        "/HuggingFaceH4/zephyr-7b-sft-full/resolve/main/README.md",
    ]
    assert first.examined == 4 and first.calibration == 0
    # Moved up with their own rows: read roots, not left (and not counted twice).
    roots = resolution_order(
        store.read("models"), store.read("edges"), store.read("lookups"),
        pl.DataFrame(schema={"model": pl.String}),
    ).filter(pl.col("role") == "root")  # fmt: skip
    assert {MISTRAL, "HuggingFaceH4/zephyr-7b-sft-full"} < set(roots["id"])
    assert first.roots_left == roots.height - 3
    store.refresh()
    assert inferred(store)["HuggingFaceH4/zephyr-7b-sft-full"][0] == [MISTRAL]
    # The next run reads neither again.
    resolve_roots(store, client_for(hub), budget=100)
    asked = file_requests(hub)[start:]
    assert len(asked) == len(set(asked))


def test_what_the_hub_does_to_files(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)
    # Since the crawl: Marcoro14 renamed (its files follow: a 307), zephyr deleted, the
    # GGUF's card replaced by a binary file, and secret-sauce's config answers 500 twice.
    hub.rename_model("mlabonne/Marcoro14-7B-slerp", "mlabonne/Marcoro14-7B-slerp-v2")
    hub.add_files("mlabonne/Marcoro14-7B-slerp-v2", {"README.md": hub_card(hub)})
    hub.remove_model("HuggingFaceH4/zephyr-7b-sft-full")
    hub.add_files("TheBloke/Llama-2-7B-Chat-GGUF", {"README.md": b"\x00\x01GGUF\x00" * 100})
    hub.inject("file", status=500, times=2, match=lambda path, _: "secret-sauce" in path)
    summary = resolve_roots(store, client_for(hub), budget=100)
    store.refresh()
    evidence = store.read("file_evidence")
    status = {
        (r["model"], r["file"]): r["status"]
        for r in evidence.unique(["model", "file"]).iter_rows(named=True)
    }
    assert status[("mlabonne/Marcoro14-7B-slerp", "README.md")] == "read"
    assert summary.redirects >= 1
    assert status[("TheBloke/Llama-2-7B-Chat-GGUF", "README.md")] == "unreadable"
    assert summary.retries >= 2
    assert status[("someone/secret-sauce-7b", "config.json")] == "read"
    # A gated model's card is read, its config refused; nothing stops the run.
    assert status[(LLAMA3, "README.md")] == "read"
    assert status[(LLAMA3, "config.json")] == "refused"
    got = inferred(store)
    assert got["mlabonne/Marcoro14-7B-slerp"][0][0] == "AIDC-ai-business/Marcoroni-7B-v3"
    # An unreadable card: the name still says it (a GGUF named after Llama-2-7b-chat-hf).
    assert got["TheBloke/Llama-2-7B-Chat-GGUF"] == (["meta-llama/Llama-2-7b-chat-hf"], {"reupload"})
    assert got["someone/secret-sauce-7b"][0] == [MISTRAL]


def hub_card(hub: FakeHub) -> bytes:
    from support.roots_hub import CARDS

    return (CARDS / "lazymergekit.md").read_bytes()


def test_a_card_is_read_only_up_to_its_limit(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)
    late = "x" * (MAX_CARD_BYTES + 10) + f"\n\nFine-tuned from [{QWEN}](https://hf.co/{QWEN})."
    hub.add_files("gated-org/gated-ft", {"README.md": late})
    resolve_roots(store, client_for(hub), budget=100)
    store.refresh()
    assert "gated-org/gated-ft" not in inferred(store)  # what lies past the limit is unread
    # (the fake Hub answered the Range request with the first MAX_CARD_BYTES bytes only)
    assert store.read("file_evidence").filter(
        (pl.col("model") == "gated-org/gated-ft") & (pl.col("file") == "config.json")
    )["status"].to_list() == ["refused"]


def test_bad_choices_are_refused(tmp_path, hub):
    store = crawled(tmp_path / "s", hub)
    with pytest.raises(InputError, match="budget"):
        resolve_roots(store, client_for(hub), budget=-1)
    with pytest.raises(InputError, match="calibrate"):
        resolve_roots(store, client_for(hub), calibrate=1.5)
    nothing = resolve_roots(store, client_for(hub), budget=0)
    assert nothing.requests == 0 and not store.exists("file_evidence")


def test_cli_resolve_roots_then_share_says_what_moved(tmp_path, hub, run_cli):
    store = str(crawled(tmp_path / "s", hub).path)
    declared = run_cli("share", "--store", store, "--min-downloads", "0", "--format", "json")
    unknown = sum(r["weight"] for r in json.loads(declared.stdout) if r["group"] == "unknown")
    result = run_cli(
        "infer", "--resolve-roots", "--store", store, "--endpoint", hub.url, "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    methods = {r["method"]: r for r in json.loads(result.stdout)}
    assert {"card-base-model", "card-mergekit", "config-name", "reupload"} <= set(methods)
    assert "requests per root resolved" in result.stderr
    assert "of a budget of 300" in result.stderr  # --resolve-roots alone: 300 requests
    info = run_cli("info", "--store", store)
    assert "crawl files of consequential roots (resolve-roots)" in info.stdout
    both = run_cli(
        "share", "--store", store, "--min-downloads", "0", "--lineage", "both", "--format", "json"
    )
    assert both.exit_code == 0, both.stderr
    left = sum(r["weight"] for r in json.loads(both.stdout) if r["group"] == "unknown")
    assert left < unknown
    note = next(line for line in both.stderr.splitlines() if "moved" in line)
    assert "into regions (from unknown" in note
    assert "card-link" in note and "reupload" in note and "into eu" in note
    # declared lineage says nothing of it
    assert "moved" not in declared.stderr
    usage = run_cli("infer", "--evaluate", "--resolve-roots", "5", "--store", store)
    assert usage.exit_code == 2
    # The order's default is the library's; the option it replaced is refused.
    helptext = " ".join(run_cli("infer", "--help").stdout.split())
    assert f"first. [default: {UNPLACED_SHARE:g};" in helptext
    gone = run_cli("infer", "--resolve-roots", "--origin-weight", "1", "--store", store)
    assert gone.exit_code == 2 and "--origin-weight" in gone.stderr
    usage = run_cli("infer", "--min-derivatives", "5", "--store", store)
    assert (
        usage.exit_code == 2 and "--min-derivatives chooses what --evaluate hides" in usage.stderr
    )


def test_chains_of_inferred_lineage_reach_the_origin(tmp_path, hub, run_cli):
    store = crawled(tmp_path / "s", hub)
    resolve_roots(store, client_for(hub), budget=100)
    path = str(store.path)
    # A fine-tune of Marcoro14: Marcoro14 ~> Merge-14 ~> Mistral (two inferred steps).
    shown = run_cli("tree", "fan0/Marcoro14-7B-slerp-ft0", "--store", path)
    assert shown.exit_code == 0, shown.stderr
    assert (
        "mlabonne/Marcoro14-7B-slerp [merge, inferred: card-" in shown.stdout
        and "~> EmbeddedLLM/Mistral-7B-Merge-14-v0.1 [merge, inferred: card-mergekit"
        in shown.stdout
    )
    assert f"roots: {MISTRAL}" in shown.stdout.splitlines()[0]
    # A merge's sources are its parents in the card's order (the first one first).
    from lineage.analysis import load_context

    graph = load_context(store, lineage="both").graph
    merge = graph.index_of("mlabonne/Marcoro14-7B-slerp")
    rows = graph.edges.filter(pl.col("child") == merge).sort("position")
    assert graph.ids(rows["parent"]) == EXPECTED["mlabonne/Marcoro14-7B-slerp"][0]
    assert rows["position"].to_list() == [0, 1]
    declared = run_cli(
        "tree", "fan0/Marcoro14-7B-slerp-ft0", "--store", path, "--lineage", "declared"
    )
    assert "roots: mlabonne/Marcoro14-7B-slerp" in declared.stdout
    # The family page of Mistral draws Marcoro14's fine-tunes, through the chain.
    page = tmp_path / "mistral.html"
    html = run_cli(
        "export", "html", "--store", path, "--root", MISTRAL, "-o", str(page), "--lineage", "both"
    )
    assert html.exit_code == 0, html.stderr
    assert "fan0/Marcoro14-7B-slerp-ft0" in page.read_text()
    alone = tmp_path / "declared.html"
    run_cli("export", "html", "--store", path, "--root", MISTRAL, "-o", str(alone))
    assert "fan0/Marcoro14-7B-slerp-ft0" not in alone.read_text()


def test_an_inferred_cycle_is_refused(tmp_path):
    # Two parentless merges whose cards name each other: neither is the other's origin.
    models = [
        {"id": "a/MergeA-7B", "createdAt": "2024-01-01T00:00:00.000Z", "tags": ["merge"]},
        {"id": "b/MergeB-7B", "createdAt": "2024-01-01T00:00:00.000Z", "tags": ["merge"]},
        *(
            {"id": f"f{i}/x{i}", "createdAt": "2024-02-01T00:00:00.000Z",
             "tags": [f"base_model:{p}"], "downloadsAllTime": 100}
            for i, p in enumerate(["a/MergeA-7B", "b/MergeB-7B"])
        ),
    ]  # fmt: skip
    files = {
        ("model", "a/MergeA-7B", "README.md"): b"A merge of the following models:\n* b/MergeB-7B",
        ("model", "b/MergeB-7B", "README.md"): b"A merge of the following models:\n* a/MergeA-7B",
    }
    with FakeHub(models, files=files) as served:
        store = crawled(tmp_path / "s", served)
        resolve_roots(store, client_for(served), budget=20)
    store.refresh()
    from lineage.analysis import load_context

    # One of the two is stored; the other, which would close the cycle, is refused (the
    # same one every time: as the graph breaks cycles, by dates, then by ids).
    assert store.read("inferred_edges").select("child", "parent").rows() == [
        ("a/MergeA-7B", "b/MergeB-7B")
    ]
    ctx = load_context(store, lineage="both", min_confidence=0.0)
    assert ctx.graph.broken.height == 0


def test_failures_are_one_line_and_leave_nothing_to_resume(tmp_path, hub, run_cli):
    store = crawled(tmp_path / "s", hub)
    hub.inject("file", status=503, times=1_000_000)
    try:
        failed = run_cli(
            "infer", "--resolve-roots", "5", "--store", str(store.path),
            "--endpoint", hub.url, "--give-up-after", "0.5",
        )  # fmt: skip
    finally:
        hub.clear_faults()
    assert failed.exit_code == 1
    assert failed.stderr.count("\n") == 1 and "nothing was fetched yet" in failed.stderr
    journal = store.path / "journal"
    assert not journal.exists() or not any(journal.iterdir())
    assert not store.exists("file_evidence")
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_cli("infer", "--resolve-roots", "--store", str(empty), "--endpoint", hub.url)
    assert nothing.exit_code == 1 and nothing.stderr.startswith("error: no store at")
