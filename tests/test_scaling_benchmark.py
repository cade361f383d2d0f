import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
