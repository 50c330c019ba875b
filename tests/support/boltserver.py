"""A real Bolt + Cypher server for tests: ArcadeDB run as a subprocess on 127.0.0.1.

No Neo4j server can be installed on the project's machines, but the PyPI package
``arcadedb-embedded`` ships a JRE and the ArcadeDB server jars, Bolt plugin included.
:class:`BoltServer` starts that bundled ``java`` running ``com.arcadedb.server.ArcadeDBServer``
(not the package's in-process Python API) with the Bolt plugin on a free loopback port, a
temporary root path, a random root password and one database created at start. It is
ready when ``RETURN 1`` answers through the official ``neo4j`` driver (about 2-3 s).

    with BoltServer() as srv:
        with srv.driver() as driver:
            driver.execute_query("RETURN 1", database_=srv.database)

Install: ``pip install -e '.[test]'`` (``arcadedb-embedded`` is in the ``test`` extra).
Without it, :class:`BoltServerUnavailable` is raised; tests turn that into a skip.

What this server (ArcadeDB 26.10.2, Bolt 5.4, neo4j driver 6.x) does with Cypher
=================================================================================
Measured by experiment with the neo4j 6.4 driver (re-check when either is upgraded).
Works, same results as Neo4j 5 (reports itself as "Neo4j/5.26.0 compatible (ArcadeDB
26.10.2)", Bolt 5.4; ``bolt://`` and ``neo4j://`` URIs both work):

* Loading: ``UNWIND $rows AS row MERGE (m:Model {id: row.id}) SET m += row.props`` in
  explicit transactions (``begin_transaction``/``execute_write``/``execute_query``); a
  duplicate id inside one batch merges into one node; ``SET m += {x: null}`` removes x;
  ``ON CREATE SET``/``ON MATCH SET``; ``MERGE (a)-[r:DERIVED_FROM]->(b) SET r.relation = ...``
  (idempotent); ``UNWIND ... MATCH (c) MATCH (p) MERGE (c)-[r]->(p)`` drops rows whose
  parent is missing; ``MERGE`` of stub parents; list properties (strings, dates); summary
  counters (nodes_created, relationships_created, properties_set, labels_added).
* Schema: ``CREATE CONSTRAINT model_id IF NOT EXISTS FOR (m:Model) REQUIRE m.id IS UNIQUE``
  is accepted, idempotent and *enforced* (a duplicate CREATE fails with ConstraintError
  "Duplicated key [org/m0] found on index 'Model[id]' ..."; MERGE lookups then use it:
  PROFILE shows NodeIndexSeek). ``CREATE INDEX name IF NOT EXISTS FOR (m:Model) ON
  (m.created_at)``, composite and relationship-property indexes, ``IS NODE KEY``,
  ``IS NOT NULL`` constraints, ``DROP ... IF EXISTS``, ``SHOW CONSTRAINTS``/``SHOW INDEXES``
  (with YIELD), ``SHOW DATABASES``, ``db.labels()``, ``db.relationshipTypes()``.
* Temporal: Python ``date``, tz-aware and naive ``datetime``, ``timedelta`` parameters
  round-trip when returned directly; ``date()``, ``datetime()``, ``date('2024-05-17')``,
  ``date({year:..})``, ``datetime({epochMillis:..})``, ``datetime.fromepochmillis``,
  ``localdatetime``, ``date.truncate('month', d or dt)``, ``datetime.truncate``, ``d.year``,
  ``duration('P3D')``, ``duration({days: 3})``, date +/- duration, ``duration.between``,
  ``duration.inDays(...).days``, ``toString(date)`` ("2024-05-17"), comparisons of stored
  dates/datetimes with parameters, grouping by ``date.truncate``.
* Functions/clauses: ``substring`` (2 and 3 args), ``toString``, ``split``, ``toLower``/
  ``toUpper``/``trim``/``replace``/``left``/``right``/``reverse``, STARTS WITH/CONTAINS/
  ENDS WITH/``=~``, ``toInteger``/``toFloat``/``toBoolean``/``toStringOrNull``/
  ``toIntegerOrNull``, ``collect`` (DISTINCT, slicing ``collect(x)[..3]``, nulls skipped),
  ``count`` (``*``, DISTINCT), ``sum``/``avg``/``min``/``max``/``percentileCont``/
  ``percentileDisc``/``stDev``, ``size``, ``coalesce``, both CASE forms, ``reduce``,
  ``any``/``all``/``none``/``single``, ``range``, ``head``/``last``/``tail``, list slices,
  list/pattern comprehensions, map literals and projections ``m {.id, .downloads}``,
  ``m {.*, k: v}``, ``keys``/``labels``/``properties``/``type``/``elementId``/``id``;
  variable-length ``[:DERIVED_FROM*1..]``, ``*0..``, ``*1..3``, incoming, undirected;
  ``shortestPath``/``allShortestPaths`` (with WHERE), ``nodes(p)``/``relationships(p)``/
  ``length(p)``/``last(nodes(p))``; quantified path patterns ``((x)-->(y)){1,3}``;
  ``ORDER BY ... SKIP ... LIMIT`` (nulls last ascending), ``$param`` in LIMIT and SKIP;
  ``WITH ... WHERE`` (also after aggregation), ``WITH DISTINCT``, ``WITH *``;
  ``OPTIONAL MATCH``; ``EXISTS { (m)-->() }`` and ``EXISTS { MATCH ... WHERE ... }``,
  pattern predicates ``NOT (m)-->()``, ``count{ ... }``, ``COLLECT { ... }``, ``CALL { WITH
  m ... }`` and ``CALL (m) { ... }``; UNION / UNION ALL; FOREACH; multiple labels
  (``:Model:Root``, ``:Model|Root``, ``:Model&Root``), ``SET n:Root``, ``SET n:A:B``,
  ``SET n:$($label)``, ``REMOVE n:Root``, ``REMOVE n.prop``, ``SET n = map``; ``DETACH
  DELETE`` (plain DELETE of a connected node fails as in Neo4j); integer division
  ``7 / 2 = 3``, ``-7 / 2 = -3``, ``7 % 3``, ``7 / 2.0 = 3.5``, ``2 ^ 10 = 1024.0``,
  ``round``/``sqrt``/``log``...; ``1 / 0`` -> ArithmeticError "/ by zero" and overflow ->
  "long overflow" (as Neo4j); ``'a' + 1 = 'a1'``; 2**53+1 integers exact; ``||``.
* Transactions: rollback, an error inside a transaction rolls it back, uncommitted writes
  are invisible to other sessions. Returned Node/Relationship/Path objects are real
  ``neo4j.graph`` types (labels, element_id like "#1:0", start/end nodes).

Differs from Neo4j (the project must not depend on these):

* A zoned datetime stored from a *parameter* reads back as a UTC local datetime (no
  tzinfo; ``+02:00`` 12:00 reads back 10:00; ``t.timezone``/``t.epochSeconds`` are null).
  One made by ``datetime('...Z')`` inside Cypher keeps its zone. Comparisons still work.
* Any ``CYPHER 5`` / ``CYPHER 25`` prefix: CypherSyntaxError "Syntax error at line 1:0 -
  mismatched input 'CYPHER', expected: an expression".
* GQL ``SHORTEST 1 (a)-->+(b)``: "FeatureNotImplemented: the SHORTEST 1 path search prefix
  is not supported; use shortestPath() or allShortestPaths() to select shortest paths".
* ``CREATE FULLTEXT INDEX``: "Only standard, RANGE and TEXT index types are supported".
* ``CALL { } IN TRANSACTIONS [OF n ROWS]`` runs (batches commit: an error in row 3 of
  ``OF 1 ROWS`` leaves rows 1-2), but also inside an explicit transaction, which Neo4j
  refuses; ``ON ERROR CONTINUE`` is ignored (the error is raised).
* Schema and data writes in one transaction are accepted (Neo4j refuses).
* ``exists(m.prop)`` is accepted (Neo4j 5: syntax error); APOC ``apoc.coll.sum`` answers;
  ``db.propertyKeys()`` returns nothing; notifications (e.g. deprecated ``id()``) are none.
* Several statements in one run (``CREATE ...; CREATE ...``): "Unexpected input ';'"
  (as Neo4j: split .cypher files into statements before sending them).
* A map as a property value: "TypeError: InvalidPropertyType - Property values can only be
  of primitive types or arrays thereof" (as Neo4j). ``'abc'[1]``: "Cannot index into type:
  String" (as Neo4j). ``CREATE INDEX n ...`` twice without IF NOT EXISTS: SemanticError.
* SHOW CONSTRAINTS also lists ArcadeDB's own property-type constraints
  (``constraint_<Label>_<prop>_type``, type NODE_PROPERTY_TYPE); PROFILE/EXPLAIN plans are
  ArcadeDB's text, not Neo4j operators. Without ``:admin`` in defaultDatabases every write
  fails with "User 'root' is not allowed to update schema" (handled here).

Throughput (2 cores; constraint on Model.id; 4-6 properties a row):

* UNWIND-batched MERGE of 20,000 new nodes, 4 transactions x 5,000 rows: 0.85 s warm
  (~23,000 rows/s), 2-3.5 s on a cold JVM (6-10k rows/s); 1,000-row batches ~12k rows/s;
  one 20,000-row statement ~14k rows/s; one 100,000-row statement 5.4 s. Re-merging
  existing nodes ~15k rows/s. UNWIND MATCH/MATCH/MERGE of 20,000 relationships ~14k rows/s.
* 2,000 single-row ``MERGE (m:Model {id: $id}) SET m += $props``: ~2.1-2.5 s auto-commit
  (~800-950 statements/s), ~0.7 s inside one explicit transaction (~2,900/s): batching is
  25-30x faster than auto-commit single rows.
* Point lookups by id ~3,000/s; group-by over 22k nodes 0.08 s; root-family sizes over a
  20k-edge tree with ``*0..`` 0.2 s; a 300-deep chain ``*1..`` 0.05 s.

Start-up ~1.8 s to the first ``RETURN 1``; stop ~0.4 s. On Linux the JVM gets
PR_SET_PDEATHSIG, so it dies with the thread that started it if Python exits without
``stop()`` (start it from the main thread); the temporary directory is then left behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    import neo4j

__all__ = ["BoltServer", "BoltServerError", "BoltServerUnavailable", "find_arcadedb_runtime"]

MAIN_CLASS = "com.arcadedb.server.ArcadeDBServer"
BOLT_PLUGIN = "Bolt:com.arcadedb.bolt.BoltProtocolPlugin"

# The same opens/flags the package's own JVM launcher and ArcadeDB's server.sh use.
_JVM_FLAGS = (
    "--add-modules=jdk.incubator.vector",
    "--enable-native-access=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF8",
    "-Dpolyglot.engine.WarnInterpreterOnly=false",
)


class BoltServerUnavailable(RuntimeError):
    """The server cannot be run on this machine (e.g. arcadedb-embedded is not installed)."""


class BoltServerError(RuntimeError):
    """The server was started but did not come up (the message carries the log tail)."""


def find_arcadedb_runtime() -> tuple[Path, list[Path]]:
    """Return ``(java, jars)`` from the installed ``arcadedb-embedded`` package.

    The package is located without importing it (importing it loads JPype).
    Raises :class:`BoltServerUnavailable` with the reason when anything is missing.
    """
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise BoltServerUnavailable(
            "arcadedb-embedded is not installed (pip install -e '.[test]' or "
            "pip install arcadedb-embedded); it provides the Bolt server the Neo4j tests use"
        )
    pkg = Path(next(iter(spec.submodule_search_locations)))
    java = pkg / "jre" / "bin" / ("java.exe" if os.name == "nt" else "java")
    jars = sorted((pkg / "jars").glob("*.jar"))
    if not java.is_file():
        raise BoltServerUnavailable(f"arcadedb-embedded has no bundled JRE at {java}")
    names = {j.name for j in jars}
    for prefix in ("arcadedb-server-", "arcadedb-engine-", "arcadedb-bolt-"):
        if not any(n.startswith(prefix) for n in names):
            raise BoltServerUnavailable(
                f"arcadedb-embedded at {pkg} has no {prefix}*.jar in {pkg / 'jars'}"
            )
    # The Python bridge jar is only for the in-process API; the server does not need it.
    return java, [j for j in jars if j.name != "arcadedb-python-bridge.jar"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: have the kernel SIGTERM the JVM if the Python process dies without stop()."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class BoltServer:
    """ArcadeDB with its Bolt plugin, bound to 127.0.0.1, in a temporary directory.

    Attributes once started: ``uri`` (``bolt://127.0.0.1:PORT``), ``user`` (``root``),
    ``password``, ``database``, ``http_port``, ``root_path``, ``log_path``, ``pid``.
    """

    def __init__(
        self,
        *,
        database: str = "lineage",
        heap: str = "1g",
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        extra_jvm_args: tuple[str, ...] = (),
    ) -> None:
        if not database.isidentifier():
            raise ValueError(f"database name must be a plain identifier, not {database!r}")
        self.database = database
        self.user = "root"
        # Hex only: the password is embedded in the defaultDatabases spec `name[user:pass]`.
        self.password = secrets.token_hex(12)
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.extra_jvm_args = tuple(extra_jvm_args)
        self.bolt_port: int | None = None
        self.http_port: int | None = None
        self.root_path: Path | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file = None

    # -- public API ---------------------------------------------------------------------

    @property
    def uri(self) -> str:
        if self.bolt_port is None:
            raise BoltServerError("BoltServer is not started")
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def driver(self, **kwargs) -> neo4j.Driver:
        """A new ``neo4j`` driver for this server; the caller closes it.

        Pass ``database_=srv.database`` to ``execute_query`` or ``database=srv.database``
        to ``session`` (the server also falls back to its only database when omitted).
        """
        import neo4j

        return neo4j.GraphDatabase.driver(self.uri, auth=self.auth, **kwargs)

    def start(self) -> Self:
        if self._proc is not None:
            raise BoltServerError("BoltServer already started")
        java, jars = find_arcadedb_runtime()
        try:
            import neo4j  # noqa: F401
        except ImportError as exc:  # pragma: no cover - neo4j is a core dependency
            raise BoltServerUnavailable("the neo4j driver is not installed") from exc
        attempts = 3  # a free port can be taken between probing and binding it
        for attempt in range(1, attempts + 1):
            try:
                self._launch(java, jars)
                self._wait_ready()
                return self
            except BoltServerError as exc:
                log = self.log_tail()
                self.stop()
                if attempt < attempts and "Address already in use" in log:
                    continue
                raise BoltServerError(str(exc)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Terminate the JVM (kill after ``stop_timeout``) and delete the temporary root."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.root_path is not None:
            shutil.rmtree(self.root_path, ignore_errors=True)
            self.root_path = None
        self.bolt_port = self.http_port = None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no server log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # last resort; stop() is the real way
        with contextlib.suppress(Exception):
            self.stop()

    # -- internals ----------------------------------------------------------------------

    def command(self, java: Path, jars: list[Path]) -> list[str]:
        assert self.root_path is not None
        props = {
            "arcadedb.server.rootPath": str(self.root_path),
            "arcadedb.server.rootPassword": self.password,
            # The group must be named: `db[root:pass]` alone records root's groups on that
            # database as [null], and every write then fails with "User 'root' is not
            # allowed to update schema".
            "arcadedb.server.defaultDatabases": (
                f"{self.database}[{self.user}:{self.password}:admin]"
            ),
            "arcadedb.server.plugins": BOLT_PLUGIN,
            "arcadedb.server.mode": "development",
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": str(self.http_port),
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": str(self.bolt_port),
            "arcadedb.bolt.defaultDatabase": self.database,
        }
        return [
            str(java),
            f"-Xmx{self.heap}",
            *_JVM_FLAGS,
            f"-XX:ErrorFile={self.root_path / 'hs_err_pid%p.log'}",
            *(f"-D{k}={v}" for k, v in props.items()),
            *self.extra_jvm_args,
            "-cp",
            os.pathsep.join(str(j) for j in jars),
            MAIN_CLASS,
        ]

    def _launch(self, java: Path, jars: list[Path]) -> None:
        self.root_path = Path(tempfile.mkdtemp(prefix="lineage-boltserver-"))
        self.log_path = self.root_path / "server.log"
        self.bolt_port = _free_port()
        self.http_port = _free_port()
        while self.http_port == self.bolt_port:
            self.http_port = _free_port()
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            self.command(java, jars),
            cwd=self.root_path,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def _wait_ready(self) -> None:
        import neo4j
        import neo4j.exceptions

        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BoltServerError(
                    f"ArcadeDB exited with code {self._proc.returncode} before answering "
                    f"on {self.uri}; server log tail:\n{self.log_tail()}"
                )
            try:
                with (
                    neo4j.GraphDatabase.driver(
                        self.uri,
                        auth=self.auth,
                        connection_timeout=2.0,
                        max_transaction_retry_time=0,
                    ) as drv,
                    drv.session(database=self.database) as session,
                ):
                    if session.run("RETURN 1 AS ok").single(strict=True)["ok"] == 1:
                        return
            except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
                last_error = exc
            time.sleep(0.25)
        raise BoltServerError(
            f"ArcadeDB did not answer RETURN 1 on {self.uri} within {self.startup_timeout:.0f}s "
            f"(last error: {last_error!r}); server log tail:\n{self.log_tail()}"
        )
