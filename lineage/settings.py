"""Settings from the environment and the defaults they fall back on, in one place.

Every environment variable lineage reads is named here, and read here (as huggingface_hub's
``constants`` does), so a reader finds in one module what changes lineage's behaviour from
outside:

- ``HF_ENDPOINT``: the Hub (or a mirror, or a local fake Hub); default
  :data:`DEFAULT_ENDPOINT`. Read at each call, not at import: huggingface_hub fixes its own
  copy when it is imported, and a later setting (a test's fake Hub, a wrapper's mirror)
  must still win.
- ``HF_TOKEN``: read by huggingface_hub itself (then the saved login of ``hf auth login``);
  lineage passes ``token=None`` to let it, ``False`` to crawl anonymously, and never reads,
  prints or logs the token.
- ``HF_HUB_CACHE``, ``HF_HOME``: where hub-stats downloads are cached (huggingface_hub's
  layout), read at each call for the same reason as the endpoint.
- ``LINEAGE_STORE``: the store directory; default: the per-user data directory.
- ``LINEAGE_DEBUG=1``: tracebacks for known errors (as ``--debug``).
- ``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``: where ``lineage
  neo4j load`` loads (Neo4j's own names), with their defaults.
- ``LINEAGE_TEST_HOOK``: for tests only (:mod:`lineage.checkpoints`).

This module must import only the standard library at import time (lineage.checkpoints and
lineage.interrupts import it before anything heavy); it decides nothing beyond "which value".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENDPOINT_ENV = "HF_ENDPOINT"
TOKEN_ENV = "HF_TOKEN"
STORE_ENV = "LINEAGE_STORE"
DEBUG_ENV = "LINEAGE_DEBUG"
TEST_HOOK_ENV = "LINEAGE_TEST_HOOK"
NEO4J_URI_ENV = "NEO4J_URI"
NEO4J_USERNAME_ENV = "NEO4J_USERNAME"
NEO4J_PASSWORD_ENV = "NEO4J_PASSWORD"
NEO4J_DATABASE_ENV = "NEO4J_DATABASE"

DEFAULT_ENDPOINT = "https://huggingface.co"
"""The Hub, when neither ``--endpoint`` nor ``HF_ENDPOINT`` names another."""
DEFAULT_NEO4J_URI = "bolt://localhost:7687"
DEFAULT_NEO4J_USER = "neo4j"
DEFAULT_NEO4J_DATABASE = "neo4j"


def endpoint_setting(endpoint: str | None = None) -> str | None:
    """The endpoint asked for: the argument, else ``HF_ENDPOINT`` now, else None (the default).

    Examples
    --------
    >>> endpoint_setting("http://127.0.0.1:8765")
    'http://127.0.0.1:8765'
    """
    return endpoint or os.environ.get(ENDPOINT_ENV) or None


def hub_endpoint(endpoint: str | None = None) -> str:
    """The endpoint to use: :func:`endpoint_setting`, else :data:`DEFAULT_ENDPOINT`, without a
    trailing slash.

    Examples
    --------
    >>> hub_endpoint("https://hf-mirror.example/")
    'https://hf-mirror.example'
    """
    return (endpoint_setting(endpoint) or DEFAULT_ENDPOINT).rstrip("/")


def is_default_endpoint(endpoint: str | None) -> bool:
    """Whether ``endpoint`` is unset or the default Hub (a resume command need not name it)."""
    return not endpoint or endpoint.rstrip("/") == DEFAULT_ENDPOINT


def hub_cache_dir() -> str | None:
    """huggingface_hub's cache directory as the environment sets it now, else None (its own
    default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def default_store_path() -> Path:
    """``$LINEAGE_STORE`` if set, else the per-user data directory (e.g. ~/.local/share/lineage)."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # not at import: lineage.interrupts imports this module first

    return Path(platformdirs.user_data_dir("lineage", appauthor=False))


def debug_requested() -> bool:
    """Whether ``LINEAGE_DEBUG=1`` asks for tracebacks."""
    return os.environ.get(DEBUG_ENV) == "1"


def test_hook_spec() -> str:
    """The test hook's ``STEP=ACTION[,...]`` (:mod:`lineage.checkpoints`), empty when unset."""
    return os.environ.get(TEST_HOOK_ENV, "")


def neo4j_settings(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Neo4j's usual variables (``environ``, else the process's), unset ones as defaults.

    Examples
    --------
    >>> neo4j_settings({"NEO4J_URI": "neo4j://db:7687"})["uri"]
    'neo4j://db:7687'
    """
    env = os.environ if environ is None else environ
    return {
        "uri": env.get(NEO4J_URI_ENV) or DEFAULT_NEO4J_URI,
        "user": env.get(NEO4J_USERNAME_ENV) or DEFAULT_NEO4J_USER,
        "password": env.get(NEO4J_PASSWORD_ENV) or None,
        "database": env.get(NEO4J_DATABASE_ENV) or DEFAULT_NEO4J_DATABASE,
    }
