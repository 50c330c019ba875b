"""lineage's modules import one another without a loop.

networkx's rule, kept here: algorithms import the graph, never the reverse; a lower module
that needs a higher one sits in the wrong room. Python lets a loop run when one side imports
inside a function, so the walk reads every import statement in lineage/ with ``ast`` (at
module level and inside functions and methods alike), resolves relative imports to
modules, and fails on any cycle, naming it. Imports under ``if TYPE_CHECKING:`` are left
out: they never run, and exist only so annotations can name a type.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
from support.toyhub import ROOT

PACKAGE = ROOT / "lineage"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


def is_module(name: str) -> bool:
    base = PACKAGE.parent / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path) -> set[str]:
    """The lineage modules that ``path`` imports anywhere in its code."""
    name = module_name(path)
    package = name if is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lineage":
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] == "lineage":
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if is_module(sub) else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    found.discard(name)
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        graph.add_node(source)
        graph.add_edges_from((source, target) for target in imported_modules(path))
    return graph


def test_the_walk_sees_imports_inside_functions():
    # lineage.cli's main() imports lineage.interrupts in its body, never at module level.
    graph = import_graph()
    assert graph.has_edge("lineage.cli", "lineage.interrupts")
    assert graph.has_edge("lineage.store", "lineage.schema")
    assert graph.number_of_nodes() > 40


def test_lineage_has_no_import_loop():
    graph = import_graph()
    loops = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            cycle = nx.find_cycle(graph.subgraph(component))
            loops.append(" -> ".join([a for a, _ in cycle] + [cycle[0][0]]))
    assert not loops, "import loops: " + "; ".join(sorted(loops))
