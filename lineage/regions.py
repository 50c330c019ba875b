"""Organization -> region tables and root sets.

The packaged table is ATOM's (see NOTICE and PROVENANCE.md): exact Hugging Face namespaces
mapped to ``us``, ``china``, ``eu``, ``other`` or ``unknown``. ``--regions FILE`` extends or
overrides it: ``org,region`` rows, with or without a header line (a header names the
columns, ``org`` or ATOM's ``hf_org`` and ``region``, and may add others such as ``notes``);
blank lines and ``#`` comments are skipped. A malformed line is an error naming the file,
the line number and what is wrong with it; nothing is guessed. Lookups
are exact first, then case-insensitive, because Hub namespaces are case-insensitive. An
organization in no table is ``unknown``: a region is never guessed, least of all from the
Hub's ``region:`` tag, which is where files are stored, not who made them.

Root sets: ``all`` (every model without a parent is a root), ``atom`` (ATOM's mainline
models), ``atom-extended`` (plus ATOM's secondary list) or a file of model ids.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from .errors import InputError
from .vocabulary import REGIONS

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


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
    packaged = parse_regions(
        _packaged("organization_regions.csv").decode("utf-8"), "packaged table", source="atom"
    )
    if extra is None:
        return packaged
    path = Path(extra)
    what = f"regions file {path}"
    if not path.is_file():
        raise InputError(f"{what} does not exist")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{what} cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte {exc.start + 1})") from exc
    user = parse_regions(text, what, source=str(path))
    return pl.concat([packaged.join(user.select("key"), on="key", how="anti"), user])


def parse_regions(text: str, what: str = "regions table", *, source: str = "") -> pl.DataFrame:
    r"""Parse ``org,region`` lines (header optional) into the region table's columns.

    Examples
    --------
    >>> parse_regions("# mine\nghost,other\nQwen, China\n")["region"].to_list()
    ['other', 'china']
    >>> parse_regions("org,region\nghost,mars\n", "mine.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: mine.csv, line 2: region 'mars' for 'ghost' is not one of us, ...
    """
    rows: list[tuple[str, str]] = []
    org_at, region_at, width = 0, 1, 2
    header_seen = False
    lines = text.splitlines()
    for number, fields in zip(
        range(1, len(lines) + 1), csv.reader(lines, skipinitialspace=True), strict=True
    ):
        fields = [f.strip() for f in fields]
        if not any(fields) or fields[0].startswith("#"):
            continue
        where = f"{what}, line {number}"
        names = [f.lower() for f in fields]
        if not header_seen and not rows and (names[0] in ("org", "hf_org") or "region" in names):
            header_seen = True
            org_name = next((n for n in ("org", "hf_org") if n in names), None)
            if org_name is None or "region" not in names:
                lacking = "an org" if org_name is None else "a region"
                raise InputError(f"{where}: the header lacks {lacking} column; expected org,region")
            org_at, region_at, width = names.index(org_name), names.index("region"), len(fields)
            continue
        if header_seen and len(fields) < width:
            fields += [""] * (width - len(fields))
        if header_seen and len(fields) > width:
            raise InputError(
                f"{where}: {len(fields)} fields, the header names {width}; "
                "quote values that contain commas"
            )
        if not header_seen and len(fields) != 2:
            raise InputError(
                f"{where}: {len(fields)} field{'s' if len(fields) != 1 else ''}, expected 2 "
                "(org,region); start the file with a header line (org,region,...) to add "
                "columns"
            )
        org, region = fields[org_at], fields[region_at].lower()
        if not org:
            raise InputError(f"{where}: no organization before the comma")
        if "/" in org or any(c.isspace() for c in org):
            raise InputError(
                f"{where}: {org!r} is not an organization (a Hub namespace such as Qwen, "
                "without '/' or spaces)"
            )
        if region not in REGIONS:
            shown = f"region {region!r}" if region else "an empty region"
            raise InputError(f"{where}: {shown} for {org!r} is not one of {', '.join(REGIONS)}")
        rows.append((org, region))
    if not rows:
        raise InputError(f"{what} has no org,region rows")
    frame = pl.DataFrame(rows, schema={"org": pl.String, "region": pl.String}, orient="row")
    return frame.with_columns(
        pl.col("org").str.to_lowercase().alias("key"), pl.lit(source).alias("source")
    ).unique("key", keep="last", maintain_order=True)


def attach_regions(frame: FrameT, table: pl.DataFrame, *, org: str, region: str) -> FrameT:
    """Add a ``region`` column for the organization column ``org`` (exact, then any case);
    ``frame`` eager or lazy (then so is the result)."""
    exact = table.select(pl.col("org").alias(org), pl.col("region").alias("_exact"))
    loose = table.select("key", pl.col("region").alias("_loose"))
    if isinstance(frame, pl.LazyFrame):
        return _attach(frame, exact.lazy(), loose.lazy(), org, region)
    return _attach(frame, exact, loose, org, region)


def _attach(frame: Any, exact: Any, loose: Any, org: str, region: str) -> Any:
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
