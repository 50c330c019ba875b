"""Resolving the roots a crawl asks for into model ids on the Hub.

An organization is listed (its models are the roots); a model id is looked up once with
``model_info`` (which fixes case and follows renames). A name the Hub does not know is a
:class:`~lineage.errors.NotOnHub` error naming the closest organizations, found with one
search request. Every request is journaled, so a resumed crawl asks none of them again.
"""

from __future__ import annotations

import difflib

from ..errors import NotOnHub
from ..repo_id import Root
from .session import CrawlRun


class RootResolver:
    """Root model ids for the requested roots, with the names the Hub spells them in."""

    def __init__(self, run: CrawlRun) -> None:
        self.run = run

    def resolve(self, roots: tuple[Root, ...]) -> tuple[list[str], list[str]]:
        """Root model ids for the requested roots, and each root's name in the Hub's case."""
        self.run.progress.phase("resolving roots", total=len(roots), unit="root")
        resolved: list[str] = []
        names: list[str] = []
        for root in roots:
            if not root.is_model:
                found, canonical, nearby = self._organization(root.name)
                if found:
                    resolved.extend(found)
                    names.append(canonical)
                    continue
                if not root.org_only:  # a legacy model without namespace, such as gpt2
                    info = self.run.lookup(root.name, role="root")
                    if info is not None:
                        resolved.append(info)
                        names.append(info)
                        continue
                raise NotOnHub(self._not_on_hub(root.name, nearby))
            info = self.run.lookup(root.name, role="root")
            if info is None:
                raise NotOnHub(self._not_on_hub(root.name, []))
            resolved.append(info)
            names.append(info)
        return list(dict.fromkeys(resolved)), list(dict.fromkeys(names))

    def _organization(self, name: str) -> tuple[list[str], str, list[str]]:
        """An organization's models, its name in the Hub's case, and namespaces like it.

        Listed as typed first; when that finds nothing (the Hub may match ``author`` in
        its own case only), one search request finds the Hub's spelling, or close names.
        """
        found = self._org_listing(name)
        if found:
            return found, found[0].split("/", 1)[0], []
        nearby = self._namespaces_like(name)
        same = [n for n in nearby if n.lower() == name.lower() and n != name]
        if same:
            found = self._org_listing(same[0])
            if found:
                return found, found[0].split("/", 1)[0], []
        return [], name, nearby

    def _org_listing(self, name: str) -> list[str]:
        return self.run.fetch_listing(
            f"author:{name}",
            self.run.client.listing_url(author=name),
            with_ids=True,
            name=f"{name}'s models",
        )

    def _namespaces_like(self, name: str) -> list[str]:
        """Namespaces whose models' ids contain ``name`` (one search request, journaled)."""
        listing = f"search:{name}"
        for event in self.run.journal.pages_of(listing):
            return event["namespaces"]
        namespaces = self.run.client.namespaces_like(name)
        self.run.journal.record(
            {
                "e": "page",
                "listing": listing,
                "url": None,
                "next": None,
                "count": 0,
                "namespaces": namespaces,
            }
        )
        return namespaces

    def _not_on_hub(self, name: str, nearby: list[str]) -> str:
        message = f"no model or organization named '{name}' on {self.run.client.endpoint}"
        close = difflib.get_close_matches(
            name.lower(), list(dict.fromkeys(n.lower() for n in nearby)), n=3, cutoff=0.6
        )
        spelled = {n.lower(): n for n in reversed(nearby)}
        if close:
            message += "; closest organizations: " + ", ".join(spelled[c] for c in close)
        return message
