"""Shared fixtures: paths to the real data in ../shared/data (skipped when absent)."""

from __future__ import annotations

import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: How to run the tests that read real data (said in every such skip).
REAL_DATA_HINT = (
    "these tests read small public datasets (a PBMC multiome subset, 2.3 Mbp of hg38, the "
    "Vierstra motif archetypes, a GENCODE gene table) from a folder 'shared/data' beside "
    "the repository; place it there to run them"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real data folder; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}: {REAL_DATA_HINT}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def hg38_piece(shared_data):
    """The real 2.3 Mbp of hg38 (chr2:1-2,333,275, bgzipped) as a :class:`scget.genome.Genome`."""
    from scget.genome import Genome

    path = shared_data / "hg38_chr2_piece" / "chr2_1-2333275.fa.gz"
    if not path.exists():
        pytest.skip(f"the hg38 piece is not in {path.parent}: {REAL_DATA_HINT}")
    return Genome(path)


@pytest.fixture(scope="session")
def fox_gata_ctcf():
    """JASPAR 2024's FOX, GATA and CTCF clusters: frequent, distinct hits on real sequence."""
    import scget

    jaspar = scget.motifs.load_jaspar()
    clusters = ("FOX", "GATA", "CTCF/1")
    return jaspar.subset([i for i in jaspar.ids if jaspar.info.at[i, "cluster"] in clusters])


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's cache directory out of the user's home."""
    import scget

    monkeypatch.setattr(scget.settings, "_cachedir", tmp_path_factory.getbasetemp() / "cache")


@pytest.fixture
def scget_log(caplog):
    """``caplog`` receiving the records of the ``scget`` logger (which does not propagate)."""
    from scget._shared.logging import logger

    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="scget")
    yield caplog
    logger.removeHandler(caplog.handler)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def http_mirror(tmp_path):
    """A local HTTP server (pooch downloads http://, not file://) serving a fresh folder.

    Yields ``(folder, base_url)``: files written under ``folder`` are served below
    ``base_url``.
    """
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def offline_url():
    """A base URL where nothing answers (a port just closed), as without internet."""
    from _ports import free_port

    return f"http://127.0.0.1:{free_port()}/"


def _plain_greedy(hits) -> float:
    """The motif scan's reduction as ``scget._scan.moods`` states it, the slow, obvious way.

    ``hits``: ``(score, start, end, matrix)``; best first (score, then leftmost, then
    matrix), a hit is kept when it shares no base pair with a kept one; the kept scores
    are added in that order.
    """
    kept, total = [], 0.0
    for score, start, end, _ in sorted(hits, key=lambda h: (-h[0], h[1], h[3])):
        if all(end <= s or e <= start for s, e in kept):
            kept.append((start, end))
            total += score
    return total


@pytest.fixture
def plain_greedy():
    """The motif scan's reduction written plainly (an oracle for the fast ones)."""
    return _plain_greedy
