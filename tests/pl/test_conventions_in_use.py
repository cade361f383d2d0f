"""Conventions checked by calling: every plot honours scanpy's figure options, and every
parameter naming groups takes a string as it takes a list (tests/test_conventions.py
checks the signatures)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from _evaluation_pb import make_evaluation_pb
from _replicates import replicate_pb
from conftest import plotted_pb
from matplotlib.figure import Figure

import scget

HISTORY = SimpleNamespace(history=pd.DataFrame({"epoch": [0, 1, 2], "train_loss": [1.0, 0.5, 0.4]}))

#: Group names of several characters, so that a string read as a list of its characters
#: cannot pass for a list of one name.
A, B, D = "type_A", "type_B", "type_D"

#: The data and the least arguments of each plot: every plot of scget.pl is here.
PLOTS = {
    "differential_regulation": ("replicated", {"group": A}),
    "enrichment": ("plotted", {"motif": "M0"}),
    "evaluation": ("evaluated", {}),
    "gene_by_motif": ("plotted", {"n_top": 4}),
    "history": ("history", {}),
    "motif_importance": ("plotted", {"gene": "G3", "group": A}),
    "motif_network": ("plotted", {"group": A}),
    "perturbation": ("plotted", {"key": "knockout_motifs", "group": B}),
    "prediction": ("evaluated", {"group": D}),
    "regulatory_embedding": ("plotted", {"n_neighbors": 10}),
    "tracks": ("plotted", {"gene": "G5", "flank": 40_000, "groups": A}),
}

#: Readers and steps taking groups, with the least arguments besides the group(s).
GROUP_CALLS = [
    ("get.evaluated_genes", "evaluated", {"group": D}),
    ("get.gene_by_motif", "plotted", {"group": A}),
    ("get.region_importance", "plotted", {"group": A}),
    ("get.enhancer_gene", "plotted", {"group": A}),
    ("get.enrichment", "plotted", {"group": A}),
    ("get.motif_network", "plotted", {"group": A}),
    ("get.regulator_catalogue", "plotted", {"group": A}),
    ("get.regulator_targets", "plotted", {"group": A}),
    ("get.differential_regulation", "replicated", {"group": A}),
    ("tl.motif_network", "plotted", {"groups": A, "method": "spearman", "n_bootstraps": 2}),
    ("tl.regulator_targets", "plotted", {"motif": "M0", "groups": A}),
    ("tl.differential_regulation", "replicated", {"condition": "condition", "groups": A}),
]


@pytest.fixture(scope="module")
def data():
    """The stored results every plot and reader needs (fresh copies per call)."""
    plotted = plotted_pb(groups=(A, B, "type_C"))
    scget.tl.motif_network(plotted, method="spearman", n_bootstraps=2)
    scget.tl.regulator_catalogue(plotted)
    scget.tl.regulator_targets(plotted, "M0")
    evaluated = make_evaluation_pb()
    for modality in evaluated.mod.values():
        modality.obs_names = [f"type_{name}" for name in modality.obs_names]
    evaluated.update()
    split = {"test_chromosomes": ["chr3"], "leave_out_groups": [D]}
    scget.tl.evaluate(evaluated, split=split, methods=["GET", "TSS accessibility"])
    replicated = replicate_pb(cell_types=(A, B))
    scget.tl.differential_regulation(replicated, "condition", n_targets=10)
    stored = {"plotted": plotted, "evaluated": evaluated, "replicated": replicated}
    return lambda name: HISTORY if name == "history" else stored[name].copy()


def _drawn(ax) -> bool:
    """Whether anything was drawn on ``ax`` or on panels inside it."""
    return ax.has_data() or bool(ax.images or ax.texts or ax.child_axes)


def test_every_plot_has_its_call_here():
    assert sorted(PLOTS) == sorted(scget.pl.__all__)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_honours_ax_return_fig_save_and_show(name, data, tmp_path, monkeypatch):
    plot = getattr(scget.pl, name)
    source, arguments = PLOTS[name]
    pb = data(source)
    plt.close("all")

    fig, ax = plt.subplots()
    assert plot(pb, ax=ax, **arguments) is None
    assert plt.get_fignums() == [fig.number] and _drawn(ax), "ax: draws there, no new figure"
    assert plot(pb, ax=ax, return_fig=True, **arguments) is fig
    plt.close("all")

    returned = plot(pb, return_fig=True, **arguments)
    assert isinstance(returned, Figure) and plt.get_fignums() == [returned.number]
    plt.close("all")

    path = tmp_path / f"{name}.png"
    assert plot(pb, save=path, show=False, **arguments) is None
    assert path.stat().st_size > 0, "save: the figure is written"
    assert plt.get_fignums() == [], "show=False: the new figure is closed"

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    plot(pb, show=True, **arguments)
    assert shown == [True], "show=True: pyplot.show is called"


def _parameters(name: str) -> set[str]:
    return set(inspect.signature(getattr(scget.pl, name)).parameters)


@pytest.mark.parametrize("name", [n for n in sorted(PLOTS) if {"group", "groups"} & _parameters(n)])
def test_every_plot_takes_its_groups_as_a_string_or_a_list(name, data):
    source, arguments = PLOTS[name]
    parameters = _parameters(name)
    pb = data(source)
    names = {key: value for key, value in arguments.items() if key in ("group", "groups")}
    if not names:  # a plot of every group by default: name the first
        key = "groups" if "groups" in parameters else "group"
        names = {key: str(pb.obs_names[0])}
    listed = {key: [value] for key, value in names.items()}
    one = getattr(scget.pl, name)(pb, return_fig=True, **{**arguments, **names})
    other = getattr(scget.pl, name)(pb, return_fig=True, **{**arguments, **listed})
    assert _artists(one) == _artists(other)


def _artists(fig) -> list:
    """What a figure shows, enough to tell two drawings apart."""
    axes = [*fig.axes, *(child for ax in fig.axes for child in ax.child_axes)]
    return [
        (ax.get_title(), len(ax.get_children()), [t.get_text() for t in ax.get_xticklabels()])
        for ax in axes
    ]


@pytest.mark.parametrize(("name", "source", "arguments"), GROUP_CALLS, ids=lambda v: str(v))
def test_a_group_as_a_string_reads_as_a_list_of_it(name, source, arguments, data):
    namespace, function = name.split(".")
    call = getattr(getattr(scget, namespace), function)
    key = "group" if "group" in arguments else "groups"
    as_string = call(data(source), **arguments)
    as_list = call(data(source), **{**arguments, key: [arguments[key]]})
    pd.testing.assert_frame_equal(as_string, as_list)
    assert len(as_string)
    if "group" in as_string:  # a long table of groups, else one group's table
        assert set(as_string["group"].astype(str)) == {arguments[key]}
