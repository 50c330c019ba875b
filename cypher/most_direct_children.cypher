// Question: Which models have the most direct children (models declaring them as a parent)?
// Parameters:
//   $limit  how many models
// Output: model, status (crawled, not_crawled, missing, unresolved), region (of its
//         organization), children, and the children by relation: finetunes, adapters,
//         quantizations, merges
:param limit => 10;
MATCH (p:Model)<-[e:DERIVED_FROM]-(:Model)
WITH p,
     count(e) AS children,
     sum(CASE e.relation WHEN 'finetune' THEN 1 ELSE 0 END) AS finetunes,
     sum(CASE e.relation WHEN 'adapter' THEN 1 ELSE 0 END) AS adapters,
     sum(CASE e.relation WHEN 'quantized' THEN 1 ELSE 0 END) AS quantizations,
     sum(CASE e.relation WHEN 'merge' THEN 1 ELSE 0 END) AS merges
RETURN p.id AS model, p.status AS status, p.region AS region,
       children, finetunes, adapters, quantizations, merges
ORDER BY children DESC, model
LIMIT $limit;
