"""docs/architecture.md as a test: the import rules between the floors of the package.

- ``scget.pl`` never imports ``scget.tl`` (plots read stored results through ``scget.get``);
- ``scget.tl._core`` imports no wing of ``tl``, and the wings (``_training``,
  ``_evaluation``, ``_interpret``, ``_perturb``, ``_networks``) do not import each other;
- no name with a leading underscore is imported from another package;
- nothing imports the package ``__init__`` (``import scget``, ``from scget import x``)
  but its namespaces;
- the ground floor, ``scget._shared``, imports nothing of scget above it; the motif scan,
  ``scget._scan``, only the ground floor, the motif collections and the genome;
- scget's own modules are imported at module top (``FUNCTION_IMPORTS`` lists the
  exceptions with their reasons), and the entry points that read, plot or prepare data
  (``LIGHT_ENTRY_POINTS``) load no torch nor other ``HEAVY`` package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
NAMESPACES = {"pp", "tl", "get", "pl", "datasets", "motifs", "genome", "nn"}


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted name of the module at ``path`` (under ``SRC``), and whether it is a package."""
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports(module: str, is_package: bool, source: str) -> list[tuple[str, list[str]]]:
    """``(imported module, names)`` of every import of scget in ``source``, resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "scget"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "scget":
                found.append((target, [a.name for a in node.names]))
    return found


#: What each floor below the namespaces may import (first two levels of a module name).
FLOORS = {
    "scget._shared": {"scget._shared"},
    "scget._scan": {"scget._shared", "scget._scan", "scget.motifs", "scget.genome"},
}


def _package(module: str) -> str:
    """The first level below scget (``"pp"``, ``"tl"``...), ``""`` for the shared modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else ""


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "tl" and parts[2].startswith("_") else None


def broken_rules(module: str, is_package: bool, source: str) -> list[str]:
    """The rules ``source`` (the module ``module``) breaks, one line each."""
    broken = []
    for target, names in imports(module, is_package, source):
        if target == "scget" and (not names or set(names) - NAMESPACES):
            broken.append(f"{module} imports the package __init__ ({names or 'import scget'})")
        if module.startswith("scget.pl") and target.startswith("scget.tl"):
            broken.append(f"{module} (pl) imports {target} (tl)")
        wing, other = _wing(module), _wing(target + ".x")
        if wing == "_core" and other not in (None, "_core"):
            broken.append(f"{module} (tl._core) imports the wing {target}")
        if wing not in (None, "_core") and other not in (None, "_core", wing):
            broken.append(f"{module} (wing {wing}) imports the wing {target}")
        floor = ".".join(module.split(".")[:2])
        if floor in FLOORS and ".".join(target.split(".")[:2]) not in FLOORS[floor]:
            broken.append(f"{module} (floor {floor}) imports {target}")
        if _package(module) != _package(target + ".x"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                broken.append(f"{module} imports private {private} from {target}")
    return broken


def test_the_package_keeps_its_import_rules():
    broken = []
    for path in sorted((SRC / "scget").rglob("*.py")):
        module, is_package = module_name(path)
        broken += broken_rules(module, is_package, path.read_text())
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("scget.tl._core._model", "from ... import __version__", "package __init__"),
        ("scget.cli", "import scget", "package __init__"),
        ("scget.pl._tracks", "from ..tl._core._engine import forward", "(pl) imports"),
        ("scget.tl._core._predict", "from .._interpret import _knockout", "(tl._core)"),
        (
            "scget.tl._perturb._insert_elements",
            "from .._training._train import fit",
            "(wing _perturb)",
        ),
        ("scget.tl._perturb._variant_effect", "from ...pp._scan_motifs import _scan", "private"),
        ("scget._shared.storage", "from ..tl._core._model import GETModel", "floor scget._shared"),
        ("scget._scan.moods", "from ..pp._scan_motifs import normalise", "floor scget._scan"),
    ],
)
def test_each_rule_fails_when_broken(module, source, rule):
    broken = broken_rules(module, False, source)
    assert len(broken) == 1 and rule in broken[0]


def test_allowed_imports_pass():
    allowed = [
        ("scget._cli.demo", "from . import datasets, pp, tl"),
        ("scget.tl._perturb._insert_elements", "from .._core._prior import model_inputs"),
        ("scget.tl._perturb._change", "from ._unmatched import _helper"),  # same package
        ("scget.pl._gene_by_motif", "from .._scan.record import read_scan_record"),
    ]
    for module, source in allowed:
        assert broken_rules(module, False, source) == []


#: Modules that may import scget modules inside a function, and why.
FUNCTION_IMPORTS = {
    "scget._shared.logging": "utils imports threads, which imports logging: a cycle at module top",
    "scget._cli.demo": "`scget --help` imports it: pandas and scipy load when the demo runs",
    "scget.tl._training._cli": "`scget --help` imports it: torch loads when training runs",
    "scget.tl._networks._motif_network": "a light entry point on stored attributions: "
    'torch loads when method="interaction" runs the model',
}


def function_imports(module: str, is_package: bool, source: str) -> list[str]:
    """The scget modules that functions in ``source`` import, one line each."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            body = ast.Module(body=function.body, type_ignores=[])
            found += [
                f"{module}.{function.name} imports {target}"
                for target, _ in imports(module, is_package, ast.unparse(body))
            ]
    return found


def test_scget_modules_are_imported_at_module_top():
    found = []
    for path in sorted((SRC / "scget").rglob("*.py")):
        module, is_package = module_name(path)
        if module not in FUNCTION_IMPORTS:
            found += function_imports(module, is_package, path.read_text())
    assert not found, "\n".join(found)


def test_a_function_import_is_found():
    source = "def f():\n    if True:\n        from .._core._model import GETModel\n"
    assert function_imports("scget.tl._perturb._change", False, source) == [
        "scget.tl._perturb._change.f imports scget.tl._core._model"
    ]
    assert function_imports("scget.pl._x", False, "def f():\n    import numpy\n") == []


#: Packages that take a second or more to import, or that single options need.
HEAVY = ("torch", "scanpy", "muon", "sklearn", "statsmodels", "gseapy", "logomaker")

#: Entry points that load none of ``HEAVY`` (torch alone takes 1.3 s): every function of
#: these namespaces, the tl functions on stored results, and ``scget --help``.
LIGHT_ENTRY_POINTS = {
    "pp": "*",
    "get": "*",
    "pl": "*",
    "datasets": "*",
    "motifs": "*",
    "genome": "*",
    "tl": (
        "evaluate",
        "motif_network",
        "regulator_catalogue",
        "regulator_targets",
        "enrichment",
        "differential_regulation",
        "export_enhancer_gene",
    ),
}


def test_readers_plots_and_data_functions_load_no_heavy_package():
    code = f"""
import contextlib, io, sys, scget
from scget import cli
for name, functions in {LIGHT_ENTRY_POINTS!r}.items():
    namespace = getattr(scget, name)
    for function in namespace.__all__ if functions == "*" else functions:
        getattr(namespace, function)
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    cli.main(["--help"])
print(sorted(set({HEAVY!r}).intersection(sys.modules)))
"""
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
