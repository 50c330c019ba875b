// Question: Where does a model come from? Every path from it up to a model with no parent,
//           with the relation of each step. (The paths of `lineage tree MODEL`.)
// Parameters:
//   $model  the model's id
//   $limit  at most this many paths
// Output: root (where the path ends), steps, path (model ids from the model to the root),
//         relations (relation of each step, e.g. ['quantized', 'finetune'])
// Tip: RETURN p instead to see the paths as a graph in Neo4j Browser.
:param model => 'alice/qwen-chat-ft-GGUF';
:param limit => 20;
MATCH p = (m:Model {id: $model})-[:DERIVED_FROM*0..]->(r:Model)
WHERE NOT (r)-[:DERIVED_FROM]->()
RETURN r.id AS root,
       length(p) AS steps,
       [n IN nodes(p) | n.id] AS path,
       [rel IN relationships(p) | rel.relation] AS relations
ORDER BY root, steps, path
LIMIT $limit;
