"""``scget demo``: the whole pipeline, at its smallest size."""

from __future__ import annotations

import mudata
import pytest

import scget
from scget.cli import main


@pytest.mark.slow
def test_tiny_demo_writes_its_outputs(tmp_path):
    assert main(["-v", "1", "demo", "--size", "tiny", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    for method in ("GET", "TSS accessibility", "linear regression", "MLP"):
        assert f"| {method}" in report
    pb = mudata.read_h5mu(tmp_path / "pseudobulk.h5mu")
    assert "get_pred" in pb["rna"].layers
    assert set(scget.get.result(pb, "evaluation")["method"]) >= {"GET", "random forest"}
    assert (tmp_path / "model" / "config.json").is_file()
