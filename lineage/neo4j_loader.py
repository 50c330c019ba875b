"""Putting the attributed derivative graph into Neo4j: a batched driver load, or bulk-import CSV.

The graph model (drawn and explained in cypher/README.md)::

    (:Organization {name, region})
          ^
          | PUBLISHED_BY
    (:Model:Derivative)-[:DERIVED_FROM {relation, inferred, position}]->(:Model)
          |
          +-[:ATTRIBUTED_TO {weight}]->(:Model:Root)          one per attributed root
    (:LineageInfo {key: 'lineage', root_set, multi_parent, ...})   what was loaded, and how

:func:`load` writes it through the official ``neo4j`` driver: the constraints and indexes of
cypher/schema.cypher first, then ``UNWIND $rows ... MERGE`` statements in transactions of
``batch_size`` rows. It is idempotent (MERGE on ids), incremental (a load after a re-crawl
updates properties, adds what is new, drops relationships that disappeared and, by default,
models no longer in the store) and restartable (each batch commits on its own; a re-run
after a kill MERGEs over what is there). Every value reaches Cypher as a parameter.

:func:`export_csv` writes the same graph as node and relationship files with the headers
``neo4j-admin database import full`` reads, for loading the whole Hub offline.

Both take their rows from :func:`graph_frames`, so the two paths give the same graph. This
module owns talking to Neo4j and mapping the driver's failures to one-line
:class:`~lineage.errors.Neo4jError` messages; it must not print (progress goes through
:class:`~lineage.progress.Progress`, rendering is the CLI's job).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from . import __version__
from .errors import InputError, Neo4jError
from .progress import Progress
from .regions import attach_regions

if TYPE_CHECKING:
    import neo4j

    from .analysis import Context

DEFAULT_URI = "bolt://localhost:7687"
DEFAULT_USER = "neo4j"
DEFAULT_DATABASE = "neo4j"
DEFAULT_BATCH_SIZE = 10_000
INFO_KEY = "lineage"
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

# Model properties, in CSV column order, with their neo4j-admin import types. ``id`` is the
# node key; ``created_at`` and ``month`` become Neo4j temporal values.
MODEL_PROPERTIES: dict[str, str] = {
    "org": "string",
    "status": "string",
    "crawled": "boolean",
    "created_at": "datetime",
    "month": "date",
    "downloads": "long",
    "downloads_all_time": "long",
    "likes": "long",
    "pipeline_tag": "string",
    "library_name": "string",
    "parameters": "long",
    "region": "string",
    # Attribution, on derivatives only (absent elsewhere; see ATTRIBUTION_PROPERTIES):
    "relation": "string",
    "depth": "long",
    "chain": "string",
    "family": "string",
    "family_region": "string",
    "attributed_weight": "double",
}
TEMPORAL = {"created_at": "datetime", "month": "date"}
ATTRIBUTION_PROPERTIES = (
    "relation",
    "depth",
    "chain",
    "family",
    "family_region",
    "attributed_weight",
)
LABELS = ("Model", "Root", "Derivative", "Organization", "LineageInfo")
RELATIONSHIP_TYPES = ("DERIVED_FROM", "PUBLISHED_BY", "ATTRIBUTED_TO")

# -- Cypher ---------------------------------------------------------------------------------
# Statement texts are constants: rows, ids and timestamps only ever arrive as parameters.
# $loaded_at is one UTC datetime per load; every node this load writes carries it.

ORGANIZATIONS_UPSERT = """
UNWIND $rows AS row
MERGE (o:Organization {name: row.name})
SET o.region = row.region, o.loaded_at = $loaded_at
"""

# Nodes get their labels when they are created: ArcadeDB cannot relabel a node inside the
# transaction that created it, and a MERGE cannot give the node it creates extra labels.
# So on a database that held no model, models are CREATEd. On one that did, missing models
# are created with their labels, every model is updated, and labels are fixed where a
# model changed role. Temporal values travel as ISO text and are parsed by the server: the
# driver's pure-Python packing of datetime objects cost more than the whole write.
_LABELS_OF = {"root": "Model:Root", "derivative": "Model:Derivative", "plain": "Model"}
MODEL_COLUMNS = ("id", *MODEL_PROPERTIES)
# What a CREATE row holds, by kind: only derivatives carry attribution properties.
CREATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "root": tuple(c for c in MODEL_COLUMNS if c not in ATTRIBUTION_PROPERTIES),
    "derivative": MODEL_COLUMNS,
    "plain": tuple(c for c in MODEL_COLUMNS if c not in ATTRIBUTION_PROPERTIES),
}


def _create_pattern(columns: tuple[str, ...]) -> str:
    """`{id: row[0], org: row[1], ...}`: CREATE's rows are lists of ``columns``.

    Lists, not maps, because the driver packs every map key of every row in pure Python;
    lists load a third faster. A null stores no property, as in Neo4j.
    """
    values = {"created_at": "datetime({})", "month": "date({})"}
    items = [
        f"  {name}: {values.get(name, '{}').format(f'row[{i}]')}" for i, name in enumerate(columns)
    ]
    return "{\n" + ",\n".join(items) + "\n}"


MODEL_CREATES: dict[str, str] = {
    kind: f"""
UNWIND $rows AS row
CREATE (m:{labels} {_create_pattern(CREATE_COLUMNS[kind])})
SET m.loaded_at = $loaded_at
WITH m, row
WHERE row[{CREATE_COLUMNS[kind].index("org")}] IS NOT NULL
MATCH (o:Organization {{name: row[{CREATE_COLUMNS[kind].index("org")}]}})
CREATE (m)-[:PUBLISHED_BY]->(o)
"""
    for kind, labels in _LABELS_OF.items()
}
MODELS_ADD_MISSING: dict[str, str] = {
    kind: f"""
UNWIND $rows AS row
OPTIONAL MATCH (m:Model {{id: row.id}})
WITH row
WHERE m IS NULL
CREATE (:{labels} {{id: row.id}})
"""
    for kind, labels in _LABELS_OF.items()
}
# `+=` with every lineage property (null ones removed) keeps properties users added, such
# as a GDS algorithm's results.
MODELS_UPDATE = """
UNWIND $rows AS row
MATCH (m:Model {id: row.id})
SET m += row,
    m.created_at = datetime(row.created_at),
    m.month = date(row.month),
    m.loaded_at = $loaded_at
WITH m, row
WHERE row.org IS NOT NULL
MATCH (o:Organization {name: row.org})
MERGE (m)-[:PUBLISHED_BY]->(o)
"""
# Only models whose role changed since the last load pass these WHEREs. Every lookup goes
# through :Model(id), the indexed key.
LABEL_FIXES = (
    """
UNWIND $rows AS row
MATCH (m:Model {id: row.id})
WHERE row.kind = 'root' AND NOT m:Root
SET m:Root
""",
    """
UNWIND $rows AS row
MATCH (m:Model {id: row.id})
WHERE row.kind <> 'root' AND m:Root
REMOVE m:Root
""",
    """
UNWIND $rows AS row
MATCH (m:Model {id: row.id})
WHERE row.kind = 'derivative' AND NOT m:Derivative
SET m:Derivative
""",
    """
UNWIND $rows AS row
MATCH (m:Model {id: row.id})
WHERE row.kind <> 'derivative' AND m:Derivative
REMOVE m:Derivative
""",
)
# A model's parents or roots may have changed since the last load.
STALE_PARENTS_DELETE = """
UNWIND $rows AS row
MATCH (:Model {id: row.id})-[r:DERIVED_FROM]->(p:Model)
WHERE NOT p.id IN row.parents
DELETE r
"""
STALE_ROOTS_DELETE = """
UNWIND $rows AS row
MATCH (:Model {id: row.id})-[r:ATTRIBUTED_TO]->(p:Model)
WHERE NOT p.id IN row.root_ids
DELETE r
"""

# Relationships: CREATE when the database held no model (nothing to find; ArcadeDB's
# relationship MERGE costs twice a CREATE), MERGE otherwise. A CREATE batch is never
# replayed: the driver does not retry a commit whose answer was lost (IncompleteCommit),
# the load stops, and its re-run finds models in the database and MERGEs. Rows are lists,
# like CREATE's model rows: [child, parent, relation, inferred, position] for
# DERIVED_FROM, [derivative, root, weight] for ATTRIBUTED_TO.
DERIVED_FROM_CREATE = """
UNWIND $rows AS row
MATCH (c:Model {id: row[0]})
MATCH (p:Model {id: row[1]})
CREATE (c)-[:DERIVED_FROM {relation: row[2], inferred: row[3], position: row[4]}]->(p)
"""
DERIVED_FROM_MERGE = """
UNWIND $rows AS row
MATCH (c:Model {id: row[0]})
MATCH (p:Model {id: row[1]})
MERGE (c)-[r:DERIVED_FROM]->(p)
SET r.relation = row[2], r.inferred = row[3], r.position = row[4]
"""
ATTRIBUTED_TO_CREATE = """
UNWIND $rows AS row
MATCH (d:Model {id: row[0]})
MATCH (r:Model {id: row[1]})
CREATE (d)-[:ATTRIBUTED_TO {weight: row[2]}]->(r)
"""
ATTRIBUTED_TO_MERGE = """
UNWIND $rows AS row
MATCH (d:Model {id: row[0]})
MATCH (r:Model {id: row[1]})
MERGE (d)-[a:ATTRIBUTED_TO]->(r)
SET a.weight = row[2]
"""

INFO_START = """
MERGE (i:LineageInfo {key: $key})
SET i.complete = false, i.started_at = $loaded_at
"""
INFO_FINISH = """
MERGE (i:LineageInfo {key: $key})
SET i += $props, i.complete = true, i.loaded_at = $loaded_at
"""

# Whatever this load did not write is no longer in the store's graph.
MODELS_PRUNE = """
MATCH (m:Model)
WHERE m.loaded_at IS NULL OR m.loaded_at <> $loaded_at
WITH m LIMIT $limit
DETACH DELETE m
"""
ORGANIZATIONS_PRUNE = """
MATCH (o:Organization)
WHERE o.loaded_at IS NULL OR o.loaded_at <> $loaded_at
WITH o LIMIT $limit
DETACH DELETE o
"""

HAS_MODELS = "MATCH (m:Model) RETURN count(m) > 0 AS any"

COUNTS: dict[str, str] = {
    "models": "MATCH (n:Model) RETURN count(n) AS n",
    "roots": "MATCH (n:Root) RETURN count(n) AS n",
    "derivatives": "MATCH (n:Derivative) RETURN count(n) AS n",
    "organizations": "MATCH (n:Organization) RETURN count(n) AS n",
    "derived_from": "MATCH ()-[r:DERIVED_FROM]->() RETURN count(r) AS n",
    "published_by": "MATCH ()-[r:PUBLISHED_BY]->() RETURN count(r) AS n",
    "attributed_to": "MATCH ()-[r:ATTRIBUTED_TO]->() RETURN count(r) AS n",
}


# -- the rows both paths write --------------------------------------------------------------


@dataclass(frozen=True)
class GraphFrames:
    """The graph as tables, one per node label or relationship type.

    ``models``: id, the :data:`MODEL_PROPERTIES` (``created_at`` a UTC datetime, ``month``
    a date), is_root, is_derivative, and the ids of its parents and of its roots (to
    remove relationships that no longer hold).
    ``organizations``: name, region. ``derived_from``: child, parent, relation, inferred,
    position. ``published_by``: model, org. ``attributed_to``: derivative, root, weight.
    ``info``: what the graph was built from (root set, multi-parent rule, counts).
    """

    models: pl.DataFrame
    organizations: pl.DataFrame
    derived_from: pl.DataFrame
    published_by: pl.DataFrame
    attributed_to: pl.DataFrame
    info: dict[str, Any]


def graph_frames(ctx: Context, *, regions_source: str | None = None) -> GraphFrames:
    """Tables of the graph to load: nodes with their attribution, and relationships.

    Parameters
    ----------
    ctx : lineage.analysis.Context
        A store's graph and attribution (:func:`lineage.analysis.load_context`).
    regions_source : str, optional
        Where the region table came from, recorded on the ``LineageInfo`` node.

    Examples
    --------
    A small synthetic store:

    >>> import datetime as dt, tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_raw
    >>> from lineage.store import Store
    >>> from lineage.testing.synthetic import generate
    >>> store = Store(tempfile.mkdtemp())
    >>> when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> _ = store.commit(parse_raw(generate(400, seed=1).raw, seen_at=when, source="doc"))
    >>> ctx = load_context(store)
    >>> frames = graph_frames(ctx)
    >>> frames.models.height == frames.info["models"] == ctx.graph.n
    True
    >>> frames.attributed_to.columns
    ['derivative', 'root', 'weight']
    """
    graph, attribution = ctx.graph, ctx.attribution
    extra = (
        ctx.store.read("models")
        .unique("id", keep="last")
        .select("id", "pipeline_tag", "library_name", "parameters")
    )
    nodes = attach_regions(
        graph.nodes.select(
            "idx",
            "id",
            "org",
            "status",
            "crawled",
            "created_at",
            "downloads",
            "downloads_all_time",
            "likes",
        ).join(extra, on="id", how="left"),
        ctx.regions,
        org="org",
        region="region",
    )
    ids = nodes.select("idx", "id")
    region_of = nodes.select(pl.col("id").alias("family"), pl.col("region").alias("family_region"))
    derivatives = attribution.derivatives.select(
        "idx",
        "relation",
        "depth",
        "chain",
        pl.col("primary_root").alias("family"),
        "attributed_weight",
        "roots",
        pl.lit(True).alias("is_derivative"),
    ).join(region_of, on="family", how="left")
    root_idx = attribution.weights.select(pl.col("root").alias("idx")).unique()
    parent_ids = (
        graph.edges.join(ids.rename({"idx": "parent", "id": "parent_id"}), on="parent")
        .group_by("child")
        .agg(pl.col("parent_id").sort().alias("parents"))
    )
    models = (
        nodes.join(derivatives, on="idx", how="left")
        .join(root_idx.with_columns(pl.lit(True).alias("is_root")), on="idx", how="left")
        .join(parent_ids.rename({"child": "idx"}), on="idx", how="left")
        .with_columns(
            pl.col("is_root").fill_null(False),
            pl.col("is_derivative").fill_null(False),
            pl.col("parents").fill_null([]),
            pl.col("created_at").dt.convert_time_zone("UTC"),
            pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"),
            pl.col("depth").cast(pl.Int64),
        )
        .sort("idx")
        .select("id", *MODEL_PROPERTIES, "is_root", "is_derivative", "parents", "roots")
    )
    organizations = (
        nodes.filter(pl.col("org").is_not_null())
        .group_by(pl.col("org").alias("name"))
        .agg(pl.col("region").first())
        .sort("name")
    )
    derived_from = (
        graph.edges.join(ids.rename({"idx": "child", "id": "child_id"}), on="child")
        .join(ids.rename({"idx": "parent", "id": "parent_id"}), on="parent")
        .sort("child", "position")
        .select(
            pl.col("child_id").alias("child"),
            pl.col("parent_id").alias("parent"),
            "relation",
            "inferred",
            pl.col("position").cast(pl.Int64),
        )
    )
    published_by = models.filter(pl.col("org").is_not_null()).select(
        pl.col("id").alias("model"), "org"
    )
    attributed_to = (
        attribution.weights.join(
            ids.rename({"idx": "derivative", "id": "derivative_id"}), on="derivative"
        )
        .join(ids.rename({"idx": "root", "id": "root_id"}), on="root")
        .sort("derivative", "root")
        .select(
            pl.col("derivative_id").alias("derivative"), pl.col("root_id").alias("root"), "weight"
        )
    )
    info = {
        "root_set": attribution.root_set,
        "multi_parent": attribution.multi_parent,
        "regions": regions_source or "packaged (ATOM)",
        "store": str(ctx.store.path),
        "lineage_version": __version__,
        "models": models.height,
        "roots": int(models["is_root"].sum()),
        "derivatives": int(models["is_derivative"].sum()),
        "organizations": organizations.height,
        "derived_from": derived_from.height,
        "attributed_to": attributed_to.height,
        "cycle_edges_dropped": graph.broken.height,
    }
    return GraphFrames(models, organizations, derived_from, published_by, attributed_to, info)


def _iso_datetime(expr: pl.Expr) -> pl.Expr:
    """UTC instants as ISO 8601 text with a ``Z``, as neo4j-admin reads a ``datetime``."""
    return expr.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


# -- connecting, and the driver's failures as one line --------------------------------------


@dataclass(frozen=True)
class Neo4jTarget:
    """Where to load: a Bolt URI, credentials and a database name.

    Examples
    --------
    >>> Neo4jTarget.from_env({"NEO4J_URI": "neo4j://db:7687"}).uri
    'neo4j://db:7687'
    >>> Neo4jTarget().database
    'neo4j'
    """

    uri: str = DEFAULT_URI
    user: str = DEFAULT_USER
    password: str | None = field(default=None, repr=False)
    database: str = DEFAULT_DATABASE

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Neo4jTarget:
        """Read Neo4j's usual variables: NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD,
        NEO4J_DATABASE (unset ones take the defaults)."""
        env = os.environ if environ is None else environ
        return cls(
            uri=env.get("NEO4J_URI") or DEFAULT_URI,
            user=env.get("NEO4J_USERNAME") or DEFAULT_USER,
            password=env.get("NEO4J_PASSWORD") or None,
            database=env.get("NEO4J_DATABASE") or DEFAULT_DATABASE,
        )

    def describe(self) -> str:
        return f"{self.uri} (database {self.database})"


@contextlib.contextmanager
def neo4j_errors(target: Neo4jTarget) -> Iterator[None]:
    """Turn the driver's exceptions into :class:`Neo4jError` lines naming URI and database."""
    import neo4j.exceptions as nx

    where = target.describe()
    try:
        yield
    except nx.AuthError as exc:
        hint = "" if target.password else " (no password given)"
        raise Neo4jError(
            f"Neo4j at {where} refused user '{target.user}'{hint}: wrong user or password; "
            "set --user/--password or NEO4J_USERNAME/NEO4J_PASSWORD"
        ) from exc
    except nx.ClientError as exc:
        if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
            raise Neo4jError(
                f"Neo4j at {target.uri} has no database '{target.database}'; "
                "set --database or NEO4J_DATABASE (SHOW DATABASES lists them)"
            ) from exc
        if (exc.code or "").startswith("Neo.ClientError.Security."):
            # e.g. AuthenticationRateLimit after repeated wrong passwords, or Forbidden
            raise Neo4jError(
                f"Neo4j at {where} refused user '{target.user}': {_one_line(exc)}"
            ) from exc
        raise Neo4jError(f"Neo4j at {where} refused a statement: {_one_line(exc)}") from exc
    except (nx.ServiceUnavailable, nx.SessionExpired) as exc:
        raise Neo4jError(
            f"cannot reach Neo4j at {where}: {_reason(exc)}; is the server running? "
            "(docker compose up -d neo4j)"
        ) from exc
    except nx.ConfigurationError as exc:
        raise Neo4jError(f"cannot use Neo4j URI {target.uri!r}: {_one_line(exc)}") from exc
    except nx.Neo4jError as exc:
        raise Neo4jError(f"Neo4j at {where} failed: {_one_line(exc)}") from exc
    except nx.DriverError as exc:
        raise Neo4jError(f"Neo4j driver failed for {where}: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    code = getattr(exc, "code", None)
    first = " ".join(str(message).split())[:300]
    return f"{code}: {first}" if code else first


def _reason(exc: BaseException) -> str:
    text = str(exc)
    found = re.search(r"reason (?:\[Errno -?\d+\] )?([^)\n]+)", text)
    if found:
        return found.group(1).strip().lower()
    return " ".join(text.split())[:200] or "connection failed"


@contextlib.contextmanager
def connect(target: Neo4jTarget) -> Iterator[neo4j.Driver]:
    """A driver for ``target`` whose server and database have answered, errors mapped."""
    import neo4j

    scheme = target.uri.partition("://")[0].lower() if "://" in target.uri else ""
    if scheme not in BOLT_SCHEMES:
        raise Neo4jError(
            f"cannot use Neo4j URI {target.uri!r}: give a Bolt URI such as "
            "bolt://localhost:7687 or neo4j://host:7687 (port 7687; 7474 is Neo4j Browser)"
        )
    with neo4j_errors(target):
        try:
            driver = neo4j.GraphDatabase.driver(
                target.uri,
                auth=(target.user, target.password) if target.password is not None else None,
                connection_timeout=15.0,
                user_agent=f"lineage/{__version__}",
            )
        except ValueError as exc:  # a malformed URI
            raise Neo4jError(f"cannot use Neo4j URI {target.uri!r}: {exc}") from exc
        try:
            # Fails fast (no retries) on a stopped server or refused credentials, where a
            # managed transaction would retry for 30 s first.
            driver.verify_connectivity()
            with driver.session(database=target.database) as session:
                session.run("RETURN 1").consume()
            yield driver
        finally:
            driver.close()


# -- schema ---------------------------------------------------------------------------------


def cypher_dir() -> Path:
    """The cypher/ directory: packaged with lineage when installed, else the checkout's."""
    packaged = resources.files("lineage").joinpath("cypher")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "cypher"


def split_statements(text: str) -> list[str]:
    """Cypher statements of a file: ``//`` comment lines dropped, split on ``;``.

    Examples
    --------
    >>> split_statements("// make it\\nCREATE INDEX a IF NOT EXISTS FOR (m:M) ON (m.x);\\n")
    ['CREATE INDEX a IF NOT EXISTS FOR (m:M) ON (m.x)']
    """
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return [s.strip() for s in body.split(";") if s.strip()]


def schema_statements(path: str | os.PathLike[str] | None = None) -> list[str]:
    """The constraint and index statements of cypher/schema.cypher."""
    path = Path(path) if path is not None else cypher_dir() / "schema.cypher"
    try:
        return split_statements(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the Neo4j schema file {path}: {exc.strerror}") from exc


# -- loading --------------------------------------------------------------------------------


@dataclass
class LoadSummary:
    """What a load wrote, and what the database holds at its end."""

    uri: str
    database: str
    batch_size: int
    batches: int = 0
    rows: int = 0
    fresh: bool = True  # the database held no Model before this load
    counters: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # in the database afterwards
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def entities(self) -> int:
        """Nodes plus relationships in the database after the load."""
        c = self.counts
        return sum(
            c.get(k, 0)
            for k in ("models", "organizations", "derived_from", "published_by", "attributed_to")
        )


def load(
    ctx: Context,
    target: Neo4jTarget | None = None,
    *,
    driver: neo4j.Driver | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    prune: bool = True,
    progress: Progress | None = None,
    regions_source: str | None = None,
    frames: GraphFrames | None = None,
) -> LoadSummary:
    """Load a store's attributed graph into Neo4j.

    Parameters
    ----------
    ctx : lineage.analysis.Context
        The graph and its attribution.
    target : Neo4jTarget, optional
        Where to load (default: from NEO4J_* environment variables).
    driver : neo4j.Driver, optional
        An open driver to use instead of connecting to ``target.uri`` (``target`` still
        names the database and appears in error messages).
    batch_size : int
        Rows per transaction.
    prune : bool
        Delete models and organizations this load did not write (the database mirrors
        the store). Never happens on a database that held no models.
    progress : Progress, optional
        Progress bar on stderr (default: quiet).

    Returns
    -------
    LoadSummary
        Write counters, and the node and relationship counts at the end.

    Examples
    --------
    With a server at NEO4J_URI (NEO4J_PASSWORD set)::

        summary = load(load_context(Store("~/lineage-store")), Neo4jTarget.from_env())
        summary.counts["models"], summary.counts["attributed_to"]
    """
    if batch_size < 1:
        raise InputError("batch size must be at least 1")
    target = target or Neo4jTarget.from_env()
    progress = progress or Progress(enabled=False)
    frames = frames or graph_frames(ctx, regions_source=regions_source)
    if driver is None:
        with connect(target) as opened:
            return _load(frames, opened, target, batch_size, prune, progress)
    with neo4j_errors(target):
        return _load(frames, driver, target, batch_size, prune, progress)


def _load(
    frames: GraphFrames,
    driver: neo4j.Driver,
    target: Neo4jTarget,
    batch_size: int,
    prune: bool,
    progress: Progress,
) -> LoadSummary:
    started = time.perf_counter()
    summary = LoadSummary(target.uri, target.database, batch_size)
    # One timestamp marks everything this load writes; pruning removes what it did not.
    loaded_at = _now()
    with driver.session(database=target.database) as session:
        progress.phase("schema", total=None, unit="stmt")
        for statement in schema_statements():
            _add(summary, session.run(statement).consume())
            progress.advance(1)
        summary.fresh = not session.run(HAS_MODELS).single(strict=True)["any"]
        _add(summary, session.run(INFO_START, key=INFO_KEY, loaded_at=loaded_at).consume())

        def write(phase: str, frame: pl.DataFrame, statements) -> None:
            progress.phase(phase, total=frame.height, unit="row")
            for offset in range(0, frame.height, batch_size):
                chunk = frame.slice(offset, batch_size)
                summary.batches += 1
                summary.rows += chunk.height
                for counters in session.execute_write(_run_batch, statements(chunk), loaded_at):
                    _add(summary, counters)
                progress.advance(chunk.height)

        write(
            "organizations",
            frames.organizations,
            lambda chunk: [(ORGANIZATIONS_UPSERT, chunk.to_dicts())],
        )
        model_rows = _model_rows(frames.models)
        write("models", model_rows, lambda chunk: _model_statements(chunk, summary.fresh))
        fresh = summary.fresh
        write(
            "parent edges",
            frames.derived_from,
            lambda chunk: [(DERIVED_FROM_CREATE if fresh else DERIVED_FROM_MERGE, chunk.rows())],
        )
        write(
            "attribution",
            frames.attributed_to,
            lambda chunk: [(ATTRIBUTED_TO_CREATE if fresh else ATTRIBUTED_TO_MERGE, chunk.rows())],
        )
        if prune and not summary.fresh:
            progress.phase("pruning", total=None, unit="node")
            for statement in (MODELS_PRUNE, ORGANIZATIONS_PRUNE):
                while True:
                    counters = session.execute_write(
                        _run_batch, [(statement, None)], loaded_at, limit=batch_size
                    )[0]
                    _add(summary, counters)
                    progress.advance(counters.get("nodes_deleted", 0))
                    if not counters.get("nodes_deleted"):
                        break
        _add(
            summary,
            session.run(
                INFO_FINISH, key=INFO_KEY, props=frames.info, loaded_at=loaded_at
            ).consume(),
        )
        progress.phase("counting", total=len(COUNTS), unit="count")
        for name, query in COUNTS.items():
            summary.counts[name] = session.run(query).single(strict=True)["n"]
            progress.advance(1)
    progress.close()
    summary.info = dict(frames.info)
    summary.seconds = time.perf_counter() - started
    return summary


def _model_rows(models: pl.DataFrame) -> pl.DataFrame:
    """Models as the load takes them: properties (temporal ones as ISO text), role
    (kind), parents and roots."""
    return models.with_columns(
        _iso_datetime(pl.col("created_at")).alias("created_at"),
        pl.col("month").cast(pl.String),
        pl.when(pl.col("is_root"))
        .then(pl.lit("root"))
        .when(pl.col("is_derivative"))
        .then(pl.lit("derivative"))
        .otherwise(pl.lit("plain"))
        .alias("kind"),
        pl.col("roots").fill_null([]).alias("root_ids"),
    ).sort("kind", maintain_order=True)


def create_rows(models: pl.DataFrame, kind: str) -> list[tuple]:
    """Rows for ``MODEL_CREATES[kind]``, from models of that kind."""
    return models.select(CREATE_COLUMNS[kind]).rows()


def _model_statements(chunk: pl.DataFrame, fresh: bool) -> list[tuple[str, list[dict]]]:
    """The statements of one batch of models, with their rows."""
    parts = chunk.partition_by("kind", as_dict=True, maintain_order=True)
    if fresh:
        return [(MODEL_CREATES[kind], create_rows(part, kind)) for (kind,), part in parts.items()]
    statements = [
        (MODELS_ADD_MISSING[kind], part.select("id").to_dicts()) for (kind,), part in parts.items()
    ]
    # Nulls kept: `SET m += row` removes what the store no longer has.
    statements.append((MODELS_UPDATE, chunk.select(MODEL_COLUMNS).to_dicts()))
    keys = chunk.select("id", "kind", "parents", "root_ids").to_dicts()
    statements += [(fix, keys) for fix in LABEL_FIXES]
    statements += [(STALE_PARENTS_DELETE, keys), (STALE_ROOTS_DELETE, keys)]
    return statements


def _run_batch(tx, statements, loaded_at: dt.datetime, **extra) -> list[dict[str, int]]:
    """One transaction: each statement with its rows (``None``: no rows parameter)."""
    results = []
    for statement, rows in statements:
        params = {"loaded_at": loaded_at, **extra}
        if rows is not None:
            params["rows"] = rows
        results.append(_counters(tx.run(statement, params).consume()))
    return results


def _counters(result_summary) -> dict[str, int]:
    c = result_summary.counters
    names = (
        "nodes_created",
        "nodes_deleted",
        "relationships_created",
        "relationships_deleted",
        "properties_set",
        "labels_added",
        "labels_removed",
        "constraints_added",
        "indexes_added",
    )
    return {name: getattr(c, name) for name in names if getattr(c, name)}


def _add(summary: LoadSummary, counters) -> None:
    if not isinstance(counters, dict):
        counters = _counters(counters)
    for name, value in counters.items():
        summary.counters[name] = summary.counters.get(name, 0) + value


def _now() -> dt.datetime:
    # A zone id, not a fixed offset: ArcadeDB keeps the former, flattens the latter.
    return dt.datetime.now(ZoneInfo("UTC"))


# -- bulk-import files ----------------------------------------------------------------------


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
    >>> from lineage.testing.synthetic import generate
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
            _iso_datetime(pl.col(name)) if kind == "datetime" else pl.col(name)
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
        "loaded_at": _now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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
    try:
        for name, table in tables.items():
            (out / f"{name}_header.csv").write_text(",".join(_HEADERS[name]) + "\n")
            table.write_csv(out / f"{name}.csv", include_header=False)
            rows[f"{name}.csv"] = table.height
    except OSError as exc:
        raise InputError(f"cannot write export files in {out}: {exc.strerror}") from exc
    return ExportSummary(
        directory=out,
        nodes={label: (f"{n}_header.csv", f"{n}.csv") for label, n in NODE_FILES.items()},
        relationships={
            kind: (f"{n}_header.csv", f"{n}.csv") for kind, n in RELATIONSHIP_FILES.items()
        },
        rows=rows,
        seconds=time.perf_counter() - started,
    )
