-- Monthly share of new derivative models by the region of their root family: what
-- `lineage share` prints with its defaults (present models; crawled derivatives with more
-- than 5 all-time downloads; the month a derivative was created, UTC; a merge split over
-- its roots as the attribution file says). Needs the views of store_views.sql.
--
-- Output: month, group, count (derivatives), weight, share (weight / the month's total).
WITH chosen AS (
  SELECT id, CAST(trunc(created_at, 'MM') AS DATE) AS month
  FROM models
  WHERE present AND crawled AND created_at IS NOT NULL AND coalesce(downloads_all_time, 0) > 5
),
weights AS (
  SELECT c.month, a.root_region AS `group`, a.model, a.weight
  FROM attribution a JOIN chosen c ON a.model = c.id
  WHERE a.kind = 'derivative'
)
SELECT month, `group`, count(DISTINCT model) AS count, sum(weight) AS weight,
       sum(weight) / sum(sum(weight)) OVER (PARTITION BY month) AS share
FROM weights
GROUP BY month, `group`
ORDER BY month, share DESC, `group`;
