"""In silico lentiMPRA speed: insertion windows/s against ``predict``'s, in the same run.

On the output of ``scget demo`` (simulated multiome, its trained tiny model), one group:

- ``predict``: :func:`scget.tl.predict` on that group alone (the pseudobulk subset to
  it), the windows it records having run;
- ``insert``: :func:`scget.tl.insert_elements` of ``--elements`` elements (motif rows of
  random peaks, as precomputed scores) x ``--sites`` sites, expression read-out (the
  demo model's accessibility head is untrained; the pass computes both heads anyway);
- ``scan``: the motif scan of ``--elements`` peak sequences from the simulated genome,
  as :func:`scget.tl.insert_elements` scans sequence elements (elements/s);

both on ``--device`` (default CPU) with the same batch size, then the projected time of
the published run (226,243 elements x 600 sites) at the measured rate. Run ``uptime``
beside it: the rates depend on the machine's load.

Usage::

    scget demo --out /tmp/scget_demo
    OMP_NUM_THREADS=1 python benchmarks/perturb.py --demo /tmp/scget_demo
    python benchmarks/perturb.py --demo /tmp/scget_demo --device cuda
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import mudata
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

import scget
from scget._shared.utils import mudata_update_quietly, resolve_device
from scget.tl._core._prior import model_inputs
from scget.tl._core._windows import WindowDataset, centred_windows

#: The published in silico lentiMPRA: elements, sites, windows/s on one GPU.
PUBLISHED = {"elements": 226_243, "sites": 600, "rate": 313.0}


#: The windows :func:`scget.tl.predict` is timed with (its default).
TSS_WINDOWS = "tiled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("/tmp/scget_demo"))
    parser.add_argument("--group", default=None, help="default: the first group")
    parser.add_argument("--elements", type=int, default=29)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="torch device of predict and insertion")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    scget.settings.verbosity = 1
    with mudata_update_quietly():
        pb = mudata.read_h5mu(args.demo / "pseudobulk.h5mu")
    model = scget.tl.GETModel.load(args.demo / "model")
    group = args.group or str(pb.obs_names[0])
    one = pb[pb.obs_names == group].copy()
    print(f"load: {os.getloadavg()}, torch threads {torch.get_num_threads()}")

    start = time.perf_counter()
    scget.tl.predict(
        one, model, batch_size=args.batch_size, tss_windows=TSS_WINDOWS, device=args.device
    )
    predict_s = time.perf_counter() - start
    n_predict = scget.get.result(one, "predict")["n_windows"]

    rng = np.random.default_rng(0)
    motifs = pb["atac"].varm["motif_scores"]
    rows = rng.choice(len(motifs), args.elements, replace=False)
    elements = motifs.iloc[rows]
    start = time.perf_counter()
    table = scget.tl.insert_elements(
        one,
        model,
        elements=elements,
        group=group,
        n_sites=args.sites,
        readout="expression",
        batch_size=args.batch_size,
        device=args.device,
    )
    insert_s = time.perf_counter() - start
    n_insert = len(table) * args.sites

    genome = scget.get.params(pb, "motifs")["genome"]
    scan_rate = float("nan")
    if Path(genome).is_file():
        coords = scget._shared.genomic.peak_coordinates(pb["atac"]).iloc[rows]
        fasta = scget.genome.Genome(genome)
        sequences = fasta.fetch_many(coords["chrom"], coords["start"], coords["end"])
        frame = pd.DataFrame({"sequence": sequences}, index=elements.index)
        from scget.tl._perturb._insert_elements import element_scores

        start = time.perf_counter()
        scanned = element_scores(pb, frame, features=list(motifs.columns))
        scan_rate = len(frame) / (time.perf_counter() - start)
        same = np.abs(scanned.to_numpy() - elements.to_numpy()).max()
        print(f"scan: {scan_rate:.1f} elements/s; max |scanned - peak score| = {same:.2e}")

    # the engine assembles every window in Python (WindowDataset), for predict too: on a
    # GPU that assembly, not the network, bounds the rate
    params = scget.get.params(one, "insert_elements")
    inputs = model_inputs(one, model)  # as the engine assembles them (the prior included)
    peaks = one["atac"].var_names.get_indexer(params["sites"])
    where = {peak: i for i, peak in enumerate(inputs.groups[0].peaks)}
    positions = np.array([where[p] for p in peaks])
    starts, lengths, _ = centred_windows(inputs.groups[0], positions, model.window_size)
    windows = np.tile(np.column_stack([0 * starts, starts, lengths]), (len(table), 1))
    start = time.perf_counter()
    for _ in DataLoader(WindowDataset(inputs, windows, model.window_size), args.batch_size):
        pass
    assembly_rate = len(windows) / (time.perf_counter() - start)

    predict_rate = n_predict / predict_s
    insert_rate = n_insert / insert_s
    print(
        f"predict: {n_predict} windows in {predict_s:.2f} s = {predict_rate:.1f} windows/s "
        f"(group {group}, batch {args.batch_size}, window {model.window_size}, {device})"
    )
    print(
        f"insert: {len(table)} elements (control included) x {args.sites} sites = {n_insert} "
        f"windows in {insert_s:.2f} s = {insert_rate:.1f} windows/s "
        f"({insert_rate / predict_rate:.2f} x predict)"
    )
    print(f"window assembly alone (Python, one process): {assembly_rate:.0f} windows/s")
    total = PUBLISHED["elements"] * PUBLISHED["sites"]
    config = model.network.config
    size = f"hidden {config.hidden_dim}, {config.n_layers} layers"
    print(
        f"published run: {total:,} windows; at this rate on {device} ({size}) "
        f"{total / insert_rate / 86400:.1f} days; paper "
        f"{total / PUBLISHED['rate'] / 86400:.1f} days at {PUBLISHED['rate']:.0f} windows/s "
        "on GPU (GET's full network)"
    )
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
