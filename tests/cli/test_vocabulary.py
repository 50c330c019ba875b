"""One vocabulary: the CLI's choices are the library's, and one "looks quantized" rule."""

from __future__ import annotations

import datetime as dt
import json

import click
import polars as pl
from click.testing import CliRunner

from lineage import vocabulary as v
from lineage.cli import cli
from lineage.records import parse_items
from lineage.store import Store

# Every option that takes a closed set of words, and the vocabulary it must offer.
EXPECTED = {
    ("crawl", "strategy"): v.STRATEGIES,
    ("share", "by"): v.GROUPINGS,
    ("share", "downloads"): v.DOWNLOAD_WINDOWS,
    ("share", "root_region"): v.REGIONS,
    ("share", "metric"): v.METRICS,
    ("share", "lineage"): v.LINEAGES,
    ("families", "downloads"): v.DOWNLOAD_WINDOWS,
    ("export html", "color"): v.COLOR_MODES,
    ("report", "downloads"): v.DOWNLOAD_WINDOWS,
    ("report", "lineage"): v.LINEAGES,
    ("ingest hub-stats", "every"): v.CADENCES,
}


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def _choices() -> dict[tuple[str, str], tuple[str, ...]]:
    return {
        (name, p.name): tuple(p.type.choices)
        for name, command in _commands(cli)
        for p in command.params
        if isinstance(p.type, click.Choice) and p.name != "fmt"
    }


def test_cli_choices_are_the_vocabulary():
    choices = _choices()
    for key, expected in EXPECTED.items():
        assert choices[key] == expected, key
    for (name, param), offered in choices.items():
        if param == "multi_parent":
            assert offered == v.MULTI_PARENT, name
        elif param == "lineage":
            # Commands that draw a whole graph need the declared one under the inferred.
            assert set(offered) <= set(v.LINEAGES) and "declared" in offered, name
        else:
            assert (name, param) in EXPECTED, f"{name} --{param}: add it to EXPECTED"


def test_relations_option_offers_the_display_order():
    result = CliRunner().invoke(cli, ["export", "html", "--root", "a/b", "-o", "x.html",
                                      "--relations", "nope"])  # fmt: skip
    assert result.exit_code == 2
    assert "choose from finetune, adapter, quantized, merge" in result.output
    assert set(v.RELATION_ORDER) == set(v.RELATIONS)


SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Names records.py always called quantized and analysis.py's quality check did not see.
LOOK_QUANTIZED = ["me/Llama-3-8B-Q4_K_M", "me/Llama-3-8B-int4bit", "me/Llama-3-8B-quantized"]


def test_quality_and_relation_guessing_share_one_quantized_rule(tmp_path):
    """A name that makes a crawl guess "quantized" makes quality call a parentless model
    quantized-looking (they disagreed on Q4_K_M, int4bit and -quantized names)."""
    with_parent = [{"id": n, "tags": ["base_model:meta-llama/Llama-3-8B"]} for n in LOOK_QUANTIZED]
    batch, _ = parse_items(with_parent, seen_at=SEEN, source="list")
    assert batch.edges["relation"].to_list() == ["quantized"] * 3
    assert batch.edges["inferred"].all()

    store = Store(tmp_path / "s")
    parentless = [{"id": n, "tags": []} for n in [*LOOK_QUANTIZED, "me/Llama-3-8B-sft"]]
    batch, _ = parse_items(parentless, seen_at=SEEN, source="list")
    store.commit(batch, snapshot_date=SEEN.date())
    result = CliRunner().invoke(cli, ["quality", "--store", str(store.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout) if r["check"].startswith("undeclared"))
    assert row["count"] == 3
    assert sorted(row["examples"]) == sorted(LOOK_QUANTIZED)


def test_looks_quantized_is_the_vocabulary_rule():
    from lineage.records import looks_quantized

    frame = pl.DataFrame(
        {
            "id": ["a/x-GGUF", "a/x-AWQ", "a/x", "a/x", "a/x-it"],
            "library_name": [None, None, "MLX", None, "transformers"],
            "tags": [[], [], [], ["Bitsandbytes"], ["text-generation"]],
        }
    )
    assert frame.select(looks_quantized())["id"].to_list() == [True, True, True, True, False]
