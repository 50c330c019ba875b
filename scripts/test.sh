#!/usr/bin/env bash
# Install lineage with its test dependencies into .venv and run every check:
# ruff lint, ruff format, mypy over lineage/, and the whole pytest suite (unit, integration, browser, Neo4j,
# and sql/ in Spark local mode, which needs Java 17: those tests skip, saying so, without it),
# then print how much of lineage/ the suite ran (no threshold: a number a reviewer sees).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e '.[test,spark]'

# Neo4j's own Cypher parser, for the checks of cypher/ (those tests skip, saying so, without Node).
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/cypher_lint --no-audit --no-fund --silent
else
  echo "note: npm not found; the Cypher parser checks will be skipped" >&2
fi

# A real browser for the HTML tests (they skip, saying so, where none can be installed).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "note: could not install chromium; browser tests will be skipped" >&2
fi

ruff check .
ruff format --check .
# Types: mypy over lineage/ ([tool.mypy] in pyproject.toml; strict on the core modules).
mypy
# Coverage of the test process itself: the child processes some tests start (kills, pipes,
# `python -m lineage...`) are not measured, so the figure is a lower bound.
python -m pytest --cov=lineage --cov-report=
echo "coverage of lineage/ by the tests (lines and branches run in the test process):" \
  "$(python -m coverage report --format=total)%"
