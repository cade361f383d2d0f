"""What the engine's tests share: its network contract and its tolerance across layouts.

Imported by the tests of tests/tl (their folder is on ``sys.path``).
"""

from __future__ import annotations

import pandas as pd
import torch

#: Results of one window computed in batches of another size or on other ranks agree to
#: this share of the table's largest value: with ``at``, the network's last block runs
#: products of batch x width, whose float32 sums torch groups by the batch's size.
LAYOUT_TOLERANCE = 1e-4
#: ... plus this much: a change (a knockout, a deletion) is a difference of two float32
#: predictions of order 1, so its round-off does not shrink with the change itself.
FLOAT32_FLOOR = 1e-6


def outputs_at(expression: torch.Tensor, at: torch.Tensor | None) -> torch.Tensor:
    """``expression`` (B, L, strands) as ``GETNetwork(..., at=at)`` returns it.

    With ``at`` (B,) region indices: each window's chosen region only, (B, 1, strands).
    """
    if at is None:
        return expression
    return expression[torch.arange(len(expression)), at].unsqueeze(1)


def assert_same_across_layouts(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Assert two result tables equal to :data:`LAYOUT_TOLERANCE` of ``right``'s scale
    (and :data:`FLOAT32_FLOOR`)."""
    scale = float(right.select_dtypes("number").abs().max().max())
    atol = LAYOUT_TOLERANCE * scale + FLOAT32_FLOOR
    pd.testing.assert_frame_equal(left, right, rtol=0, atol=atol)
