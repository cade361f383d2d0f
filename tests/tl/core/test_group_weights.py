"""Each group's weights over the other prior groups: their mean, or the matched mixture."""

from __future__ import annotations

import numpy as np

from scget.tl._core._group_weights import prior_weights


def test_plain_weights_give_the_leave_one_out_means_by_hand():
    values = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [100.0, 100.0]])
    weights, present = prior_weights(np.array([True, True, True, False]))
    means = weights @ values
    np.testing.assert_allclose(means[0], [4.0, 8.0])  # groups 1 and 2
    np.testing.assert_allclose(means[1], [3.0, 6.0])  # groups 0 and 2
    np.testing.assert_allclose(means[3], [3.0, 6.0])  # not a member: all three
    assert present.all()
    weights, present = prior_weights(np.array([True, False, False, False]))
    means = weights @ values
    assert not present[0] and present[1:].all()  # no other member: no prior
    np.testing.assert_allclose(means[0], [0.0, 0.0])
    np.testing.assert_allclose(means[2], [1.0, 2.0])


def test_matched_weights_recover_a_planted_mixture():
    rng = np.random.default_rng(0)
    profiles = rng.random((5, 400))
    profiles[3] = 0.3 * profiles[0] + 0.7 * profiles[2]  # a mix of two members
    profiles[4] = profiles[1]  # a copy of a member, itself no member
    members = np.array([True, True, True, True, False])
    weights, present = prior_weights(members, profiles)
    np.testing.assert_allclose(weights[3], [0.3, 0.0, 0.7, 0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(weights[4], [0.0, 1.0, 0.0, 0.0, 0.0], atol=1e-5)
    assert present.all() and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert (np.diag(weights) == 0).all() and (weights[:, 4] == 0).all()
    # a member that is no mixture of the others: the closest point of their simplex
    row = weights[0, [1, 2, 3]]
    mixed = row @ profiles[[1, 2, 3]]
    for other in rng.dirichlet(np.ones(3), size=200):
        assert ((mixed - profiles[0]) ** 2).sum() <= (
            (other @ profiles[[1, 2, 3]] - profiles[0]) ** 2
        ).sum() + 1e-9
    # without profiles: the plain leave-one-out mean
    plain, _ = prior_weights(members)
    np.testing.assert_allclose(plain[0], [0, 1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(plain[4], [0.25, 0.25, 0.25, 0.25, 0])
