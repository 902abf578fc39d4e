"""The import graph of src/salesstd runs one way: no cycles, no upward imports, a light base.

The test parses the source (it imports nothing from salesstd) and counts every import: at
the top of a module, inside a function body, and under ``if TYPE_CHECKING:``. A cycle that
only type checkers see still makes the layers unreadable, so it fails too.
"""

from __future__ import annotations

import ast
import collections
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "salesstd"

# A module may import modules of a lower rank, or modules of its own top-level package.
RANK = {
    "errors": 0,
    "_version": 0,
    "_base": 1,
    "log": 2,
    "io": 3,
    "transitions": 3,
    "funnel": 4,
    "stats": 5,
    "_engine": 6,
    "datasets": 6,
    "metrics": 7,
    "markov": 8,
    "forecast": 9,
    "standard": 9,
    "conformance": 10,
    "bottleneck": 10,
    "scoring": 11,
    "cli": 12,
    "": 13,  # salesstd/__init__.py
}
# What the base layer may import besides the standard library and salesstd.errors.
BASE_THIRD_PARTY = {"numpy", "attrs"}
# The one module that names heavier dependencies, for type checkers only (see its docstring).
LAZY = f"{PKG}._base.lazy"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted((SRC / PKG).rglob("*.py"))}


def _existing(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


class _Imports(ast.NodeVisitor):
    """Collect (target, kind, line) for every import; kind is top, function or type_checking."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.is_package = MODULES[module].name == "__init__.py"
        self.depth = 0
        self.typing_only = 0
        self.found: list[tuple[str, str, int]] = []

    def _kind(self) -> str:
        if self.depth:
            return "function"
        return "type_checking" if self.typing_only else "top"

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = getattr(test, "id", None) or getattr(test, "attr", None)
        if name != "TYPE_CHECKING":
            self.generic_visit(node)
            return
        self.typing_only += 1
        for stmt in node.body:
            self.visit(stmt)
        self.typing_only -= 1
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, self._kind(), node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            here = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            here = here[: len(here) - node.level + 1]
            base = ".".join([*here, base] if base else here)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self.found.append((sub if sub in MODULES else base, self._kind(), node.lineno))


def _all_imports() -> list[tuple[str, str, str, int]]:
    """(importer, imported, kind, line) for every import in the package."""
    out = []
    for module, path in MODULES.items():
        visitor = _Imports(module)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out += [(module, target, kind, line) for target, kind, line in visitor.found]
    return out


IMPORTS = _all_imports()
INTERNAL = [
    (src, _existing(dst), kind, line)
    for src, dst, kind, line in IMPORTS
    if dst.split(".")[0] == PKG and _existing(dst) and _existing(dst) != src
]


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _cycles(edges: list[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = collections.defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(MODULES):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_parser_sees_the_package() -> None:
    # Guards the tests below against passing because they parsed nothing.
    assert f"{PKG}._base.validation" in MODULES
    assert f"{PKG}._engine.episodes" in MODULES
    assert len(INTERNAL) > 200
    kinds = {kind for _, _, kind, _ in INTERNAL}
    assert kinds == {"top", "type_checking"}


def test_no_import_cycle_counting_lazy_and_type_checking_imports() -> None:
    cycles = _cycles([(a, b) for a, b, _, _ in INTERNAL])
    assert cycles == [], f"import cycles: {cycles}"


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    planted = [("salesstd.log", "salesstd.funnel"), ("salesstd.funnel", "salesstd.log")]
    assert _cycles(planted) == [["salesstd.funnel", "salesstd.log"]]


def test_no_salesstd_import_inside_a_function_body() -> None:
    inside = [f"{a}:{line} imports {b}" for a, b, kind, line in INTERNAL if kind == "function"]
    assert inside == []


def test_every_module_belongs_to_a_ranked_layer() -> None:
    assert sorted({_layer(m) for m in MODULES} - set(RANK)) == []


def test_layers_import_only_downward() -> None:
    upward = [
        f"{a}:{line} ({_layer(a) or 'salesstd'}) imports {b} ({_layer(b) or 'salesstd'})"
        for a, b, _, line in INTERNAL
        if _layer(a) != _layer(b) and RANK[_layer(b)] >= RANK[_layer(a)]
    ]
    assert upward == []


def test_no_module_reaches_into_another_package_private_module() -> None:
    # Package-private modules (salesstd.markov._results, ...) are imported only by their own
    # package; the base layer and the engine are shared by design.
    shared = {"_base", "_engine"}
    reach = [
        f"{a}:{line} imports {b}"
        for a, b, _, line in INTERNAL
        if "._" in b.removeprefix(f"{PKG}.") and _layer(a) != _layer(b) and _layer(b) not in shared
    ]
    assert reach == []


def test_the_base_layer_imports_only_errors_numpy_attrs_and_the_standard_library() -> None:
    stdlib = sys.stdlib_module_names
    bad = []
    for module, target, kind, line in IMPORTS:
        if _layer(module) != "_base" or (module == LAZY and kind == "type_checking"):
            continue
        top = target.split(".")[0]
        if top == PKG:
            if not (target == f"{PKG}.errors" or target.startswith(f"{PKG}._base")):
                bad.append(f"{module}:{line} imports {target}")
        elif top not in stdlib and top not in BASE_THIRD_PARTY:
            bad.append(f"{module}:{line} imports {target}")
    assert bad == []


def test_heavy_core_dependencies_are_imported_only_through_the_lazy_module() -> None:
    heavy = {"scipy", "networkx", "narwhals"}
    eager = [
        f"{module}:{line} imports {target}"
        for module, target, kind, line in IMPORTS
        if target.split(".")[0] in heavy and kind != "type_checking" and module != LAZY
    ]
    assert eager == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_about_800_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 820, f"{module} has {lines} lines; split it along its concepts"
