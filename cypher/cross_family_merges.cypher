// Question: Which merges combine different root families, and which of them cross regions?
// Parameters:
//   $regions_only  true: only merges whose families come from more than one region
//   $limit         how many merges
// Output: model, families (root ids, sorted), regions (their regions, sorted),
//         crosses_regions, parents (the merged models, in declared order), downloads
//         (all-time)
:param regions_only => false;
:param limit => 25;
MATCH (m:Derivative)-[:DERIVED_FROM {relation: 'merge'}]->(:Model)
WITH DISTINCT m
MATCH (m)-[:ATTRIBUTED_TO]->(r:Root)
WITH m, r ORDER BY r.id
WITH m, collect(r.id) AS families, collect(DISTINCT r.region) AS regions
WHERE size(families) > 1
WITH m, families, regions, size(regions) > 1 AS crosses_regions
WHERE crosses_regions OR NOT $regions_only
MATCH (m)-[e:DERIVED_FROM]->(p:Model)
WITH m, families, regions, crosses_regions, e, p ORDER BY e.position
WITH m, families, regions, crosses_regions, collect(p.id) AS parents
UNWIND regions AS region
WITH m, families, crosses_regions, parents, region ORDER BY region
RETURN m.id AS model,
       families,
       collect(region) AS regions,
       crosses_regions,
       parents,
       m.downloads_all_time AS downloads
ORDER BY crosses_regions DESC, downloads DESC, model
LIMIT $limit;
