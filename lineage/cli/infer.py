"""``lineage infer``: lineage for models that declare no parent, and how well it does."""

from __future__ import annotations

from typing import Any

import click

from ..render import render_json
from .group import cli
from .options import endpoint_option, format_option, open_store, quiet_option, store_option
from .streams import emit, note, progress_bar, write_data
from .summaries import format_roots_summary


@cli.command()
@click.option(
    "--evaluate",
    is_flag=True,
    help="Measure instead: hide the declarations of --sample declared derivatives, infer "
    "them, and report coverage and precision (the store is not changed).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="With --evaluate: declared derivatives whose declarations are hidden.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="With --evaluate: the sample's seed."
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    metavar="X",
    help="Inferred edges listed (--list) or evaluated by method, at least this confident "
    "[default: 0.8].",
)
@click.option(
    "--list", "list_edges", is_flag=True, help="Print the inferred edges, not the summary."
)
@click.option(
    "--regions",
    "regions_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="With --evaluate: CSV of org,region rows for region precision.",
)
@click.option(
    "--min-derivatives",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --evaluate: hide instead every declared derivative with at least N "
    "derivatives under it (all at once: the consequential ones), and report per model "
    "and weighted by their derivatives.",
)
@click.option(
    "--resolve-roots",
    "resolve_budget",
    type=click.IntRange(min=0),
    is_flag=False,
    flag_value=300,
    metavar="[N]",
    help="First read the model cards and configs (README.md, config.json) of the "
    "parentless models with the most derivatives under them, at most N requests "
    "[N: 300], most consequential first, and infer with what they say (two requests at "
    "most per model). Journaled: run it again to resume, or to continue with the next "
    "roots.",
)
@click.option(
    "--calibrate",
    type=click.FloatRange(0.0, 0.9),
    default=0.2,
    show_default=True,
    metavar="SHARE",
    help="With --resolve-roots: the share of the models read that are declared derivatives, "
    "whose files calibrate each method's confidence.",
)
@click.option(
    "--unplaced-share",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    metavar="SHARE",
    help="With --resolve-roots: the share of the roots read, in turn, from the roots of "
    "organizations without a region (what a share by region cannot place), the others by "
    "impact alone (what a share by family needs); 0: by impact alone, 1: every root "
    "without a region first.",
)
@endpoint_option("With --resolve-roots: the Hub endpoint")
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    metavar="SECONDS",
    help="With --resolve-roots: stop retrying a failing request after this long.",
)
@format_option()
@quiet_option
@store_option
def infer(
    evaluate: bool,
    sample: int,
    seed: int,
    min_confidence: float | None,
    list_edges: bool,
    regions_file: str | None,
    min_derivatives: int | None,
    resolve_budget: int | None,
    calibrate: float,
    unplaced_share: float,
    endpoint: str | None,
    give_up_after: float,
    fmt: str,
    store_path: str | None,
) -> None:
    """Infer the lineage of models that declare no parent: a parent or root family each.

    \b
    Examples:
      lineage infer                        # infer, store, print a summary by method
      lineage infer --list --format csv    # the inferred edges (confidence >= 0.8)
      lineage infer --resolve-roots        # first read the cards of the roots that matter
      lineage infer --evaluate             # how well it recovers hidden declarations
      lineage infer --evaluate --min-derivatives 100   # ... of the consequential ones
      lineage share --lineage both         # then: shares with inferred lineage counted

    Methods, strongest evidence first: adapter-config (a PEFT adapter's config names its
    base), name-id (an owner_-_name id in the name), name-exact (the name without format
    affixes such as GGUF, AWQ, Q4_K_M or 4bit is a known model's), reupload (the name is
    another organization's model once re-uploaders' changes are undone: formats, -hf,
    -sharded, Meta-), name-contained (the longest known name it contains), architecture
    (the root family of most declared derivatives of the same architecture and size).
    With --resolve-roots, also what the files of the parentless models with the most
    derivatives under them say: card-base-model, card-mergekit (every source of a merge),
    card-link ("fine-tuned version of", "quantized version of", "Original model:"),
    config-name (_name_or_path), config-shape (architecture and sizes). Confidence is the
    share of the store's own declared derivatives with the same evidence that the method
    puts in their declared family. Inferred edges are stored apart (inferred_edges.parquet)
    and never counted unless asked (--lineage). Only --resolve-roots makes requests: one
    per model card, one more for a config when the card names no known model.
    """
    from ..inference import DEFAULT_MIN_CONFIDENCE
    from ..inference import infer as infer_lineage

    at = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
    if evaluate and resolve_budget is not None:
        raise click.UsageError(
            "--evaluate measures what the store holds; run --resolve-roots first"
        )
    if min_derivatives is not None and not evaluate:
        raise click.UsageError("--min-derivatives chooses what --evaluate hides; give both")
    store = open_store(store_path, create=False)
    if evaluate:
        if fmt == "csv" or list_edges:
            raise click.UsageError("--evaluate prints several tables: use --format table or json")
        _evaluate(
            store,
            sample=sample,
            seed=seed,
            at=at,
            regions=regions_file,
            fmt=fmt,
            min_derivatives=min_derivatives,
        )
        return
    if resolve_budget is not None:
        from ..edges import read_inferred
        from ..hub import RetryPolicy, make_client
        from ..inference import method_summary
        from ..roots import resolve_roots

        client = make_client(endpoint, policy=RetryPolicy(give_up_after=give_up_after))
        with progress_bar() as progress:
            resolution = resolve_roots(
                store,
                client,
                budget=resolve_budget,
                calibrate=calibrate,
                regions=regions_file,
                unplaced_share=unplaced_share,
                progress=progress,
            )
        store.refresh()
        emit(
            method_summary(read_inferred(store), at),
            fmt,
            title=f"inferred lineage by method (>= {at:g})",
        )
        note(format_roots_summary(resolution))
        return
    from ..inference import save

    result = infer_lineage(store)
    save(store, result)
    if list_edges:
        emit(
            result.edges.filter(_at_least(at)).drop("inferred_at"),
            fmt,
            title=f"inferred lineage, confidence >= {at:g}",
        )
    else:
        emit(result.summary(at), fmt, title=f"inferred lineage by method (>= {at:g})")
    strong = result.edges.filter(_at_least(at)).height
    note(
        f"inferred lineage for {result.edges.height:,} of {result.targets:,} crawled models "
        f"without a declared parent ({strong:,} at confidence >= {at:g}); stored apart "
        f"from declared lineage in {store.file('inferred_edges')}; count it with "
        "`lineage share --lineage both`"
    )


def _at_least(at: float) -> Any:
    import polars as pl

    return pl.col("confidence") >= at


def _evaluate(
    store: Any,
    *,
    sample: int,
    seed: int,
    at: float,
    regions: str | None,
    fmt: str,
    min_derivatives: int | None = None,
):
    from ..inference_eval import TARGET_PRECISION, evaluate

    result = evaluate(
        store,
        sample=sample,
        seed=seed,
        min_confidence=at,
        regions=regions,
        min_derivatives=min_derivatives,
    )
    recommended = result.recommended_min_confidence()
    if fmt == "json":
        write_data(
            render_json(
                {
                    "sample": result.sample,
                    "seed": result.seed,
                    "declared_derivatives": result.declared_derivatives,
                    "min_confidence": at,
                    "recommended_min_confidence": recommended,
                    "recommended_for_regions": result.recommended_min_confidence(
                        on="region_precision"
                    ),
                    "thresholds": result.thresholds.to_dicts(),
                    "by_method": result.by_method.to_dicts(),
                    "calibration": result.calibration.to_dicts(),
                    "heads": result.heads.to_dicts(),
                    "min_derivatives": result.min_derivatives,
                    "models": result.models.to_dicts(),
                }
            ),
            nl=False,
        )
        return
    if result.min_derivatives is None:
        hidden = (
            f"{result.sample:,} of {result.declared_derivatives:,} declared derivatives "
            f"(seed {result.seed})"
        )
    else:
        hidden = (
            f"the {result.sample:,} declared derivatives (of {result.declared_derivatives:,}) with "
            f"{result.min_derivatives:,} derivatives or more under them, all at once, and what "
            "their cards declare"
        )
    write_data(
        f"hid the declarations of {hidden} and inferred them (weighted_*: each weighed by "
        "its derivatives)"
    )
    emit(result.thresholds, "table", title="by minimum confidence")
    emit(result.by_method, "table", title=f"by method, confidence >= {at:g}")
    emit(result.calibration, "table", title="calibration: precision by confidence")
    emit(
        result.heads,
        "table",
        title="family heads (no declared parent, declared children) given a parent",
    )
    if result.min_derivatives is not None:
        import polars as pl

        emit(
            result.models.with_columns(
                pl.col(c).list.join(", ") for c in ("declared_roots", "roots")
            ),
            "table",
            title=f"each hidden model, confidence >= {at:g}",
        )
    for measure, name in (("root_precision", "root-family"), ("region_precision", "region")):
        found = result.recommended_min_confidence(on=measure)
        write_data(
            f"lowest confidence with {name} precision >= {TARGET_PRECISION:.0%}: "
            + (f"{found:g}" if found is not None else "none")
        )
