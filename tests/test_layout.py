"""The code's layout rules (issue 10): modules of a readable size, no import cycle inside an app,
and mlmodel independent of Django and of the site. Read from the source, without importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("classifier", "mlmodel", "cassandra_node", "fashionsite")
MAX_LINES = 400


def modules(app: str) -> dict[str, Path]:
    """Every module of the app by dotted name (a package by its own name)."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules `name` imports, anywhere in it: at the top, under TYPE_CHECKING or in a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from package import module` imports the module
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target, [*trail, target])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


@pytest.mark.parametrize("app", APPS)
def test_no_module_is_over_400_lines(app):
    too_long = {
        name: lines
        for name, path in modules(app).items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


@pytest.mark.parametrize("app", APPS)
def test_no_import_cycle_inside_an_app(app):
    known = modules(app)
    graph = {name: imports(name, path, known) & set(known) for name, path in known.items()}
    assert cycle(graph) is None


def test_the_cycle_finder_finds_guarded_and_in_function_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycle(graph) == ["a", "b", "c", "a"]
    source = "if TYPE_CHECKING:\n    from . import b\n\ndef f():\n    from .c import x\n"
    (tmp_path / "a.py").write_text(source)
    known = {"pkg.a": tmp_path / "a.py", "pkg.b": Path("b.py"), "pkg.c": Path("c.py")}
    assert imports("pkg.a", tmp_path / "a.py", known) >= {"pkg.b", "pkg.c"}


def test_mlmodel_imports_neither_django_nor_the_site():
    known = modules("mlmodel")
    outside = {
        name: sorted(
            target
            for target in imports(name, path, known)
            if target.split(".")[0] in {"django", "classifier"}
        )
        for name, path in known.items()
    }
    assert {name: targets for name, targets in outside.items() if targets} == {}
