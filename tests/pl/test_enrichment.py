import numpy as np
import pytest

import scget


def test_enrichment_dots_are_the_top_terms(pb):
    fig = scget.pl.enrichment(pb, motif="M0", n_top=5, return_fig=True)
    ax = fig.axes[0]
    table = scget.get.enrichment(pb, motif="M0").nsmallest(5, "padj").iloc[::-1]
    dots = ax.collections[0]
    np.testing.assert_allclose(dots.get_offsets()[:, 0], table["gene_ratio"])
    np.testing.assert_allclose(dots.get_array(), -np.log10(table["padj"]))
    sizes = dots.get_sizes()
    assert np.all(np.diff(sizes[np.argsort(table["n_genes"].to_numpy())]) >= 0)
    assert sizes[np.argmax(table["n_genes"].to_numpy())] == 200.0
    assert [t.get_text() for t in ax.get_yticklabels()] == table["term"].tolist()
    assert fig.axes[1].get_ylabel() == "-log10(padj)"  # the colour bar
    assert ax.get_title() == "targets of motif M0, group A"


def test_enrichment_labels_terms_with_motif_and_group_when_mixed(pb):
    fig = scget.pl.enrichment(pb, n_top=20, return_fig=True)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 12
    assert "term M1-0 (M1, B)" in labels
    assert fig.axes[0].get_title() == "targets of each motif and group"
    one_group = scget.pl.enrichment(pb, group="B", return_fig=True)
    assert one_group.axes[0].get_title() == "targets of motif M1, group B"
    assert one_group.axes[0].get_yticklabels()[0].get_text() == "term M1-0"
    with pytest.raises(ValueError, match="No enriched term"):
        scget.pl.enrichment(pb, motif="M0", group="B")
