"""Synthetic model cards and configs in the shapes real ones have, and Hubs that need them.

**Synthetic, and said so.** No real model card is in the data this project may use, so
the cards here are written from templates of the shapes real cards have (mergekit's
generated card and LazyMergekit's, the Trainer's generated card, TheBloke's, bartowski's
and mradermacher's quantization cards, Unsloth's card, hand-written prose), with mistakes
real cards make at rates chosen here (:class:`CardStyle`): no lineage words at all, links
to a model that is not the parent, distractor links to other models and datasets, a
``config.json`` whose ``_name_or_path`` is a local path or the model itself. Figures
measured on them describe :mod:`lineage.evidence` and the file methods of
:mod:`lineage.inference` on these shapes and rates, not on the Hub.

- :func:`card_files`: one model's ``README.md`` and ``config.json`` (or
  ``adapter_config.json``), given its true parents and relation;
- :func:`hide_roots`: a :mod:`lineage.testing.synthetic` population whose most
  consequential declared derivatives declare nothing any more (no tag, no card
  ``base_model``, no ``baseModels``), most renamed to names that say nothing, each with
  files from :func:`card_files`: the Hub the issue describes, on which ``lineage infer
  --resolve-roots`` can be tried and measured against the population's truth;
- ``python -m lineage.testing.cards hub N --hide K --jsonl FILE``: that Hub as JSON lines
  (with a ``files`` key per model) for ``python -m lineage.testing.fakehub FILE``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from .synthetic import SyntheticHub


@dataclass(frozen=True)
class CardStyle:
    """How often cards say what (fractions; the rest of each group is the first style).

    ``silent``: a card with no lineage words (a description, a usage snippet);
    ``no_card``: no README.md at all; ``wrong``: the lineage words name a model that is not
    a parent (a popular model of another family, or a sibling); ``distractors``: links to
    other models, datasets and spaces outside any lineage phrase; config ``name_or_path``
    the true parent (else a local path, or the model itself), ``no_config``: none.
    """

    silent: float = 0.2
    no_card: float = 0.1
    wrong: float = 0.04
    distractors: float = 0.5
    name_or_path: float = 0.4
    no_config: float = 0.15


def shape_of(family: str) -> dict:
    """A config's sizes for a root family: one fingerprint per family (a few families
    share one, as Llama 2 and its from-scratch look-alikes do)."""
    digest = int(hashlib.sha256(family.encode()).hexdigest(), 16) % 240
    hidden = (2048, 3072, 4096, 5120, 8192)[digest % 5]
    return {
        "model_type": ("llama", "mistral", "qwen2", "gemma2")[digest // 5 % 4],
        "hidden_size": hidden,
        "num_hidden_layers": (24, 28, 32, 40, 48, 80)[digest // 20 % 6],
        "intermediate_size": hidden * (2, 3, 4)[digest // 120 % 2],
        "vocab_size": (32000, 128256, 151936)[digest % 3],
        "num_key_value_heads": 8,
    }


def card_files(
    model_id: str,
    parents: Sequence[str],
    relation: str,
    *,
    family: str,
    rng: random.Random,
    style: CardStyle | None = None,
    others: Sequence[str] = (),
) -> dict[str, object]:
    """A model's files as a real model of its kind might have them (module docstring).

    ``parents``: its true parents, in order; ``relation``: adapter, finetune, merge or
    quantized; ``family``: its root family (its config's shape); ``others``: models a
    card may wrongly or idly link to.
    """
    style = style or CardStyle()
    name = model_id.split("/")[-1]
    named = list(parents)
    if others and rng.random() < style.wrong:
        named = [rng.choice(others), *named[1:]]
    files: dict[str, object] = {}
    if rng.random() >= style.no_card:
        body = "" if rng.random() < style.silent else _lineage_text(name, named, relation, rng)
        if others and rng.random() < style.distractors:
            body += _distractors(name, model_id, others, rng)
        files["README.md"] = (
            _front_matter(relation, rng) + f"# {name}\n\n" + (body or _description(name, rng))
        )
    if relation == "adapter":
        if rng.random() >= style.no_config:
            files["adapter_config.json"] = {
                "base_model_name_or_path": parents[0],
                "peft_type": "LORA",
                "r": 16,
            }
    elif relation != "quantized" and rng.random() >= style.no_config:
        draw = rng.random()
        if draw < style.name_or_path:
            source = parents[0]
        elif draw < style.name_or_path + (1 - style.name_or_path) / 2:
            source = f"/workspace/outputs/{name}/checkpoint-{rng.randrange(100, 5000)}"
        else:
            source = model_id
        files["config.json"] = {
            "_name_or_path": source,
            "architectures": ["ForCausalLM"],
            **shape_of(family),
            "torch_dtype": "bfloat16",
        }
    return files


def _front_matter(relation: str, rng: random.Random) -> str:
    tags = {
        "merge": ["merge", "mergekit"],
        "quantized": ["gguf"],
        "adapter": ["lora", "peft"],
        "finetune": ["generated_from_trainer", "trl", "sft"],
    }[relation]
    lines = ["---", f"license: {rng.choice(['apache-2.0', 'mit', 'llama3', 'other'])}", "tags:"]
    lines += [f"- {t}" for t in tags]
    return "\n".join([*lines, "---", ""])


def _link(model: str) -> str:
    return f"[{model}](https://huggingface.co/{model})"


def _lineage_text(name: str, parents: Sequence[str], relation: str, rng: random.Random) -> str:
    first = parents[0]
    if relation == "merge":
        listing = "\n".join(f"* {_link(p)}" for p in parents)
        config = "\n".join(f"  - model: {p}" for p in parents)
        if rng.random() < 0.5:  # mergekit's generated card
            return (
                "This is a merge of pre-trained language models created using "
                "[mergekit](https://github.com/cg123/mergekit).\n\n## Merge Details\n\n"
                "### Models Merged\n\nThe following models were included in the merge:\n"
                f"{listing}\n\n### Configuration\n\n```yaml\nmodels:\n{config}\n"
                f"merge_method: {rng.choice(['ties', 'dare_ties', 'linear'])}\n"
                f"base_model: {first}\ndtype: bfloat16\n```\n"
            )
        if rng.random() < 0.7:  # LazyMergekit
            sources = "\n".join(
                f"      - model: {p}\n        layer_range: [0, 32]" for p in parents
            )
            return (
                f"{name} is a merge of the following models using LazyMergekit:\n{listing}\n\n"
                f"## Configuration\n\n```yaml\nslices:\n  - sources:\n{sources}\n"
                f"merge_method: slerp\nbase_model: {first}\n```\n"
            )
        return f"A merge of {' and '.join(_link(p) for p in parents)}, for roleplay.\n"
    if relation == "quantized":
        form = rng.random()
        if form < 0.4:  # TheBloke
            return (
                f"- Model creator: [{first.split('/')[0]}](https://huggingface.co/"
                f"{first.split('/')[0]})\n- Original model: {_link(first)}\n\n## Description\n\n"
                f"This repo contains GGUF format model files for {_link(first)}.\n"
            )
        if form < 0.75:  # bartowski
            return (
                "## Llamacpp imatrix Quantizations\n\nUsing llama.cpp release b3600 for "
                f"quantization.\n\nOriginal model: https://huggingface.co/{first}\n"
            )
        return f"static quants of https://huggingface.co/{first}\n"
    if relation == "adapter":
        return f"A LoRA adapter for {_link(first)}, trained on a custom dataset.\n"
    form = rng.random()
    if form < 0.5:  # the Trainer's generated card
        return (
            f"This model is a fine-tuned version of {_link(first)} on the None dataset.\n"
            "It achieves the following results on the evaluation set:\n- Loss: 0.93\n"
        )
    if form < 0.7:  # Unsloth's
        return (
            f"- **Developed by:** someone\n- **Finetuned from model :** {first}\n\n"
            "This model was trained 2x faster with "
            "[Unsloth](https://github.com/unslothai/unsloth).\n"
        )
    return f"Built on top of {_link(first)} with DPO on our preference data.\n"


def _description(name: str, rng: random.Random) -> str:
    return (
        f"{name} is a {rng.choice(['general purpose', 'roleplay', 'coding'])} model.\n\n"
        f"```python\nfrom transformers import AutoModelForCausalLM\n"
        f'model = AutoModelForCausalLM.from_pretrained("{name}")\n```\n'
    )


def _distractors(name: str, model_id: str, others: Sequence[str], rng: random.Random) -> str:
    other = rng.choice(others)
    return (
        f"\n\nQuantized versions of this model: [GGUF](https://huggingface.co/{model_id}-GGUF)."
        f"\n\nCheck out my other models: {_link(other)}.\n\nTrained on "
        "[our data](https://huggingface.co/datasets/someone/data), evaluated on the "
        "[Open LLM Leaderboard](https://huggingface.co/spaces/open-llm-leaderboard/board).\n"
    )


# -- a Hub whose consequential derivatives declare nothing -------------------------------------


@dataclass
class HiddenRoots:
    """A population with hidden declarations: the population (renamed, undeclared), the
    files of its models, and what was hidden (``hidden``: id, true parents, relation,
    derivatives, renamed from)."""

    population: SyntheticHub
    files: dict[str, dict[str, object]]
    hidden: pl.DataFrame

    def items(self):
        """Hub API JSON dicts with a ``files`` key (:func:`lineage.testing.fakehub.split_files`)."""
        for item in self.population.items():
            files = self.files.get(item["id"])
            yield {**item, "files": files} if files else item


def hide_roots(
    population: SyntheticHub,
    k: int,
    *,
    seed: int = 0,
    style: CardStyle | None = None,
    rename: float = 0.8,
) -> HiddenRoots:
    """Hide the declarations of the ``k`` declared derivatives with most derivatives under
    them, as the Hub's consequential roots are hidden (module docstring).

    A hidden model loses its ``base_model`` tags, its card's ``base_model`` and its
    ``baseModels``; ``rename`` of them (quantizations of a root keep their names: they are
    the re-uploads) get a name that says nothing of their family, their children's
    declarations following; each gets files (:func:`card_files`) naming its true parents.
    Its declared derivatives keep declaring it. The truth is the population's.
    """
    import datetime as dt

    from ..graph import graph_from_frames
    from ..inference import complete_models
    from ..records import parse_raw
    from ..roots import derivatives_under
    from ..schema import LOOKUP_SCHEMA

    rng = random.Random(seed)
    batch = parse_raw(population.raw, seen_at=dt.datetime.now(dt.UTC), source="synthetic")
    graph = graph_from_frames(
        complete_models(batch.models), batch.edges, pl.DataFrame(schema=LOOKUP_SCHEMA)
    )
    under = derivatives_under(graph).join(graph.nodes.select("idx", "id", "crawled"), on="idx")
    declared = batch.edges.group_by("child", maintain_order=True).agg(
        pl.col("parent").sort_by("position"), pl.col("relation").first()
    )
    top = (
        under.join(declared, left_on="id", right_on="child")
        .filter(pl.col("crawled"))
        .sort(["derivatives", "id"], descending=[True, False])
        .head(k)
    )
    truth = population.truth.select("id", "roots")
    roots_of = dict(truth.iter_rows())
    ids = set(population.raw["id"].to_list())
    origins = set(population.truth["roots"].explode().drop_nulls().unique().to_list())
    # Renames first: a hidden model's files name its parents by their current ids.
    renamed: dict[str, str] = {}
    for number, (model, relation, parents) in enumerate(
        top.select("id", "relation", "parent").iter_rows()
    ):
        is_reupload = relation == "quantized" and all(p in origins for p in parents)
        if is_reupload or rng.random() >= rename:
            continue
        owner = model.split("/")[0]
        new = f"{owner}/{_WORDS[number % len(_WORDS)]}{number}-{rng.choice(['7B', '8B', '14B'])}"
        if new not in ids:
            renamed[model] = new
    popular = (
        under.join(graph.nodes.select("idx", "id"), on=["idx", "id"])
        .sort("derivatives", descending=True)
        .head(200)["id"]
        .to_list()
    )
    files: dict[str, dict[str, object]] = {}
    rows = []
    for model, relation, parents, derivatives in top.select(
        "id", "relation", "parent", "derivatives"
    ).iter_rows():
        now = renamed.get(model, model)
        current = [renamed.get(p, p) for p in parents]
        family = (roots_of.get(model) or [current[0]])[0]
        others = [o for o in popular if o not in parents and o != model][:50]
        files[now] = card_files(
            now, current, relation or "finetune", family=family, rng=rng, style=style, others=others
        )
        rows.append((now, current, relation, derivatives, model if now != model else None))
    # The other models whose files a resolution reads have files too: the originals (a
    # card that names nothing, a config of their own shape) and the declared derivatives
    # with most derivatives (cards and configs that agree with their declarations).
    for model in origins:
        files[model] = {
            "README.md": f"# {model.split('/')[-1]}\n\n{_description(model, rng)}",
            "config.json": {"architectures": ["ForCausalLM"], **shape_of(model)},
        }
    shown = (
        under.join(declared, left_on="id", right_on="child")
        .filter(pl.col("crawled"))
        .join(top.select("id"), on="id", how="anti")
        .sort(["derivatives", "id"], descending=[True, False])
        .head(3 * k)
    )
    for model, relation, parents in shown.select("id", "relation", "parent").iter_rows():
        now = renamed.get(model, model)
        current = [renamed.get(p, p) for p in parents]
        family = (roots_of.get(model) or [current[0]])[0]
        others = [o for o in popular if o not in parents and o != model][:50]
        files[now] = card_files(
            now, current, relation or "finetune", family=family, rng=rng, style=style, others=others
        )
    hidden = pl.DataFrame(
        rows,
        schema={
            "id": pl.String,
            "parents": pl.List(pl.String),
            "relation": pl.String,
            "derivatives": pl.Int64,
            "renamed_from": pl.String,
        },
        orient="row",
    )
    return HiddenRoots(_undeclare(population, top["id"], renamed), files, hidden)


_WORDS = ("Marcoro", "Kunoichi", "Severus", "Beagle", "Noromaid", "Stheno", "Hermes", "Nous")


def _undeclare(
    population: SyntheticHub, hidden: pl.Series, renamed: dict[str, str]
) -> SyntheticHub:
    """The population with ``hidden`` models declaring nothing and ``renamed`` applied to
    ids and to every declaration naming them."""
    raw = population.raw
    gone = pl.col("id").is_in(hidden.implode())
    raw = raw.with_columns(
        pl.when(gone)
        .then(
            pl.col("tags").list.eval(
                pl.element().filter(~pl.element().str.starts_with("base_model:"))
            )
        )
        .otherwise(pl.col("tags"))
        .alias("tags"),
        *(
            pl.when(gone).then(pl.lit(None, pl.String)).otherwise(pl.col(c)).alias(c)
            for c in ("card_base_model", "card_base_model_relation", "base_models_relation")
        ),
        pl.when(gone)
        .then(pl.lit([], pl.List(pl.String)))
        .otherwise(pl.col("base_models"))
        .alias("base_models"),
    )
    truth = population.truth
    if renamed:
        old, new = list(renamed), list(renamed.values())
        element = pl.element()
        prefix = element.str.extract(r"^(base_model:(?:(?:adapter|finetune|merge|quantized):)?)")
        card = pl.col("card_base_model").map_elements(
            lambda text: _renamed_card(text, renamed), return_dtype=pl.String
        )
        raw = raw.with_columns(
            pl.col("id").replace(old, new),
            pl.col("tags").list.eval(
                pl.when(prefix.is_not_null())
                .then(prefix + element.str.slice(prefix.str.len_chars()).replace(old, new))
                .otherwise(element)
            ),
            pl.col("base_models").list.eval(element.replace(old, new)),
            card.alias("card_base_model"),
        )
        truth = truth.with_columns(pl.col("id").replace(old, new))
    return dataclasses.replace(population, raw=raw, truth=truth)


def _renamed_card(text: str, renamed: dict[str, str]) -> str:
    """A card's raw base_model (an id, a URL, or a JSON list) with renamed ids replaced."""
    if text.startswith("["):
        values = json.loads(text)
        return json.dumps([renamed.get(v, v) if isinstance(v, str) else v for v in values])
    head, _, last = text.rpartition("huggingface.co/")
    return head + _ + renamed.get(last, last) if _ else renamed.get(text, text)


def main(argv: list[str] | None = None) -> int:
    """``python -m lineage.testing.cards hub N --hide K``: a synthetic Hub (about N models,
    :func:`lineage.testing.synthetic.generate`) whose K most consequential declared
    derivatives declare nothing and have model cards (:func:`hide_roots`), as JSON lines
    with files for ``python -m lineage.testing.fakehub FILE``; ``--truth FILE`` writes the
    true monthly shares by region (CSV) to compare ``lineage share`` with."""
    import argparse
    import sys

    from .synthetic import generate

    parser = argparse.ArgumentParser(
        prog="python -m lineage.testing.cards", description=(main.__doc__ or "").partition("\n")[0]
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    hub = kinds.add_parser("hub", help="a synthetic Hub with hidden consequential roots")
    hub.add_argument("models", type=int, metavar="N")
    hub.add_argument("--hide", type=int, default=100, metavar="K", help="[default: 100]")
    hub.add_argument("--seed", type=int, default=0, help="random seed [default: 0]")
    hub.add_argument("--jsonl", required=True, metavar="FILE", help="write Hub JSON lines here")
    hub.add_argument("--truth", metavar="FILE", help="write the true shares (CSV) here")
    args = parser.parse_args(argv)
    hidden = hide_roots(generate(args.models, seed=args.seed), args.hide, seed=args.seed)
    with open(args.jsonl, "w", encoding="utf-8") as handle:
        for item in hidden.items():
            handle.write(json.dumps(item) + "\n")
    if args.truth:
        hidden.population.true_shares().write_csv(args.truth)
    carded = sum(1 for files in hidden.files.values() if "README.md" in files)
    print(
        f"{hidden.population.raw.height:,} synthetic models written to {args.jsonl}; "
        f"{hidden.hidden.height:,} consequential derivatives declare nothing "
        f"({hidden.hidden['renamed_from'].is_not_null().sum():,} renamed, {carded:,} with a card)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
