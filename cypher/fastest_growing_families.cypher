// Question: Which root families grew fastest over the last N months, relative to their size
//           before?
// Parameters:
//   $months         N, the window's length in months (it ends with $until)
//   $until          the window's last month (a date, first of the month), or null for the
//                   newest month in the graph
//   $min_before     only families with at least this much weight before the window
//   $min_downloads  count derivatives with more than this many all-time downloads
//   $limit          how many families
// Output: family (root id), region, before (weight of derivatives created before the
//         window), new (weight created within it), growth (new / before), first_month,
//         last_month (the window)
:param months => 3;
:param until => null;
:param min_before => 1;
:param min_downloads => 0;
:param limit => 10;
MATCH (d:Derivative)
WHERE d.crawled AND d.month IS NOT NULL
WITH max(d.month) AS newest
WITH coalesce($until, newest) AS last_month
WITH last_month, last_month - duration({months: $months - 1}) AS first_month
MATCH (r:Root)<-[a:ATTRIBUTED_TO]-(d:Derivative)
WHERE d.crawled AND d.month IS NOT NULL AND d.month <= last_month
  AND coalesce(d.downloads_all_time, 0) > $min_downloads
WITH r, first_month, last_month,
     sum(CASE WHEN d.month < first_month THEN a.weight ELSE 0.0 END) AS before,
     sum(CASE WHEN d.month >= first_month THEN a.weight ELSE 0.0 END) AS new
WHERE before >= $min_before AND before > 0
RETURN r.id AS family, r.region AS region, before, new, new / before AS growth,
       first_month, last_month
ORDER BY growth DESC, new DESC, family
LIMIT $limit;
