"""``scget demo``: the whole pipeline, at its smallest size."""

from __future__ import annotations

from pathlib import Path

import mudata
import pytest

import scget
from scget.cli import main
from scget.tl._evaluation._evaluate import SETTING_METHODS


@pytest.mark.slow
def test_tiny_demo_writes_its_outputs(tmp_path):
    assert main(["-v", "1", "demo", "--size", "tiny", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    for method in (
        "GET",
        "TSS accessibility",
        "mean + TSS accessibility change",
        "linear regression",
        "MLP",
    ):
        assert f"| {method}" in report
    assert "centred_r" in report
    # the headline setting first, a verdict for each, R^2 explained, per group collapsed
    verdicts = report[report.index("## Verdict") : report.index("## How to read")]
    assert verdicts.index("**held-out group**") < verdicts.index("**held-out chromosome**")
    assert verdicts.count("GET ranks") == 3
    assert "judge them by r" in report and "<details>" in report
    pb = mudata.read_h5mu(tmp_path / "pseudobulk.h5mu")
    assert "get_pred" in pb["rna"].layers
    assert set(scget.get.result(pb, "evaluation")["method"]) >= {"GET", "random forest"}
    # the model for new groups is scored on the held-out group's methods only
    new_groups = scget.get.result(pb, "evaluation_new_groups")
    assert set(new_groups["method"]) == set(SETTING_METHODS["held-out group"])
    assert "random forest" not in set(new_groups["method"])
    held_out = new_groups[new_groups["setting"] == "held-out group"]
    in_report = report.split("<details>", 1)[0]  # the summary, before the per-group table
    for pearson in held_out.groupby("method")["pearson"].mean().round(3):
        assert f"{pearson:.3f}" in in_report
    assert (tmp_path / "model" / "config.json").is_file()
    assert Path(scget.get.params(pb, "motifs")["genome"]).is_file()  # not the staging folder


def test_non_empty_out_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "report.md").write_text("old report")
    assert main(["demo", "--size", "tiny", "--out", str(tmp_path), "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "is not empty; pass --overwrite" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    assert (tmp_path / "report.md").read_text() == "old report"


def test_a_failing_demo_leaves_out_as_it_was(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise ValueError("no pseudobulk today")

    (tmp_path / "report.md").write_text("old report")
    monkeypatch.setattr(scget.pp, "pseudobulk", fail)
    argv = ["demo", "--size", "tiny", "--out", str(tmp_path), "--overwrite"]
    assert main(argv) == 2
    assert "no pseudobulk today" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    assert not list(tmp_path.parent.glob(f".{tmp_path.name}.*"))  # no staging folder left


def test_help_reads_as_plain_text(capsys):
    import re

    from scget.cli import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    subcommands = parser._subparsers._group_actions[0].choices.values()
    texts += [sub.format_help() for sub in subcommands]
    for text in texts:
        assert not re.search(r"``|:func:|:class:|:mod:|:meth:", text), text
