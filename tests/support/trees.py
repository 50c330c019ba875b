"""Model families shaped and named like the Hub's, for the tree pages' tests and screenshots.

:func:`family_items` grows one root's family as Hub API listing items: a few derivatives
draw most of the others (preferential attachment, so some fine-tunes have families of their
own, thousands deep), relations in the Hub's proportions, creation dates over the months,
lognormal downloads, and names the way people name models: the parent's name with a suffix
(``-Instruct``, ``-abliterated``, ``-GGUF``, ``-lora``...), published by a few prolific
accounts and many occasional ones. So, as on the Hub, different models share a name
(``bartowski/Qwen2.5-7B-Instruct-GGUF`` and ``mradermacher/Qwen2.5-7B-Instruct-GGUF``):
what the page must tell apart.

:func:`family_store` commits them into a store. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from lineage.records import parse_items
from lineage.store import Store

__all__ = ["SEEN", "family_items", "family_store"]

SEEN = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
# Accounts that publish many derivatives (quantizers above all), then occasional ones.
PROLIFIC = (
    "bartowski", "mradermacher", "unsloth", "lmstudio-community", "TheBloke", "QuantFactory",
    "mlx-community", "NousResearch", "huihui-ai", "cognitivecomputations",
)  # fmt: skip
SUFFIXES = {
    "quantized": (
        "GGUF", "GGUF", "i1-GGUF", "AWQ", "GPTQ-Int4", "MLX-4bit", "bnb-4bit", "Q4_K_M-GGUF",
    ),
    "finetune": (
        "Instruct", "abliterated", "SFT", "DPO", "Uncensored", "Chat", "Math", "Coder", "v2",
    ),
    "adapter": ("lora", "LoRA", "qlora", "lora-r16"),
    "merge": ("merge", "slerp", "TIES", "della"),
}  # fmt: skip
RELATIONS = ("finetune", "adapter", "quantized", "merge")
RELATION_P = (0.36, 0.30, 0.30, 0.04)


def family_items(
    n: int,
    *,
    seed: int = 0,
    root: str = "Qwen/Qwen2.5-7B",
    start: dt.date = dt.date(2024, 9, 1),
    months: int = 20,
) -> list[dict]:
    """``n`` models: ``root`` and ``n - 1`` derivatives of it, as Hub listing items.

    Models are created in order over ``months`` months from ``start``; each derives from
    an earlier model (the root for about a third, else one drawn in proportion to how
    much is already built on it, fine-tunes and merges likelier than quantizations).
    """
    rng = np.random.default_rng(seed)
    accounts = [*PROLIFIC, *(f"user{k}" for k in range(max(4, n // 5)))]
    weight = np.array([40.0] * len(PROLIFIC) + [1.0] * (len(accounts) - len(PROLIFIC)))
    weight /= weight.sum()
    t0 = dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()
    span = months * 30.4 * 86400
    created = np.sort(rng.random(n)) * span + t0
    created[0] = t0
    names = [root.split("/", 1)[1]]
    ids = [root]
    taken = {root.lower()}
    pool = [0] * 12  # each model once per chance of being built on
    items = [_item(root, None, None, created[0], rng, popular=True)]
    for i in range(1, n):
        relation = RELATIONS[int(rng.choice(4, p=RELATION_P))]
        parent = 0 if rng.random() < 0.25 else pool[int(rng.integers(len(pool)))]
        base = names[parent]
        if len(base) > 48:
            base = base.split("-")[0] + "-" + str(i)
        if i == 1:  # the root's own instruct model: a family of its own, the biggest
            relation, parent, name = "finetune", 0, f"{base}-Instruct"
        elif relation == "finetune" and parent == 0 and rng.random() < 0.15:
            name = f"{base}-Instruct"
        else:
            name = f"{base}-{rng.choice(SUFFIXES[relation])}"
        account = (
            root.split("/")[0] if i == 1 else accounts[int(rng.choice(len(accounts), p=weight))]
        )
        model = f"{account}/{name}"
        k = 2
        while model.lower() in taken:
            model = f"{account}/{name}-{k}"
            k += 1
        taken.add(model.lower())
        parents = [ids[parent]]
        if relation == "merge" and i > 2:
            other = int(rng.integers(i))
            if other != parent:
                parents.append(ids[other])
        items.append(_item(model, parents, relation, created[i], rng))
        ids.append(model)
        names.append(model.split("/", 1)[1])
        pool.extend([i] * (40 if i == 1 else 3 if relation in ("finetune", "merge") else 1))
        pool.extend([parent] * 3)
    return items


def _item(model, parents, relation, created, rng, popular=False) -> dict:
    downloads = int(rng.lognormal(13 if popular else 3.5, 2.2))
    tags = [f"base_model:{relation}:{p}" for p in parents or ()]
    when = dt.datetime.fromtimestamp(float(created), dt.UTC)
    return {
        "id": model,
        "createdAt": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "downloads": downloads // 8,
        "downloadsAllTime": downloads,
        "likes": downloads // 200,
        "tags": tags,
    }


def family_store(path: str | Path, n: int, *, seed: int = 0, **options) -> Store:
    """A store holding :func:`family_items` (``n`` models), as a crawl dated :data:`SEEN`."""
    store = Store(path)
    batch, skipped = parse_items(family_items(n, seed=seed, **options), seen_at=SEEN, source="test")
    assert skipped == 0
    store.commit(batch)
    return store
