"""Speed of ``scget.tl.predict`` and its engine on a demo run's outputs.

Reads the ``pseudobulk.h5mu`` and ``model`` written by ``scget demo --out DIR`` and
prints, all in one process (so the ratios share the machine's load):

- gathering rate of window inputs: one window at a time (``WindowDataset`` through a
  ``DataLoader``, the engine's former path) against one vectorised gather per batch
  (``gather_windows``, the engine's path now);
- forward-only rate of the network on pre-gathered batches (no gathering at all);
- ``predict`` end to end with ``tss_windows="centred"`` and ``"tiled"``: windows, time,
  windows/s, the Pearson r of the two gene predictions, and each one's mean per-group
  Pearson r with the observed expression of the test chromosome's genes in the
  training groups.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/predict_speed.py DEMO_DIR [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import time

import mudata as md
import numpy as np
import torch

import scget
from scget._shared.genomic import peak_coordinates
from scget._shared.utils import mudata_update_quietly, resolve_device
from scget.tl._core._engine import on_device
from scget.tl._core._predict import _region_windows, _tss_peaks
from scget.tl._core._prior import model_inputs
from scget.tl._core._windows import WindowDataset, gather_windows, region_context


def load() -> str:
    """The 1-minute load average, for the log."""
    return f"load {os.getloadavg()[0]:.2f}"


def rate(work, n: int) -> float:
    """Items per second of ``work()`` handling ``n`` items."""
    start = time.perf_counter()
    work()
    return n / (time.perf_counter() - start)


def heldout_r(pb, model, layer: str) -> float:
    """Mean over training groups of Pearson r (predicted, observed) on test-chromosome genes."""
    rna = pb["rna"]
    chrom = peak_coordinates(pb["atac"])["chrom"].to_numpy()
    peak = pb["atac"].var_names.get_indexer(rna.var["tss_peaks"].astype(str))
    gene_chrom = np.where(peak >= 0, chrom[np.maximum(peak, 0)], "")
    genes = np.isin(gene_chrom, model.split["test_chromosomes"])
    rs = []
    for g, name in enumerate(pb.obs_names):
        if name in model.split["leave_out_groups"]:
            continue
        pred = rna.layers[layer][g, genes]
        obs = np.asarray(rna.X[g, genes]).ravel()
        ok = np.isfinite(pred) & np.isfinite(obs)
        rs.append(np.corrcoef(pred[ok], obs[ok])[0, 1])
    return float(np.mean(rs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demo", help="output folder of scget demo")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--gather-windows", type=int, default=3000, help="windows timed")
    args = parser.parse_args()
    device = resolve_device(args.device)
    with mudata_update_quietly():
        pb = md.read_h5mu(f"{args.demo}/pseudobulk.h5mu")
    model = scget.tl.GETModel.load(f"{args.demo}/model")
    size, batch = model.window_size, args.batch_size
    print(f"device {device}, torch threads {torch.get_num_threads()}, {load()}")

    inputs = model_inputs(pb, model)  # with the expression prior, for a model that reads it
    _, is_tss = _tss_peaks(pb, rna="rna", atac="atac")
    counts = {}
    for mode in ("centred", "tiled"):
        n = 0
        for group in inputs.groups:
            starts, lengths = _region_windows(group, is_tss, size, mode)
            n += len(np.unique(np.column_stack([starts, lengths]), axis=0))
        counts[mode] = n
    starts, lengths = _region_windows(inputs.groups[0], is_tss, size)
    windows = np.column_stack([np.zeros(len(starts), np.int64), starts, lengths])
    windows = windows[: args.gather_windows]
    n = len(windows)
    loader = torch.utils.data.DataLoader(WindowDataset(inputs, windows, size), batch_size=batch)
    per_window = rate(lambda: [b for b in loader], n)
    batched = rate(
        lambda: [gather_windows(inputs, windows[i : i + batch], size) for i in range(0, n, batch)],
        n,
    )
    print(f"gather, one window at a time: {per_window:,.0f} windows/s ({load()})")
    print(f"gather, one vectorised step per batch: {batched:,.0f} windows/s ({load()})")

    batches = [gather_windows(inputs, windows[i : i + batch], size) for i in range(0, n, batch)]
    with on_device(model.network, device) as network, torch.no_grad():

        def run():
            for b in batches:
                context = {key: value.to(device) for key, value in region_context(b).items()}
                out = network(b["x"].to(device), **context)
                out.expression.float().cpu()

        run()  # warm-up
        forward_rate = rate(run, n)
    print(
        f"forward only, pre-gathered batches of {batch}: {forward_rate:,.1f} windows/s ({load()})"
    )

    predictions = {}
    for mode in ("centred", "tiled"):
        start = time.perf_counter()
        scget.tl.predict(pb, model, device=args.device, batch_size=batch, tss_windows=mode)
        seconds = time.perf_counter() - start
        predictions[mode] = pb["rna"].layers["get_pred"].copy()
        pb["rna"].layers[f"pred_{mode}"] = predictions[mode]
        print(
            f"predict tss_windows={mode}: {counts[mode]} windows in {seconds:.1f} s, "
            f"{counts[mode] / seconds:,.1f} windows/s, held-out-chromosome r "
            f"{heldout_r(pb, model, f'pred_{mode}'):.4f} ({load()})"
        )
    ok = np.isfinite(predictions["centred"]) & np.isfinite(predictions["tiled"])
    r = np.corrcoef(predictions["centred"][ok], predictions["tiled"][ok])[0, 1]
    diff = np.abs(predictions["centred"][ok] - predictions["tiled"][ok])
    print(
        f"tiled vs centred gene predictions: r {r:.4f}, max |diff| {diff.max():.4f}, "
        f"mean |diff| {diff.mean():.4f} over {ok.sum()} values"
    )


if __name__ == "__main__":
    main()
