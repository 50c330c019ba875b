// Question: How big is a root model's family, split by each derivative's relation to its
//           (first) parent? (The per-relation columns of `lineage families`.)
// Parameters:
//   $root           the root model's id
//   $min_downloads  count derivatives with more than this many all-time downloads
// Output: relation (adapter, finetune, merge, quantized), derivatives, weight (sum of the
//         family's attributed weights; a merge of k families counts 1/k by default),
//         deepest (longest chain from the root)
:param root => 'Qwen/Qwen2.5-7B';
:param min_downloads => 0;
MATCH (r:Root {id: $root})<-[a:ATTRIBUTED_TO]-(d:Derivative)
WHERE d.crawled AND coalesce(d.downloads_all_time, 0) > $min_downloads
RETURN d.relation AS relation,
       count(d) AS derivatives,
       sum(a.weight) AS weight,
       max(d.depth) AS deepest
ORDER BY derivatives DESC, relation;
