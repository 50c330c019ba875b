"""Public tools for trying lineage without the Hub: a fake Hub and synthetic populations.

- :mod:`lineage.testing.fakehub`: a Hub that speaks the Hugging Face API on 127.0.0.1, for
  the real ``huggingface_hub`` client (``python -m lineage.testing.fakehub FILE.jsonl``);
- :mod:`lineage.testing.synthetic`: seeded populations of any size whose true shares are known
  (``python -m lineage.testing.synthetic``).

Nothing here is imported by the library's own code paths. The project's own test servers
(Bolt, browser, Cypher linter, hub-stats dump writer) live in the repository's tests/support.
"""
