"""Why a walk misses part of bench_crawl's big family, model by model (no Hub, no requests).

A walk finds children with the Hub's ``filter=base_model:<id>``, which matches the declared
tag exactly (the fake Hub does the same). This replays that walk over the synthetic
population's own records, then the sweep's reading of the same records (any case, card
parents read, renames resolved, or not with ``--no-renames``: what sweeps did before issue
15), and names, for each model the sweep finds and the walk does not, why.

    python benchmarks/walk_recall.py                  # 200k models, bench_crawl's default
    python benchmarks/walk_recall.py --no-renames     # the sweep before issue 15
"""

from __future__ import annotations

import argparse
import collections

from bench_crawl import family_size

from lineage.testing.synthetic import ORGS, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-renames", action="store_true")
    args = parser.parse_args()
    pop = generate(args.models, seed=args.seed, derivative_fraction=0.45)
    items = list(pop.items())
    sizes = {org: family_size(pop.truth, [org]) for org in ORGS}
    big: list[str] = []
    for org, _ in sorted(sizes.items(), key=lambda kv: -kv[1]):
        big.append(org)
        if family_size(pop.truth, big) >= 50_000 or len(big) == len(ORGS):
            break
    truth = family_size(pop.truth, big)
    lower = {item["id"].lower(): item["id"] for item in items}
    by_tag = collections.defaultdict(list)  # declared text -> children (what the filter sees)
    declared = collections.defaultdict(list)  # child -> (source, declared text)
    for item in items:
        for tag in item.get("tags", []):
            if tag.startswith("base_model:") and tag.count(":") == 1:
                by_tag[tag[11:]].append(item["id"])
                declared[item["id"]].append(("tag", tag[11:]))
        card = (item.get("cardData") or {}).get("base_model")
        for text in [card] if isinstance(card, str) else card or []:
            if isinstance(text, str) and ("tag", text) not in declared[item["id"]]:
                declared[item["id"]].append(("card", text))
    roots = [i["id"] for i in items if i["id"].split("/")[0] in big]
    walked, queue = set(roots), list(roots)
    while queue:
        for child in by_tag.get(queue.pop(), []):
            if child not in walked:
                walked.add(child)
                queue.append(child)

    def resolve(text: str) -> str | None:
        text = text.strip().removeprefix("https://huggingface.co/")
        if not args.no_renames:
            text = pop.renames.get(text, text)
        return lower.get(text.lower())

    children = collections.defaultdict(list)
    for child, parents in declared.items():
        for source, text in parents:
            parent = resolve(text)
            if parent:
                children[parent].append((child, source, text))
    swept, queue, why = set(roots), list(roots), {}
    while queue:
        model = queue.pop()
        for child, source, text in children.get(model, []):
            if child in swept:
                continue
            swept.add(child)
            queue.append(child)
            if child in walked:
                continue
            if model not in walked:
                why[child] = "below a model the walk missed"
            elif source == "card":
                why[child] = "declared only in the card (URL form; no base_model tag)"
            elif text in pop.renames:
                why[child] = "declares a renamed parent by its former name"
            elif text != model:
                why[child] = "declares its parent in another case"
            else:
                why[child] = "other"
    missed = len(swept) - len(walked)
    print(
        f"N={len(items):,}; big family {', '.join(big)}: truth {truth:,}, sweep "
        f"{len(swept):,} ({'renames not resolved' if args.no_renames else 'renames resolved'}), "
        f"walk {len(walked):,}: misses {missed:,} ({missed / len(swept):.1%})"
    )
    for reason, count in collections.Counter(why.values()).most_common():
        print(f"  {count:6,}  {reason}")
    print(f"  truth - sweep: {truth - len(swept):,} (below deleted parents, or renames unresolved)")


if __name__ == "__main__":
    main()
