"""The core knows no chat platform: nothing under `bot/` (but its `__main__`, the entry point) or `storage/`
imports aiogram, an HTTP client of a platform, the adapters (`handlers`), the start-up (`runner`) or the
simulator; and `storage/` imports nothing of `bot/`.

Checked twice: statically, over every import statement of every file (those inside functions too, and
`import_module("...")` with a literal name), and by importing every module in a fresh interpreter and
looking at what ended up loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ("aiogram", "aiohttp", "httpx", "handlers", "runner", "simulator")
FORBIDDEN = {"bot": PLATFORM, "storage": (*PLATFORM, "bot")}
EXEMPT = {ROOT / "bot" / "__main__.py"}
# Run by Alembic with a live connection, never imported on its own; its imports are still read statically.
NOT_IMPORTABLE = {ROOT / "storage" / "migrations" / "env.py"}


def _package_of(path: Path) -> list[str]:
    """The dotted package a file belongs to (for resolving `from . import x`)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1]


def imported_names(source: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, wherever it stands in the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path)[: len(_package_of(path)) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module:
                found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}".lstrip(".")) for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def violations(source: str, path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for line, name in imported_names(source, path)
        if name.split(".")[0] in forbidden
    ]


def files(layer: str) -> list[Path]:
    return sorted(p for p in (ROOT / layer).rglob("*.py") if p not in EXEMPT)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_file_of_the_layer_imports_a_platform_or_an_outer_layer(layer: str) -> None:
    found = files(layer)
    assert len(found) > 5, f"{layer}/ has too few files: the walk is looking in the wrong place"
    problems = [v for p in found for v in violations(p.read_text(encoding="utf-8"), p, FORBIDDEN[layer])]
    assert problems == []


def test_the_static_check_sees_every_way_of_importing() -> None:
    """A check that cannot fail proves nothing: each of these sneaks a platform into the core."""
    path = ROOT / "bot" / "figures" / "sample.py"
    sneaky = {
        "import aiogram.types\n": "aiogram.types",
        "from aiogram import Bot\n": "aiogram",
        "def f():\n    from handlers.telegram import keyboards\n": "handlers.telegram",
        "async def g():\n    import runner.app as a\n": "runner.app",
        "import importlib\nimportlib.import_module('simulator.demo')\n": "simulator.demo",
        "from ... import handlers\n": "handlers",
    }
    for source, module in sneaky.items():
        assert violations(source, path, PLATFORM), source
        assert any(name.startswith(module.split(".")[0]) for _, name in imported_names(source, path))
    assert violations("from .. import cards\nimport sqlalchemy\n", path, PLATFORM) == []
    assert violations("from bot import cards\n", ROOT / "storage" / "db.py", FORBIDDEN["storage"])


LOADER = """
import importlib, importlib.util, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
for spec in json.loads(sys.argv[2]):
    if spec["module"]:
        importlib.import_module(spec["module"])
    else:
        path = root / spec["path"]
        loaded = importlib.util.spec_from_file_location(path.stem, path)
        loaded.loader.exec_module(importlib.util.module_from_spec(loaded))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _importable(layer: str) -> list[dict[str, str | None]]:
    """Every file of the layer as something to import: by module name inside packages, else by path."""
    specs: list[dict[str, str | None]] = []
    for path in files(layer):
        if path in NOT_IMPORTABLE:
            continue
        relative = path.relative_to(ROOT)
        parts = list(relative.with_suffix("").parts)
        in_package = all((ROOT.joinpath(*parts[:n]) / "__init__.py").exists() for n in range(1, len(parts)))
        if parts[-1] == "__init__":
            parts.pop()
        specs.append({"module": ".".join(parts) if in_package else None, "path": str(relative)})
    return specs


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_importing_every_module_of_the_layer_loads_no_platform(layer: str) -> None:
    specs = _importable(layer)
    assert len(specs) > 5
    done = subprocess.run([sys.executable, "-c", LOADER, str(ROOT), json.dumps(specs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert layer in loaded
    assert loaded & set(FORBIDDEN[layer]) == set()
