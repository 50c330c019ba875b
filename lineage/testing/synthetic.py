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
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..schema import RAW_SCHEMA, UTC_US
from ..vocabulary import REGIONS, RELATIONS, DownloadWindow, Region, Relation

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
# The generator draws regions and relations by index, so these two orders are part of what a
# seed means (reorder them and every synthetic store changes); the words are the vocabulary's.
_DRAWN_REGIONS: tuple[Region, ...] = ("china", "eu", "us", "other", "unknown")
RELATION_P: dict[Relation, float] = {
    "adapter": 0.40,
    "finetune": 0.36,
    "quantized": 0.20,
    "merge": 0.04,
}
_DRAWN: tuple[Relation, ...] = tuple(RELATION_P)
assert set(_DRAWN) == set(RELATIONS) and set(_DRAWN_REGIONS) == set(REGIONS)
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
# Weight metadata (config, gguf) the population does not model: null for every model.
_WEIGHT_FACTS = ("model_type", "gguf_architecture", "gguf_parameters", "adapter_base")
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
                # The Hub's default listing order; FakeHub's Churn re-draws it while paging.
                "trendingScore": (row["likes"] or 0) + (row["downloads"] or 0) % 97 / 97,
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
        downloads: DownloadWindow = "all",
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
    """Generate a population of about ``n_models`` models (2.5M take well under a minute).

    Examples
    --------
    >>> hub = generate(2000, seed=1)
    >>> 1990 <= hub.raw.height <= 2000  # deleted models are gone from the Hub
    True
    >>> hub.truth.filter("derivative").height > 400
    True
    """
    mess = mess or Mess()
    rng = np.random.default_rng(seed)
    months = _months(start, end)
    month_start = np.array(
        [int(dt.datetime.combine(m, dt.time(), dt.UTC).timestamp()) for m in months]
    )
    lineage = _Lineage.grow(rng, months, month_start, n_models, derivative_fraction)
    return _declare(rng, mess, lineage)


# Builders with a region in the packaged table, for populations whose derivatives are not
# all by unknown users: (namespace, region).
BUILDERS: tuple[tuple[str, str], ...] = (
    ("NousResearch", "us"),
    ("nvidia", "us"),
    ("arcee-ai", "us"),
    ("allenai", "us"),
    ("BAAI", "china"),
    ("internlm", "china"),
    ("Skywork", "china"),
    ("tencent", "china"),
    ("swiss-ai", "eu"),
    ("jinaai", "eu"),
    ("PleIAs", "eu"),
    ("upstage", "other"),
    ("sarvamai", "other"),
)


def organization(
    n_roots: int,
    n_models: int,
    *,
    org: str = "Qwen",
    region: str = "china",
    seed: int = 0,
    start: dt.date = dt.date(2023, 6, 1),
    end: dt.date = dt.date(2026, 6, 1),
    derivative_fraction: float = 1.0,
    mess: Mess | None = None,
) -> SyntheticHub:
    """One organization with ``n_roots`` models and the world's derivatives of them.

    ``n_models`` in all: the roots, ``derivative_fraction`` of the rest derived from them
    (chains, merges across its families, a few by the organization itself), the others
    standalone. Roots are released over the months; a few draw most derivatives (lognormal
    popularity, fading with age). About 12% of derivatives come from builders with a known
    region (:data:`BUILDERS`), 2% from ``org`` itself, the rest from unknown users.

    Examples
    --------
    >>> hub = organization(30, 1000, seed=1, mess=Mess.none())
    >>> hub.raw.height, hub.raw.filter(pl.col("author") == "Qwen").height > 30
    (1000, True)
    >>> hub.truth.filter("derivative").height
    970
    """
    mess = mess or Mess()
    rng = np.random.default_rng(seed)
    months = _months(start, end)
    month_start = np.array(
        [int(dt.datetime.combine(m, dt.time(), dt.UTC).timestamp()) for m in months]
    )
    lineage = _Lineage.grow_organization(
        rng, months, month_start, org, region, n_roots, n_models, derivative_fraction
    )
    users = int(lineage.user.max()) + 1
    builders = np.array([f"user{u}" for u in range(users)], dtype=object)
    draw = rng.random(users)
    known = np.flatnonzero(draw < 0.12)
    builders[known] = [BUILDERS[int(i)][0] for i in rng.integers(len(BUILDERS), size=known.size)]
    builders[(draw >= 0.12) & (draw < 0.14)] = org
    return _declare(rng, mess, lineage, builders)


@dataclass
class _Lineage:
    """The true population: roots, then derivatives by month, then standalone models."""

    roots: list[dict]
    n_derivatives: int
    created: np.ndarray  # epoch seconds
    parent1: np.ndarray  # -1: none
    parent2: np.ndarray
    family: np.ndarray  # the root whose family a derivative joined
    relation: np.ndarray  # index into _DRAWN, -1: none
    user: np.ndarray
    root_one: np.ndarray  # the true root when there is one
    root_many: dict[int, tuple[int, ...]]  # derivatives with several true roots
    month_bounds: list[tuple[int, int]]  # derivatives of each month, in order

    @property
    def n(self) -> int:
        return self.created.size

    @classmethod
    def grow(cls, rng, months, month_start, n_models, derivative_fraction) -> _Lineage:
        # -- roots: each org releases a generation every ~5 months, in three sizes -----------
        roots: list[dict] = []
        for o, (org, region) in enumerate(ORGS.items()):
            for g, m in enumerate(range(o % 5, len(months), 5)):
                for size in ("1B", "7B", "70B"):
                    name = f"{org[:4].title()}{g + 1}-{size}"
                    roots.append(
                        {
                            "id": f"{org}/{name}",
                            "name": name,
                            "org": org,
                            "region": region,
                            "month": m,
                        }
                    )
        n_roots = len(roots)
        n_derivatives = int(n_models * derivative_fraction)
        n = max(n_models, n_roots + n_derivatives)
        growth = np.exp(0.07 * np.arange(len(months)))
        per_month = np.floor(growth / growth.sum() * n_derivatives).astype(int)
        per_month[-1] += n_derivatives - per_month.sum()

        root_month = np.array([r["month"] for r in roots])
        root_region = np.array([r["region"] for r in roots])
        created = np.zeros(n, dtype=np.int64)
        created[:n_roots] = month_start[root_month] + 12 * 3600
        parent1 = np.full(n, -1, dtype=np.int64)
        parent2 = np.full(n, -1, dtype=np.int64)
        family = np.full(n, -1, dtype=np.int64)
        family[:n_roots] = np.arange(n_roots)
        relation = np.full(n, -1, dtype=np.int8)
        user_count = max(50, n_derivatives // 8)
        user = rng.integers(0, user_count, size=n)
        pools: list[list[np.ndarray]] = [[] for _ in range(n_roots)]
        drawn = (created, parent1, parent2, family, relation)

        cursor = n_roots
        for m, month in enumerate(months):
            k = int(per_month[m])
            if k == 0:
                continue
            members = np.arange(cursor, cursor + k)
            released = np.flatnonzero(root_month <= m)
            probs = region_probabilities(month)
            regions = [r for r in _DRAWN_REGIONS if np.any(root_region[released] == r)]
            p = np.array([probs[r] for r in regions])
            region_of = rng.choice(len(regions), size=k, p=p / p.sum())
            fam = np.empty(k, dtype=np.int64)
            for ri, region in enumerate(regions):
                picked = np.flatnonzero(region_of == ri)
                candidates = released[root_region[released] == region]
                w = 0.8 ** (m - root_month[candidates])
                fam[picked] = rng.choice(candidates, size=picked.size, p=w / w.sum())
            pool_of = {f: np.concatenate(pools[f]) for f in np.unique(fam) if pools[f]}
            p1 = fam.copy()
            deeper = rng.random(k) >= 0.55
            for f, pool in pool_of.items():
                picked = np.flatnonzero(deeper & (fam == f))
                p1[picked] = pool[rng.integers(pool.size, size=picked.size)]
            _derive(rng, members, fam, p1, released, pools, month_start[m], drawn)
            cursor += k

        standalone = np.arange(cursor, n)
        created[standalone] = month_start[rng.integers(0, len(months), standalone.size)] + 6 * 3600
        return cls._finish(
            roots, n_derivatives, created, parent1, parent2, family, relation, user, per_month
        )

    @classmethod
    def grow_organization(
        cls, rng, months, month_start, org, region, n_roots, n_models, derivative_fraction
    ) -> _Lineage:
        """One organization's ``n_roots`` models, released over the months, and what the
        world builds on them: a few very popular roots, most with few derivatives."""
        root_month = np.sort(rng.integers(0, len(months), size=n_roots))
        root_month[0] = 0
        sizes = ("0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B")
        variants = ("", "-Instruct", "-Coder", "-Math", "-VL", "-Chat")
        roots = []
        for k in range(n_roots):
            g = k // 8  # (generation, size, variant) is unique: see the test of this module
            name = f"{org}{g // 10 + 1}.{g % 10}-{sizes[k % 7]}{variants[(k // 7) % 6]}"
            roots.append(
                {"id": f"{org}/{name}", "name": name, "org": org, "region": region,
                 "month": int(root_month[k])}
            )  # fmt: skip
        popularity = rng.lognormal(0.0, 1.4, size=n_roots)
        n_derivatives = int((n_models - n_roots) * derivative_fraction)
        n = max(n_models, n_roots + n_derivatives)
        growth = np.exp(0.07 * np.arange(len(months)))
        per_month = np.floor(growth / growth.sum() * n_derivatives).astype(int)
        per_month[-1] += n_derivatives - per_month.sum()
        created = np.zeros(n, dtype=np.int64)
        created[:n_roots] = month_start[root_month] + rng.integers(0, 27 * 86400, size=n_roots)
        parent1 = np.full(n, -1, dtype=np.int64)
        parent2 = np.full(n, -1, dtype=np.int64)
        family = np.full(n, -1, dtype=np.int64)
        family[:n_roots] = np.arange(n_roots)
        relation = np.full(n, -1, dtype=np.int8)
        user = rng.integers(0, max(50, n_derivatives // 8), size=n)
        pools: list[list[np.ndarray]] = [[] for _ in range(n_roots)]
        drawn = (created, parent1, parent2, family, relation)
        cursor = n_roots
        for m in range(len(months)):
            k = int(per_month[m])
            released = np.flatnonzero(root_month <= m)
            if k == 0 or released.size == 0:
                continue
            members = np.arange(cursor, cursor + k)
            w = popularity[released] * 0.85 ** (m - root_month[released])
            fam = rng.choice(released, size=k, p=w / w.sum())
            p1 = fam.copy()
            deeper = rng.random(k) >= 0.5
            for f in np.unique(fam[deeper]):
                if pools[f]:
                    pool = np.concatenate(pools[f])
                    picked = np.flatnonzero(deeper & (fam == f))
                    p1[picked] = pool[rng.integers(pool.size, size=picked.size)]
            _derive(rng, members, fam, p1, released, pools, month_start[m], drawn)
            cursor += k
        standalone = np.arange(cursor, n)
        created[standalone] = month_start[rng.integers(0, len(months), standalone.size)] + 6 * 3600
        return cls._finish(
            roots, n_derivatives, created, parent1, parent2, family, relation, user, per_month
        )

    @classmethod
    def _finish(
        cls, roots, n_derivatives, created, parent1, parent2, family, relation, user, per_month
    ) -> _Lineage:
        # True roots: a derivative inherits its parents' roots (parents come first).
        n, n_roots = created.size, len(roots)
        root_one = np.full(n, -1, dtype=np.int64)
        root_one[:n_roots] = np.arange(n_roots)
        root_many: dict[int, tuple[int, ...]] = {}
        many = np.zeros(n, dtype=bool)
        cursor = n_roots
        for k in per_month:
            members = np.arange(cursor, cursor + int(k))
            cursor += int(k)
            p1, p2 = parent1[members], parent2[members]
            simple = (p2 < 0) & ~many[p1]
            root_one[members[simple]] = root_one[p1[simple]]
            for i in members[~simple]:
                found = root_many.get(int(parent1[i]), (int(root_one[parent1[i]]),))
                if parent2[i] >= 0:
                    found += root_many.get(int(parent2[i]), (int(root_one[parent2[i]]),))
                found = tuple(dict.fromkeys(found))
                if len(found) == 1:
                    root_one[i] = found[0]
                else:
                    root_many[int(i)] = found
                    many[i] = True
        bounds = np.concatenate([[n_roots], n_roots + np.cumsum(per_month)])
        month_bounds = [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        return cls(
            roots,
            n_derivatives,
            created,
            parent1,
            parent2,
            family,
            relation,
            user,
            root_one,
            root_many,
            month_bounds,
        )


def _declare(rng, mess: Mess, t: _Lineage, builders: np.ndarray | None = None) -> SyntheticHub:
    """Write each model's declarations, messily, and the truth next to them.

    ``builders[u]`` is the namespace of user ``u``'s derivatives (default ``user<u>``).
    """
    n, n_roots = t.n, len(t.roots)
    index = np.arange(n)
    derivative = t.parent1 >= 0
    standalone = (index >= n_roots) & ~derivative
    gguf_looking = standalone & (rng.random(n) < 0.01)
    quant = _DRAWN.index("quantized")
    quant_pick = rng.integers(len(_QUANT_NAMES), size=n)
    suffix = np.array([_SUFFIX[r] for r in _DRAWN] + [""], dtype=object)[t.relation]
    suffix = np.where(t.relation == quant, np.array(_QUANT_NAMES, dtype=object)[quant_pick], suffix)
    root_names = np.array([r["name"] for r in t.roots], dtype=object)
    ids = np.empty(n, dtype=object)
    ids[:n_roots] = [r["id"] for r in t.roots]
    authors = np.empty(n, dtype=object)
    authors[:n_roots] = [r["org"] for r in t.roots]
    d = np.flatnonzero(derivative)
    if builders is None:
        namespace = [f"user{u}" for u in t.user[d]]
    else:
        namespace = builders[t.user[d]].tolist()
    ids[d] = [
        f"{ns}/{root_names[f]}-{s}-{i}"
        for ns, f, s, i in zip(namespace, t.family[d], suffix[d], d, strict=True)
    ]
    authors[d] = namespace
    st = np.flatnonzero(standalone)
    ids[st] = [
        f"person{u}/model-{i}{'-GGUF' if g else ''}"
        for u, i, g in zip(t.user[st], st, gguf_looking[st], strict=True)
    ]
    authors[st] = [f"person{u}" for u in t.user[st]]

    # Deleted models (only ones with children matter) and the cycles some cards create.
    has_children = (
        np.bincount(np.concatenate([t.parent1[d], t.parent2[t.parent2 >= 0]]), minlength=n) > 0
    )
    deleted = has_children & (index >= n_roots) & (rng.random(n) < mess.deleted_parent)
    cyclic = derivative & (t.parent1 >= n_roots) & (rng.random(n) < mess.cycle)
    cycle_child = np.full(n, -1, dtype=np.int64)
    cycle_child[t.parent1[cyclic]] = index[cyclic]  # the parent wrongly names this child

    recoverable = np.ones(n, dtype=bool)
    for a, b in t.month_bounds:  # parents are always from earlier months (or roots)
        members = np.arange(a, b)
        p1, p2 = t.parent1[members], t.parent2[members]
        ok = recoverable[p1] & ~deleted[p1]
        second = p2 >= 0
        ok[second] &= recoverable[p2[second]] & ~deleted[p2[second]]
        recoverable[members] = ok

    # One row per declared edge: (child, parent, position).
    child = np.concatenate([d, index[t.parent2 >= 0], index[cycle_child >= 0]])
    parent = np.concatenate(
        [t.parent1[d], t.parent2[t.parent2 >= 0], cycle_child[cycle_child >= 0]]
    )
    position = np.concatenate(
        [
            np.zeros(d.size),
            np.ones(int((t.parent2 >= 0).sum())),
            np.full(int((cycle_child >= 0).sum()), 2),
        ]
    ).astype(np.int8)
    keep = ~deleted[child]
    child, parent, position = child[keep], parent[keep], position[keep]
    draws = rng.random((child.size, 2))
    renamed = ~deleted[parent] & (draws[:, 0] < mess.renamed_parent)
    recased = ~deleted[parent] & ~renamed & (draws[:, 1] < mess.wrong_case)
    edges = (
        pl.DataFrame(
            {
                "child": child,
                "position": position,
                "parent_id": ids[parent].astype(str),
                "deleted": deleted[parent],
                "renamed": renamed,
                "recased": recased,
            }
        )
        .with_columns(
            pl.when("deleted")
            .then(pl.lit("gone/") + pl.col("parent_id").str.split("/").list.last())
            .when("renamed")
            .then(pl.col("parent_id") + "-old")
            .when(
                pl.col("recased") & (pl.col("parent_id").str.to_lowercase() != pl.col("parent_id"))
            )
            .then(pl.col("parent_id").str.to_lowercase())
            .when("recased")
            .then(pl.col("parent_id").str.to_uppercase())
            .otherwise(pl.col("parent_id"))
            .alias("declared")
        )
        .sort("child", "position")
    )
    renames = dict(edges.filter("renamed").select("declared", "parent_id").unique().iter_rows())

    flags = rng.random((n, 4))
    models = pl.DataFrame(
        {
            "child": index,
            "id": ids.astype(str),
            "author": authors.astype(str),
            "rel": np.array([*_DRAWN, None], dtype=object)[t.relation].tolist(),
            "url_only": flags[:, 0] < mess.url_in_card_only,
            "self_ref": flags[:, 1] < mess.self_reference,
            "non_string": flags[:, 2] < mess.non_string,
            "plain": flags[:, 3] < mess.no_relation,
            "quant_tag": np.where(  # type: ignore[attr-defined]  # follows from the where() below
                t.relation == quant,
                np.array(list(_QUANT_SUFFIXES.values()), dtype=object)[quant_pick],
                np.where(gguf_looking, "gguf", None),  # type: ignore[call-overload]  # numpy's stub: where() takes no None
            ).tolist(),
        },
        schema_overrides={"rel": pl.String, "quant_tag": pl.String},
    )
    declared = edges.group_by("child", maintain_order=True).agg(pl.col("declared"))
    models = models.join(declared, on="child", how="left").with_columns(
        (pl.col("url_only") & (pl.col("declared").list.len() == 1))
        .fill_null(False)
        .alias("url_only"),
        pl.col("declared").fill_null([]),
    )
    has = pl.col("declared").list.len() > 0
    none = pl.lit([], pl.List(pl.String))
    card_values = pl.concat_list(
        pl.when(pl.col("url_only"))
        .then(pl.col("declared").list.eval(pl.lit("https://huggingface.co/") + pl.element()))
        .otherwise(pl.col("declared")),
        pl.when(has & pl.col("self_ref")).then(pl.concat_list(pl.col("id"))).otherwise(none),
    )
    raw = models.with_columns(
        pl.concat_list(
            pl.lit(["text-generation"]),
            pl.when(pl.col("quant_tag").is_not_null())
            .then(pl.concat_list("quant_tag"))
            .otherwise(none),
            pl.when(pl.col("rel") == "adapter").then(pl.lit(["peft"])).otherwise(none),
            pl.struct("declared", "rel", "url_only", "plain").map_batches(
                _base_model_tags, return_dtype=pl.List(pl.String)
            ),
        ).alias("tags"),
        card_values.alias("card_values"),
    ).with_columns(
        pl.when(pl.col("card_values").list.len() == 0)
        .then(pl.lit(None, pl.String))
        .when((pl.col("card_values").list.len() == 1) & ~(has & pl.col("non_string")))
        .then(pl.col("card_values").list.first())
        .otherwise(
            pl.lit('["')
            + pl.col("card_values").list.join('","')
            + pl.lit('"')
            + pl.when(has & pl.col("non_string")).then(pl.lit(",42")).otherwise(pl.lit(""))
            + pl.lit("]")
        )
        .alias("card_base_model"),
        pl.when(has & ~pl.col("plain")).then(pl.col("rel")).alias("card_base_model_relation"),
        pl.when(has & ~pl.col("url_only")).then(pl.col("rel")).alias("base_models_relation"),
        pl.when(has & ~pl.col("url_only")).then(pl.col("declared")).alias("base_models"),
    )
    downloads_all = np.floor(rng.lognormal(1.8, 2.2, size=n)).astype(np.int64)
    downloads_all[:n_roots] = np.floor(rng.lognormal(13, 1.5, size=n_roots))
    downloads_30d = np.floor(downloads_all * rng.beta(1, 4, size=n)).astype(np.int64)
    likes = np.floor(downloads_all**0.5 * rng.random(n) * 0.1).astype(np.int64)
    created = pl.from_epoch(pl.Series(t.created), time_unit="s").dt.replace_time_zone("UTC")
    library = np.where(
        t.relation == _DRAWN.index("adapter"),
        "peft",
        np.where(t.relation == quant, None, "transformers"),  # type: ignore[call-overload]  # numpy's stub: where() takes no None
    )
    raw = raw.with_columns(
        created.cast(UTC_US).alias("created_at"),
        created.cast(UTC_US).alias("last_modified"),
        pl.Series(downloads_30d).alias("downloads"),
        pl.Series(downloads_all).alias("downloads_all_time"),
        pl.Series(likes).alias("likes"),
        pl.lit("text-generation").alias("pipeline_tag"),
        pl.Series(library, dtype=pl.String).alias("library_name"),
        pl.when(pl.col("child") < n_roots)
        .then(pl.lit(7_000_000_000))
        .cast(pl.Int64)
        .alias("parameters"),
        pl.Series(~deleted).alias("_present"),
        *(pl.lit(None, RAW_SCHEMA[name]).alias(name) for name in _WEIGHT_FACTS),
    ).filter("_present")
    truth = _truth(t, raw, deleted, recoverable)
    return SyntheticHub(
        raw=raw.select(list(RAW_SCHEMA)).cast(RAW_SCHEMA),  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        truth=truth,
        renames=renames,
        deleted=ids[deleted].astype(str).tolist(),
    )


def _base_model_tags(batch: pl.Series) -> pl.Series:
    """The Hub's base_model tags: ``base_model:<p>``, then ``base_model:<rel>:<p>`` unless
    the card left the relation out; none when the card gives only a URL."""
    frame = batch.struct.unnest()
    out: list[list[str]] = []
    for parents, rel, url_only, plain in frame.iter_rows():
        if url_only or not parents:
            out.append([])
        elif plain:
            out.append([f"base_model:{p}" for p in parents])
        else:
            out.append([t for p in parents for t in (f"base_model:{p}", f"base_model:{rel}:{p}")])
    return pl.Series(out, dtype=pl.List(pl.String))


def _truth(
    t: _Lineage, raw: pl.DataFrame, deleted: np.ndarray, recoverable: np.ndarray
) -> pl.DataFrame:
    n_roots = len(t.roots)
    root_ids = [r["id"] for r in t.roots]
    root_regions = [r["region"] for r in t.roots]
    kept = np.flatnonzero(~deleted)
    derivative = t.parent1 >= 0
    single = kept[derivative[kept] & (t.root_one[kept] >= 0)]
    pairs_child = [single]
    pairs_root = [t.root_one[single]]
    for i, found in t.root_many.items():
        if not deleted[i]:
            pairs_child.append(np.full(len(found), i))
            pairs_root.append(np.array(found))
    pairs = (
        pl.DataFrame(
            {
                "child": np.concatenate(pairs_child),
                "root": np.concatenate(pairs_root),
            }
        )
        .with_columns(
            pl.col("root").replace_strict(list(range(n_roots)), root_ids).alias("root_id"),
            pl.col("root").replace_strict(list(range(n_roots)), root_regions).alias("region"),
        )
        .sort("child", "root")
        .group_by("child", maintain_order=True)
        .agg(pl.col("root_id").alias("roots"), pl.col("region").alias("root_regions"))
    )
    return (
        raw.select("child", "id", "created_at", "downloads", "downloads_all_time")
        .with_columns(
            pl.Series(derivative[~deleted]).alias("derivative"),
            pl.Series(recoverable[~deleted]).alias("recoverable"),
        )
        .join(pairs, on="child", how="left")
        .with_columns(
            pl.col("roots").fill_null([]),
            pl.col("root_regions").fill_null([]),
            pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"),
        )
        .drop("child")
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m lineage.testing.synthetic``: write a seeded population to try lineage on.

    ``hub N`` generates a Hub of about N models (:func:`generate`); ``organization ROOTS N``
    one organization's models and the world's derivatives of them (:func:`organization`).
    ``--jsonl FILE`` writes the Hub API JSON that ``python -m lineage.testing.fakehub FILE``
    serves, and beside it ``FILE``'s renames (``NAME.renames.json``: former id -> current
    id, which the fake Hub answers with a 307 as the Hub does); ``--hub-stats FILE`` writes
    the population as a hub-stats dump for ``lineage ingest hub-stats FILE``; ``--store
    DIR`` commits the records straight into a lineage store, as a crawl of that Hub with
    ``--no-lookups`` would (no requests: renamed and deleted parents stay unresolved), dated
    today or ``--date``: a crawl on that day sees only the models created by its end.
    """
    import argparse
    import sys

    from ..records import parse_raw
    from ..store import Store
    from .fakehub import renames_file

    parser = argparse.ArgumentParser(
        prog="python -m lineage.testing.synthetic",
        description=(main.__doc__ or "").partition("\n")[0],
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    hub = kinds.add_parser("hub", help="a whole synthetic Hub of about N models")
    hub.add_argument("models", type=int, metavar="N")
    org = kinds.add_parser("organization", help="one organization's families")
    org.add_argument("roots", type=int, metavar="ROOTS")
    org.add_argument("models", type=int, metavar="N")
    org.add_argument("--org", default="Qwen", help="its namespace [default: Qwen]")
    for sub in (hub, org):
        sub.add_argument("--seed", type=int, default=0, help="random seed [default: 0]")
        sub.add_argument("--clean", action="store_true", help="well-formed cards only")
        out = sub.add_argument_group("where to write it (one or more)")
        out.add_argument(
            "--jsonl",
            metavar="FILE",
            help="Hub API JSON lines, and its renames beside it (NAME.renames.json)",
        )
        out.add_argument("--hub-stats", metavar="FILE", help="a hub-stats dump (models.parquet)")
        out.add_argument("--store", metavar="DIR", help="commit the records into a store")
        sub.add_argument(
            "--date",
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="with --store: the day the store observed the Hub [default: today]",
        )
    args = parser.parse_args(argv)
    if not (args.jsonl or args.hub_stats or args.store):
        parser.error("give --jsonl FILE, --hub-stats FILE or --store DIR (or several)")
    mess = Mess.none() if args.clean else None
    if args.kind == "hub":
        population = generate(args.models, seed=args.seed, mess=mess)
    else:
        population = organization(args.roots, args.models, org=args.org, seed=args.seed, mess=mess)
    written = []
    if args.jsonl:
        with open(args.jsonl, "w", encoding="utf-8") as handle:
            for item in population.items():
                handle.write(json.dumps(item) + "\n")
        written.append(args.jsonl)
        renames = renames_file(args.jsonl)
        if population.renames:
            renames.write_text(json.dumps(population.renames, indent=1, sort_keys=True) + "\n")
            written.append(f"{renames} ({len(population.renames):,} renames)")
        elif renames.exists():
            renames.unlink()  # an earlier population's, which this one would contradict
    if args.hub_stats:
        from .hubstats_dump import write_hub_stats_dump

        write_hub_stats_dump(population.items(), args.hub_stats)
        written.append(f"{args.hub_stats} (a hub-stats dump)")
    if args.store:
        raw = population.raw
        if args.date is None:
            seen = dt.datetime.now(dt.UTC).replace(microsecond=0)
        else:
            seen = dt.datetime.combine(args.date, dt.time(12), dt.UTC)
            raw = raw.filter(pl.col("created_at") < seen)
        # Observed on that day (not the day the file is written), so a store made with
        # --date is the same store whenever it is made.
        Store(args.store).commit(
            parse_raw(raw, seen_at=seen, source="synthetic"), observed=seen.date(), snapshot=False
        )
        kept = f"the {raw.height:,} created before {args.date}" if args.date else "all of them"
        written.append(f"{args.store} ({kept})")
    print(
        f"{population.raw.height:,} synthetic models written to {', '.join(written)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def _derive(
    rng: np.random.Generator,
    members: np.ndarray,
    fam: np.ndarray,
    p1: np.ndarray,
    released: np.ndarray,
    pools: list[list[np.ndarray]],
    start: int,
    lineage: tuple[np.ndarray, ...],
) -> None:
    """One month's derivatives (``members``, of families ``fam``, first parents ``p1``):
    draw their relations, a second parent for each merge (a released root or one of its
    family's models), and a publication time from ``start`` after their parents'; write
    them into ``lineage`` (created, parent1, parent2, family, relation) and the pools."""
    created, parent1, parent2, family, relation = lineage
    k = members.size
    rel = rng.choice(len(_DRAWN), size=k, p=list(RELATION_P.values())).astype(np.int8)
    p2 = np.full(k, -1, dtype=np.int64)
    for j in np.flatnonzero(rel == _DRAWN.index("merge")):
        other = int(rng.choice(released))
        parts = pools[other]
        if parts and rng.random() < 0.5:
            flat = np.concatenate(parts)
            second = int(flat[rng.integers(flat.size)])
        else:
            second = other
        if second != p1[j]:
            p2[j] = second
    # After its parents: a model is published after what it derives from.
    when = start + rng.integers(0, 27 * 86400, size=k)
    when = np.maximum(when, created[p1] + 3600)
    has2 = p2 >= 0
    when[has2] = np.maximum(when[has2], created[p2[has2]] + 3600)
    created[members], parent1[members], parent2[members] = when, p1, p2
    family[members], relation[members] = fam, rel
    for f in np.unique(fam):
        pools[f].append(members[fam == f])
