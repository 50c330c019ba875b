// Question: Which models' lineage did `lineage infer` infer (no card declares it), by which
//           method, how confidently, and into which family does it put them? (Present only
//           after `lineage neo4j load --lineage both`; see load_info.cypher.)
// Parameters:
//   $min_confidence  only inferred edges at least this confident (0 to 1)
//   $limit           how many edges
// Output: child, parent, relation (guessed), method (adapter-config, name-id, name-exact,
//         name-contained, architecture), confidence, family (the child's primary root
//         family, through this edge), family_region
:param min_confidence => 0.9;
:param limit => 25;
MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model)
WHERE e.lineage = 'inferred' AND e.confidence >= $min_confidence
RETURN c.id AS child, p.id AS parent, e.relation AS relation, e.method AS method,
       e.confidence AS confidence, c.family AS family, c.family_region AS family_region
ORDER BY confidence DESC, child
LIMIT $limit;
