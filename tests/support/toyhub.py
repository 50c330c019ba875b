"""The repository's fixtures and the hand-written toy Hub, served by the fake Hub.

``ROOT`` is the repository, ``FIXTURES`` its fixtures/; :func:`toy_models` and
:func:`toy_renames` are the toy Hub (28 models, fixtures/hub/toy.jsonl and its renames), and
:func:`client_for` a Hub client for a fake Hub with retries short enough for tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lineage.hub import HubClient, RetryPolicy, make_client
from lineage.testing.fakehub import FakeHub, load_jsonl

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def toy_models() -> list[dict]:
    return list(load_jsonl(FIXTURES / "hub" / "toy.jsonl"))


def toy_renames() -> dict[str, str]:
    return json.loads((FIXTURES / "hub" / "toy.renames.json").read_text())


def client_for(hub: FakeHub, **policy: Any) -> HubClient:
    policy = {"base_wait": 0.01, "max_wait": 0.05, "give_up_after": 5.0, **policy}
    return make_client(hub.url, token=False, policy=RetryPolicy(**policy))
