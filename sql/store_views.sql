-- The tables of a lineage store (format 3) as Spark SQL views, read as they lie on disk.
--
-- Variables (Spark substitutes ${name} from the session's conf, or spark-sql -d name=...):
--   store        the store directory (LINEAGE_STORE, --store)
--   attribution  the Parquet file `lineage export attribution -o FILE` wrote from that store
--
-- Views: models (every model ever observed, its current record and whether it is present),
-- edges (declared edges of those records), crawls (the observations), snapshots (counters
-- by model key and date), snapshot_months (each snapshot date, its month, whether a
-- complete observation made it), attribution (model -> root weights).
--
-- Read a store no crawl or ingest is writing, or a copy: Spark does not read lineage's
-- COMMIT manifest, which is what keeps lineage's own readers consistent during a commit.
SET spark.sql.session.timeZone=UTC;

-- models.parquet is the compacted base; models-delta.parquet (present only when a commit
-- left one) holds newer records, each replacing the base's row of the same model.
CREATE OR REPLACE TEMPORARY VIEW model_rows AS
SELECT *, _metadata.file_name AS lineage_file FROM parquet.`${store}/models{,-delta}.parquet`;

CREATE OR REPLACE TEMPORARY VIEW delta_models AS
SELECT id FROM model_rows WHERE lineage_file = 'models-delta.parquet';

CREATE OR REPLACE TEMPORARY VIEW crawls AS
SELECT * FROM parquet.`${store}/crawls.parquet`;

-- C, the latest complete observation (a whole-Hub sweep or a hub-stats dump), by date then
-- commit: a model is present when its record is at least as new; without one, all are.
CREATE OR REPLACE TEMPORARY VIEW latest_complete AS
SELECT observed, generation FROM crawls WHERE complete
ORDER BY observed DESC, generation DESC LIMIT 1;

CREATE OR REPLACE TEMPORARY VIEW models AS
WITH current AS (
  SELECT * FROM model_rows WHERE lineage_file = 'models-delta.parquet'
  UNION ALL
  SELECT b.* FROM model_rows b LEFT ANTI JOIN delta_models d ON b.id = d.id
  WHERE b.lineage_file = 'models.parquet'
)
SELECT m.* EXCEPT (lineage_file),
       (c.observed IS NULL
        OR m.last_seen > c.observed
        OR (m.last_seen = c.observed AND coalesce(m.seen_commit, 0) >= c.generation)) AS present
FROM current m LEFT JOIN latest_complete c ON TRUE;

-- A model's edges are those committed with its current record: the delta's for the models
-- in models-delta.parquet, the base's for the others.
CREATE OR REPLACE TEMPORARY VIEW edge_rows AS
SELECT *, _metadata.file_name AS lineage_file FROM parquet.`${store}/edges{,-delta}.parquet`;

CREATE OR REPLACE TEMPORARY VIEW edges AS
SELECT * EXCEPT (lineage_file) FROM edge_rows WHERE lineage_file = 'edges-delta.parquet'
UNION ALL
SELECT b.* EXCEPT (lineage_file) FROM edge_rows b LEFT ANTI JOIN delta_models d ON b.child = d.id
WHERE b.lineage_file = 'edges.parquet';

-- snapshots/date=YYYY-MM-DD/part-*.parquet: Hive partitions, so `date` is a column.
CREATE OR REPLACE TEMPORARY VIEW snapshots AS
SELECT key, date, downloads, downloads_all_time, likes FROM parquet.`${store}/snapshots`;

CREATE OR REPLACE TEMPORARY VIEW snapshot_months AS
WITH dates AS (SELECT DISTINCT date FROM snapshots),
complete AS (
  SELECT DISTINCT observed AS date FROM crawls WHERE complete AND snapshot_date IS NOT NULL
)
SELECT CAST(trunc(d.date, 'MM') AS DATE) AS month, d.date, c.date IS NOT NULL AS complete
FROM dates d LEFT JOIN complete c ON d.date = c.date;

CREATE OR REPLACE TEMPORARY VIEW attribution AS
SELECT * FROM parquet.`${attribution}`;
