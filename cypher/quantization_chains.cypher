// Question: Which quantizations sit at the end of longer chains (a quantization of a
//           fine-tune of ...), and how common is each chain?
// Parameters:
//   $min_depth  chains with at least this many steps from the root (2: quantized
//               fine-tunes, adapters, merges...; 1: also direct quantizations)
//   $limit      how many chains
// Output: chain (relations from the root along first-declared parents), depth, models,
//         downloads (all-time, summed), examples (the three most downloaded)
:param min_depth => 2;
:param limit => 20;
MATCH (q:Derivative)
WHERE q.relation = 'quantized' AND q.depth >= $min_depth
WITH q ORDER BY q.downloads_all_time DESC, q.id
WITH q.chain AS chain, q.depth AS depth, collect(q.id) AS models, sum(q.downloads_all_time) AS downloads
RETURN chain, depth, size(models) AS models, downloads, models[..3] AS examples
ORDER BY models DESC, downloads DESC, chain
LIMIT $limit;
