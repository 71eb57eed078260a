"""The layer rules drawn in docs/ARCHITECTURE.md, checked on the source."""

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
                 if "infrastructure" not in p.parts and p.name not in ("bootstrap.py", "daemon_app.py")
                 and any(n.startswith("v2m.infrastructure") for n in imports_of(p))]
    assert offenders == []


def allowed(layer: str, *inner: str, extra: tuple[str, ...] = ()) -> None:
    """Modules of `layer` import only the stdlib, `extra` packages and the v2m packages `inner`."""
    for path in modules(layer):
        for name in imports_of(path):
            top = name.split(".")[0]
            ok = (name == "v2m" or name.startswith(tuple(f"v2m.{p}" for p in inner)) if top == "v2m"
                  else top in sys.stdlib_module_names or top in extra)
            assert ok, f"{path.relative_to(SRC)} imports {name}"


def test_config_imports_only_domain_and_itself():
    allowed("config", "domain", "config", extra=("tomlkit",))


def test_ipc_imports_only_domain_config_the_commands_and_itself():
    # The client path runs on every key press: standard library only. The edge
    # builds the application's typed commands, and needs nothing else of it.
    allowed("ipc", "domain", "config", "ipc", "application.commands")


def test_cli_reaches_the_daemon_only_through_ipc_and_the_bootstrap():
    allowed("cli", "domain", "config", "ipc", "cli", "application", "daemon", "bootstrap", "__init__",
            extra=("click",))


def test_the_layers_exist():
    for layer in ("domain", "application", "infrastructure", "config", "ipc", "cli"):
        assert (SRC / layer / "__init__.py").exists()
