import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "gpu_check.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_check_cpu_half_runs_every_step(tmp_path):
    """The CPU half of the GPU check script runs all its steps and logs their figures."""
    subprocess.run(["bash", str(SCRIPT), "--cpu", "--out", str(tmp_path)], check=True, timeout=900)
    log = (tmp_path / "gpu_check.log").read_text()
    summary = log.split("=== summary (cpu) ===")[1].strip().splitlines()
    assert len(summary) == 7
    assert all(": ok in " in line for line in summary), summary
    assert re.search(r"tiny\s+fp32\s+[\d,]+\s+[\d.]+\s+[\d.]+", log)
    assert re.search(r"predict tss_windows=tiled: \d+ windows in", log)
    assert re.search(r"gene_by_motif: \d+ promoter windows", log)
    assert re.search(r"insert: \d+ elements \(control included\) x \d+ sites", log)
    assert (tmp_path / "torchrun_ckpt").is_dir()
