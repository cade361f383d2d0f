from types import SimpleNamespace

import pandas as pd
import pytest
from _benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("differential")


def _recovery(aurocs: dict, called: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "AUROC": aurocs,
            "changed called": {k: f"{v}/12" for k, v in called.items()},
            "unchanged TFs called": {k: "1/52" for k in aurocs},
            "other motifs called": {k: "3/748" for k in aurocs},
        }
    )


def test_across_designs_pairs_each_score_with_accessibility(benchmark):
    recoveries = {
        0: _recovery(
            {"accessibility": 0.90, "target_expression": 0.95},
            {"accessibility": 5, "target_expression": 7},
        ),
        3: _recovery(
            {"accessibility": 0.80, "target_expression": 0.70},
            {"accessibility": 6, "target_expression": 2},
        ),
    }
    table = benchmark.across_designs(recoveries)
    row = table.loc["target_expression"]
    assert row["AUROC per seed"] == "0.950 0.700"
    assert row["mean AUROC"] == pytest.approx(0.825)
    assert row["minus accessibility"] == pytest.approx(((0.95 - 0.90) + (0.70 - 0.80)) / 2)
    assert row["seeds higher"] == "1/2"
    assert row["changed called"] == "9/24"
    assert row["unchanged TFs called"] == "2/104"
    assert table.loc["accessibility", "minus accessibility"] == 0.0
    assert table.loc["accessibility", "changed called"] == "11/24"


def test_cell_types_short_of_replicates_are_left_out_and_said(benchmark, capsys):
    conditions = ["control", "control", "treated", "treated"]
    obs = pd.DataFrame(
        {
            "cell_type": ["A"] * 4 + ["B"] * 3,
            "condition": conditions + conditions[:3],
            "sample": ["c1", "c2", "t1", "t2", "c1", "c2", "t1"],
        }
    )
    assert benchmark.replicated_groups(SimpleNamespace(obs=obs)) == ["A"]
    assert "'B': {'control': 2, 'treated': 1}" in capsys.readouterr().out


def test_recovery_scores_the_truth_of_the_tested_cell_types_only(benchmark, tmp_path):
    truth = pd.DataFrame(
        {
            "cell_type": ["A", "A", "B"],
            "motif": ["M1", "M2", "M1"],
            "changed": [True, False, True],
            "shift": [0.5, 0.0, 0.5],
        }
    )
    truth.to_csv(tmp_path / "truth.csv", index=False)
    pd.DataFrame({"motif": ["M1", "M2"], "role": ["activator", "activator"]}).to_csv(
        tmp_path / "tfs.csv", index=False
    )
    table = pd.DataFrame(
        {
            "group": ["A", "A"],
            "source": ["M1", "M2"],
            "effect": [0.3, 0.1],
            "pvalue": [0.001, 0.5],
            "padj": [0.002, 0.5],
        }
    )
    row = benchmark.recovery({"out": tmp_path, "tables": {"accessibility": table}}).iloc[0]
    assert row["changed called"] == "1/1" and row["AUROC"] == 1.0
    assert row["unchanged TFs called"] == "0/1"
