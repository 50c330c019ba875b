"""Public tools for trying lineage without the Hub: a fake Hub and synthetic populations.

- :mod:`lineage.testing.fakehub`: a Hub that speaks the Hugging Face API on 127.0.0.1, for
  the real ``huggingface_hub`` client (``python -m lineage.testing.fakehub FILE.jsonl``);
- :mod:`lineage.testing.synthetic`: seeded populations of any size whose true shares are known
  (``python -m lineage.testing.synthetic``), with their renames and as hub-stats dumps;
- :mod:`lineage.testing.hubstats_dump`: a hub-stats ``models.parquet`` written from API items,
  for ``lineage ingest hub-stats`` without the Hub;
- :mod:`lineage.testing.faultproxy`: a proxy in front of a Hub that answers chosen requests
  the way a broken network or a hostile server does (``python -m lineage.testing.faultproxy``).

Nothing here is imported by the library's own code paths. The project's own test servers
(Bolt, browser, Cypher linter) live in the repository's tests/support.
"""
