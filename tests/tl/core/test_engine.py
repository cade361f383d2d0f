import numpy as np
import pytest
import torch
from _planted import planted_pb
from _ports import free_port

import scget
from scget.tl._core._engine import (
    PROMOTER_COLUMNS,
    attribute,
    forward,
    on_device,
    promoter_windows,
)
from scget.tl._core._predict import _region_windows, _tss_peaks
from scget.tl._core._prior import model_inputs
from scget.tl._core._windows import WindowDataset, make_windows, region_context

CPU = torch.device("cpu")


def _context(item: dict) -> dict:
    """The network's keyword inputs of one dataset item, as a batch of one."""
    return {key: value[None] for key, value in region_context(item).items()}


def _single_window_outputs(network, inputs, windows, window_size):
    """The network on one window at a time: the plain reference of the engine."""
    dataset = WindowDataset(inputs, windows, window_size)
    with torch.no_grad():
        return np.stack(
            [
                network(item["x"][None], **_context(item)).expression[0].numpy()
                for item in (dataset[i] for i in range(len(dataset)))
            ]
        )


@pytest.mark.parametrize("tss_windows", ["centred", "tiled"])
def test_predict_equals_the_network_run_window_by_window(pb, trained, tss_windows):
    """predict on the engine gives, bit for bit, the network's output on each window."""
    scget.tl.predict(pb, trained, device="cpu", batch_size=1, tss_windows=tss_windows)
    inputs = model_inputs(pb, trained)
    _, is_tss = _tss_peaks(pb, rna="rna", atac="atac")
    network = trained.network.eval()
    for number, group in enumerate(inputs.groups):
        starts, lengths = _region_windows(group, is_tss, trained.window_size, tss_windows)
        windows = np.column_stack([np.full(len(starts), number), starts, lengths])
        expected = _single_window_outputs(network, inputs, windows, trained.window_size)
        expected = expected[np.arange(len(starts)), np.arange(len(group.peaks)) - starts]
        np.testing.assert_array_equal(
            pb["atac"].layers["get_plus"][number, group.peaks], expected[:, 0]
        )
        np.testing.assert_array_equal(
            pb["atac"].layers["get_minus"][number, group.peaks], expected[:, 1]
        )


def test_forward_batches_and_transform(pb, trained):
    size = trained.window_size
    inputs = model_inputs(pb, trained)
    windows = make_windows(inputs, window_size=size, stride=50)
    network = trained.network.eval()
    batched = forward(network, inputs, windows, window_size=size, batch_size=7, device=CPU)
    single = _single_window_outputs(network, inputs, windows, size)
    assert batched.shape == (len(windows), size, 2) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)
    seen = []

    def zero_motifs(x, rows):
        seen.extend(rows.tolist())
        x = x.clone()
        x[..., :-1] = 0
        return x

    knocked = forward(
        network, inputs, windows, window_size=size, batch_size=7, device=CPU, transform=zero_motifs
    )
    assert seen == list(range(len(windows)))
    assert not np.allclose(knocked, batched)


def test_promoter_windows_are_centred_on_accessible_tss_peaks(pb, trained):
    size = trained.window_size
    inputs = model_inputs(pb, trained)
    score = np.asarray(pb["atac"].X)
    table = promoter_windows(
        inputs, pb["rna"].var, pb["atac"].var_names, accessibility=score, window_size=size
    )
    assert list(table.columns) == list(PROMOTER_COLUMNS)
    assert (score[table["group"], table["peak"]] >= 0.05).all()
    genes = pb["rna"].var.iloc[table["gene"]]
    assert (pb["atac"].var_names[table["peak"]] == genes["tss_peaks"].to_numpy()).all()
    assert (table["strand"].to_numpy() == (genes["strand"].to_numpy() == "-")).all()
    expected = sum(
        int(
            ((score[g] >= 0.05) & (pb["atac"].layers["counts"][g] > 0))[
                pb["atac"].var_names.get_indexer(pb["rna"].var["tss_peaks"])
            ].sum()
        )
        for g in range(pb.n_obs)
    )
    assert len(table) == expected
    for row in table.itertuples():
        group = inputs.groups[row.group]
        assert group.peaks[row.start + row.offset] == row.peak
    # the promoter window's output at the offset is predict's value at the TSS peak
    scget.tl.predict(pb, trained, device="cpu", tss_windows="centred")
    windows = table[["group", "start", "length"]].to_numpy()
    outputs = forward(
        trained.network.eval(), inputs, windows, window_size=size, batch_size=16, device=CPU
    )
    at_tss = outputs[np.arange(len(table)), table["offset"], table["strand"]]
    layers = np.stack([pb["atac"].layers["get_plus"], pb["atac"].layers["get_minus"]])
    np.testing.assert_allclose(
        at_tss, layers[table["strand"], table["group"], table["peak"]], rtol=1e-5, atol=1e-6
    )


def test_attribute_gives_each_windows_own_gradient(pb, trained):
    size = trained.window_size
    inputs = model_inputs(pb, trained)
    windows = make_windows(inputs, window_size=size, stride=60)[:6]
    offsets = np.array([3, 20, 0, 31, 10, 7])
    strands = np.array([0, 1, 1, 0, 0, 1])
    network = trained.network.eval()
    attributions = attribute(
        network,
        inputs,
        windows,
        offsets=offsets,
        strands=strands,
        window_size=size,
        batch_size=4,
        device=CPU,
        reduce=lambda a: (a.input_gradient * a.x).cpu().numpy(),
        shape=(size, inputs.n_features),
    )
    assert attributions.shape == (6, size, inputs.n_features)
    dataset = WindowDataset(inputs, windows, size)
    for i in range(6):
        item = dataset[i]
        x = item["x"][None].clone().requires_grad_(True)
        out = network(x, **_context(item)).expression
        out[0, offsets[i], strands[i]].backward()
        expected = (x.grad * x).detach()[0].numpy()
        np.testing.assert_allclose(attributions[i], expected, rtol=1e-4, atol=1e-7)
        assert not attributions[i][item["padding_mask"].numpy()].any()


def test_on_device_restores_mode_on_errors(trained):
    network = trained.network.train()
    with pytest.raises(RuntimeError, match="boom"), on_device(network, CPU) as running:
        assert not running.training
        raise RuntimeError("boom")
    assert network.training
    assert next(network.parameters()).device == CPU
    network.eval()


def test_forward_shards_over_ranks_and_gathers(trained, tmp_path):
    size = trained.window_size
    import torch.multiprocessing as mp
    from _engine_worker import sharded_forward

    trained.save(tmp_path / "model")
    mp.spawn(
        sharded_forward, args=(2, free_port(), str(tmp_path / "model"), str(tmp_path)), nprocs=2
    )
    inputs = model_inputs(planted_pb(), trained)
    windows = make_windows(inputs, window_size=size, stride=37)
    single = forward(
        trained.network.eval(), inputs, windows, window_size=size, batch_size=4, device=CPU
    )
    for rank in range(2):
        gathered = np.load(tmp_path / f"rank{rank}.npy")
        np.testing.assert_allclose(gathered, single, rtol=1e-5, atol=1e-6)
