// Constraints and indexes of the lineage graph. `lineage neo4j load` runs this file first;
// after `neo4j-admin database import`, run it once yourself:
//   cypher-shell -u neo4j -p "$NEO4J_PASSWORD" -f cypher/schema.cypher
// Every statement is idempotent (IF NOT EXISTS). Statements end with ';'.

// One node per model id; MERGE finds models through this constraint's index.
CREATE CONSTRAINT model_id IF NOT EXISTS
FOR (m:Model) REQUIRE m.id IS UNIQUE;

// One node per organization (Hub namespace).
CREATE CONSTRAINT organization_name IF NOT EXISTS
FOR (o:Organization) REQUIRE o.name IS UNIQUE;

// The single node that records what was loaded and how it was attributed.
CREATE CONSTRAINT lineage_info_key IF NOT EXISTS
FOR (i:LineageInfo) REQUIRE i.key IS UNIQUE;

// Time filters: creation instant (UTC) and creation month.
CREATE INDEX model_created_at IF NOT EXISTS
FOR (m:Model) ON (m.created_at);

CREATE INDEX model_month IF NOT EXISTS
FOR (m:Model) ON (m.month);
