"""What a model's own files say about where it comes from: its card, its config.

:mod:`lineage.roots` fetches a few files of the models that matter most; this module reads
them into :class:`Finding` values, one per model a file names as a source, of these kinds:

``base_model``
    The card's YAML front matter declares it, in a way the Hub did not turn into a
    ``base_model`` tag: a front matter the Hub could not parse (then read line by line), a
    key spelled ``base_models`` or ``Base-Model``, a URL form.
``mergekit``
    A mergekit configuration in the card (a fenced YAML block with ``models:``,
    ``slices:``/``sources:`` or ``merge_method:``): its ``base_model`` first, then every
    source in order (``model+lora`` counts as ``model``).
``link``
    Prose that says what the model is of another, followed by that model: "a fine-tuned
    version of [X](https://huggingface.co/X)", "quantized version of", "GGUF format model
    files for", "Original model:", "The following models were included in the merge:"
    and its list, "Finetuned from model : X". Links elsewhere (other models to try,
    datasets, leaderboards, "quantized versions of this model") are not lineage.
``name_or_path``
    ``config.json``'s ``_name_or_path``: the checkpoint the weights were loaded from when
    saved (a repo id; local paths are not ids).
``adapter_base``
    ``adapter_config.json``'s ``base_model_name_or_path``.
``shape``
    ``config.json``'s architecture and sizes as one fingerprint (``model_type``, hidden
    size, layers, intermediate size, vocabulary, key-value heads): models of one family
    share it, whatever their names.

Files are hostile input like any card: at most :data:`MAX_CARD_BYTES` or
:data:`MAX_CONFIG_BYTES` are read (and fetched), YAML is parsed safely and only where
lineage is written, every id passes the repo-id rule (:func:`lineage.cards.normalize_parent_id`),
a file names at most :data:`MAX_FINDINGS` models of a kind, and a file that is not text
(or not JSON, for a config) is *unreadable*, never an error. It never raises on content and
never talks to the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .cards import normalize_parent_id
from .repo_id import id_from_url, is_repo_id
from .vocabulary import RELATIONS

MAX_CARD_BYTES = 256 * 1024
MAX_CONFIG_BYTES = 64 * 1024
MAX_FINDINGS = 10  # models named per kind and file (a merge of more is cut there)
_MAX_YAML = 32 * 1024  # a front matter or a code block parsed as YAML at most this long
_MAX_BLOCKS = 8  # fenced code blocks looked at per card
_WINDOW = 400  # characters after a lineage phrase where its model is looked for
_LIST_WINDOW = 3000  # ... after a phrase that introduces a list (merges)

KINDS = ("base_model", "mergekit", "link", "name_or_path", "adapter_base", "shape")


@dataclass(frozen=True, slots=True)
class Finding:
    """One model a file names as a source of the model (or, for ``shape``, a fingerprint).

    ``target`` is a valid repo id as written (a fingerprint for ``shape``); ``relation``
    what the file says the model is of it, when it says (adapter, finetune, merge,
    quantized); ``detail`` the words that said it, at most 200 characters.
    """

    kind: str
    target: str
    relation: str | None
    detail: str


# -- model cards ---------------------------------------------------------------------------

_FRONT = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BASE_KEY = re.compile(r"^base[-_ ]?models?$", re.IGNORECASE)
_BASE_LINE = re.compile(
    r"^[ \t]*base[-_ ]?models?[ \t]*:[ \t]*(.*)$|^[ \t]*-[ \t]+(\S+)[ \t]*$", re.IGNORECASE
)
_FENCE = re.compile(r"^(?:```|~~~)[ \t]*(yaml|yml)?[^\n]*\n(.*?)^(?:```|~~~)", re.DOTALL | re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_LINK = re.compile(r"\[([^\]\n]{0,300})\]\(\s*<?([^)\s>]{1,400})>?(?:\s+\"[^\"\n]*\")?\s*\)")
_BARE_URL = re.compile(r"(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/[^\s)\]>\"'`<,]+")
_PLAIN_ID = re.compile(r"(?<![\w./-])([A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96})(?![\w/-])")

# Phrases that say what the model is of the model named after them. A list phrase (a merge's
# "the following models") takes every model in the list after it; the others the first.
_PHRASES: tuple[tuple[str, str, bool], ...] = (
    (
        r"fine[- ]?tun(?:ed|ing)\s+(?:version\s+of|from|of|on\s+top\s+of|based\s+on)"
        r"|finetuned\s+from(?:\s+model)?|trained\s+(?:on\s+top\s+of|from)"
        r"|continued\s+pre-?training\s+(?:of|from|on)|\bbased\s+on|derived\s+from"
        r"|built\s+(?:on|upon)(?:\s+top\s+of)?|further\s+(?:fine-?tuned|trained)\s+(?:from|on)"
        r"|\bbase\s+model\s*(?:is\b|:)|\bparent\s+model\s*:",
        "finetune",
        False,
    ),
    (
        r"quanti[sz](?:ed|ation|ations)\s+(?:version\s+|model\s+)?of|\bquants?\s+of"
        r"|\b(?:gguf|ggml|gptq|awq|exl2|exl3|mlx|onnx)\s+(?:format\s+)?(?:model\s+)?"
        r"(?:files|quants?|versions?|weights|conversion)\s+(?:for|of)"
        r"|\boriginal\s+model\s*(?::|is\b)|converted\s+(?:to\s+\S+\s+)?from",
        "quantized",
        False,
    ),
    (
        r"(?:lora|qlora|peft)\s+adapters?\s+(?:for|of|on)|\badapter\s+(?:for|of)\b",
        "adapter",
        False,
    ),
    (
        r"models\s+were\s+included\s+in\s+the\s+merge|merge\s+of\s+the\s+following"
        r"|the\s+following\s+models|is\s+a\s+merge\s+of",
        "merge",
        True,
    ),
    (r"merged\s+(?:from|with)|\bas\s+a\s+base\b", "merge", False),
)
_PHRASE = re.compile(
    "|".join(f"(?P<p{i}>{pattern})" for i, (pattern, _, _) in enumerate(_PHRASES)), re.IGNORECASE
)
# "a quantized version of this model", "based on it": the model itself, not a source.
_SELF = re.compile(r"\s*(?:\*\*)?\s*(?:this|the\s+(?:same|above)|it\b|our\b)", re.IGNORECASE)
# "based on" in "based on the dataset", "merge of ... created using mergekit": nothing after.
_STOP = re.compile(r"\n[ \t]*\n(?![ \t]*[-*+][ \t])|\n#+ ", re.MULTILINE)


def read_card(model_id: str, content: bytes) -> list[Finding] | None:
    """What a model card (``README.md``) says of the model's sources; None if not text.

    Examples
    --------
    >>> card = b"\\n".join([b"---", b"license: apache-2.0",
    ...     b"base_model: https://huggingface.co/mistralai/Mistral-7B-v0.1", b"---",
    ...     b"This model is a fine-tuned version of [teknium/OpenHermes-2.5-Mistral-7B]("
    ...     b"https://huggingface.co/teknium/OpenHermes-2.5-Mistral-7B) on the None dataset."])
    >>> [(f.kind, f.target, f.relation) for f in read_card("me/x", card)]
    [('base_model', 'mistralai/Mistral-7B-v0.1', None), ('link', \
'teknium/OpenHermes-2.5-Mistral-7B', 'finetune')]
    """
    text = _text(content[:MAX_CARD_BYTES])
    if text is None:
        return None
    own = model_id.lower()
    findings: list[Finding] = []
    front = _FRONT.match(text)
    body = text[front.end() :] if front else text
    if front:
        findings += _front_matter(own, front.group(1)[:_MAX_YAML])
    body = _COMMENT.sub(" ", body)
    findings += _mergekit(own, body)
    findings += _links(own, body)
    return findings


def _text(content: bytes) -> str | None:
    """Decoded text, or None for what is not text (NUL bytes, mostly undecodable)."""
    if b"\x00" in content[:8192]:
        return None
    text = content.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(16, len(text) // 20):
        return None
    return text


def _front_matter(own: str, yaml_text: str) -> list[Finding]:
    """``base_model`` (and misspellings of it) from the front matter; read line by line
    when the YAML does not parse (the Hub then reads nothing, which is how tags miss it)."""
    relation = None
    values: list[tuple[object, str]] = []
    data = _yaml(yaml_text)
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and _BASE_KEY.match(key.strip()):
                for item in value if isinstance(value, list) else [value]:
                    values.append((item, f"{key}: {item}"))
            elif isinstance(key, str) and key.strip().lower() == "base_model_relation":
                word = value.strip().lower() if isinstance(value, str) else ""
                relation = word if word in RELATIONS else None
    else:
        listing = False
        for line in yaml_text.splitlines():
            match = _BASE_LINE.match(line)
            if match is None or (match.group(2) is not None and not listing):
                listing = False
                continue
            if match.group(1) is not None:
                value = match.group(1).strip().strip("'\"")
                listing = not value
                if value:
                    values.append((value, line.strip()))
            else:
                values.append((match.group(2).strip("'\""), line.strip()))
    return _named(own, "base_model", relation, values)


def _yaml(text: str) -> object:
    import yaml

    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None


def _named(
    own: str, kind: str, relation: str | None, values: list[tuple[object, str]]
) -> list[Finding]:
    """Findings for raw named values: valid repo ids, not the model itself, once each."""
    out: list[Finding] = []
    seen: set[str] = set()
    for value, detail in values:
        if isinstance(value, str) and "+" in value and kind == "mergekit":
            value = value.split("+", 1)[0]  # mergekit's model+lora: the model
        target, _ = normalize_parent_id(value)
        if target is None or target.lower() in seen or target.lower() == own:
            continue
        seen.add(target.lower())
        out.append(Finding(kind, target, relation, " ".join(str(detail).split())[:200]))
        if len(out) >= MAX_FINDINGS:
            break
    return out


def _mergekit(own: str, body: str) -> list[Finding]:
    """The sources of the first mergekit configuration among the card's code blocks."""
    for number, match in enumerate(_FENCE.finditer(body)):
        if number >= _MAX_BLOCKS:
            break
        block = match.group(2)
        if len(block) > _MAX_YAML or not re.search(
            r"^\s*(?:models|slices|merge_method)\s*:", block, re.M
        ):
            continue
        config = _yaml(block)
        if not isinstance(config, dict):
            continue
        values: list[tuple[object, str]] = []
        base = config.get("base_model")
        if base is not None:
            values.append((_model_of(base), f"base_model: {_model_of(base)}"))
        for entry in _as_list(config.get("models")):
            values.append((_model_of(entry), f"models: {_model_of(entry)}"))
        for piece in _as_list(config.get("slices")):
            sources = piece.get("sources") if isinstance(piece, dict) else None
            for source in _as_list(sources):
                values.append((_model_of(source), f"sources: {_model_of(source)}"))
        found = _named(own, "mergekit", "merge", values)
        if found:
            return found
    return []


def _as_list(value: object) -> list:
    return value[: MAX_FINDINGS * 8] if isinstance(value, list) else []


def _model_of(entry: object) -> object:
    """A mergekit model entry as text: ``model: X``, ``model: {path: X}`` or ``X``."""
    for _ in range(3):
        if isinstance(entry, dict):
            entry = entry.get("model", entry.get("path"))
    return entry


def _links(own: str, body: str) -> list[Finding]:
    """Models named right after a lineage phrase (:data:`_PHRASES`)."""
    out: list[Finding] = []
    seen: set[str] = set()
    mentions = _mentions(body)
    for phrase in _PHRASE.finditer(body):
        index = next(i for i, group in enumerate(phrase.groups()) if group is not None)
        _, relation, is_list = _PHRASES[index]
        if _SELF.match(body, phrase.end()):
            continue
        limit = phrase.end() + (_LIST_WINDOW if is_list else _WINDOW)
        stop = _STOP.search(body, phrase.end(), limit)
        end = stop.start() if stop else min(limit, len(body))
        named = [m for m in mentions if phrase.end() <= m[0] < end]
        if not is_list:
            named = named[:1]
        for _, target in named:
            key = target.lower()
            if key in seen or key == own:
                continue
            seen.add(key)
            detail = " ".join(body[phrase.start() : min(end, phrase.end() + 120)].split())
            out.append(Finding("link", target, relation, detail[:200]))
            if len(out) >= MAX_FINDINGS:
                return out
    return out


def _mentions(body: str) -> list[tuple[int, str]]:
    """Every model the prose names: Hub links (markdown or bare) and plain ``org/name``
    ids, by position. Links to datasets, spaces or other sites are not models."""
    found: dict[int, str] = {}
    covered: list[tuple[int, int]] = []
    for match in _MD_LINK.finditer(body):
        covered.append(match.span())
        url_id = id_from_url(match.group(2))
        text_id = match.group(1).strip().strip("`*")
        if url_id is not None and "/" in url_id and is_repo_id(url_id):
            found[match.start()] = url_id
        elif url_id is None and not match.group(2).startswith("http") and _is_model_id(text_id):
            found[match.start()] = text_id
    for match in _BARE_URL.finditer(body):
        if any(a <= match.start() < b for a, b in covered):
            continue
        covered.append(match.span())
        url_id = id_from_url(match.group(0).rstrip(".;:"))
        if url_id is not None and "/" in url_id and is_repo_id(url_id):
            found[match.start()] = url_id
    for match in _PLAIN_ID.finditer(body):
        if any(a <= match.start() < b for a, b in covered):
            continue
        text = match.group(1).rstrip(".")
        if _is_model_id(text):
            found[match.start()] = text
    return sorted(found.items())


def _is_model_id(text: str) -> bool:
    """An ``org/name`` id that is not a path, a file or a web address."""
    if "/" not in text or not is_repo_id(text):
        return False
    org, name = text.split("/", 1)
    return (
        org.lower() not in ("http:", "https:", "www", "github.com")
        and "." not in org
        and (
            not re.search(
                r"\.(?:py|md|json|ya?ml|txt|sh|bin|safetensors|gguf|png|jpg)$", name, re.I
            )
        )
    )


# -- configs --------------------------------------------------------------------------------

_SHAPE_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "intermediate_size",
    "vocab_size",
    "num_key_value_heads",
)


def read_config(model_id: str, content: bytes) -> list[Finding] | None:
    """What ``config.json`` says: ``_name_or_path`` and the shape; None if not JSON.

    Examples
    --------
    >>> config = json.dumps({"_name_or_path": "mistralai/Mistral-7B-v0.1", "model_type":
    ...     "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "intermediate_size": 14336,
    ...     "vocab_size": 32000, "num_key_value_heads": 8}).encode()
    >>> [(f.kind, f.target) for f in read_config("me/x", config)]
    [('name_or_path', 'mistralai/Mistral-7B-v0.1'), ('shape', 'mistral|4096|32|14336|32000|8')]
    >>> read_config("me/x", b"<html>not json") is None
    True
    """
    data = _json(content[:MAX_CONFIG_BYTES])
    if data is None:
        return None
    own = model_id.lower()
    findings: list[Finding] = []
    path = data.get("_name_or_path")
    if isinstance(path, str) and "/" in path.strip():
        findings += _named(own, "name_or_path", None, [(path.strip(), f"_name_or_path: {path}")])
    shape = _shape(data)
    if shape is None and isinstance(data.get("text_config"), dict):
        shape = _shape(data["text_config"], data.get("model_type"))
    if shape is not None:
        findings.append(Finding("shape", shape, None, shape))
    return findings


def read_adapter_config(model_id: str, content: bytes) -> list[Finding] | None:
    """What ``adapter_config.json`` says: ``base_model_name_or_path``; None if not JSON.

    >>> read_adapter_config("me/lora", b'{"base_model_name_or_path": "Qwen/Qwen2.5-7B"}')
    [Finding(kind='adapter_base', target='Qwen/Qwen2.5-7B', relation='adapter', \
detail='base_model_name_or_path: Qwen/Qwen2.5-7B')]
    """
    data = _json(content[:MAX_CONFIG_BYTES])
    if data is None:
        return None
    base = data.get("base_model_name_or_path")
    if not isinstance(base, str):
        return []
    return _named(
        model_id.lower(),
        "adapter_base",
        "adapter",
        [(base.strip(), f"base_model_name_or_path: {base}")],
    )


def _json(content: bytes) -> dict | None:
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _shape(config: dict, model_type: object = None) -> str | None:
    """The fingerprint, when the config gives every size as a positive integer."""
    kind = config.get("model_type", model_type)
    sizes = [config.get(key) for key in _SHAPE_KEYS]
    if sizes[4] is None:  # older configs: as many key-value heads as attention heads
        sizes[4] = config.get("num_attention_heads")
    if not isinstance(kind, str) or not re.fullmatch(r"[\w.-]{1,64}", kind):
        return None
    if not all(type(v) is int and 0 < v < 1 << 40 for v in sizes):
        return None
    return "|".join([kind.lower(), *(str(v) for v in sizes)])
