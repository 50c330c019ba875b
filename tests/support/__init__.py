"""Test servers and writers that stay in the repository (not in the user's wheel).

- :mod:`support.boltserver`: a Bolt server (ArcadeDB) for the Neo4j tests and benchmarks;
- :mod:`support.browser`: the headless-Chromium harness for the HTML page;
- :mod:`support.cypherlint`: Neo4j's own Cypher parser (npm, tests/cypher_lint) as a linter;
- :mod:`support.hubstats_dump`: the hub-stats dump writer, re-exported from
  :mod:`lineage.testing.hubstats_dump` (a public tool now).

Tests import them as ``support.X`` (pytest puts tests/ on the path); benchmarks and docs
scripts put tests/ on ``sys.path`` first. The fake Hub and the synthetic populations are
public tools and ship in :mod:`lineage.testing`.
"""
