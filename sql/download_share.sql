-- Monthly share of last-30-days downloads by the region of the root family: what
-- `lineage share --metric downloads` prints. A month is read from its last complete
-- snapshot (a whole-Hub sweep or a hub-stats dump); a month with partial snapshots only
-- takes each model's last counter in it. Every present, crawled model counts, split over
-- its roots as the attribution file says (a root counts for itself). Needs the views of
-- store_views.sql.
--
-- Output: month, group, count (models), weight (downloads), share.
WITH months AS (
  SELECT month, max(CASE WHEN complete THEN date END) AS whole
  FROM snapshot_months GROUP BY month
),
chosen AS (
  SELECT s.month, s.date
  FROM snapshot_months s JOIN months m ON s.month = m.month
  WHERE m.whole IS NULL OR s.date = m.whole
),
counters AS (
  SELECT c.month, s.key, s.downloads,
         row_number() OVER (PARTITION BY c.month, s.key ORDER BY s.date DESC) AS latest
  FROM snapshots s JOIN chosen c ON s.date = c.date
),
counted AS (
  SELECT c.month, a.root_region AS `group`, a.model, coalesce(c.downloads, 0) * a.weight AS weight
  FROM counters c
  JOIN models m ON c.key = m.key AND m.present AND m.crawled
  JOIN attribution a ON a.model = m.id
  WHERE c.latest = 1
)
SELECT month, `group`, count(DISTINCT model) AS count, sum(weight) AS weight,
       sum(weight) / sum(sum(weight)) OVER (PARTITION BY month) AS share
FROM counted
GROUP BY month, `group`
ORDER BY month, share DESC, `group`;
