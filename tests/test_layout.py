"""The package's rooms follow the data flow: a module imports only from its own stage or from stages below it, and
no modules import each other in a circle. Imports are read from the source (every ``import`` statement, also those
inside functions and under ``TYPE_CHECKING``), so an import added anywhere is held to the same rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kg"

STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("kg", "kg.settings", "kg.namespaces", "kg.errors", "kg.report", "kg.lru", "kg.metrics")),
    ("rdf", ("kg.rdf",)),
    ("queries", ("kg.queries",)),
    ("store", ("kg.store",)),
    ("curation", ("kg.curation",)),
    ("execution", ("kg.execution",)),
    ("graphql", ("kg.graphql",)),
    ("trapi", ("kg.trapi",)),
    ("web", ("kg.web",)),
    ("entry", ("kg.app", "kg.cli", "kg.__main__")),
]
"""Lowest first: ``ontology/*.ttl -> rdf (read, write) -> queries -> store -> curation (validate, derive, format,
release) -> execution (running clients' queries) -> graphql -> web (HTTP) -> the app and the command``."""


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> int:
    """The index of the stage a module belongs to: the longest matching entry wins (``kg.web.pages`` is web)."""
    best: tuple[int, int] | None = None
    for index, (_, members) in enumerate(STAGES):
        for member in members:
            inside = module == member or (member != "kg" and module.startswith(member + "."))
            if inside and (best is None or len(member) > best[1]):
                best = (index, len(member))
    if best is None:
        raise LookupError(f"module {module} is in no stage of tests/test_layout.py; give it a room")
    return best[0]


def imports_of(path: Path, module: str, modules: set[str]) -> list[tuple[str, int]]:
    """The kg modules ``path`` imports, with the line of each import: ``from kg.web import openapi`` imports the
    module kg.web.openapi, ``from kg.namespaces import KGR`` the module kg.namespaces."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in modules else base, node.lineno))
    return [(name, line) for name, line in found if name in modules and name != module]


def graph(root: Path = PACKAGE) -> dict[str, list[tuple[str, int, Path]]]:
    """Every module of the package and the modules of the package it imports."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    return {
        name: [(target, line, path) for target, line in imports_of(path, name, set(modules))]
        for name, path in modules.items()
    }


def violations(edges: dict[str, list[tuple[str, int, Path]]]) -> list[str]:
    found = []
    for module, targets in edges.items():
        for target, line, path in targets:
            if stage_of(target) > stage_of(module):
                low, high = STAGES[stage_of(module)][0], STAGES[stage_of(target)][0]
                found.append(f"{path}:{line}: {module} ({low}) imports {target} ({high}), a later stage")
    return sorted(found)


def circles(edges: dict[str, list[tuple[str, int, Path]]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _, _ in edges.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_module_has_a_stage() -> None:
    for module in graph():
        stage_of(module)  # raises, naming the module, when it has no room


def test_no_import_runs_against_the_flow() -> None:
    assert violations(graph()) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(graph()) == []


def test_the_rules_catch_a_backward_import_and_a_circle(tmp_path: Path) -> None:
    """The checks can fail: a store module that imports the web face, and two modules that import each other."""
    root = tmp_path / "kg"
    for folder in ("store", "web"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "store" / "backends.py").write_text("def f():\n    from kg.web import sparql\n")
    (root / "web" / "sparql.py").write_text("from kg.web.fastpath import x\n")
    (root / "web" / "fastpath.py").write_text("from . import sparql\n")
    edges = graph(root)
    assert violations(edges) == [
        f"{root / 'store' / 'backends.py'}:2: kg.store.backends (store) imports kg.web.sparql (web), a later stage"
    ]
    assert circles(edges) == [["kg.web.fastpath", "kg.web.sparql"]]


def test_a_module_outside_every_stage_is_named() -> None:
    with pytest.raises(LookupError, match=r"kg\.plugins\.extra is in no stage"):
        stage_of("kg.plugins.extra")
