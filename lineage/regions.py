"""Organization -> region tables and root sets.

The packaged table is ATOM's (see NOTICE and PROVENANCE.md): exact Hugging Face namespaces
mapped to ``us``, ``china``, ``eu``, ``other`` or ``unknown``. ``--regions FILE`` extends or
overrides it (a CSV with columns ``org,region`` or ATOM's ``hf_org,region,notes``). Lookups
are exact first, then case-insensitive, because Hub namespaces are case-insensitive. An
organization in no table is ``unknown``: a region is never guessed, least of all from the
Hub's ``region:`` tag, which is where files are stored, not who made them.

Root sets: ``all`` (every model without a parent is a root), ``atom`` (ATOM's mainline
models), ``atom-extended`` (plus ATOM's secondary list) or a file of model ids.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import polars as pl

from .errors import InputError

REGIONS = ("us", "china", "eu", "other", "unknown")
ROOT_SETS = ("all", "atom", "atom-extended")


def _packaged(name: str) -> bytes:
    return resources.files("lineage").joinpath("data", name).read_bytes()


def _read_csv(data: bytes | Path, what: str) -> pl.DataFrame:
    try:
        return pl.read_csv(data, infer_schema=False, comment_prefix="#")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{what} cannot be read as CSV: {exc.__class__.__name__}") from exc


def load_regions(extra: str | Path | None = None) -> pl.DataFrame:
    """The region table: columns ``org``, ``region``, ``key`` (lowercase org), ``source``.

    Rows from ``extra`` override the packaged ones for the same organization.

    Examples
    --------
    >>> table = load_regions()
    >>> region_of(table, ["Qwen", "mistralai", "META-LLAMA", "someone"])
    ['china', 'eu', 'us', 'unknown']
    """
    packaged = _normalize(
        _read_csv(_packaged("organization_regions.csv"), "packaged table"), "packaged table", "atom"
    )
    if extra is None:
        return packaged
    path = Path(extra)
    if not path.is_file():
        raise InputError(f"regions file {path} does not exist")
    user = _normalize(_read_csv(path, f"regions file {path}"), f"regions file {path}", str(path))
    return pl.concat([packaged.join(user.select("key"), on="key", how="anti"), user])


def _normalize(frame: pl.DataFrame, what: str, source: str) -> pl.DataFrame:
    frame = frame.rename({"hf_org": "org"}) if "hf_org" in frame.columns else frame
    missing = [c for c in ("org", "region") if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)}; expected org,region")
    frame = frame.select(
        pl.col("org").str.strip_chars(), pl.col("region").str.strip_chars().str.to_lowercase()
    ).filter(pl.col("org").is_not_null() & (pl.col("org") != ""))
    bad = frame.filter(~pl.col("region").is_in(REGIONS) | pl.col("region").is_null())
    if bad.height:
        org, region = bad.row(0)
        raise InputError(
            f"{what}: region {region!r} for {org!r} is not one of {', '.join(REGIONS)}"
        )
    return frame.with_columns(
        pl.col("org").str.to_lowercase().alias("key"), pl.lit(source).alias("source")
    ).unique("key", keep="last", maintain_order=True)


def attach_regions(
    frame: pl.DataFrame, table: pl.DataFrame, *, org: str, region: str
) -> pl.DataFrame:
    """Add a ``region`` column for the organization column ``org`` (exact, then any case)."""
    exact = table.select(pl.col("org").alias(org), pl.col("region").alias("_exact"))
    loose = table.select("key", pl.col("region").alias("_loose"))
    return (
        frame.join(exact, on=org, how="left")
        .join(loose, left_on=pl.col(org).str.to_lowercase(), right_on="key", how="left")
        .with_columns(pl.coalesce("_exact", "_loose", pl.lit("unknown")).alias(region))
        .drop("_exact", "_loose", "key", strict=False)
    )


def region_of(table: pl.DataFrame, orgs: list[str]) -> list[str]:
    """Regions of some organizations, in order."""
    frame = attach_regions(pl.DataFrame({"org": orgs}), table, org="org", region="region")
    return frame["region"].to_list()


def load_root_set(spec: str) -> list[str] | None:
    """Model ids of a root set; ``None`` for ``all`` (every parentless model is a root).

    ``spec`` is ``all``, ``atom``, ``atom-extended`` or a path to a file of model ids (one a
    line, or a CSV with a ``modelId``, ``model_id`` or ``id`` column).
    """
    if spec == "all":
        return None
    if spec in ("atom", "atom-extended"):
        files = ["atom_models.csv"] + (["atom_extra_models.csv"] if spec == "atom-extended" else [])
        ids: list[str] = []
        for name in files:
            ids.extend(_read_csv(_packaged(name), name)["modelId"].to_list())
        return list(dict.fromkeys(ids))
    path = Path(spec)
    if not path.is_file():
        raise InputError(
            f"root set {spec!r} is neither all, atom, atom-extended nor an existing file"
        )
    text = path.read_text(errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    if "," in first:
        frame = _read_csv(path, f"root set file {path}")
        column = next((c for c in ("modelId", "model_id", "id") if c in frame.columns), None)
        if column is None:
            raise InputError(f"root set file {path} has no modelId, model_id or id column")
        ids = frame[column].drop_nulls().to_list()
    else:
        ids = [line.strip() for line in text.splitlines()]
        ids = [i for i in ids if i and not i.startswith("#")]
    if not ids:
        raise InputError(f"root set file {path} lists no model ids")
    return list(dict.fromkeys(ids))
