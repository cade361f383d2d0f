from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import scget


def _history(valid=True, shift=0.0):
    epochs = np.arange(6)
    table = pd.DataFrame({"epoch": epochs, "train_loss": 1.0 / (epochs + 1) + shift})
    if valid:
        table["valid_loss"] = [1.0, 0.6, 0.4, 0.3, 0.35, 0.5]
    return table


def test_history_draws_both_curves_on_log_axis_and_marks_best_epoch(tmp_path):
    path = tmp_path / "history.png"
    model = SimpleNamespace(history=_history())
    fig = scget.pl.history(model, return_fig=True, save=path)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["train", "valid"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), model.history["valid_loss"])
    assert ax.get_lines()[2].get_xdata()[0] == 3  # best validation epoch
    assert path.stat().st_size > 0
    plt.close(fig)


def test_history_negative_loss_falls_back_to_linear_and_uses_given_axes():
    fig, ax = plt.subplots()
    assert scget.pl.history(_history(valid=False, shift=-0.5), ax=ax) is None
    assert ax.get_yscale() == "linear"
    assert [line.get_label() for line in ax.get_lines()] == ["train"]
    plt.close(fig)


def test_history_rejects_bad_input():
    with pytest.raises(ValueError, match="GETModel or a DataFrame"):
        scget.pl.history([1, 2, 3])
    with pytest.raises(ValueError, match="train_loss"):
        scget.pl.history(pd.DataFrame({"epoch": [0]}))


def test_show_false_closes_a_new_figure_after_saving_it(tmp_path, monkeypatch):
    model = SimpleNamespace(history=_history())
    before = set(plt.get_fignums())
    assert scget.pl.history(model, save=tmp_path / "h.png", show=False) is None
    assert set(plt.get_fignums()) == before  # saved, then closed: a notebook shows nothing
    assert (tmp_path / "h.png").stat().st_size > 0
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    fig = scget.pl.history(model, show=True, return_fig=True)
    assert shown == [True] and fig.number in plt.get_fignums()
    plt.close(fig)
