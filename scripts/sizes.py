"""The largest classes and functions in lineage/, in lines, to repeat a size figure.

    python scripts/sizes.py            # the 5 largest classes and functions
    python scripts/sizes.py --top 10
    python scripts/sizes.py --module lineage/crawl.py

A class or function counts from its first decorator to its last line (``ast``'s
``end_lineno``), docstring and comments included; methods count as functions (nested
functions too). lineage/testing/ (the fake Hub and test tools) is left out: it is not the
library.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sizes(paths: list[Path]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    classes, functions = [], []
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(ROOT)

        def visit(node: ast.AST, prefix: str, where: Path = where) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    lines = child.end_lineno - first + 1
                    name = f"{where}:{prefix}{child.name}"
                    bucket = classes if isinstance(child, ast.ClassDef) else functions
                    bucket.append((lines, name))
                    visit(child, f"{prefix}{child.name}.")
                else:
                    visit(child, prefix)

        visit(tree, "")
    return sorted(classes, reverse=True), sorted(functions, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--module", type=Path, action="append", help="only these files")
    args = parser.parse_args()
    if args.module:
        paths = [p.resolve() for p in args.module]
    else:
        paths = [p for p in sorted((ROOT / "lineage").rglob("*.py")) if "testing" not in p.parts]
    classes, functions = sizes(paths)
    for title, found in (("classes", classes), ("functions", functions)):
        print(f"largest {title} (lines):")
        for lines, name in found[: args.top]:
            print(f"  {lines:5d}  {name}")


if __name__ == "__main__":
    main()
