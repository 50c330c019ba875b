"""`lineage infer`, `infer --evaluate`, and inferred lineage in `share`, `tree` and `quality`,
on a store crawled through the real huggingface_hub client from a fake Hub serving
fixtures/hub/undeclared.jsonl (listings expand config and gguf, as lineage asks the Hub)."""

from __future__ import annotations

import csv
import io
import json
import shutil

import polars as pl
import pytest
from support.toyhub import FIXTURES, client_for

from lineage.crawl import Crawler, CrawlRequest
from lineage.inference import DEFAULT_MIN_CONFIDENCE
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, load_jsonl


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> str:
    """The undeclared fixture, swept through the fake Hub; no inference yet."""
    path = tmp_path_factory.mktemp("undeclared") / "store"
    with FakeHub(list(load_jsonl(FIXTURES / "hub" / "undeclared.jsonl")), page_size=7) as hub:
        Crawler(Store(path), client_for(hub)).run(CrawlRequest(all=True))
    return str(path)


@pytest.fixture
def store(crawled, tmp_path) -> str:
    """A fresh copy of the crawled store for one test."""
    copy = tmp_path / "store"
    shutil.copytree(crawled, copy)
    return str(copy)


@pytest.fixture
def inferred(store, run_cli) -> str:
    result = run_cli("infer", "--store", store)
    assert result.exit_code == 0, result.stderr
    return store


def test_crawl_keeps_the_evidence_listings_expand(crawled):
    models = {r["id"]: r for r in Store(crawled).read("models").iter_rows(named=True)}
    assert models["dan/my-adapter"]["adapter_base"] == "Qwen/Qwen2.5-7B-Instruct"
    assert models["Qwen/Qwen2.5-7B"]["model_type"] == "qwen2"
    assert models["zed/mystery-GGUF"]["gguf_architecture"] == "qwen2"
    assert models["zed/mystery-GGUF"]["gguf_parameters"] == 7615616512


def test_infer_stores_inferred_edges_apart_and_prints_a_summary(store, run_cli):
    declared = (Store(store).file("edges")).read_bytes()
    result = run_cli("infer", "--store", store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = {r["method"]: r for r in json.loads(result.stdout)}
    # No file was read (no --resolve-roots): the name, config and architecture methods.
    assert list(summary) == [
        "adapter-config",
        "name-id",
        "name-exact",
        "reupload",
        "name-contained",
        "architecture",
    ]
    assert sum(r["proposals"] for r in summary.values()) == 17
    assert summary["architecture"]["with_parent"] == 0
    assert "inferred lineage for 17 of 24 crawled models without a declared parent" in (
        result.stderr
    )
    assert "inferred_edges.parquet" in result.stderr
    s = Store(store)
    assert s.file("edges").read_bytes() == declared  # declared lineage untouched
    assert s.read("inferred_edges").height == 17


def test_info_says_how_much_lineage_was_inferred(store, run_cli):
    before = run_cli("info", "--store", store)
    assert "inferred lineage: none (`lineage infer` proposes it" in before.stdout
    assert run_cli("infer", "--store", store, "--quiet").exit_code == 0
    proposed = Store(store).read("inferred_edges")
    confident = proposed.filter(pl.col("confidence") >= 0.8)["child"].n_unique()
    assert 0 < confident < proposed.height == 17  # the fixture has proposals on both sides
    after = run_cli("info", "--store", store)
    assert (
        f"inferred lineage: 17 undeclared models given a parent or family by `lineage infer`, "
        f"{confident} at the default confidence" in after.stdout
    )
    as_json = json.loads(run_cli("info", "--store", store, "--format", "json").stdout)
    assert (as_json["inferred_lineage"], as_json["inferred_lineage_confident"]) == (17, confident)


def test_infer_list_prints_the_edges_at_the_minimum_confidence(store, run_cli):
    result = run_cli(
        "infer", "--store", store, "--list", "--format", "csv", "--min-confidence", "0"
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 17
    assert set(rows[0]) == {
        "child",
        "parent",
        "root",
        "relation",
        "method",
        "confidence",
        "evidence",
    }
    by_child = {r["child"]: r for r in rows}
    assert by_child["quant/Llama-3-8B-GGUF"]["parent"] == "meta-llama/Meta-Llama-3-8B"
    assert by_child["quant/Llama-3-8B-GGUF"]["method"] == "reupload"
    assert by_child["zed/mystery-GGUF"]["parent"] == ""
    high = run_cli(
        "infer", "--store", store, "--list", "--format", "json", "--min-confidence", "0.9"
    )
    assert all(r["confidence"] >= 0.9 for r in json.loads(high.stdout))


def test_infer_evaluate_reports_without_changing_the_store(store, run_cli):
    before = sorted(p.name for p in Store(store).path.iterdir())
    result = run_cli("infer", "--store", store, "--evaluate", "--sample", "6", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sample"] == 6 and report["declared_derivatives"] == 11
    assert {r["method"] for r in report["by_method"]} >= {"name-exact", "adapter-config"}
    first = report["thresholds"][0]
    assert set(first) == {
        "min_confidence",
        "proposals",
        "coverage",
        "parent_precision",
        "root_precision",
        "root_name_precision",
        "region_precision",
        "weighted_coverage",
        "weighted_root_precision",
        "weighted_region_precision",
    }
    assert sorted(p.name for p in Store(store).path.iterdir()) == before
    table = run_cli("infer", "--store", store, "--evaluate", "--sample", "6")
    assert table.exit_code == 0
    assert "hid the declarations of 6 of 11 declared derivatives (seed 0)" in table.stdout
    assert "calibration: precision by confidence" in table.stdout
    refused = run_cli("infer", "--store", store, "--evaluate", "--format", "csv")
    assert refused.exit_code == 2 and "use --format table or json" in refused.stderr


def test_share_counts_declared_lineage_unless_asked(inferred, run_cli):
    def share(*args):
        result = run_cli("share", "--store", inferred, "--format", "json", *args)
        assert result.exit_code == 0, result.stderr
        return {(r["month"], r["group"]): r["count"] for r in json.loads(result.stdout)}

    default = share()
    assert share("--lineage", "declared") == default
    both = share("--lineage", "both", "--min-confidence", "0")
    only = share("--lineage", "inferred", "--min-confidence", "0")
    # October 2024: declared, nothing; inferred, u1, u2, mlx-community, u7, u10 (all Qwen).
    assert ("2024-10", "china") not in default
    assert both[("2024-10", "china")] == only[("2024-10", "china")] == 5
    # September 2024's two declared Qwen derivatives count in both, not in inferred only.
    assert default[("2024-09", "china")] == both[("2024-09", "china")] == 2
    assert ("2024-09", "china") not in only
    # At the default confidence only the proposals that reach it count; the others stay out.
    edges = Store(inferred).read("inferred_edges")
    strong = edges.filter(pl.col("confidence") >= DEFAULT_MIN_CONFIDENCE)["child"]
    assert 0 < strong.len() < edges.height
    strict = share("--lineage", "both")
    counted = {
        r["id"]
        for r in Store(inferred).read("models").iter_rows(named=True)
        if (r["downloads_all_time"] or 0) > 5
    }
    assert sum(strict.values()) - sum(default.values()) == len(set(strong) & counted)
    title = run_cli("share", "--store", inferred, "--lineage", "both").stdout.splitlines()[0]
    assert title.endswith(
        f"lineage: declared and inferred (inferred at confidence >= {DEFAULT_MIN_CONFIDENCE:g})"
    )


def test_share_lineage_errors_are_one_line(store, run_cli):
    before = run_cli("share", "--store", store, "--lineage", "both")
    assert before.exit_code == 1
    assert before.stderr.strip().splitlines() == [
        f"error: the store at {store} has no inferred lineage; run `lineage infer` first"
    ]
    bad = run_cli("share", "--store", store, "--lineage", "both", "--min-confidence", "2")
    assert bad.exit_code == 2 and "--min-confidence" in bad.stderr
    wrong = run_cli("share", "--store", store, "--lineage", "sometimes")
    assert wrong.exit_code == 2
    downloads = run_cli("share", "--store", store, "--lineage", "inferred", "--metric", "both")
    assert downloads.exit_code == 2 and "--metric derivatives" in downloads.stderr


def test_tree_marks_inferred_steps(inferred, run_cli):
    gguf = "mradermacher/qwen-chat-ft-i1-GGUF"
    shown = run_cli("tree", gguf, "--store", inferred, "--min-confidence", "0")
    assert shown.exit_code == 0, shown.stderr
    assert (
        f"{gguf} [quantized, inferred: name-exact" in shown.stdout
        and "] ~> alice/qwen-chat-ft [finetune] -> Qwen/Qwen2.5-7B-Instruct" in shown.stdout
    )
    data = json.loads(
        run_cli(
            "tree",
            "meta-llama/Meta-Llama-3-8B",
            "--store",
            inferred,
            "--format",
            "json",
            "--min-confidence",
            "0",
        ).stdout
    )
    lineage = {(d["depth"], d["relation"], d["lineage"]): d["count"] for d in data["descendants"]}
    assert lineage == {
        (1, "finetune", "declared"): 2,  # b/ and c/Llama-3-8B
        (1, "quantized", "declared"): 1,  # lmstudio-community's GGUF
        (1, "quantized", "inferred"): 2,  # u5's bnb-4bit, quant/Llama-3-8B-GGUF (re-uploads)
        (1, "finetune", "inferred"): 1,  # a/Llama-3-8B (a re-upload)
    }
    path = json.loads(
        run_cli(
            "tree",
            gguf,
            "--store",
            inferred,
            "--format",
            "json",
            "--min-confidence",
            "0",
        ).stdout
    )
    assert [(s["child"], s["parent"], s["method"]) for s in path["inferred_steps"]] == [
        (gguf, "alice/qwen-chat-ft", "name-exact")
    ]
    declared = run_cli("tree", gguf, "--store", inferred, "--lineage", "declared")
    assert "~>" not in declared.stdout
    assert f"roots: {gguf}" in declared.stdout


def test_tree_works_before_any_inference(store, run_cli):
    result = run_cli("tree", "b/Llama-3-8B", "--store", store)
    assert result.exit_code == 0, result.stderr
    assert "~>" not in result.stdout


def test_quality_lists_inferred_lineage_apart(store, run_cli):
    def checks():
        rows = json.loads(run_cli("quality", "--store", store, "--format", "json").stdout)
        return {r["check"]: r for r in rows}

    before = checks()
    assert before["inferred lineage: none in the store (run `lineage infer`)"]["count"] == 0
    assert run_cli("infer", "--store", store).exit_code == 0
    after = checks()
    total = next(c for c in after if c.startswith("undeclared models given inferred lineage"))
    assert f"confidence >= {DEFAULT_MIN_CONFIDENCE:g}" in total
    edges = Store(store).read("inferred_edges")
    strong = edges.filter(pl.col("confidence") >= DEFAULT_MIN_CONFIDENCE)
    assert after[total]["count"] == strong.height < edges.height
    # Most confident first: the adapter whose own config names its base.
    assert after[total]["examples"][0] == (
        "dan/my-adapter ~> Qwen/Qwen2.5-7B-Instruct (adapter-config, 0.91)"
    )
    for method in ("adapter-config", "name-id", "name-exact", "name-contained", "architecture"):
        mine = strong.filter(pl.col("method") == method).height
        assert after[f"  inferred by {method}"]["count"] == mine
    # Declared checks are as they were: inference never changes them.
    looks = next(c for c in after if c.startswith("undeclared-looking"))
    assert after[looks]["count"] == before[looks]["count"]


def test_help_states_the_default_minimum_confidence(run_cli):
    for command in (["share"], ["tree"], ["infer"], ["neo4j", "load"]):
        text = " ".join(run_cli(*command, "--help").stdout.split())
        assert f"[default: {DEFAULT_MIN_CONFIDENCE:g}" in text, command


def test_infer_on_an_empty_store_or_one_with_nothing_to_infer(tmp_path, run_cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["infer"], ["infer", "--evaluate"]):
        result = run_cli(*args, "--store", str(empty))
        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("error: no store at ")
    # Models but not one name another's: nothing proposed, nothing broken.
    import datetime as dt

    from lineage.records import parse_items

    store = Store(tmp_path / "plain")
    batch, _ = parse_items(
        [{"id": "a/alpha", "tags": []}, {"id": "b/beta", "tags": []}],
        seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        source="test",
    )
    store.commit(batch)
    result = run_cli("infer", "--store", str(store.path), "--list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert store.read("inferred_edges").height == 0


def test_export_html_draws_inferred_lineage_only_when_asked(inferred, run_cli, tmp_path):
    from support.pages import page_data

    inferred_pairs = {
        (r["parent"], r["child"])
        for r in Store(inferred)
        .read("inferred_edges")
        .filter(pl.col("parent").is_not_null() & (pl.col("confidence") >= 0.8))
        .iter_rows(named=True)
    }
    out = tmp_path / "qwen.html"
    pages = {}
    for lineage in ("declared", "both"):
        result = run_cli(
            "export", "html", "--store", inferred, "--root", "Qwen", "-o", str(out),
            "--lineage", lineage, "--min-confidence", "0.8",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        data = page_data(out)
        ids, e = data["nodes"]["id"], data["edges"]
        pages[lineage] = {
            (ids[f], ids[t])
            for f, t, flagged in zip(e["from"], e["to"], e["lineage"], strict=True)
            if flagged
        }
    assert pages["declared"] == set()
    # every inferred edge drawn in the Qwen tree is one the store's inference proposed
    assert pages["both"] and pages["both"] <= inferred_pairs
