"""BoltServer: a real ArcadeDB Bolt server answering the official neo4j driver.

One server for the whole module (about 2 s to start). Skips, with the reason, where
arcadedb-embedded is not installed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import neo4j
import pytest
from support import boltserver
from support.boltserver import BoltServer, BoltServerError, BoltServerUnavailable

pytestmark = pytest.mark.slow


def test_listens_on_loopback_and_answers_return_1(server, driver):
    assert server.uri.startswith("bolt://127.0.0.1:")
    records, _, keys = driver.execute_query("RETURN 1 AS one", database_=server.database)
    assert keys == ["one"]
    assert records[0]["one"] == 1
    info = driver.get_server_info()
    assert "ArcadeDB" in info.agent


def test_unwind_merge_rows_in_explicit_transaction(server, driver):
    driver.execute_query(
        "CREATE CONSTRAINT model_id IF NOT EXISTS FOR (m:Model) REQUIRE m.id IS UNIQUE",
        database_=server.database,
    )
    rows = [
        {"id": "org/base", "props": {"downloads": 1000, "likes": 10}},
        {"id": "org/tuned", "props": {"downloads": 50, "likes": 1}},
        {"id": "org/base", "props": {"downloads": 1200, "likes": 12}},  # same id: one node
    ]
    merge = "UNWIND $rows AS row MERGE (m:Model {id: row.id}) SET m += row.props"
    with driver.session(database=server.database) as session:
        for _ in range(2):  # idempotent
            with session.begin_transaction() as tx:
                tx.run(merge, rows=rows).consume()
                tx.run(
                    "MATCH (c:Model {id: $c}), (p:Model {id: $p}) "
                    "MERGE (c)-[r:DERIVED_FROM]->(p) SET r.relation = $rel",
                    c="org/tuned",
                    p="org/base",
                    rel="finetune",
                ).consume()
                tx.commit()
    records, _, _ = driver.execute_query(
        "MATCH (m:Model) OPTIONAL MATCH (m)-[r:DERIVED_FROM]->(p) "
        "RETURN m.id AS id, m.downloads AS downloads, r.relation AS rel, p.id AS parent "
        "ORDER BY id",
        database_=server.database,
    )
    assert [r.data() for r in records] == [
        {"id": "org/base", "downloads": 1200, "rel": None, "parent": None},
        {"id": "org/tuned", "downloads": 50, "rel": "finetune", "parent": "org/base"},
    ]
    # The uniqueness constraint is enforced, not merely accepted.
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query("CREATE (:Model {id: 'org/base'})", database_=server.database)


def test_temporal_round_trip(server, driver):
    day = dt.date(2024, 3, 5)
    moment = dt.datetime(2024, 3, 5, 12, 30, 45, 123456, tzinfo=dt.UTC)
    records, _, _ = driver.execute_query(
        "CREATE (t:Temporal {day: $day, moment: $moment}) "
        "RETURN $day AS day, $moment AS moment, date.truncate('month', $day) AS month",
        day=day,
        moment=moment,
        database_=server.database,
    )
    rec = records[0]
    assert rec["day"].to_native() == day
    assert rec["moment"].to_native() == moment
    assert rec["month"].to_native() == dt.date(2024, 3, 1)

    records, _, _ = driver.execute_query(
        "MATCH (t:Temporal) WHERE t.day >= $since AND t.moment < $until "
        "RETURN t.day AS day, t.moment AS moment, toString(t.day) AS text",
        since=dt.date(2024, 1, 1),
        until=dt.datetime(2024, 3, 6, tzinfo=dt.UTC),
        database_=server.database,
    )
    rec = records[0]
    assert rec["day"].to_native() == day
    assert rec["text"] == "2024-03-05"
    # ArcadeDB stores a zoned datetime *parameter* as a UTC local datetime: it reads back
    # without tzinfo. The instant survives; the loader must not rely on the zone.
    stored = rec["moment"].to_native()
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=dt.UTC)
    assert stored == moment


def test_failed_start_raises_with_log_tail_and_cleans_up(monkeypatch):
    try:
        boltserver.find_arcadedb_runtime()
    except BoltServerUnavailable as exc:
        pytest.skip(f"no Bolt test server: {exc}")
    made = []
    real_mkdtemp = boltserver.tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(boltserver.tempfile, "mkdtemp", mkdtemp)
    srv = BoltServer(extra_jvm_args=("-XX:+NoSuchJvmOptionForThisTest",), startup_timeout=30)
    # The JVM refuses the option and exits: the error carries the server log's tail.
    with pytest.raises(BoltServerError, match="NoSuchJvmOptionForThisTest"):
        srv.start()
    assert srv.pid is None
    assert made
    assert not any(Path(d).exists() for d in made)


def test_missing_package_is_reported_as_unavailable(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "arcadedb_embedded" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(BoltServerUnavailable, match="arcadedb-embedded is not installed"):
        BoltServer().start()
