"""What the doctests in lineage/ are given: the test tools they call, so that the docstrings a
user's wheel ships import nothing it does not ship (tests/support stays in the repository).

A doctest may call ``write_hub_stats_dump`` (:mod:`lineage.testing.hubstats_dump`: a hub-stats
dump from API items) and ``generate`` (:func:`lineage.testing.synthetic.generate`) without
importing them.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def doctest_tools(doctest_namespace: dict) -> None:
    from lineage.testing.hubstats_dump import write_hub_stats_dump
    from lineage.testing.synthetic import generate

    doctest_namespace["write_hub_stats_dump"] = write_hub_stats_dump
    doctest_namespace["generate"] = generate
