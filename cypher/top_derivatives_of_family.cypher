// Question: Which models of a root's family are downloaded most?
// Parameters:
//   $root       the root model's id
//   $downloads  'all' (all-time downloads) or '30d' (last 30 days)
//   $limit      how many models
// Output: model, organization, region (the organization's), chain (relations from the
//         root, e.g. 'finetune > quantized'), downloads (the chosen counter), weight (its
//         attributed weight to this root)
:param root => 'Qwen/Qwen2.5-7B';
:param downloads => 'all';
:param limit => 10;
MATCH (r:Root {id: $root})<-[a:ATTRIBUTED_TO]-(d:Derivative)
WITH d, a, CASE $downloads WHEN '30d' THEN d.downloads ELSE d.downloads_all_time END AS downloads
RETURN d.id AS model,
       d.org AS organization,
       d.region AS region,
       d.chain AS chain,
       downloads,
       a.weight AS weight
ORDER BY downloads DESC, model
LIMIT $limit;
