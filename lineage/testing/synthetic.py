"""Seeded synthetic Hubs whose true lineage, and so true shares, are known by construction.

A population has root models released by real organizations (regions as in the packaged
table), derivatives that pick a root family with monthly region probabilities shaped like
the published finding (China ~10% -> ~70% of new derivatives from early 2024 to early 2026,
Europe ~58% -> ~4%), chains (quantizations of fine-tunes of ...), cross-family merges, and
many standalone models. Declarations are then made messy the way real cards are: wrong
case, URL forms only in the card, renamed parents, deleted parents, cycles, self-references,
non-string values, relations left out.

The population is built column-wise as a raw frame (:data:`lineage.records.RAW_SCHEMA`), so
millions of models take seconds; :meth:`SyntheticHub.items` renders the same rows as Hub
API JSON for :class:`~lineage.testing.fakehub.FakeHub`. :meth:`SyntheticHub.true_shares`
gives the truth a share table must match, for the derivatives whose lineage the metadata
makes recoverable (not through a deleted parent).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..records import RAW_SCHEMA

# Root organizations and their regions (as in the packaged ATOM table), plus one lab the
# table does not know, so "unknown" has members.
ORGS: dict[str, str] = {
    "Qwen": "china",
    "deepseek-ai": "china",
    "THUDM": "china",
    "01-ai": "china",
    "internlm": "china",
    "meta-llama": "us",
    "google": "us",
    "microsoft": "us",
    "nvidia": "us",
    "mistralai": "eu",
    "stabilityai": "eu",
    "tiiuae": "other",
    "CohereForAI": "other",
    "obscure-lab": "unknown",
}
REGIONS = ("china", "eu", "us", "other", "unknown")
RELATIONS = ("adapter", "finetune", "quantized", "merge")
RELATION_P = (0.40, 0.36, 0.20, 0.04)
_SUFFIX = {"adapter": "lora", "finetune": "ft", "quantized": "GGUF", "merge": "merge"}
# name suffix -> the tag a tool would add
_QUANT_SUFFIXES = {
    "GGUF": "gguf",
    "AWQ": "awq",
    "GPTQ-Int4": "gptq",
    "exl2-4bpw": "exl2",
    "mlx-4bit": "mlx",
    "bnb-4bit": "bitsandbytes",
}
_QUANT_NAMES = list(_QUANT_SUFFIXES)
_LIBRARY = {
    "adapter": "peft",
    "finetune": "transformers",
    "quantized": None,
    "merge": "transformers",
}


@dataclass(frozen=True)
class Mess:
    """Rates of messy declarations (fractions of derivatives)."""

    wrong_case: float = 0.02
    url_in_card_only: float = 0.01
    renamed_parent: float = 0.01
    deleted_parent: float = 0.004
    cycle: float = 0.002
    self_reference: float = 0.005
    non_string: float = 0.005
    no_relation: float = 0.2

    @classmethod
    def none(cls) -> Mess:
        return cls(0, 0, 0, 0, 0, 0, 0, 0)


def region_probabilities(month: dt.date) -> dict[str, float]:
    """Probability that a new derivative in ``month`` builds on each region's families."""
    start, end = dt.date(2024, 1, 1), dt.date(2026, 2, 1)
    t = (month - start).days / (end - start).days
    t = min(max(t, 0.0), 1.0)
    china = 0.10 + t * (0.70 - 0.10)
    eu = 0.58 + t * (0.04 - 0.58)
    other, unknown = 0.04 - 0.01 * t, 0.01
    return {
        "china": china,
        "eu": eu,
        "us": 1 - china - eu - other - unknown,
        "other": other,
        "unknown": unknown,
    }


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, m = [], start.replace(day=1)
    while m <= end:
        months.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


@dataclass
class SyntheticHub:
    """A generated population: its raw records, its truth, and its renames."""

    raw: pl.DataFrame
    truth: pl.DataFrame
    renames: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def items(self) -> Iterator[dict]:
        """The population as Hub API JSON dicts (what FakeHub serves)."""
        for row in self.raw.iter_rows(named=True):
            card: dict = {}
            if row["card_base_model"] is not None:
                text = row["card_base_model"]
                card["base_model"] = json.loads(text) if text.startswith("[") else text
            if row["card_base_model_relation"] is not None:
                card["base_model_relation"] = row["card_base_model_relation"]
            item = {
                "id": row["id"],
                "author": row["author"],
                "createdAt": row["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "downloads": row["downloads"],
                "downloadsAllTime": row["downloads_all_time"],
                "likes": row["likes"],
                "tags": row["tags"],
                "pipeline_tag": row["pipeline_tag"],
                "library_name": row["library_name"],
            }
            if card:
                item["cardData"] = card
            if row["base_models"]:
                item["baseModels"] = {
                    "relation": row["base_models_relation"],
                    "models": [{"id": m} for m in row["base_models"]],
                }
            if row["parameters"] is not None:
                item["safetensors"] = {
                    "parameters": {"BF16": row["parameters"]},
                    "total": row["parameters"],
                }
            yield item

    def true_shares(
        self,
        *,
        min_downloads: int = 5,
        downloads: str = "all",
        recoverable_only: bool = True,
    ) -> pl.DataFrame:
        """True monthly share of new derivatives by root region (split weights).

        Tidy: month, group, count, weight, share. Counts are derivatives with any weight in
        the group; weights split a merge 1/k over its k distinct roots.
        """
        column = "downloads_all_time" if downloads == "all" else "downloads"
        derivatives = self.truth.filter(pl.col("derivative") & (pl.col(column) > min_downloads))
        if recoverable_only:
            derivatives = derivatives.filter(pl.col("recoverable"))
        weights = (
            derivatives.select("id", "month", "root_regions")
            .with_columns((1.0 / pl.col("root_regions").list.len()).alias("weight"))
            .explode("root_regions")
            .rename({"root_regions": "group"})
        )
        table = weights.group_by("month", "group").agg(
            pl.col("id").n_unique().alias("count"), pl.col("weight").sum()
        )
        return table.with_columns(
            (pl.col("weight") / pl.col("weight").sum().over("month")).alias("share")
        ).sort("month", "group")


def generate(
    n_models: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2023, 6, 1),
    end: dt.date = dt.date(2026, 6, 1),
    derivative_fraction: float = 0.28,
    mess: Mess | None = None,
) -> SyntheticHub:
    """Generate a population of about ``n_models`` models.

    Examples
    --------
    >>> hub = generate(2000, seed=1)
    >>> hub.raw.height
    2000
    >>> hub.truth.filter("derivative").height > 400
    True
    """
    mess = mess or Mess()
    rng = np.random.default_rng(seed)
    months = _months(start, end)

    # -- roots: each org releases a generation every ~5 months, in several sizes --------
    roots: list[dict] = []
    for o, (org, region) in enumerate(ORGS.items()):
        offset = o % 5
        for g, month in enumerate(months[offset::5]):
            for size in ("1B", "7B", "70B"):
                roots.append(
                    {
                        "id": f"{org}/{org[:4].title()}{g + 1}-{size}",
                        "org": org,
                        "region": region,
                        "month": month,
                    }
                )
    root_ids = [r["id"] for r in roots]

    n_derivatives = int(n_models * derivative_fraction)
    growth = np.exp(0.07 * np.arange(len(months)))
    per_month = np.floor(growth / growth.sum() * n_derivatives).astype(int)
    per_month[-1] += n_derivatives - per_month.sum()

    # Every model: index -> (id, author, created, parents, relation, truth roots).
    ids: list[str] = list(root_ids)
    authors: list[str] = [r["org"] for r in roots]
    created: list[dt.datetime] = [
        dt.datetime.combine(r["month"], dt.time(12), dt.UTC) for r in roots
    ]
    parents: list[list[int]] = [[] for _ in roots]
    relation: list[str | None] = [None] * len(roots)
    suffixes: list[str | None] = [None] * len(roots)
    true_roots: list[tuple[int, ...]] = [(i,) for i in range(len(roots))]
    family_pool: dict[int, list[int]] = {i: [] for i in range(len(roots))}

    root_month = np.array([months.index(r["month"]) for r in roots])
    root_region = np.array([r["region"] for r in roots])
    user_count = max(50, n_derivatives // 8)

    for m, month in enumerate(months):
        count = int(per_month[m])
        if count == 0:
            continue
        released = np.flatnonzero(root_month <= m)
        probs = region_probabilities(month)
        regions = [r for r in REGIONS if np.any(root_region[released] == r)]
        p = np.array([probs[r] for r in regions])
        chosen_regions = rng.choice(len(regions), size=count, p=p / p.sum())
        relations = rng.choice(len(RELATIONS), size=count, p=RELATION_P)
        users = rng.integers(0, user_count, size=count)
        seconds = rng.integers(0, 27 * 86400, size=count)
        for k in range(count):
            region = regions[chosen_regions[k]]
            candidates = released[root_region[released] == region]
            age = m - root_month[candidates]
            w = 0.8**age
            family = int(rng.choice(candidates, p=w / w.sum()))
            rel = RELATIONS[relations[k]]
            pool = family_pool[family]
            first = family if (not pool or rng.random() < 0.55) else pool[rng.integers(len(pool))]
            chosen = [first]
            if rel == "merge":
                other_family = int(rng.choice(released))
                other_pool = family_pool[other_family]
                second = (
                    other_pool[rng.integers(len(other_pool))]
                    if other_pool and rng.random() < 0.5
                    else other_family
                )
                if second != first:
                    chosen.append(second)
            index = len(ids)
            suffix = (
                _QUANT_NAMES[rng.integers(len(_QUANT_NAMES))]
                if rel == "quantized"
                else _SUFFIX[rel]
            )
            suffixes.append(suffix)
            stem = ids[first].split("/")[1]
            ids.append(f"user{users[k]}/{stem}-{suffix}-{index}")
            authors.append(f"user{users[k]}")
            # After its parents: a model is published after what it derives from.
            created.append(
                max(
                    dt.datetime.combine(month, dt.time(), dt.UTC)
                    + dt.timedelta(seconds=int(seconds[k])),
                    *(created[c] + dt.timedelta(hours=1) for c in chosen),
                )
            )
            parents.append(chosen)
            relation.append(rel)
            true_roots.append(tuple(dict.fromkeys(r for c in chosen for r in true_roots[c])))
            family_pool[family].append(index)

    # -- standalone models (no parents), some looking like undeclared quantizations ------
    n_standalone = max(0, n_models - len(ids))
    base = len(ids)
    standalone_users = rng.integers(0, user_count * 4, size=n_standalone)
    standalone_month = rng.integers(0, len(months), size=n_standalone)
    gguf_looking = rng.random(n_standalone) < 0.01
    for k in range(n_standalone):
        name = f"model-{base + k}" + ("-GGUF" if gguf_looking[k] else "")
        ids.append(f"person{standalone_users[k]}/{name}")
        authors.append(f"person{standalone_users[k]}")
        created.append(dt.datetime.combine(months[standalone_month[k]], dt.time(6), dt.UTC))
        parents.append([])
        relation.append(None)
        suffixes.append(None)
        true_roots.append(())

    n = len(ids)
    downloads_all = np.floor(rng.lognormal(1.8, 2.2, size=n)).astype(np.int64)
    downloads_all[: len(roots)] = np.floor(rng.lognormal(13, 1.5, size=len(roots)))
    downloads_30d = np.floor(downloads_all * rng.beta(1, 4, size=n)).astype(np.int64)
    likes = np.floor(downloads_all**0.5 * rng.random(n) * 0.1).astype(np.int64)

    return _declare(
        rng,
        mess,
        ids,
        authors,
        created,
        parents,
        relation,
        suffixes,
        true_roots,
        len(roots),
        roots,
        downloads_all,
        downloads_30d,
        likes,
    )


def _declare(
    rng,
    mess,
    ids,
    authors,
    created,
    parents,
    relation,
    suffixes,
    true_roots,
    n_roots,
    roots,
    downloads_all,
    downloads_30d,
    likes,
) -> SyntheticHub:
    """Write each model's declarations, messily, and the truth next to them."""
    n = len(ids)
    draws = rng.random((n, 9))
    renames: dict[str, str] = {}
    deleted_ids: set[int] = set()
    # Deleted parents: some derivatives that have children vanish from the Hub.
    has_children = {p for ps in parents for p in ps}
    for i in sorted(has_children):
        if i >= n_roots and draws[i, 0] < mess.deleted_parent:
            deleted_ids.add(i)
    # Cycles: a parent that also (wrongly) declares one of its later children.
    extra_parent: dict[int, int] = {}
    for i in range(n_roots, n):
        ps = parents[i]
        if ps and ps[0] >= n_roots and draws[i, 1] < mess.cycle and ps[0] not in extra_parent:
            extra_parent[ps[0]] = i

    recoverable = [True] * n
    for i in range(n):  # parents come before children
        recoverable[i] = all(recoverable[p] and p not in deleted_ids for p in parents[i])

    cols: dict[str, list] = {name: [] for name in RAW_SCHEMA}
    for i in range(n):
        if i in deleted_ids:
            continue
        rel = relation[i]
        declared: list[str] = []
        url_only = False
        for p in parents[i]:
            pid = ids[p]
            if p in deleted_ids:
                pid = f"gone/{pid.split('/')[1]}"
            elif draws[i, 2] < mess.renamed_parent:
                old = f"{pid}-old"
                renames[old] = pid
                pid = old
            elif draws[i, 3] < mess.wrong_case:
                pid = pid.lower() if pid != pid.lower() else pid.upper()
            declared.append(pid)
        if i in extra_parent:
            declared.append(ids[extra_parent[i]])
        if declared and draws[i, 4] < mess.url_in_card_only and len(declared) == 1:
            url_only = True
        card_values: list = (
            [f"https://huggingface.co/{d}" for d in declared] if url_only else list(declared)
        )
        if declared and draws[i, 5] < mess.self_reference:
            card_values.append(ids[i])
        if declared and draws[i, 6] < mess.non_string:
            card_values.append(42)
        plain = declared and draws[i, 7] < mess.no_relation
        tags = ["text-generation"]
        if rel == "quantized":
            tags.append(_QUANT_SUFFIXES[suffixes[i]])
        if rel == "adapter":
            tags.append("peft")
        if not url_only:
            for d in declared:
                tags.append(f"base_model:{d}")
                if not plain:
                    tags.append(f"base_model:{rel}:{d}")
        cols["id"].append(ids[i])
        cols["author"].append(authors[i])
        cols["created_at"].append(created[i])
        cols["last_modified"].append(created[i])
        cols["downloads"].append(int(downloads_30d[i]))
        cols["downloads_all_time"].append(int(downloads_all[i]))
        cols["likes"].append(int(likes[i]))
        cols["pipeline_tag"].append("text-generation")
        cols["library_name"].append(_LIBRARY[rel] if rel else "transformers")
        cols["tags"].append(tags)
        cols["parameters"].append(7_000_000_000 if i < n_roots else None)
        cols["base_models_relation"].append(rel if declared and not url_only else None)
        cols["base_models"].append(declared if declared and not url_only else None)
        if not card_values:
            cols["card_base_model"].append(None)
        elif len(card_values) == 1 and isinstance(card_values[0], str):
            cols["card_base_model"].append(card_values[0])
        else:
            cols["card_base_model"].append(json.dumps(card_values, separators=(",", ":")))
        cols["card_base_model_relation"].append(None if plain or not declared else rel)

    raw = pl.DataFrame(cols, schema=RAW_SCHEMA)
    region_of = {i: r["region"] for i, r in enumerate(roots)}
    keep = [i for i in range(n) if i not in deleted_ids]
    truth = pl.DataFrame(
        {
            "id": [ids[i] for i in keep],
            "created_at": [created[i] for i in keep],
            "downloads": [int(downloads_30d[i]) for i in keep],
            "downloads_all_time": [int(downloads_all[i]) for i in keep],
            "derivative": [bool(parents[i]) for i in keep],
            "roots": [[ids[r] for r in true_roots[i]] if parents[i] else [] for i in keep],
            "root_regions": [
                [region_of[r] for r in true_roots[i]] if parents[i] else [] for i in keep
            ],
            "recoverable": [recoverable[i] for i in keep],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"))
    return SyntheticHub(
        raw=raw, truth=truth, renames=renames, deleted=[ids[i] for i in sorted(deleted_ids)]
    )
