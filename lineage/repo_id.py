"""The one rule for Hugging Face repo ids, and roots as people type them.

Every id that may reach a URL is checked here first, whatever its source: a card's
``base_model``, a ``base_model:`` tag the Hub wrote, the ``baseModels`` of ``model_info`` or a
hub-stats dump, the id of a listing item, a ``--root`` on the command line. An id that fails
the rule is never requested: its model gets a card problem instead (see
:mod:`lineage.records`), and the crawl goes on.

The rule is the Hub's repo-id grammar, as huggingface_hub's ``validate_repo_id`` states it
(and the test suite checks that both agree):

- ``name`` (a legacy id without namespace, such as ``gpt2``) or ``namespace/name``: never
  more than one ``/``;
- each part 1 to 96 ASCII letters, digits, ``-``, ``_`` or ``.``, starting and ending with a
  letter, digit or ``_`` (so no ``.`` or ``..`` part, no leading ``-``);
- no ``--`` or ``..`` anywhere, and no ``.git`` at the end.

The same rule exists twice, as Python (:func:`is_repo_id`, for values one at a time) and as a
polars expression (:func:`repo_id_expr`, for whole columns), built from one pattern.

This module knows text, not the Hub: it never makes a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard

import polars as pl

from .errors import InputError

MAX_PART_LENGTH = 96
# Longest text worth quoting in a problem or a message; a hostile id can be 100 KB.
QUOTE_LENGTH = 200

_WORD = "[A-Za-z0-9_]"
# Runs of '.' and '-' between word characters, never the same one twice in a row.
_SEPARATORS = r"(?:\.(?:-\.)*-?|-(?:\.-)*\.?)"
_PART = f"{_WORD}+(?:{_SEPARATORS}{_WORD}+)*"
REPO_ID_PATTERN = f"^{_PART}(?:/{_PART})?$"
_REPO_ID = re.compile(REPO_ID_PATTERN)

# https://huggingface.co/a/b, hf.co/a/b/tree/main, huggingface.co/models/a/b, www. ...
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?:models/)?"
    r"(?P<id>[^/?#\s]+(?:/[^/?#\s]+)?)(?:/(?:tree|blob|resolve|raw|commit|discussions)/.*)?"
    r"/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_NOT_MODELS = ("datasets", "spaces", "collections", "docs", "papers", "organizations")


def is_repo_id(text: object) -> TypeGuard[str]:
    """Whether ``text`` is a repo id the Hub could hold.

    Examples
    --------
    >>> [is_repo_id(t) for t in ("Qwen/Qwen2.5-7B", "gpt2", "a/..", "a/b/c", "x" * 97)]
    [True, True, False, False, False]
    """
    if not isinstance(text, str) or len(text) > 2 * MAX_PART_LENGTH + 1:
        return False
    if not _REPO_ID.fullmatch(text) or text.endswith(".git"):
        return False
    return all(len(part) <= MAX_PART_LENGTH for part in text.split("/"))


def repo_id_expr(column: pl.Expr | str) -> pl.Expr:
    """:func:`is_repo_id` as a polars expression (null counts as invalid).

    Examples
    --------
    >>> pl.select(repo_id_expr(pl.lit(pl.Series(["a/b", "a/..", None])))).to_series().to_list()
    [True, False, False]
    """
    text = pl.col(column) if isinstance(column, str) else column
    # The pattern admits ASCII only, so bytes count characters; and no part of an id of at
    # most MAX_PART_LENGTH bytes is longer: the parts are cut out of the longer ones only.
    length = text.str.len_bytes()
    longer = pl.when(length > MAX_PART_LENGTH).then(text)
    parts_fit = (
        (longer.str.extract(r"^([^/]*)", 1).str.len_bytes() <= MAX_PART_LENGTH)
        & (longer.str.extract(r"([^/]*)$", 1).str.len_bytes() <= MAX_PART_LENGTH)
    ).fill_null(True)
    valid = (
        (length <= 2 * MAX_PART_LENGTH + 1)
        & text.str.contains(REPO_ID_PATTERN)
        & ~text.str.ends_with(".git")
        & parts_fit
    )
    return valid.fill_null(False)


def quote(text: str) -> str:
    """``text`` cut to a length fit for a message or a problem's detail.

    >>> quote("a" * 300)[-20:]
    'aaaa... (300 chars)'
    """
    if len(text) <= QUOTE_LENGTH:
        return text
    return f"{text[:QUOTE_LENGTH]}... ({len(text)} chars)"


def quote_expr(column: pl.Expr) -> pl.Expr:
    """:func:`quote` for a column."""
    length = column.str.len_chars()
    cut = pl.format("{}... ({} chars)", column.str.slice(0, QUOTE_LENGTH), length)
    return pl.when(length > QUOTE_LENGTH).then(cut).otherwise(column)


def id_from_url(text: str) -> str | None:
    """The repo-id part of a model's Hub URL, or None when ``text`` is not such a URL.

    >>> id_from_url("https://huggingface.co/Qwen/Qwen2.5-7B/tree/main")
    'Qwen/Qwen2.5-7B'
    >>> id_from_url("hf.co/Qwen"), id_from_url("Qwen/Qwen2.5-7B")
    ('Qwen', None)
    >>> id_from_url("https://huggingface.co/datasets/cfahlgren1/hub-stats") is None
    True
    """
    match = _URL.match(text)
    if match is None:
        return None
    found = match.group("id")
    if found.split("/", 1)[0].lower() in _NOT_MODELS:
        return None
    return found


@dataclass(frozen=True)
class Root:
    """A root as the user asked for it, parsed.

    ``name`` is an organization (``Qwen``) or a model id (``Qwen/Qwen2.5-7B``), in the case
    the user typed (the Hub's case is found when crawling). A name without ``/`` may also be
    a legacy model without namespace (``gpt2``), unless ``org_only`` (typed as ``Qwen/``).
    """

    name: str
    org_only: bool = False

    @property
    def is_model(self) -> bool:
        return "/" in self.name

    @property
    def text(self) -> str:
        """The root in one canonical spelling (what the journal and the crawl log keep)."""
        return f"{self.name}/" if self.org_only else self.name


ROOT_FORMS = (
    "a root is an organization (Qwen), a model id (Qwen/Qwen2.5-7B) or its Hub URL "
    "(https://huggingface.co/Qwen/Qwen2.5-7B)"
)


def parse_root(text: str) -> Root:
    """Read a root the way people type it: any case, a Hub URL, a trailing slash.

    Raises :class:`~lineage.errors.InputError` with one line saying what a root may be.

    Examples
    --------
    >>> parse_root(" https://huggingface.co/Qwen/Qwen2.5-7B ")
    Root(name='Qwen/Qwen2.5-7B', org_only=False)
    >>> parse_root("hf.co/Qwen"), parse_root("Qwen/")
    (Root(name='Qwen', org_only=False), Root(name='Qwen', org_only=True))
    >>> parse_root("a/b/c")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: 'a/b/c' is not a root: a root is an organization (Qwen), ...
    """
    raw = text
    text = text.strip()
    from_url = id_from_url(text)
    if from_url is not None:
        text = from_url
    org_only = False
    if text.endswith("/") and text.count("/") == 1:
        text, org_only = text[:-1], True
    if not is_repo_id(text):
        raise InputError(f"{quote(raw)!r} is not a root: {ROOT_FORMS}")
    return Root(text, org_only)


def as_root(value: Root | str) -> Root:
    """A :class:`Root` from a Root or its text (library callers may pass plain strings)."""
    return value if isinstance(value, Root) else parse_root(value)
