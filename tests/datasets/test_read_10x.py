"""scget.read_10x_multiome: Cell Ranger ARC folders, .h5mu files and .h5ad pairs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import scget
from scget.datasets import read_10x_multiome
from scget.datasets._read import FRAGMENTS_FILE, MATRIX_FILE

pytestmark = pytest.mark.realdata


def assert_same_counts(mdata, reference):
    for name in ("rna", "atac"):
        assert list(mdata[name].obs_names) == list(reference[name].obs_names)
        assert list(mdata[name].var_names) == list(reference[name].var_names)
        np.testing.assert_array_equal(mdata[name].X.toarray(), reference[name].X.toarray())


def test_reads_a_cellranger_folder(cellranger_outs, pbmc_h5mu):
    mdata = read_10x_multiome(cellranger_outs)
    assert_same_counts(mdata, pbmc_h5mu)
    var = mdata["atac"].var
    assert var.loc["chr1:100350982-100353664", ["chrom", "start", "end"]].tolist() == [
        "chr1",
        100350982,
        100353664,
    ]
    fragments = mdata["atac"].uns["files"]["fragments"]
    assert fragments == str((cellranger_outs / FRAGMENTS_FILE).resolve())
    # the .h5 file itself, and the top-level shortcut
    assert_same_counts(scget.read_10x_multiome(cellranger_outs / MATRIX_FILE), pbmc_h5mu)


def test_reads_an_h5mu_and_finds_its_fragments_beside_it(shared_data, pbmc_h5mu, scget_log):
    folder = shared_data / "pbmc_multiome_subset"
    recorded = pbmc_h5mu["atac"].uns["files"]["fragments"]
    assert not (folder / recorded).is_file()  # stored relative to another folder
    mdata = read_10x_multiome(folder / "test_rna_atac.h5mu")
    assert_same_counts(mdata, pbmc_h5mu)
    assert mdata["atac"].uns["files"]["fragments"] == str(
        (folder / "test_rna_atac_fragments.tsv.gz").resolve()
    )
    assert "No ATAC fragments file" not in scget_log.text


def test_reads_a_pair_of_h5ad(tmp_path, pbmc_h5mu, cellranger_outs, scget_log):
    pbmc_h5mu["rna"].write_h5ad(tmp_path / "rna.h5ad")
    pbmc_h5mu["atac"].write_h5ad(tmp_path / "atac.h5ad")
    pair = (tmp_path / "rna.h5ad", tmp_path / "atac.h5ad")
    mdata = read_10x_multiome(pair)
    assert_same_counts(mdata, pbmc_h5mu)
    assert "fragments" not in mdata["atac"].uns["files"]
    assert "No ATAC fragments file found" in scget_log.text
    fragments = cellranger_outs / FRAGMENTS_FILE
    mdata = read_10x_multiome(pair, fragments=fragments)
    assert mdata["atac"].uns["files"]["fragments"] == str(fragments.resolve())


def test_clear_errors(tmp_path, cellranger_outs, pbmc_h5mu):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_10x_multiome(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=f"{MATRIX_FILE} does not exist"):
        read_10x_multiome(tmp_path)
    (tmp_path / "data.loom").touch()
    with pytest.raises(ValueError, match="Cannot read"):
        read_10x_multiome(tmp_path / "data.loom")
    with pytest.raises(FileNotFoundError, match="Fragments file"):
        read_10x_multiome(cellranger_outs, fragments=tmp_path / "absent.tsv.gz")
    with pytest.raises(ValueError, match="pair"):
        read_10x_multiome([tmp_path / "rna.h5ad"])
    rna = pbmc_h5mu["rna"].copy()
    rna.X = rna.X / 2.5  # normalised, not counts
    rna.write_h5ad(tmp_path / "rna.h5ad")
    pbmc_h5mu["atac"].write_h5ad(tmp_path / "atac.h5ad")
    with pytest.raises(ValueError, match=r'mdata\["rna"\].X holds non-integer values'):
        read_10x_multiome((tmp_path / "rna.h5ad", tmp_path / "atac.h5ad"))


def test_matrix_without_fragments_warns(tmp_path, cellranger_outs, pbmc_h5mu, scget_log):
    shutil.copy(cellranger_outs / MATRIX_FILE, tmp_path / MATRIX_FILE)
    mdata = read_10x_multiome(tmp_path)
    assert_same_counts(mdata, pbmc_h5mu)
    assert "No ATAC fragments file found" in scget_log.text
    assert "fragments" not in mdata["atac"].uns["files"]
