"""scget.motifs.read_motifs: the four formats give the same matrices."""

from __future__ import annotations

import numpy as np
import pytest

from scget.motifs import read_motifs

COUNTS = np.array([[4, 16, 0, 0], [19, 0, 1, 0], [0, 20, 0, 0]], dtype=float)  # rows A C G T

MEME = """MEME version 4

ALPHABET= ACGT

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF MA0004.1 Arnt
letter-probability matrix: alength= 4 w= 3 nsites= 20 E= 0
 0.20 0.80 0.00 0.00
 0.95 0.00 0.05 0.00
 0.00 1.00 0.00 0.00
URL http://jaspar.genereg.net/matrix/MA0004.1

MOTIF second
letter-probability matrix: alength= 4 w= 2
1 0 0 0
0 0 0 1
"""

JASPAR = """>MA0004.1\tArnt
A  [     4     19      0 ]
C  [    16      0     20 ]
G  [     0      1      0 ]
T  [     0      0      0 ]
>second
1 0
0 0
0 0
0 1
"""

TRANSFAC = """AC  MA0004.1
XX
ID  Arnt
XX
P0      G      T      A      C
01      0      0      4     16      C
02      1      0     19      0      A
03      0      0      0     20      C
XX
//
AC  second
P0      A      C      G      T
01      1      0      0      0
02      0      0      0      1
//
"""

HOMER = """>CACGTG\tMA0004.1\t6.0
0.20\t0.80\t0.00\t0.00
0.95\t0.00\t0.05\t0.00
0.00\t1.00\t0.00\t0.00
>AT\tsecond\t2.0
1\t0\t0\t0
0\t0\t0\t1
"""


@pytest.mark.parametrize(
    ("text", "suffix"),
    [(MEME, ".meme"), (JASPAR, ".jaspar"), (TRANSFAC, ".transfac"), (HOMER, ".motif")],
)
@pytest.mark.parametrize("guess_from", ["extension", "content"])
def test_formats_agree(tmp_path, text, suffix, guess_from):
    path = tmp_path / (f"motifs{suffix}" if guess_from == "extension" else "motifs.txt")
    path.write_text(text)
    motifs = read_motifs(path)
    assert motifs.ids == ["MA0004.1", "second"]
    np.testing.assert_allclose(motifs["MA0004.1"], COUNTS / 20)
    np.testing.assert_allclose(motifs["second"], [[1, 0, 0, 0], [0, 0, 0, 1]])
    assert motifs.info["cluster"].tolist() == ["MA0004.1", "second"]
    if suffix != ".motif":
        assert motifs.info.loc["MA0004.1", "name"] == "Arnt"


def test_errors(tmp_path):
    path = tmp_path / "bad.meme"
    path.write_text(
        "MOTIF broken\nletter-probability matrix: alength= 4 w= 2\n0.5 0.5 0\n1 0 0 0\n"
    )
    with pytest.raises(ValueError, match=r"'broken'.*row lengths"):
        read_motifs(path)
    empty = tmp_path / "empty.meme"
    empty.write_text("MEME version 4\n")
    with pytest.raises(ValueError, match="No meme motif"):
        read_motifs(empty)
    with pytest.raises(ValueError, match="Unknown motif format"):
        read_motifs(empty, format="bed")


def test_real_meme_files(shared_data):
    folder = shared_data / "vierstra_archetypes_v1"
    motifs = read_motifs(
        folder / "databases_jaspar2018_JASPAR2018_CORE_vertebrates_non-redundant_pfms.meme"
    )
    assert len(motifs) == 579
    np.testing.assert_allclose(motifs["Arnt_MA0004.1"][0], [0.2, 0.8, 0, 0])
