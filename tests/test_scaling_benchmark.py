import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from _benchmark_scripts import load_benchmark

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "scaling.py"
STEPS = [
    "simulate",
    "write cells .h5mu*",
    "read cells .h5mu*",
    "pseudobulk",
    "scan_motifs",
    "annotate_tss",
    "pretrain",
    "finetune",
    "predict",
    "evaluate",
    "write outputs",
    "gene_by_motif*",
]


@pytest.mark.slow
def test_scaling_runs_every_step_and_reports_growth(tmp_path):
    """Two tiny sizes differing in the genes: every step measured, training per epoch, growth."""
    out = tmp_path / "scaling.csv"
    command = [sys.executable, str(SCRIPT), "--sizes", "tiny", "tiny:n_genes=300,n_peaks=1000"]
    command += ["--epochs", "1", "--gbm-genes", "10", "--workdir", str(tmp_path), "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    with open(out) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["step"] for r in rows] == STEPS * 2
    for row in rows:
        assert float(row["seconds"]) > 0
        assert float(row["peak_mib"]) >= float(row["rss_before_mib"]) > 0
    training = [r for r in rows if r["step"] in ("pretrain", "finetune")]
    assert all(int(r["train_windows"]) > 0 and float(r["seconds_per_epoch"]) > 0 for r in training)
    assert float(rows[STEPS.index("scan_motifs")]["workers_peak_mib"]) >= 0
    assert "genes: 200 -> 300" in done.stdout
    # the saved results print the same tables again
    merged = subprocess.run(
        [sys.executable, str(SCRIPT), "--merge", str(out.with_suffix(".json"))],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "genes: 200 -> 300" in merged.stdout
    assert len(json.loads(out.with_suffix(".json").read_text())) == 2


def _load_script(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # it imports benchmarks/simulate.py
    return load_benchmark("scaling")


def _result(label: str, spec: dict, n_peaks: int, seconds: float) -> dict:
    facts = {"n_groups": spec["n_cell_types"], "n_peaks": n_peaks}
    return {
        "label": label,
        "spec": spec,
        "facts": facts,
        "rows": [{"step": "scan_motifs", "seconds": seconds}],
    }


def test_peaks_variant_pairs_with_its_base_and_uses_the_realised_peaks(monkeypatch):
    """A peaks variant with a larger genome pairs with its base; k from the peaks simulated."""
    scaling = _load_script(monkeypatch)
    base = {"n_cells": 100, "n_cell_types": 4, "n_genes": 200, "n_peaks": 1000}
    assert (
        scaling.SIZES["small-peaks"]["genome_size"] == 2 * 7_500 * scaling.SIZES["small"]["n_genes"]
    )
    variant = {**base, "n_peaks": 2000, "genome_size": 3_000_000}
    # 1,000 -> 1,600 peaks realised, time x1.6: exponent 1 (it would be 0.68 against 2,000)
    table = scaling.growth_table(
        [_result("base", base, 1000, 10.0), _result("variant", variant, 1600, 16.0)]
    )
    assert "peaks: 1,000 -> 1,600 (base -> variant)" in table
    row = next(line for line in table.splitlines() if line.startswith("| scan_motifs"))
    assert row.split("|")[2].strip().startswith("1.00")
