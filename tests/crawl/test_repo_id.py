"""The one repo-id rule, and roots as people type them."""

from __future__ import annotations

import random

import polars as pl
import pytest
from huggingface_hub.utils import HFValidationError, validate_repo_id

from lineage.errors import InputError
from lineage.repo_id import Root, is_repo_id, parse_root, repo_id_expr

HOSTILE = [
    "",
    "a/..",
    "../a",
    "..",
    ".",
    "a/.",
    "a/b/c",
    "datasets/x/y",
    "a//b",
    "/a",
    "a/",
    "a--b/c",
    "a/b--c",
    "a/b.git",
    "-a/b",
    "a/b-",
    "a/.b",
    "a/b.",
    "café/x",
    "文件夹/x",
    "a/b c",
    " a/b",
    "a/b\n",
    "a/b\x00",
    "a/b?x=1",
    "a/b#frag",
    "a%2F..",
    "a:b/c",
    "x" * 97,
    "a/" + "x" * 97,
    "x" * 97 + "/a",
    "x" * 97 + "/" + "y" * 96,
    "x" * 100_000,
    "base_model:a/b",
]
VALID = [
    "gpt2",
    "Qwen/Qwen2.5-7B",
    "a",
    "_/_",
    "x" * 96,
    "x" * 96 + "/" + "y" * 96,
    "x" * 96 + "/a",
    "a/" + "x" * 96,
    "a.-b/c-.d",
]


def hub_client_says(text: str) -> bool:
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


def test_hostile_ids_are_refused_and_real_ones_accepted():
    assert [t for t in HOSTILE if is_repo_id(t)] == []
    assert all(is_repo_id(t) for t in VALID)
    assert not is_repo_id(None) and not is_repo_id(42)


def test_the_rule_agrees_with_the_hub_client_and_with_its_polars_twin():
    rng = random.Random(10)
    alphabet = "aaZZ99__-./é :\n"
    corpus = {
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(40_000)
    }
    corpus = sorted(corpus | set(HOSTILE) | set(VALID))
    ours = [is_repo_id(t) for t in corpus]
    assert ours == [hub_client_says(t) for t in corpus]
    column = pl.select(repo_id_expr(pl.lit(pl.Series(corpus)))).to_series().to_list()
    assert column == ours
    assert 500 < sum(ours) < len(corpus) - 500  # the corpus has both kinds


@pytest.mark.parametrize(
    ("typed", "root"),
    [
        ("Qwen", Root("Qwen")),
        ("qwen", Root("qwen")),
        ("Qwen/", Root("Qwen", org_only=True)),
        (" Qwen/Qwen2.5-7B ", Root("Qwen/Qwen2.5-7B")),
        ("https://huggingface.co/Qwen/Qwen2.5-7B", Root("Qwen/Qwen2.5-7B")),
        ("https://huggingface.co/Qwen/Qwen2.5-7B/tree/main", Root("Qwen/Qwen2.5-7B")),
        ("http://www.huggingface.co/Qwen", Root("Qwen")),
        ("hf.co/Qwen", Root("Qwen")),
        ("HF.CO/Qwen/", Root("Qwen")),
        ("huggingface.co/models/Qwen/Qwen2.5-7B?x=1", Root("Qwen/Qwen2.5-7B")),
        ("gpt2", Root("gpt2")),
    ],
)
def test_roots_as_people_type_them(typed, root):
    assert parse_root(typed) == root


@pytest.mark.parametrize(
    "typed",
    ["a/b/c", "", "  ", "Qwen//", "https://huggingface.co/datasets/a/b", "a/..", "x" * 5000],
)
def test_a_root_that_is_neither_says_what_a_root_may_be(typed):
    with pytest.raises(InputError) as err:
        parse_root(typed)
    message = str(err.value)
    assert "\n" not in message and len(message) < 400
    assert message.endswith(
        "is not a root: a root is an organization (Qwen), a model id (Qwen/Qwen2.5-7B) or "
        "its Hub URL (https://huggingface.co/Qwen/Qwen2.5-7B)"
    )
