"""ICA-LiNGAM: the same estimate as the lingam package, from covariances and a coarse start."""

from __future__ import annotations

import lingam
import numpy as np
import pytest
from _sem import sem_sample

from scget.tl._networks._lingam import causal_order, ica_lingam


@pytest.mark.parametrize(("noise", "seed"), [("uniform", 0), ("laplace", 1)])
def test_equals_the_lingam_package(noise, seed):
    X, _ = sem_sample(3000, 12, seed=seed, noise=noise)
    reference = lingam.ICALiNGAM(random_state=0).fit(X)
    ours = ica_lingam(X, seed=0)
    np.testing.assert_allclose(ours.adjacency, reference.adjacency_matrix_, atol=1e-10)


def test_a_bootstrap_fit_started_from_the_full_fit_equals_a_fresh_fit():
    X, _ = sem_sample(3000, 12, seed=2, noise="laplace")
    full = ica_lingam(X, seed=0)
    resample = X[np.random.default_rng(0).integers(0, len(X), len(X))]
    fresh = lingam.ICALiNGAM(random_state=0).fit(resample)
    warm = ica_lingam(resample, start=full.unmixing)
    np.testing.assert_allclose(warm.adjacency, fresh.adjacency_matrix_, atol=1e-10)


def test_causal_order_of_a_permuted_triangular_matrix_by_hand():
    # 2 -> 0 -> 1, plus noise entries smaller than every effect
    B = np.array([[0.0, 0.01, 0.9], [0.8, 0.0, 0.02], [0.03, 0.0, 0.0]])
    assert causal_order(B).tolist() == [2, 0, 1]


def test_too_few_samples_are_refused():
    with pytest.raises(ValueError, match="more samples than variables"):
        ica_lingam(np.random.default_rng(0).normal(size=(5, 5)))
