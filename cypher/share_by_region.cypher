// Question: Each month, what share of new derivative models builds on each region's root
//           families? (The same table as `lineage share`, on the same store and options.)
// Parameters:
//   $by             'region' (root family's region), 'family' (root model), 'org' (root's
//                   organization) or 'builder-region' (the derivative's own organization)
//   $min_downloads  count derivatives with MORE than this many downloads (lineage: 5)
//   $downloads      'all' (all-time downloads) or '30d' (last 30 days)
//   $since, $until  first and last month, as dates (first of the month), or null
//   $root_region    only derivatives of this region's roots ('china', ...), or null
// Output: month (date), group, count (derivatives), weight (after splitting merges across
//         their roots), share (weight / the month's total weight)
:param by => 'region';
:param min_downloads => 5;
:param downloads => 'all';
:param since => null;
:param until => null;
:param root_region => null;
MATCH (d:Derivative)-[a:ATTRIBUTED_TO]->(r:Root)
WHERE d.crawled
  AND d.month IS NOT NULL
  AND coalesce(CASE $downloads WHEN '30d' THEN d.downloads ELSE d.downloads_all_time END, 0)
      > $min_downloads
  AND ($since IS NULL OR d.month >= $since)
  AND ($until IS NULL OR d.month <= $until)
  AND ($root_region IS NULL OR r.region = $root_region)
WITH d.month AS month,
     coalesce(
       CASE $by
         WHEN 'family' THEN r.id
         WHEN 'org' THEN r.org
         WHEN 'builder-region' THEN d.region
         ELSE r.region
       END,
       '(none)') AS group,
     count(DISTINCT d) AS count,
     sum(a.weight) AS weight
WITH month, collect({group: group, count: count, weight: weight}) AS groups, sum(weight) AS total
UNWIND groups AS g
RETURN month, g.group AS group, g.count AS count, g.weight AS weight, g.weight / total AS share
ORDER BY month, share DESC, group;
