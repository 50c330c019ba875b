// Question: Everything the graph knows about one model: its properties, parents, direct
//           children and the root families it is attributed to.
// Parameters:
//   $model  the model's id
// Output: model, labels, status, organization, region, created_at, downloads_all_time,
//         chain, parents (id and relation, in declared order), children (count), roots
//         (root id, region and weight)
:param model => 'carol/qwen-llama-merge';
MATCH (m:Model {id: $model})
CALL (m) {
  OPTIONAL MATCH (m)-[e:DERIVED_FROM]->(p:Model)
  WITH e, p ORDER BY e.position
  RETURN collect(CASE WHEN p IS NOT NULL THEN {id: p.id, relation: e.relation, inferred: e.inferred} END) AS parents
}
CALL (m) {
  OPTIONAL MATCH (m)<-[c:DERIVED_FROM]-(:Model)
  RETURN count(c) AS children
}
CALL (m) {
  OPTIONAL MATCH (m)-[a:ATTRIBUTED_TO]->(r:Root)
  WITH a, r ORDER BY r.id
  RETURN collect(CASE WHEN r IS NOT NULL THEN {root: r.id, region: r.region, weight: a.weight} END) AS roots
}
RETURN m.id AS model, labels(m) AS labels, m.status AS status, m.org AS organization,
       m.region AS region, m.created_at AS created_at, m.downloads_all_time AS downloads_all_time,
       m.chain AS chain, parents, children, roots;
