"""The hub-stats dump writer, now a public tool: :mod:`lineage.testing.hubstats_dump` (kept
importable here for the tests and benchmarks that import it as ``support.hubstats_dump``)."""

from lineage.testing.hubstats_dump import (  # noqa: F401 (re-exported)
    HUB_STATS_SCHEMA,
    SAFETENSORS_DTYPES,
    safetensors_type,
    write_hub_stats_dump,
)
