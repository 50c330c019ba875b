"""`lineage share`, `families`, `tree`, `quality`, `regions` as a user runs them."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from lineage.cli import cli


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_share_by_region_as_csv_and_json(toy_store):
    result = run("share", "--store", toy_store, "--min-downloads", "0", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0] == {
        "month": "2024-02",
        "group": "eu",
        "count": "2",
        "weight": "2.0",
        "share": "1.0",
    }
    april = {r["group"]: float(r["share"]) for r in rows if r["month"] == "2025-04"}
    assert april == {"china": 0.875, "us": 0.125}  # carol's merge: half Qwen, half Llama
    as_json = json.loads(
        run("share", "--store", toy_store, "--min-downloads", "0", "--format", "json").stdout
    )
    assert len(as_json) == len(rows) and as_json[0]["month"] == "2024-02"


def test_share_default_filter_and_table_title(toy_store):
    result = run("share", "--store", toy_store)
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first == (
        "share of new derivatives with more than 5 all-time downloads; by root "
        "region; roots: all; merges: split"
    )
    assert "| month" in result.stdout
    # bob/qwen-lora-2 (40 downloads) passes; nothing with 5 or fewer does
    assert "| 2025-03 | china" in result.stdout


def test_share_with_atom_roots_reports_unattributed(toy_store):
    result = run("share", "--store", toy_store, "--roots", "atom", "--min-downloads", "0")
    assert result.exit_code == 0
    # heidi merges Qwen with a deleted model: half of it never reaches an ATOM root
    assert "parts of merges weighing 0.5 in all; not counted" in result.stderr
    by_family = run(
        "share",
        "--store",
        toy_store,
        "--roots",
        "atom",
        "--by",
        "family",
        "--min-downloads",
        "0",
        "--format",
        "csv",
    )
    assert "Qwen/Qwen2.5-7B-Instruct" in by_family.stdout  # ATOM lists the instruct model


def test_share_plot_writes_a_chart(toy_store, tmp_path):
    chart = tmp_path / "share.png"
    result = run("share", "--store", toy_store, "--min-downloads", "0", "--plot", str(chart))
    assert result.exit_code == 0, result.stderr
    from test_charts import check_png, png_has_colour, svg_legend

    from lineage.charts import REGION_COLORS

    png_has_colour(check_png(chart, min_height=300), REGION_COLORS["china"], 0.9)
    svg = tmp_path / "share.svg"
    assert run("share", "--store", toy_store, "--plot", str(svg)).exit_code == 0
    legend = svg_legend(svg)
    assert ("china", REGION_COLORS["china"]) in legend
    assert legend[-1] == ("fewer than 20 derivatives", legend[-1][1])  # the toy Hub is small
    bad = run("share", "--store", toy_store, "--plot", str(tmp_path / "chart.jpg"))
    assert bad.exit_code == 2 and "give a file ending in .png or .svg" in bad.stderr
    assert bad.stdout == ""  # rejected before the table is printed


def test_families_table(toy_store):
    result = run("families", "--store", toy_store, "--format", "json")
    families = json.loads(result.stdout)
    assert [f["family"] for f in families] == [
        "Qwen/Qwen2.5-7B",
        "mistralai/Mistral-7B-v0.1",
        "meta-llama/Llama-3.1-8B",
        "ghost/deleted-model",
    ]
    qwen = families[0]
    assert (qwen["derivatives"], qwen["region"]) == (21, "china")
    assert qwen["finetune"] + qwen["adapter"] + qwen["quantized"] + qwen["merge"] == 21


def test_tree_shows_paths_and_descendants(toy_store):
    result = run("tree", "alice/qwen-chat-ft", "--store", toy_store, "--format", "json")
    data = json.loads(result.stdout)
    assert data["roots"] == ["Qwen/Qwen2.5-7B"]
    assert [step["model"] for step in data["paths"][0]] == [
        "alice/qwen-chat-ft",
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen2.5-7B",
    ]
    assert {(d["depth"], d["relation"], d["count"]) for d in data["descendants"]} == {
        (1, "finetune", 1),
        (1, "merge", 4),
        (1, "quantized", 2),
    }
    merge = json.loads(
        run("tree", "carol/qwen-llama-merge", "--store", toy_store, "--format", "json").stdout
    )
    assert merge["roots"] == ["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"]
    assert len(merge["paths"]) == 2
    table = run("tree", "carol/qwen-llama-merge", "--store", toy_store)
    assert (
        "1. carol/qwen-llama-merge [merge] -> alice/qwen-chat-ft [finetune] -> "
        "Qwen/Qwen2.5-7B-Instruct [finetune] -> Qwen/Qwen2.5-7B"
    ) in table.stdout


def test_tree_of_an_unknown_model_is_one_line(toy_store):
    result = run("tree", "nobody/nothing", "--store", toy_store)
    assert result.exit_code == 1
    assert result.stderr == f"error: no model named 'nobody/nothing' in the store at {toy_store}\n"


def test_quality_counts_every_kind_of_problem(toy_store):
    checks = {
        c["check"]: c
        for c in json.loads(run("quality", "--store", toy_store, "--format", "json").stdout)
    }
    assert checks["edges to missing parents (looked up, not on the Hub)"]["count"] == 1
    assert checks["cycles broken (declaration dropped)"]["examples"] == [
        "grace/cycle-a -> grace/cycle-b"
    ]
    for kind in (
        "url_form",
        "whitespace",
        "self_reference",
        "non_string",
        "duplicate",
        "empty",
        "bad_tag",
        "unknown_relation",
        "invalid_id",
        "missing_parent",
        "renamed_parent",
    ):
        assert checks[f"card problem: {kind}"]["count"] >= 1, kind


def test_regions_table_override_and_unmapped(toy_store, tmp_path):
    table = run("regions", "--format", "csv").stdout
    assert "Qwen,china,atom" in table and "mistralai,eu,atom" in table
    unmapped = json.loads(
        run("regions", "--unmapped", "--store", toy_store, "--format", "json").stdout
    )
    assert unmapped == [
        {"org": "ghost", "derivatives": 1, "weight": 0.5, "example_roots": ["ghost/deleted-model"]}
    ]
    extra = tmp_path / "mine.csv"
    extra.write_text("org,region\nghost,other\n")
    assert (
        json.loads(
            run(
                "regions",
                "--unmapped",
                "--store",
                toy_store,
                "--regions",
                str(extra),
                "--format",
                "json",
            ).stdout
        )
        == []
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("org,region\nghost,mars\n")
    result = run("share", "--store", toy_store, "--regions", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: regions file {bad}, line 2: region 'mars' for 'ghost' is not one "
        "of us, china, eu, other, unknown\n"
    )


def test_bad_options_are_one_line_errors(toy_store, tmp_path):
    result = run("share", "--store", toy_store, "--since", "2025/01")
    assert result.exit_code == 2 and result.stdout == ""
    assert "Invalid value for '--since': '2025/01' is not a month; give YYYY-MM" in result.stderr
    result = run("share", "--store", toy_store, "--roots", str(tmp_path / "none.txt"))
    assert result.exit_code == 1 and "neither all, atom, atom-extended nor" in result.stderr
    roots = tmp_path / "roots.txt"
    roots.write_text("# my root set\nQwen/Qwen2.5-7B-Instruct\n")
    ok = run(
        "share",
        "--store",
        toy_store,
        "--roots",
        str(roots),
        "--min-downloads",
        "0",
        "--format",
        "json",
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)
    empty = run("share", "--store", str(tmp_path / "missing-store"))
    assert empty.exit_code == 1 and "no store at" in empty.stderr


def test_families_and_tree_count_the_same_models(tmp_path):
    """By default both count every derivative in the store, zero downloads included."""
    from support.history import item, snapshot

    from lineage.store import Store

    store = Store(tmp_path / "s")
    snapshot(
        store,
        "2025-05-01",
        item("Qwen/base", total=1000),
        item("u/never-downloaded", "Qwen/base", total=0),
        item("u/ft-of-it", "u/never-downloaded", total=50),
        item("u/merge", "Qwen/base", "mistralai/base", total=3, relation="merge"),
        item("mistralai/base", total=900),
        item("u/m-ft", "mistralai/base", total=0, created="2022-03-02"),
    )
    path = str(store.path)
    families = json.loads(run("families", "--store", path, "--format", "json").stdout)
    assert {f["family"]: f["derivatives"] for f in families} == {
        "Qwen/base": 3,
        "mistralai/base": 2,
    }
    for family in families:
        tree = json.loads(run("tree", family["family"], "--store", path, "--format", "json").stdout)
        assert sum(d["count"] for d in tree["descendants"]) == family["derivatives"]
    header = run("families", "--store", path).stdout.splitlines()[0]
    assert header == (
        "top 20 root families by derivatives: every derivative in the store, any downloads "
        "(as `lineage tree ROOT` counts)"
    )
    tree_table = run("tree", "Qwen/base", "--store", path).stdout
    assert "descendants: 3 (every model derived from it, any downloads)" in tree_table
    filtered = run("families", "--store", path, "--min-downloads", "5", "--format", "json")
    assert {f["family"]: f["derivatives"] for f in json.loads(filtered.stdout)} == {"Qwen/base": 1}
    assert run("families", "--store", path, "--min-downloads", "5").stdout.startswith(
        "top 20 root families by derivatives: crawled derivatives with more than 5 "
        "all-time downloads"
    )


def test_families_and_tree_agree_on_the_toy_hub(toy_store):
    families = json.loads(run("families", "--store", toy_store, "--format", "json").stdout)
    for family in families:
        tree = json.loads(
            run("tree", family["family"], "--store", toy_store, "--format", "json").stdout
        )
        assert sum(d["count"] for d in tree["descendants"]) == family["derivatives"], family


def test_quality_examples_are_whole_and_named_once(toy_store, tmp_path):
    from support.history import item, snapshot

    from lineage.store import Store

    table = run("quality", "--store", toy_store).stdout
    assert "…" not in table
    assert (
        "| undeclared-looking derivatives (quantization/adapter/merge names or tags, no parent) |"
        in table
    )
    checks = {
        c["check"]: c["examples"]
        for c in json.loads(run("quality", "--store", toy_store, "--format", "json").stdout)
    }
    assert checks["card problem: non_string"] == ["kim/nonstring-card"]  # two problems, one model
    for examples in checks.values():
        assert len(examples) == len(set(examples))

    # a name of 81 characters (a repo id's name may have 96)
    long_parent = "an-organization-with-a-long-name/" + "a-model-name-that-goes-on-" * 3 + "end"
    store = Store(tmp_path / "s")
    snapshot(store, "2025-05-01", item("u/child", long_parent, total=10))
    long_table = run("quality", "--store", str(store.path)).stdout
    assert f" {long_parent} |" in long_table
