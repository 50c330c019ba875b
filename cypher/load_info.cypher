// Question: What is loaded here, and how was it attributed? (Read this before trusting a
//           share: the root set and the merge rule change the numbers.)
// Parameters: none
// Output: root_set (all, atom, atom-extended or file:...), multi_parent (split, first, all),
//         regions (the organization -> region table), store, lineage_version, loaded_at,
//         complete (false: a load was interrupted; run it again), the counts it wrote, and
//         lineage (declared, or both: with inferred edges at min_confidence or more,
//         inferred_derived_from of them)
MATCH (i:LineageInfo {key: 'lineage'})
RETURN i.root_set AS root_set, i.multi_parent AS multi_parent, i.regions AS regions,
       i.store AS store, i.lineage_version AS lineage_version, i.loaded_at AS loaded_at,
       i.complete AS complete, i.models AS models, i.roots AS roots,
       i.derivatives AS derivatives, i.organizations AS organizations,
       i.derived_from AS derived_from, i.attributed_to AS attributed_to,
       i.cycle_edges_dropped AS cycle_edges_dropped, i.lineage AS lineage,
       i.min_confidence AS min_confidence, i.inferred_derived_from AS inferred_derived_from;
