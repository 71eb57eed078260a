"""The hexagonal rules of DESIGN.md, checked on the source."""

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "v2m"


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def modules(layer: str):
    return sorted((SRC / layer).rglob("*.py"))


def test_domain_imports_only_stdlib_and_itself():
    for path in modules("domain"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert name.startswith("v2m.domain") or (top != "v2m" and top in sys.stdlib_module_names), \
                f"{path.name} imports {name}"


def test_application_imports_only_domain():
    for path in modules("application"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert name.startswith(("v2m.domain", "v2m.application")) or \
                (top != "v2m" and top in sys.stdlib_module_names), f"{path.name} imports {name}"


def test_only_the_composition_root_imports_infrastructure():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if "infrastructure" not in p.parts and p.name != "daemon.py"
                 and any(n.startswith("v2m.infrastructure") for n in imports_of(p))]
    assert offenders == []


def test_the_layers_exist():
    for layer in ("domain", "application", "infrastructure", "core", "cli"):
        assert (SRC / layer / "__init__.py").exists()
