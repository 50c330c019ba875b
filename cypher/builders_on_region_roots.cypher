// Question: Which organizations build on Chinese (or another region's) root families, and
//           where are those organizations themselves from?
// Parameters:
//   $root_region    the roots' region: 'china', 'us', 'eu', 'other' or 'unknown'
//   $min_downloads  count derivatives with more than this many all-time downloads
//   $limit          how many organizations
// Output: builder_region (the organization's own region), organization, derivatives,
//         weight (attributed to roots of $root_region), families (the roots they build on,
//         most used first, at most five)
:param root_region => 'china';
:param min_downloads => 5;
:param limit => 50;
MATCH (d:Derivative)-[a:ATTRIBUTED_TO]->(r:Root {region: $root_region})
WHERE d.crawled AND coalesce(d.downloads_all_time, 0) > $min_downloads
OPTIONAL MATCH (d)-[:PUBLISHED_BY]->(o:Organization)
WITH coalesce(o.region, 'unknown') AS builder_region,
     coalesce(o.name, '(none)') AS organization,
     r, count(DISTINCT d) AS n, sum(a.weight) AS w
WITH builder_region, organization, r, n, w ORDER BY n DESC, r.id
WITH builder_region, organization,
     sum(n) AS derivatives, sum(w) AS weight, collect(r.id)[..5] AS families
RETURN builder_region, organization, derivatives, weight, families
ORDER BY derivatives DESC, weight DESC, organization
LIMIT $limit;
