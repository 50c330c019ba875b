// Question: What does a root's family look like? Its most downloaded derivatives and every
//           path from them up to the root, as a graph to explore in Neo4j Browser.
// Parameters:
//   $root   the root model's id
//   $limit  how many derivatives (by all-time downloads) to draw with their lines
// Output: p, one path per row (Neo4j Browser draws them as one graph; the table view lists
//         them)
:param root => 'Qwen/Qwen2.5-7B';
:param limit => 25;
MATCH (r:Root {id: $root})<-[:ATTRIBUTED_TO]-(d:Derivative)
WITH r, d ORDER BY d.downloads_all_time DESC, d.id LIMIT $limit
MATCH p = (d)-[:DERIVED_FROM*1..]->(r)
RETURN p;
