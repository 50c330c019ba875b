"""What tests share, and test servers and writers that stay in the repository (not in the
user's wheel). Tests import shared code from here, never from a ``conftest``: a child process
a test spawns would find the repository's own ``conftest.py`` first.

- :mod:`support.boltserver`: a Bolt server (ArcadeDB) for the Neo4j tests and benchmarks;
- :mod:`support.browser`: the headless-Chromium harness for the HTML page;
- :mod:`support.cypherlint`: Neo4j's own Cypher parser (npm, tests/cypher_lint) as a linter;
- :mod:`support.hubstats_dump`: the hub-stats dump writer, re-exported from
  :mod:`lineage.testing.hubstats_dump` (a public tool now);
- :mod:`support.toyhub`: the repository's fixtures, the toy Hub and a Hub client for tests;
- :mod:`support.storecheck`: real lineage processes (killed or stopped at named steps) and
  stores compared table by table;
- :mod:`support.history`, :mod:`support.pages`, :mod:`support.roots_hub`: snapshot stores
  from items, a page's embedded data and a hostile store, the roots' small Hub;
- :mod:`support.trees`, :mod:`support.views`: Hub-shaped families, what a tree page drew.

Tests import them as ``support.X`` (pytest puts tests/ on the path); benchmarks and docs
scripts put tests/ on ``sys.path`` first. The fake Hub and the synthetic populations are
public tools and ship in :mod:`lineage.testing`.
"""
