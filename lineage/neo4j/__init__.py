"""The attributed graph in Neo4j: one module a step.

- :mod:`~lineage.neo4j.graph`: the store's graph as the rows Neo4j holds (models,
  organizations, DERIVED_FROM, PUBLISHED_BY, ATTRIBUTED_TO, the LineageInfo node);
- :mod:`~lineage.neo4j.cypher`: the Cypher the loader runs (schema, upserts, prunes, counts);
- :mod:`~lineage.neo4j.loader`: :func:`~lineage.neo4j.loader.load`, the library twin of
  ``lineage neo4j load`` (the official driver, batched transactions);
- :mod:`~lineage.neo4j.csv`: :func:`~lineage.neo4j.csv.export_csv`, the twin of ``lineage
  neo4j export-csv`` (files for ``neo4j-admin database import full``).

Importing this package imports none of them (the driver is loaded only by the loader).
"""
