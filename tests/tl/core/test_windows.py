from __future__ import annotations

import numpy as np
import pytest
from _planted import planted_pb
from mudata import MuData

from scget.tl._core._windows import (
    WindowDataset,
    build_inputs,
    centred_windows,
    make_windows,
    window_starts,
)


def test_group_regions_are_its_accessible_peaks_in_genome_order(pb):
    # shuffle the peaks: the inputs must still be in (chromosome, start) order
    order = np.random.default_rng(0).permutation(pb["atac"].n_vars)
    shuffled = pb["atac"][:, order].copy()
    inputs = build_inputs(pb)
    mixed = build_inputs(MuData({"rna": pb["rna"], "atac": shuffled}))
    counts = pb["atac"].layers["counts"]
    for g, (group, other) in enumerate(zip(inputs.groups, mixed.groups, strict=True)):
        assert np.array_equal(group.peaks, np.flatnonzero(counts[g] > 0))
        names = pb["atac"].var_names[group.peaks]
        assert list(shuffled.var_names[other.peaks]) == list(names)
        assert [s[0] for s in group.segments] == ["chr1", "chr2", "chr3", "chr4"]
        np.testing.assert_array_equal(group.accessibility, pb["atac"].X[g, group.peaks])
        np.testing.assert_array_equal(
            group.targets[:, 1], pb["atac"].layers["target_minus"][g, group.peaks]
        )


def test_item_features_are_motif_rows_then_accessibility(pb):
    inputs = build_inputs(pb)
    windows = make_windows(inputs, window_size=10, stride=5, groups=["C"])
    item = WindowDataset(inputs, windows, 10)[3]
    group = inputs.groups[2]
    start = windows[3, 1]
    peaks = group.peaks[start : start + 10]
    motifs = pb["atac"].varm["motif_scores"].to_numpy()
    np.testing.assert_array_equal(item["x"][:, :-1].numpy(), motifs[peaks])
    np.testing.assert_array_equal(item["x"][:, -1].numpy(), pb["atac"].X[2, peaks])
    assert not item["padding_mask"].any()
    assert inputs.feature_names == [*pb["atac"].varm["motif_scores"].columns, "accessibility"]

    binary = build_inputs(pb, binary=True)
    assert (WindowDataset(binary, windows, 10)[3]["x"][:, -1] == 1).all()


def test_windows_stay_inside_one_chromosome_and_cover_every_region(pb):
    inputs = build_inputs(pb)
    windows = make_windows(inputs, window_size=32, stride=16)
    covered = [np.zeros(len(g.peaks), bool) for g in inputs.groups]
    for number, start, length in windows:
        group = inputs.groups[number]
        chroms = {inputs.chrom[p] for p in group.peaks[start : start + length]}
        assert len(chroms) == 1 and length == 32
        covered[number][start : start + length] = True
    assert all(c.all() for c in covered)
    starts = window_starts(0, 100, 32, 16)
    assert list(starts) == [0, 16, 32, 48, 64, 68]


def test_short_chromosomes_give_one_padded_window():
    pb = planted_pb(n_chromosomes=2, peaks_per_chromosome=12)
    inputs = build_inputs(pb)
    windows = make_windows(inputs, window_size=32, stride=16, groups=["A"])
    assert len(windows) == 2
    dataset = WindowDataset(inputs, windows, 32)
    for row, item in zip(windows, dataset, strict=False):
        length = row[2]
        assert length < 32
        assert item["x"].shape == (32, 9)
        assert item["padding_mask"].sum() == 32 - length
        assert (item["x"][length:] == 0).all() and (item["target"][length:] == 0).all()


def test_windows_spanning_too_far_are_dropped(pb):
    inputs = build_inputs(pb)
    every = make_windows(inputs, window_size=32, stride=16)
    # peaks are 5 kb apart: a window of 32 regions spans at least 31 * 5 kb + 500 bp
    kept = make_windows(inputs, window_size=32, stride=16, max_span=31 * 5_000 + 500)
    dropped = make_windows(inputs, window_size=32, stride=16, max_span=31 * 5_000)
    spans = [
        inputs.end[g.peaks[s + n - 1]] - inputs.start[g.peaks[s]]
        for g, s, n in ((inputs.groups[a], b, c) for a, b, c in every)
    ]
    assert len(kept) == sum(span <= 31 * 5_000 + 500 for span in spans) > 0
    assert len(dropped) < len(kept)


def test_windows_are_index_entries_into_shared_arrays(pb):
    inputs = build_inputs(pb)
    train = WindowDataset(inputs, make_windows(inputs, window_size=32, stride=16), 32)
    valid = WindowDataset(inputs, make_windows(inputs, window_size=32, stride=32), 32)
    assert train.windows.dtype == np.int64 and train.windows.shape[1] == 3
    assert train.inputs.motifs is valid.inputs.motifs
    assert inputs.motifs.nbytes == pb["atac"].n_vars * 8 * 4


def test_centred_windows_clamp_at_chromosome_ends(pb):
    group = build_inputs(pb).groups[0]
    _, lo, hi = group.segments[1]
    positions = np.array([lo, lo + 40, hi - 1])
    starts, lengths, offsets = centred_windows(group, positions, 32)
    assert list(starts) == [lo, lo + 24, hi - 32]
    assert list(offsets) == [0, 16, 31]
    assert (lengths == 32).all()


def test_missing_inputs_raise_clear_errors(pb):
    del pb["atac"].layers["target_plus"]
    with pytest.raises(KeyError, match="annotate_tss"):
        build_inputs(pb)
    build_inputs(pb, with_targets=False)
    del pb["atac"].varm["motif_scores"]
    with pytest.raises(KeyError, match="scan_motifs"):
        build_inputs(pb, with_targets=False)


@pytest.mark.parametrize(
    ("place", "message"),
    [
        ("target_minus", r"pb\[\"atac\"\]\.layers\['target_plus', 'target_minus'\] holds 2 "),
        ("X", r'pb\["atac"\]\.X holds 2 non-finite'),
        ("motif_scores", r'pb\["atac"\]\.varm\["motif_scores"\] holds 2 non-finite'),
    ],
)
def test_non_finite_inputs_raise_counting_them(pb, place, message):
    atac = pb["atac"]
    if place == "motif_scores":
        atac.varm[place].iloc[[0, 5], 1] = [np.nan, np.inf]
    else:
        values = atac.X if place == "X" else atac.layers[place]
        values[[0, 1], [3, 7]] = [np.nan, -np.inf]
    with pytest.raises(ValueError, match=message):
        build_inputs(pb)


def test_gather_windows_matches_items_of_interleaved_groups(pb):
    from scget.tl._core._windows import gather_windows

    inputs = build_inputs(pb)
    windows = np.array([[1, 5, 10], [0, 0, 4], [1, 0, 10], [0, 7, 10]])
    batch = gather_windows(inputs, windows, 10)
    for row, (number, start, length) in enumerate(windows):
        group = inputs.groups[number]
        peaks = group.peaks[start : start + length]
        x = batch["x"][row].numpy()
        np.testing.assert_array_equal(x[:length, :-1], inputs.motifs[peaks])
        np.testing.assert_array_equal(x[:length, -1], group.accessibility[start : start + length])
        assert not x[length:].any() and batch["padding_mask"][row].sum() == 10 - length
        np.testing.assert_array_equal(
            batch["target"][row, :length].numpy(), group.targets[start : start + length]
        )
        mids = (inputs.start[peaks] + inputs.end[peaks]) // 2
        np.testing.assert_array_equal(batch["positions"][row, :length].numpy(), mids)
