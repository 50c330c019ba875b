"""What a run that writes the store did: the base of crawl and ingest summaries.

:class:`RunSummary` holds what every run that commits models reports the same way (the
store, models new and updated, edges by relation, card problems, seconds), and words it
once (:meth:`RunSummary.graph_lines`). :class:`~lineage.crawl.CrawlSummary` and
:class:`~lineage.hubstats.IngestSummary` add what is their own. It must not print (the
CLI does) or know where the numbers come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(kw_only=True)
class RunSummary:
    """What a crawl or an ingest did to the store.

    >>> s = RunSummary(store="s", edges_by_relation={"quantized": 2}, inferred_edges=1,
    ...                problems_by_kind={"bad_base_model": 3})
    >>> print("\\n".join(s.graph_lines()))
      edges: quantized 2 (1 relation inferred)
      card problems: 3 (bad_base_model 3)
    """

    store: str
    models_new: int = 0
    models_updated: int = 0
    edges_by_relation: dict[str, int] = field(default_factory=dict)
    inferred_edges: int = 0
    problems_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def graph_lines(self) -> list[str]:
        """The summary's lines on the edges and card problems the run stored (none if none)."""
        lines = []
        if self.edges_by_relation:
            edges = ", ".join(f"{k} {v:,}" for k, v in self.edges_by_relation.items())
            inferred = "relation" if self.inferred_edges == 1 else "relations"
            lines.append(f"  edges: {edges} ({self.inferred_edges:,} {inferred} inferred)")
        if self.problems_by_kind:
            kinds = ", ".join(f"{k} {v:,}" for k, v in self.problems_by_kind.items())
            lines.append(f"  card problems: {sum(self.problems_by_kind.values()):,} ({kinds})")
        return lines
