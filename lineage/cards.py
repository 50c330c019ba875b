"""Reading the ``base_model`` declarations people write in model cards.

Model cards are hand-written YAML and malformed ones are the norm: a string or a list, URL
forms, stray whitespace, non-string values, the model itself, relation words the Hub does
not know. This module turns one card's raw ``base_model`` / ``base_model_relation`` values
into clean parent ids plus a list of :class:`CardProblem` records. It never raises on bad
input and never talks to the network; resolving ids against the Hub is the crawler's job.

The raw values arrive as text in one encoding shared by every source (see
:func:`encode_card_value`): strings as they are, anything else as compact JSON. That is
what polars' ``str.json_path_match`` yields for hub-stats dumps, so a crawl and an ingest of
the same card read the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .repo_id import id_from_url, is_repo_id, quote
from .vocabulary import RELATIONS


@dataclass(frozen=True, slots=True)
class CardProblem:
    """Something wrong (or silently repaired) in one model's declarations.

    ``detail`` quotes the offending value; ``kind`` is one of:

    - ``whitespace``: parent id had surrounding whitespace (stripped)
    - ``url_form``: parent given as a URL (reduced to its repo id)
    - ``non_string``: base_model value is not a string (ignored)
    - ``invalid_id``: a parent (card, baseModels) is not a valid repo id (ignored, never requested)
    - ``empty``: base_model is empty
    - ``duplicate``: the same parent is declared twice (kept once)
    - ``self_reference``: the model names itself as a parent (ignored)
    - ``unknown_relation``: base_model_relation is not a relation the Hub knows (inferred instead)
    - ``bad_tag``: a base_model: tag cannot be read or names an invalid repo id (ignored)
    - ``too_many_parents``: more unknown parents than a crawl looks up for one model (rest left)
    - ``not_on_hub``: the card names a parent the Hub did not accept (no base_model tag for it)
    - ``missing_parent``: a declared parent does not exist on the Hub
    - ``renamed_parent``: a parent was renamed or written in another case (resolved to its id)
    - ``cycle``: the model is part of a cycle of declarations (broken when building the graph)
    """

    kind: str
    detail: str


def encode_card_value(value: object) -> str | None:
    """Encode a raw card value the way polars' ``json_path_match`` prints it.

    >>> encode_card_value("Qwen/Qwen2.5-7B")
    'Qwen/Qwen2.5-7B'
    >>> encode_card_value(["a/b", "c/d"])
    '["a/b","c/d"]'
    >>> encode_card_value(None) is None
    True
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decode(text: str) -> list[object]:
    """Undo :func:`encode_card_value`: a list of raw declared values."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            value = json.loads(stripped)
        except ValueError:
            return [text]
        return value if isinstance(value, list) else [value]
    if stripped in ("true", "false") or _looks_numeric(stripped):
        return [json.loads(stripped)]
    return [text]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def normalize_parent_id(value: object) -> tuple[str | None, list[CardProblem]]:
    """Clean one declared parent id; ``None`` when nothing usable is left.

    >>> normalize_parent_id("  https://huggingface.co/Qwen/Qwen2.5-7B/tree/main ")[0]
    'Qwen/Qwen2.5-7B'
    >>> [p.kind for p in normalize_parent_id(" meta-llama/Llama-3.1-8B")[1]]
    ['whitespace']
    >>> normalize_parent_id(7)
    (None, [CardProblem(kind='non_string', detail='7')])
    """
    problems: list[CardProblem] = []
    if not isinstance(value, str):
        return None, [CardProblem("non_string", _quote(value))]
    text = value.strip()
    if text != value:
        problems.append(CardProblem("whitespace", quote(repr(value))))
    if not text:
        return None, [*problems, CardProblem("empty", quote(repr(value)))]
    from_url = id_from_url(text)
    if from_url is not None:
        problems.append(CardProblem("url_form", quote(text)))
        text = from_url
    if not is_repo_id(text):
        return None, [*problems, CardProblem("invalid_id", quote(text))]
    return text, problems


def _quote(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError):
        return repr(value)[:200]


def parse_card_parents(
    model_id: str, base_model: str | None, relation: str | None
) -> tuple[list[str], str | None, list[CardProblem]]:
    """Read one card's declarations.

    Parameters
    ----------
    model_id : the model whose card this is (to catch self-references).
    base_model, relation : the raw card values, encoded by :func:`encode_card_value`.

    Returns
    -------
    parents : clean parent ids in declaration order, without duplicates or the model itself.
    relation : the declared relation if it is one the Hub knows, else ``None``.
    problems : what was wrong or repaired.

    Examples
    --------
    >>> parents, rel, problems = parse_card_parents(
    ...     "me/x", '["Qwen/Qwen2.5-7B", " me/x", 3]', "FineTune")
    >>> parents, rel, sorted(p.kind for p in problems)
    (['Qwen/Qwen2.5-7B'], 'finetune', ['non_string', 'self_reference', 'whitespace'])
    """
    problems: list[CardProblem] = []
    parents: list[str] = []
    seen: set[str] = set()
    if base_model is not None:
        values = _decode(base_model)
        if not values:
            problems.append(CardProblem("empty", base_model))
        for value in values:
            parent, found = normalize_parent_id(value)
            problems.extend(found)
            if parent is None:
                continue
            key = parent.lower()
            if key == model_id.lower():
                problems.append(CardProblem("self_reference", parent))
            elif key in seen:
                problems.append(CardProblem("duplicate", parent))
            else:
                seen.add(key)
                parents.append(parent)
    declared = None
    if relation is not None:
        word = relation.strip().lower() if isinstance(relation, str) else ""
        if word in RELATIONS:
            declared = word
        else:
            problems.append(CardProblem("unknown_relation", relation[:200]))
    return parents, declared, problems
