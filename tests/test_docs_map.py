"""docs/architecture.md's map from each public name to its file stays true."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import scget

ROOT = Path(scget.__file__).parent
MAP = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()


def _mapped() -> dict[tuple[str, str], str]:
    """(namespace, name) -> file, as the page lists them."""
    found = {}
    sections = re.split(r"^\*\*`scget\.(\w+)`\*\*$", MAP, flags=re.M)
    for namespace, body in zip(sections[1::2], sections[2::2], strict=True):
        for names, file in re.findall(r"^\| (`[^|]+`) \| `([^`]+)` \|$", body, re.M):
            for name in re.findall(r"`(\w+)`", names):
                found[(namespace, name)] = file
    return found


def _defined() -> dict[tuple[str, str], str]:
    """(namespace, name) -> file, as the code defines them (exports with a source)."""
    found = {}
    for namespace in ("pp", "tl", "get", "pl", "datasets", "motifs", "genome", "nn"):
        module = getattr(scget, namespace)
        for name in module.__all__:
            obj = inspect.unwrap(getattr(module, name))
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found[(namespace, name)] = Path(inspect.getsourcefile(obj)).relative_to(ROOT)
    return {key: str(path) for key, path in found.items()}


def test_every_public_name_is_mapped_to_the_file_that_defines_it():
    mapped, defined = _mapped(), _defined()
    assert len(mapped) > 80
    wrong = {
        key: (mapped.get(key), file) for key, file in defined.items() if mapped.get(key) != file
    }
    assert not wrong, f"(namespace, name): (page, code) {wrong}"
    assert set(mapped) <= set(defined), set(mapped) - set(defined)
