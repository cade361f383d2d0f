import pandas as pd
import pytest
from _benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("interpret")


def test_planted_pairs_rank_by_their_strongest_edge_in_either_direction(benchmark):
    edges = pd.DataFrame(
        {
            "source": ["A", "C", "B", "A", "D"],
            "target": ["B", "D", "A", "C", "C"],
            "weight": [0.1, -0.9, -0.5, 0.3, 0.2],
        }
    )
    kinds = {frozenset("AB"): "cooperative", frozenset("CD"): "competitive"}
    kinds[frozenset("AD")] = "cooperative"
    found = benchmark._planted_edges(edges, kinds)
    # pairs by strength: CD 0.9, AB 0.5 (B -> A, the stronger direction), AC 0.3
    assert found == {
        frozenset("CD"): (1, "-"),
        frozenset("AB"): (2, "-"),
        frozenset("AD"): (0, "0"),
    }
    assert benchmark._pair_ranks(edges, set(kinds)) == [1, 2]
