"""Lint Cypher with Neo4j's own parser and semantic analysis, from Python tests.

Runs ``node tests/cypher_lint/lint.mjs`` (the npm package ``@neo4j-cypher/language-support``,
pinned to 2.0.0-next.38: the engine of Neo4j's VS Code extension and Browser editor, whose
semantic analysis is Neo4j's own front end compiled to JavaScript). One ``node`` process per
:func:`lint_cypher` call (about 2 s start-up), so lint many texts in one call.

Install: ``npm ci --prefix tests/cypher_lint`` (Node >= 20; the package declares
``engines: node >= 24.11.1`` but runs on Node 20, npm only warns EBADENGINE).
Without ``node`` or those node_modules, :class:`CypherLintUnavailable` is raised.

What the linter does (found by experiment, 2.0.0-next.38):

* Errors (``severity == "error"``): syntax errors (``Invalid input 'RETURN': expected ...``),
  undefined variables (``Variable `n` not defined``), unknown functions and procedures
  (``Function foo is not present in the database. ...``), type errors it can see statically
  (``toUpper(1)``: ``Type mismatch: expected String but was Integer``), Cypher 5 rules such as
  ``exists(m.prop)`` (``The property existence syntax ... is no longer supported``), mixing
  aggregation scopes, duplicate/ mismatched UNION and RETURN columns, and
  ``Parameter $x is not defined.`` for every ``$x`` not declared (``params=``).
* Warnings: labels / relationship types not in ``labels=`` / ``rel_types=`` (only checked
  when both lists are given: pass one and the other defaults to empty), property keys not in
  ``properties=`` (read properties only; properties the query itself writes are exempt),
  deprecations (``id()``, ``CALL { WITH x ...}`` without a scope clause), and performance
  hints (unbounded ``shortestPath``).
* Parameters: only the *names* count; the sample values are not type-checked.
* ``//`` and ``/* */`` comments are fine; several statements separated by ``;`` are linted
  one by one (a trailing ``;`` is fine, an empty statement ``;;`` is a syntax error).
* The Cypher version is ``CYPHER 5`` unless ``cypher_version="25"`` or the text starts
  with a ``CYPHER 25`` prefix. (The ArcadeDB test server rejects any ``CYPHER n`` prefix.)
* Neo4j Browser ``:param`` lines are not Cypher. With console commands on, the linter
  accepts ``:param x => 1;`` only when ended by ``;`` (otherwise it reads into the next
  line and reports a syntax error there) and never learns the parameter from it; with them
  off (as here) any ``:command`` is an error "Console commands are unsupported in this
  environment.". So :func:`strip_browser_params` blanks those lines first (keeping every
  line number and offset) and, unless ``declare_browser_params=False``, the names they set
  are declared as parameters.
* Built-in functions/procedures come from the package's catalogue of a real Neo4j
  (CYPHER 5: 405 functions, 701 procedures incl. APOC and GDS); only built-ins and the
  ``db.``/``dbms.``/``tx.``/``cdc.`` procedures are declared unless ``plugins=("apoc",)``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LINT_DIR",
    "CypherLintError",
    "CypherLintUnavailable",
    "Diagnostic",
    "browser_param_names",
    "errors",
    "lint_cypher",
    "strip_browser_params",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
LINT_DIR = REPO_ROOT / "tests" / "cypher_lint"
LINT_SCRIPT = LINT_DIR / "lint.mjs"
_PACKAGE_JSON = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support" / "package.json"


class CypherLintUnavailable(RuntimeError):
    """``node`` or the linter's npm dependencies are missing (tests skip on this)."""


class CypherLintError(RuntimeError):
    """The linter itself failed (not: the Cypher has errors)."""


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``line``/``column`` are 1-based; columns count UTF-16 code units."""

    path: str
    severity: str  # "error" | "warning" | "information" | "hint"
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int | None = None
    end_offset: int | None = None
    deprecated: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Only the errors (drop warnings and hints)."""
    return [d for d in diagnostics if d.is_error]


# --- Neo4j Browser :param lines ----------------------------------------------------------

_PARAM_LINE = re.compile(r"^[ \t]*:params?\b", re.IGNORECASE)
_PARAM_NAME = re.compile(
    r"^[ \t]*:param[ \t]+(?:`(?P<q>[^`]+)`|(?P<n>[A-Za-z_][A-Za-z0-9_]*))[ \t]*(?:=>|:)",
    re.IGNORECASE,
)
_MAP_TOKEN = re.compile(r"[{}\[\]()]|`([^`]+)`\s*:|([A-Za-z_][A-Za-z0-9_]*)\s*:")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _param_command_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each ``:param``/``:params`` command, continuation included.

    A command runs to the end of its line, or further while brackets opened on it are
    still open (``:params {a: 1,\\n b: 2}``).
    """
    spans = []
    lines = text.splitlines(keepends=True)
    pos = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if _PARAM_LINE.match(line):
            start = pos
            depth = 0
            while True:
                body = _STRING.sub("", lines[i])
                depth += sum(body.count(c) for c in "{[(") - sum(body.count(c) for c in "}])")
                pos += len(lines[i])
                i += 1
                if depth <= 0 or i >= len(lines):
                    break
            spans.append((start, pos))
            continue
        pos += len(line)
        i += 1
    return spans


def strip_browser_params(text: str) -> str:
    """Blank out Neo4j Browser ``:param``/``:params`` commands (they are not Cypher).

    Every character of such a command becomes a space (newlines are kept), so the
    linter's line, column and offset numbers still point into the original text.
    """
    spans = _param_command_spans(text)
    if not spans:
        return text
    out = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(re.sub(r"[^\r\n]", " ", text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def browser_param_names(text: str) -> list[str]:
    """Names set by ``:param name => value`` / ``:param name: value`` and top-level keys of
    ``:params {a: 1, b: 2}`` in *text* (best effort, for declaring them to the linter)."""
    names: list[str] = []
    for start, end in _param_command_spans(text):
        cmd = text[start:end]
        m = _PARAM_NAME.match(cmd)
        if m:
            names.append(m.group("q") or m.group("n"))
            continue
        body = _STRING.sub("''", cmd)
        brace = body.find("{")
        if brace < 0:
            continue
        depth = 0
        for km in _MAP_TOKEN.finditer(body[brace:]):
            tok = km.group(0)
            if tok in "{[(":
                depth += 1
            elif tok in "}])":
                depth -= 1
            elif depth == 1:
                names.append(km.group(1) or km.group(2))
    return list(dict.fromkeys(names))


# --- running the linter ----------------------------------------------------------------


def _check_available(node: str | None) -> str:
    if node is None:
        raise CypherLintUnavailable(
            "`node` is not on PATH: the Cypher linter needs Node.js >= 20 "
            "(apt-get install nodejs npm), then npm ci --prefix tests/cypher_lint"
        )
    if not _PACKAGE_JSON.is_file():
        raise CypherLintUnavailable(
            f"the Cypher linter's npm dependencies are not installed in {LINT_DIR}: "
            "run `npm ci --prefix tests/cypher_lint`"
        )
    return node


def _as_sources(texts_or_paths: Any) -> list[tuple[str, str]]:
    if isinstance(texts_or_paths, str | os.PathLike):
        texts_or_paths = [texts_or_paths]
    sources = []
    for i, item in enumerate(texts_or_paths):
        if isinstance(item, os.PathLike):
            path = Path(item)
            sources.append((str(path), path.read_text(encoding="utf-8")))
        elif isinstance(item, str):
            sources.append((f"<text {i}>", item))
        elif isinstance(item, tuple) and len(item) == 2:
            sources.append((str(item[0]), str(item[1])))
        else:
            raise TypeError(
                "lint_cypher takes Cypher text (str), a file (pathlib.Path) or (name, text) "
                f"pairs, not {type(item).__name__}"
            )
    return sources


def _params_dict(params: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        # Only the names matter to the linter; keep JSON-able samples, else their type name.
        out = {}
        for k, v in params.items():
            try:
                json.dumps(v)
            except TypeError:
                v = type(v).__name__
            out[str(k)] = v
        return out
    return {str(name): "any" for name in params}


def lint_cypher(
    texts_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str] | tuple[str, str]],
    *,
    params: Mapping[str, Any] | Iterable[str] | None = None,
    labels: Iterable[str] | None = None,
    rel_types: Iterable[str] | None = None,
    properties: Iterable[str] | None = None,
    cypher_version: str = "5",
    plugins: Iterable[str] = (),
    allow_any_params: bool = False,
    strip_params: bool = True,
    declare_browser_params: bool = True,
    timeout: float = 120.0,
) -> list[Diagnostic]:
    """Lint Cypher texts and/or ``.cypher`` files; return every diagnostic (errors first
    per file in position order as the linter gives them; see :func:`errors`).

    *texts_or_paths*: a ``str`` is Cypher text, a ``pathlib.Path`` is a file to read, a
    ``(name, text)`` pair is text reported under *name*; or an iterable of those.
    *params*: the ``$parameters`` the queries may use (names, or a name -> sample mapping);
    any other ``$x`` is an error unless *allow_any_params*. *labels*/*rel_types*/
    *properties*: the graph schema; names outside it are warnings (not checked when None).
    *plugins*: function/procedure namespaces to declare besides the built-ins ("apoc", "gds").
    """
    node = _check_available(shutil.which("node"))
    sources = _as_sources(texts_or_paths)
    if not sources:
        return []
    version = str(cypher_version).upper().removeprefix("CYPHER").strip()
    schema: dict[str, Any] = {
        "parameters": _params_dict(params),
        "defaultLanguage": f"CYPHER {version}",
    }
    if labels is not None or rel_types is not None:
        schema["labels"] = sorted(set(labels or ()))
        schema["relationshipTypes"] = sorted(set(rel_types or ()))
    if properties is not None:
        schema["propertyKeys"] = sorted(set(properties))
    files = []
    for name, text in sources:
        entry: dict[str, Any] = {"path": name, "text": text}
        if strip_params:
            entry["text"] = strip_browser_params(text)
            if declare_browser_params:
                entry["params"] = {n: "any" for n in browser_param_names(text)}
        files.append(entry)
    request = {
        "files": files,
        "schema": schema,
        "plugins": list(plugins),
        "allowAnyParams": allow_any_params,
        "consoleCommands": False,
    }
    try:
        proc = subprocess.run(
            [node, str(LINT_SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=LINT_DIR,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CypherLintError(f"the Cypher linter took more than {timeout:.0f}s") from exc
    if proc.returncode != 0:
        raise CypherLintError(
            f"node {LINT_SCRIPT.name} exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}"
        )
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise CypherLintError(f"unreadable linter output: {proc.stdout[:500]!r}") from exc
    return [Diagnostic(path=f["path"], **d) for f in result["files"] for d in f["diagnostics"]]
