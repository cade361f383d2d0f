"""Training throughput of the GET network presets: windows/s and achieved FLOP/s.

One training step = forward, Poisson loss on the expression head, backward and an AdamW
step, on random windows of 200 regions x 283 features. Achieved FLOP/s counts
``3 * scget.nn.forward_flops(config)`` per window (forward + backward; the formula is in
``scget/nn/_flops.py``) and is compared with the machine's own dense matrix-multiply rate,
measured in the same run and the same precision. On CUDA each preset runs in fp32 (torch's
default matmul precision, no TF32, for the model and the reference matmul alike), in bf16
autocast, and in bf16 autocast with ``torch.compile``; on CPU in fp32. On a CPU shared
with other jobs, ``--threads 1`` avoids thread contention (often several times faster).

Usage::

    python benchmarks/train_throughput.py                     # all presets, auto device
    python benchmarks/train_throughput.py --presets tiny small --steps 20 --batch-size 16
    python benchmarks/train_throughput.py --device cuda --batch-size 32
"""

from __future__ import annotations

import argparse
import contextlib
import math
import platform
import time

import torch
import torch.nn.functional as F

from scget._shared.constants import WINDOW_SIZE
from scget._shared.utils import resolve_device
from scget.nn import GETConfig, GETNetwork, forward_flops

N_FEATURES = 283


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, dtype: torch.dtype, size: int, min_seconds: float) -> float:
    """Dense square matmul FLOP/s of this machine (2 n^3 per product)."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):  # warm-up: kernels, caches, clocks
        a @ b
    synchronize(device)
    n_products, start = 0, time.perf_counter()
    while True:
        for _ in range(4):
            a @ b
        n_products += 4
        synchronize(device)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return 2 * size**3 * n_products / elapsed


def train_rate(
    preset: str,
    device: torch.device,
    *,
    bf16: bool,
    compile_model: bool,
    batch_size: int,
    steps: int,
    warmup: int,
    max_seconds: float,
) -> tuple[float, int, float]:
    """Windows per second of training steps, steps timed, peak GPU memory (GiB; CPU: nan)."""
    torch.manual_seed(0)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    if compile_model:
        torch._dynamo.reset()  # each preset compiles afresh, no recompile limits
    network = GETNetwork(GETConfig.from_preset(preset, N_FEATURES)).to(device).train()
    model = torch.compile(network) if compile_model else network
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.rand(batch_size, WINDOW_SIZE, N_FEATURES, device=device)
    target = torch.rand(batch_size, WINDOW_SIZE, 2, device=device)
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    )

    def step() -> None:
        with autocast:
            expression = model(x).expression
        loss = F.poisson_nll_loss(expression.float(), target, log_input=False)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    synchronize(device)
    timed, start = 0, time.perf_counter()
    while timed < steps:
        step()
        timed += 1
        synchronize(device)
        if time.perf_counter() - start > max_seconds and timed >= 2:
            break
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else math.nan
    return batch_size * timed / elapsed, timed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small", "base"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20, help="most timed steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (compile, caches)")
    parser.add_argument(
        "--max-seconds", type=float, default=20.0, help="stop timing a run after this (>= 2 steps)"
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--matmul-size", type=int, default=None, help="default: 2048 CPU, 8192 GPU")
    args = parser.parse_args()

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    on_cuda = device.type == "cuda"
    size = args.matmul_size or (8192 if on_cuda else 2048)
    name = torch.cuda.get_device_name(device) if on_cuda else platform.processor() or "CPU"
    print(
        f"device: {device} ({name}), torch {torch.__version__}, threads {torch.get_num_threads()}"
    )
    modes = [("fp32", False, False)]
    if on_cuda:
        modes += [("bf16", True, False), ("bf16+compile", True, True)]

    rates = {}
    for _, bf16, _ in modes:
        dtype = torch.bfloat16 if bf16 else torch.float32
        if dtype not in rates:
            rates[dtype] = matmul_rate(device, dtype, size, min_seconds=2.0)
            print(f"measured {str(dtype)[6:]} matmul ({size}^2): {rates[dtype] / 1e9:,.1f} GFLOP/s")

    header = (
        f"{'preset':<7}{'mode':<14}{'params':>12}{'GFLOP/window':>14}{'windows/s':>12}"
        f"{'GFLOP/s':>10}{'of matmul':>11}{'steps':>7}{'peak GiB':>10}"
    )
    print(f"\nbatch {args.batch_size} windows x {WINDOW_SIZE} regions x {N_FEATURES} features")
    print(header)
    for preset in args.presets:
        config = GETConfig.from_preset(preset, N_FEATURES)
        with torch.device("meta"):
            n_params = sum(p.numel() for p in GETNetwork(config).parameters())
        step_flops = 3 * forward_flops(config, WINDOW_SIZE)
        for label, bf16, compile_model in modes:
            windows, timed, peak = train_rate(
                preset,
                device,
                bf16=bf16,
                compile_model=compile_model,
                batch_size=args.batch_size,
                steps=args.steps,
                warmup=args.warmup,
                max_seconds=args.max_seconds,
            )
            achieved = windows * step_flops
            fraction = achieved / rates[torch.bfloat16 if bf16 else torch.float32]
            peak_text = "-" if math.isnan(peak) else f"{peak:.2f}"
            print(
                f"{preset:<7}{label:<14}{n_params:>12,}{step_flops / 1e9:>14.2f}{windows:>12.2f}"
                f"{achieved / 1e9:>10.1f}{fraction:>11.1%}{timed:>7}{peak_text:>10}"
            )


if __name__ == "__main__":
    main()
