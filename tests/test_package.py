"""The package foundation: lazy imports, settings, logging."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

import scget


def test_import_is_light():
    """``import scget`` loads none of the heavy dependencies."""
    heavy = ("torch", "MOODS", "scanpy", "muon", "sklearn", "pysam")
    code = f"import sys, scget; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""


def test_namespaces_are_reachable():
    for name in ("pp", "tl", "pl", "datasets", "motifs", "genome", "nn"):
        assert hasattr(scget, name)
    assert "pseudobulk" in dir(scget.pp)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        scget.pp.nope  # noqa: B018


def test_verbosity_sets_the_logger_level():
    before = scget.settings.verbosity
    try:
        scget.settings.verbosity = 3
        assert logging.getLogger("scget").level == logging.DEBUG
        scget.settings.verbosity = 1
        assert logging.getLogger("scget").level == logging.WARNING
    finally:
        scget.settings.verbosity = before


@pytest.mark.parametrize(
    ("name", "value"),
    [("verbosity", 7), ("device", "tpu"), ("n_jobs", 0), ("n_jobs", -3)],
)
def test_settings_reject_invalid_values(name, value):
    with pytest.raises(ValueError, match=name):
        setattr(scget.settings, name, value)


def test_resolve_device_auto_is_cpu_without_accelerator():
    torch = pytest.importorskip("torch")
    from scget._shared.utils import resolve_device

    if not torch.cuda.is_available():
        assert resolve_device("cpu").type == "cpu"
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_cli_lists_its_commands():
    result = subprocess.run(
        [sys.executable, "-m", "scget.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout and "train" in result.stdout
