"""Putting the attributed derivative graph into Neo4j through the driver, in batches.

The graph model is drawn in :mod:`lineage.neo4j.graph` (and explained in cypher/README.md).

:func:`load` writes it through the official ``neo4j`` driver: the constraints and indexes of
cypher/schema.cypher first, then ``UNWIND $rows ... MERGE`` statements in transactions of
``batch_size`` rows. It is idempotent (MERGE on ids), incremental (a load after a re-crawl
updates properties, adds what is new, drops relationships that disappeared and, by default,
models no longer in the store) and restartable (each batch commits on its own; a re-run
after a kill MERGEs over what is there). Every value reaches Cypher as a parameter.

Its rows come from :func:`~lineage.neo4j.graph.graph_frames`, as the bulk-import files of
:mod:`lineage.neo4j.csv` do, so the two paths give the same graph; its statements are the
constants of :mod:`lineage.neo4j.cypher`. This module owns talking to Neo4j (connecting,
the schema, batched transactions, pruning) and mapping the driver's failures to one-line
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

from .. import __version__
from ..errors import InputError, Neo4jError
from ..progress import Progress
from ..settings import (
    DEFAULT_NEO4J_DATABASE,
    DEFAULT_NEO4J_URI,
    DEFAULT_NEO4J_USER,
    neo4j_settings,
)
from .cypher import (
    ATTRIBUTED_TO_CREATE,
    ATTRIBUTED_TO_MERGE,
    COUNTS,
    CREATE_COLUMNS,
    DERIVED_FROM_CREATE,
    DERIVED_FROM_MERGE,
    HAS_MODELS,
    INFO_FINISH,
    INFO_START,
    LABEL_FIXES,
    MODEL_COLUMNS,
    MODEL_CREATES,
    MODELS_ADD_MISSING,
    MODELS_PRUNE,
    MODELS_UPDATE,
    ORGANIZATIONS_PRUNE,
    ORGANIZATIONS_UPSERT,
    STALE_PARENTS_DELETE,
    STALE_ROOTS_DELETE,
)
from .graph import INFO_KEY, GraphFrames, GraphInfo, graph_frames, iso_datetime

if TYPE_CHECKING:
    import neo4j

    from ..analysis import Context

DEFAULT_URI = DEFAULT_NEO4J_URI
DEFAULT_USER = DEFAULT_NEO4J_USER
DEFAULT_DATABASE = DEFAULT_NEO4J_DATABASE
DEFAULT_BATCH_SIZE = 10_000
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


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
        found = neo4j_settings(environ)  # every value but the password is set (defaults)
        return cls(
            uri=str(found["uri"]),
            user=str(found["user"]),
            password=found["password"],
            database=str(found["database"]),
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
            "set {user}/{password} or NEO4J_USERNAME/NEO4J_PASSWORD",
            params=("user", "password"),
        ) from exc
    except nx.ClientError as exc:
        if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
            raise Neo4jError(
                f"Neo4j at {target.uri} has no database '{target.database}'; "
                "set {database} or NEO4J_DATABASE (SHOW DATABASES lists them)",
                params=("database",),
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
    return Path(__file__).resolve().parents[2] / "cypher"


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
    info: GraphInfo | None = None  # what the load's graph was built from; set by load()
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
    summary.info = GraphInfo(**frames.info)
    summary.seconds = time.perf_counter() - started
    return summary


def _model_rows(models: pl.DataFrame) -> pl.DataFrame:
    """Models as the load takes them: properties (temporal ones as ISO text), role
    (kind), parents and roots."""
    return models.with_columns(
        iso_datetime(pl.col("created_at")).alias("created_at"),
        pl.col("month").cast(pl.String),
        pl.when(pl.col("is_root"))
        .then(pl.lit("root"))
        .when(pl.col("is_derivative"))
        .then(pl.lit("derivative"))
        .otherwise(pl.lit("plain"))
        .alias("kind"),
        pl.col("roots").fill_null([]).alias("root_ids"),
    ).sort("kind", maintain_order=True)


# A statement's rows: positional (CREATE from lists) or named (SET from maps).
Rows = list[tuple[Any, ...]] | list[dict[str, Any]]


def create_rows(models: pl.DataFrame, kind: str) -> list[tuple[Any, ...]]:
    """Rows for ``MODEL_CREATES[kind]``, from models of that kind."""
    return models.select(CREATE_COLUMNS[kind]).rows()


def _model_statements(chunk: pl.DataFrame, fresh: bool) -> list[tuple[str, Rows]]:
    """The statements of one batch of models, with their rows."""
    parts = chunk.partition_by("kind", as_dict=True, maintain_order=True)
    if fresh:
        return [(MODEL_CREATES[kind], create_rows(part, kind)) for (kind,), part in parts.items()]
    statements: list[tuple[str, Rows]] = [
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
