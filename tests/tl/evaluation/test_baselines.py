import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scget.tl._evaluation._baselines import (
    accessibility_change,
    feature_baselines,
    gene_activity,
    gene_peak_overlap,
    mean_training_expression,
    top_correlated_group,
    tss_accessibility,
)


def test_tss_accessibility_means_all_tss_peaks():
    tss = sp.csr_matrix([[1, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=np.float32)
    accessibility = np.array([[0.2, 0.6, 0.0], [1.0, 0.0, 0.5]])
    out = tss_accessibility(accessibility, tss)
    np.testing.assert_allclose(out, [[0.4, np.nan, 0.0], [0.5, np.nan, 0.5]])


def test_gene_peak_overlap_is_strand_aware():
    peaks = pd.DataFrame(
        {
            "chrom": ["chr1", "chr1", "chr1", "chr1", "chr2"],
            "start": [0, 1_500, 5_000, 11_900, 5_000],
            "end": [100, 1_600, 5_100, 12_000, 5_100],
        }
    )
    genes = pd.DataFrame(
        {
            "chrom": ["chr1", "chr1", "chr1"],
            "strand": ["+", "-", "+"],
            "gene_start": [3_000, 3_000, -1],
            "gene_end": [10_000, 10_000, -1],
        }
    )
    overlap = gene_peak_overlap(genes, peaks, upstream=2_000).toarray()
    # "+": [1000, 10000) holds peaks 1 and 2; "-": [3000, 12000) holds peaks 2 and 3
    np.testing.assert_array_equal(overlap, [[0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 0]])


def test_gene_activity_is_log_normalised_summed_counts():
    counts = np.array([[10.0, 30.0, 60.0]])
    overlap = sp.csr_matrix([[1, 1, 0], [0, 0, 0]], dtype=np.float32)
    out = gene_activity(counts, overlap)
    np.testing.assert_allclose(out, [[np.log10(40 / 100 * 1e5 + 1), 0.0]])


def test_mean_training_expression_excludes_the_group_and_left_out_groups():
    expression = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0], [100.0, 100.0]])
    train = np.array([True, True, True, False])
    out = mean_training_expression(expression, train)
    np.testing.assert_allclose(out, [[4.0, 6.5], [3.0, 5.5], [2.0, 3.0], [3.0, 5.0]])
    lonely = mean_training_expression(expression[:2], np.array([True, False]))
    assert np.isnan(lonely[0]).all()
    np.testing.assert_allclose(lonely[1], expression[0])


def test_top_correlated_group_uses_training_genes_only_and_excludes_itself():
    rng = np.random.default_rng(1)
    profile = rng.normal(size=20)
    expression = np.vstack(
        [profile, -profile, profile + rng.normal(0, 0.1, 20), rng.normal(size=20)]
    )
    # genes 15-19 are test genes: there the best-correlated group looks wrong
    expression[2, 15:] = -expression[0, 15:]
    train_genes = np.arange(20) < 15
    train = np.array([True, True, True, False])
    out = top_correlated_group(expression, train, train_genes)
    np.testing.assert_array_equal(out[0], expression[2])
    np.testing.assert_array_equal(out[2], expression[0])
    np.testing.assert_array_equal(out[3], expression[top_pick(expression, train_genes, 3)])


def top_pick(expression, genes, row):
    corr = [np.corrcoef(expression[row, genes], expression[r, genes])[0, 1] for r in range(3)]
    return int(np.argmax(corr))


def _feature_problem(seed=0):
    rng = np.random.default_rng(seed)
    n_groups, n_peaks, n_motifs = 3, 60, 4
    motifs = rng.uniform(size=(n_peaks, n_motifs)).astype(np.float32)
    accessibility = rng.uniform(0.1, 1, size=(n_groups, n_peaks))
    weights = np.array([0.5, 1.0, 0.0, 2.0])
    plus = motifs @ weights + 1.5 * accessibility
    minus = 0.5 * plus
    tss = sp.csr_matrix(np.eye(n_peaks, dtype=np.float32)[:10])
    strand = np.array(["+", "-"] * 5)
    return dict(
        motif_scores=motifs,
        accessibility=accessibility,
        regions=np.ones((n_groups, n_peaks), bool),
        targets=(plus, minus),
        train_groups=np.array([True, True, False]),
        train_peaks=np.arange(n_peaks) >= 10,
        predict_peaks=np.zeros((n_groups, n_peaks), bool) | (np.arange(n_peaks) < 10),
        tss=tss,
        strand=strand,
        mlp_epochs=3,
        seed=0,
        n_jobs=1,
    )


def test_linear_regression_recovers_a_planted_linear_target_on_held_out_peaks():
    problem = _feature_problem()
    out = feature_baselines(["linear regression"], max_train_rows=1000, **problem)
    plus, minus = problem["targets"]
    expected = np.where(problem["strand"] == "+", plus[:, :10], minus[:, :10])
    np.testing.assert_allclose(out["linear regression"][:, :10], expected, atol=1e-4)


def test_feature_baselines_are_seeded_and_subsample():
    problem = _feature_problem()
    first = feature_baselines(["random forest", "MLP"], max_train_rows=50, **problem)
    second = feature_baselines(["random forest", "MLP"], max_train_rows=50, **problem)
    for method in ("random forest", "MLP"):
        assert first[method].shape == (3, 10)
        assert np.isfinite(first[method]).all()
        np.testing.assert_array_equal(first[method], second[method])
    assert (first["MLP"] >= 0).all()  # Softplus output


def test_random_forest_adds_its_trees_in_order_whatever_the_threads():
    from sklearn.ensemble import RandomForestRegressor

    from scget.tl._evaluation._baselines import FOREST_DEPTH, FOREST_TREES, _fit_predict

    rng = np.random.default_rng(0)
    x, y = rng.random((400, 12)), rng.random((400, 2))
    predicted = _fit_predict("random forest", x, y, x[:300], 0, seed=0, n_jobs=2)
    forest = RandomForestRegressor(
        n_estimators=FOREST_TREES, max_depth=FOREST_DEPTH, random_state=0
    ).fit(x, y)
    expected = np.zeros((300, 2))
    for tree in forest.estimators_:  # the trees' sum in tree order, as one thread adds it
        expected += tree.predict(x[:300])
    assert predicted.tobytes() == (expected / FOREST_TREES).tobytes()


def test_accessibility_change_fits_one_beta_on_the_training_groups():
    tss = np.array([[0.2, 0.5], [0.4, 0.9], [0.6, 0.1]])
    expression = np.array([[1.0, 2.0], [2.0, 2.4], [50.0, -50.0]])  # row 2: held out
    train = np.array([True, True, False])
    # deviations from the training means (0.3, 0.7) and (1.5, 2.2): accessibility
    # +-(0.1, 0.2), expression +-(0.5, 0.2): beta = 0.18 / 0.10
    predicted, beta = accessibility_change(expression, tss, train, np.ones((3, 2), bool))
    assert beta == pytest.approx(1.8)
    np.testing.assert_allclose(predicted[2], [1.5 + 1.8 * 0.3, 2.2 - 1.8 * 0.6])
    # each training group from the other one: its mean plus beta x its own change
    np.testing.assert_allclose(predicted[0], [2.0 + 1.8 * -0.2, 2.4 + 1.8 * -0.4])
    first_gene = np.array([[True, False]] * 3)  # beta = 0.1 / 0.02
    predicted, beta = accessibility_change(expression, tss, train, first_gene)
    assert beta == pytest.approx(5.0)
    np.testing.assert_allclose(predicted[2], [1.5 + 5 * 0.3, 2.2 - 5 * 0.6])
    # one training group: nothing to fit
    one = np.array([True, False, False])
    predicted, beta = accessibility_change(expression, tss, one, np.ones((3, 2), bool))
    assert np.isnan(beta) and np.isnan(predicted).all()


def test_accessibility_change_over_weighted_means_by_hand():
    tss = np.array([[0.2, 0.5], [0.4, 0.9], [0.6, 0.1], [0.3, 0.3]])
    expression = np.array([[1.0, 2.0], [2.0, 2.4], [3.0, 1.0], [50.0, -50.0]])
    train = np.array([True, True, True, False])
    # row g: the weight of each training group in g's means (the held-out row 3 takes
    # 1/4 of group 0 and 3/4 of group 2; a weighed NaN makes the mean NaN)
    weights = np.array(
        [[0, 0.5, 0.5, 0], [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0.25, 0, 0.75, 0]], dtype=float
    )
    predicted, beta = accessibility_change(expression, tss, train, np.ones((4, 2), bool), weights)
    mean_e, mean_a = weights @ expression, weights @ tss
    d_e, d_a = (expression - mean_e)[:3], (tss - mean_a)[:3]
    assert beta == pytest.approx((d_a * d_e).sum() / (d_a**2).sum())
    np.testing.assert_allclose(predicted[3], mean_e[3] + beta * (tss[3] - mean_a[3]))
    expression[1, 0] = np.nan
    predicted, _ = accessibility_change(expression, tss, train, np.ones((4, 2), bool), weights)
    assert np.isnan(predicted[[0, 2], 0]).all() and np.isfinite(predicted[3]).all()
