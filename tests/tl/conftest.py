"""Fixtures of the tl tests: the planted pseudobulk, one torch thread."""

from __future__ import annotations

import mudata as md
import pytest
from _planted import planted_pb, tiny_kwargs

import scget


@pytest.fixture
def pb() -> md.MuData:
    """The default planted pseudobulk (4 chromosomes x 120 peaks, 4 groups)."""
    return planted_pb()


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """One torch thread: the tiny networks of these tests gain nothing from more."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def trained(_one_torch_thread):
    """A tiny model fine-tuned for a few epochs on the planted pseudobulk (chr4 left out)."""
    return scget.tl.finetune(
        planted_pb(), leave_out_chromosomes=["chr4"], **tiny_kwargs(max_epochs=4)
    )
