"""pyproject.toml declares every package lineage imports, each with a lower bound."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from support.toyhub import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported(paths) -> dict[str, set[str]]:
    """Distribution names of the third-party modules the files import, with who imports."""
    distributions = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "lineage":
                    continue
                for dist in distributions.get(top, [top]):
                    found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_of_the_package_is_a_declared_dependency():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    test = {_name(r) for r in PROJECT["optional-dependencies"]["test"]}
    package = [p for p in (ROOT / "lineage").rglob("*.py") if "testing" not in p.parts]
    undeclared = {d: f for d, f in _imported(package).items() if d not in runtime}
    assert not undeclared, f"imported by lineage/ but not in dependencies: {undeclared}"
    # The test doubles under lineage/testing may also use the test extra.
    testing = list((ROOT / "lineage" / "testing").rglob("*.py"))
    undeclared = {d: f for d, f in _imported(testing).items() if d not in runtime | test}
    assert not undeclared, f"imported by lineage/testing but not declared: {undeclared}"


def test_every_dependency_has_a_lower_bound():
    requirements = [*PROJECT["dependencies"]]
    for extra in PROJECT["optional-dependencies"].values():
        requirements += extra
    unbounded = [r for r in requirements if ">=" not in r and "==" not in r]
    assert not unbounded


def test_the_version_has_one_source_and_a_changelog_entry():
    """lineage.__version__ is the package's version (metadata and `lineage --version` read it)
    and CHANGELOG.md has a section for it."""
    from importlib.metadata import version

    from click.testing import CliRunner

    import lineage
    from lineage.cli import cli

    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    assert version("lineage") == lineage.__version__
    out = CliRunner().invoke(cli, ["--version"]).output
    assert out == f"lineage, version {lineage.__version__}\n"
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert lineage.__version__ in headings
