"""Bulk-import files: the graph as CSV for ``neo4j-admin database import full``.

:func:`export_csv` writes node and relationship files with the headers neo4j-admin reads,
for loading the whole Hub offline, from the same :func:`~lineage.neo4j.graph.graph_frames`
rows the driver load writes; :meth:`ExportSummary.command` is the import command for them.

This module owns the files: their names, headers and value formats (writing each one goes
through :mod:`lineage.output`, like every file lineage writes). It must not talk to
Neo4j (neo4j-admin reads the files offline) or print (rendering is the CLI's job).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ..errors import InputError
from ..output import open_output, write_output
from .graph import INFO_KEY, MODEL_PROPERTIES, GraphFrames, graph_frames, iso_datetime
from .loader import DEFAULT_DATABASE

if TYPE_CHECKING:
    from ..analysis import Context


@dataclass(frozen=True)
class ExportSummary:
    """The files written for ``neo4j-admin database import full`` and how to import them."""

    directory: Path
    nodes: dict[str, tuple[str, str]]  # label -> (header file, data file)
    relationships: dict[str, tuple[str, str]]  # type -> (header file, data file)
    rows: dict[str, int]  # data file -> rows
    seconds: float

    def command(self, database: str = DEFAULT_DATABASE, *, import_dir: str | None = None) -> str:
        """The ``neo4j-admin database import full`` command for these files.

        ``import_dir`` is where the machine running neo4j-admin sees the directory
        (``/import`` in the compose container); default: the directory's absolute path.
        """
        base = (import_dir or str(self.directory.resolve())).rstrip("/")
        lines = [f"neo4j-admin database import full {database} --overwrite-destination"]
        for header, data in self.nodes.values():
            lines.append(f"--nodes={base}/{header},{base}/{data}")
        for header, data in self.relationships.values():
            lines.append(f"--relationships={base}/{header},{base}/{data}")
        return " \\\n    ".join(lines)


# Header line of each file: neo4j-admin's `name:type` fields, `:ID(group)` keys,
# `:START_ID(group)`/`:END_ID(group)` ends, `:LABEL` and `:TYPE` columns (arrays split on ';').
_MODEL_HEADER = [
    "id:ID(Model)",
    *(name if kind == "string" else f"{name}:{kind}" for name, kind in MODEL_PROPERTIES.items()),
    ":LABEL",
]
_HEADERS: dict[str, list[str]] = {
    "models": _MODEL_HEADER,
    "organizations": ["name:ID(Organization)", "region", ":LABEL"],
    "lineage_info": [
        "key:ID(LineageInfo)",
        "root_set",
        "multi_parent",
        "regions",
        "store",
        "lineage_version",
        "models:long",
        "roots:long",
        "derivatives:long",
        "organizations:long",
        "derived_from:long",
        "attributed_to:long",
        "cycle_edges_dropped:long",
        "lineage",
        "min_confidence:double",
        "inferred_derived_from:long",
        "complete:boolean",
        "loaded_at:datetime",
        ":LABEL",
    ],
    "derived_from": [
        ":START_ID(Model)",
        ":END_ID(Model)",
        "relation",
        "inferred:boolean",
        "position:long",
        "lineage",
        "method",
        "confidence:double",
        ":TYPE",
    ],
    "published_by": [":START_ID(Model)", ":END_ID(Organization)", ":TYPE"],
    "attributed_to": [":START_ID(Model)", ":END_ID(Model)", "weight:double", ":TYPE"],
}
NODE_FILES = {"Model": "models", "Organization": "organizations", "LineageInfo": "lineage_info"}
RELATIONSHIP_FILES = {
    "DERIVED_FROM": "derived_from",
    "PUBLISHED_BY": "published_by",
    "ATTRIBUTED_TO": "attributed_to",
}


def csv_header(name: str) -> list[str]:
    """The header fields of one export file (``models``, ``derived_from``, ...)."""
    return list(_HEADERS[name])


def export_csv(
    ctx: Context,
    directory: str | os.PathLike[str],
    *,
    regions_source: str | None = None,
    frames: GraphFrames | None = None,
) -> ExportSummary:
    """Write the graph as CSV files for ``neo4j-admin database import full``.

    Each file has its header in a separate ``<name>_header.csv`` (so the data files can be
    split or concatenated freely). Missing values are empty fields (no property); a
    node's labels are joined with ``;``, neo4j-admin's default array delimiter; temporal
    values are ISO 8601 (``datetime`` in UTC with ``Z``).

    Examples
    --------
    ``ctx`` as in :func:`graph_frames`:

    >>> import datetime as dt, tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_raw
    >>> from lineage.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> _ = store.commit(parse_raw(generate(400, seed=1).raw, seen_at=when, source="doc"))
    >>> summary = export_csv(load_context(store), tempfile.mkdtemp())
    >>> summary.rows["models.csv"] > 400
    True
    >>> print(summary.command(import_dir="/import").splitlines()[1])
        --nodes=/import/models_header.csv,/import/models.csv \\
    """
    started = time.perf_counter()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create export directory {out}: {exc.strerror}") from exc
    frames = frames or graph_frames(ctx, regions_source=regions_source)
    models = frames.models.select(
        "id",
        *(
            iso_datetime(pl.col(name)) if kind == "datetime" else pl.col(name)
            for name, kind in MODEL_PROPERTIES.items()
        ),
        pl.when(pl.col("is_root"))
        .then(pl.lit("Model;Root"))
        .when(pl.col("is_derivative"))
        .then(pl.lit("Model;Derivative"))
        .otherwise(pl.lit("Model"))
        .alias("labels"),
    )
    info = {
        **frames.info,
        "key": INFO_KEY,
        "complete": True,
        "loaded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    info_fields = [h.split(":")[0] for h in _HEADERS["lineage_info"] if not h.startswith(":")]
    tables = {
        "models": models,
        "organizations": frames.organizations.with_columns(pl.lit("Organization")),
        "lineage_info": pl.DataFrame([{k: info[k] for k in info_fields}]).with_columns(
            pl.lit("LineageInfo")
        ),
        "derived_from": frames.derived_from.with_columns(pl.lit("DERIVED_FROM")),
        "published_by": frames.published_by.with_columns(pl.lit("PUBLISHED_BY")),
        "attributed_to": frames.attributed_to.with_columns(pl.lit("ATTRIBUTED_TO")),
    }
    rows = {}
    for name, table in tables.items():
        write_output(out / f"{name}_header.csv", ",".join(_HEADERS[name]) + "\n")
        with open_output(out / f"{name}.csv") as fh:
            table.write_csv(fh, include_header=False)
        rows[f"{name}.csv"] = table.height
    return ExportSummary(
        directory=out,
        nodes={label: (f"{n}_header.csv", f"{n}.csv") for label, n in NODE_FILES.items()},
        relationships={
            kind: (f"{n}_header.csv", f"{n}.csv") for kind, n in RELATIONSHIP_FILES.items()
        },
        rows=rows,
        seconds=time.perf_counter() - started,
    )
