// Question: Which declared parents did lineage never crawl: models known only because
//           someone named them as a parent (not_crawled), repos the Hub says do not exist
//           (missing: deleted, private or gated), or ids never looked up (unresolved)?
// Parameters:
//   $limit  how many parents
// Output: parent, status, children (models declaring it), examples (up to five children,
//         most downloaded first)
:param limit => 25;
MATCH (p:Model)<-[:DERIVED_FROM]-(c:Model)
WHERE p.status <> 'crawled'
WITH p, c ORDER BY c.downloads_all_time DESC, c.id
WITH p, collect(c.id) AS children
RETURN p.id AS parent, p.status AS status, size(children) AS children, children[..5] AS examples
ORDER BY children DESC, parent
LIMIT $limit;
