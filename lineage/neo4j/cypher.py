"""The Cypher statements a Neo4j load runs, as constants.

Statement texts are constants: rows, ids and timestamps only ever arrive as parameters.
$loaded_at is one UTC datetime per load; every node this load writes carries it.
tests/neo4j/test_cypher_queries.py lints every statement here.

This module owns the statement texts and the shape of the rows they read
(:data:`CREATE_COLUMNS`). It must not run them or build their rows: that is
:mod:`lineage.neo4j.loader`'s job.
"""

from __future__ import annotations

from .graph import ATTRIBUTION_PROPERTIES, MODEL_PROPERTIES

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
# like CREATE's model rows: [child, parent, relation, inferred, position, lineage, method,
# confidence] for DERIVED_FROM (method and confidence null, so absent, on declared edges),
# [derivative, root, weight] for ATTRIBUTED_TO.
DERIVED_FROM_CREATE = """
UNWIND $rows AS row
MATCH (c:Model {id: row[0]})
MATCH (p:Model {id: row[1]})
CREATE (c)-[:DERIVED_FROM {
  relation: row[2], inferred: row[3], position: row[4],
  lineage: row[5], method: row[6], confidence: row[7]
}]->(p)
"""
DERIVED_FROM_MERGE = """
UNWIND $rows AS row
MATCH (c:Model {id: row[0]})
MATCH (p:Model {id: row[1]})
MERGE (c)-[r:DERIVED_FROM]->(p)
SET r.relation = row[2], r.inferred = row[3], r.position = row[4],
    r.lineage = row[5], r.method = row[6], r.confidence = row[7]
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
