"""The package's layering: no import cycles (imports inside functions included), and the
fitted-state list in a module that imports nothing of fastnn."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "fastnn"


def _imports_of_fastnn():
    """module name -> the fastnn modules it imports, anywhere in the file."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = "fastnn" if path.stem == "__init__" else f"fastnn.{path.stem}"
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "fastnn"}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fastnn"):
                if node.module == "fastnn":  # from fastnn import _core, _engine
                    found |= {f"fastnn.{a.name}" for a in node.names}
                else:
                    found.add(node.module)
        graph[name] = found - {name}
    return graph


def test_no_module_of_the_package_imports_back_into_what_imports_it():
    graph = _imports_of_fastnn()
    assert len(graph) >= 10

    def reaches(start, target, seen):
        for nxt in graph.get(start, ()):
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    # The package itself imports its modules; none of them may import the package back.
    cycles = [m for m in graph if m != "fastnn" and reaches(m, m, {m})]
    assert not cycles, {m: sorted(graph[m]) for m in cycles}
    assert not [m for m in graph if m != "fastnn" and "fastnn" in graph[m]]


def test_the_fitted_state_list_imports_nothing_of_fastnn():
    assert _imports_of_fastnn()["fastnn._fitted_state"] == set()


def test_estimators_hand_fits_to_the_engine():
    graph = _imports_of_fastnn()
    assert "fastnn._engine" in graph["fastnn._mlp"]
    assert "fastnn._mlp" not in graph["fastnn._engine"] | graph["fastnn._spec"]
    assert len((PACKAGE / "_mlp.py").read_text().splitlines()) <= 600
