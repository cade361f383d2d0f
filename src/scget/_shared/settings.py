"""Global settings, in the manner of :data:`scanpy.settings`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

_VERBOSITY_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
_DEVICES = ("auto", "cpu", "cuda", "mps")


class ScgetSettings:
    """Settings shared by every scget function.

    Attributes
    ----------
    verbosity
        0 errors, 1 warnings, 2 info (default), 3 debug. Progress bars show at 2 and above.
    device
        Default torch device for models: ``"auto"`` (CUDA, then MPS, then CPU),
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``.
    n_jobs
        Worker processes for parallel work such as motif scanning; ``None`` or ``-1``
        use every available core.
    n_threads
        Threads torch computes with on the CPU (training, prediction, interpretation).
        ``None`` (default): ``OMP_NUM_THREADS`` when set, else the cores free when the
        computation starts (the process's cores, shared among a node's ``torchrun``
        ranks, less those other processes keep busy; at least 1), since torch's threads
        slow each other several-fold on busy cores. See :mod:`scget._shared.threads`.
    cachedir
        Where downloads and simulated files are kept. Defaults to ``$SCGET_CACHE_DIR``
        or ``~/.cache/scget``.
    """

    def __init__(self) -> None:
        self._verbosity = 2
        self._device = "auto"
        self._n_jobs: int | None = None
        self._n_threads: int | None = None
        self._cachedir = Path(os.environ.get("SCGET_CACHE_DIR", Path.home() / ".cache" / "scget"))
        self._apply_verbosity()

    @property
    def verbosity(self) -> int:
        """Logging level: 0 errors, 1 warnings, 2 info, 3 debug."""
        return self._verbosity

    @verbosity.setter
    def verbosity(self, value: int) -> None:
        if value not in _VERBOSITY_LEVELS:
            raise ValueError(f"verbosity must be one of {sorted(_VERBOSITY_LEVELS)}, got {value!r}")
        self._verbosity = int(value)
        self._apply_verbosity()

    @property
    def device(self) -> str:
        """Default torch device: ``"auto"``, ``"cpu"``, ``"cuda[:i]"`` or ``"mps"``."""
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        if str(value).split(":")[0] not in _DEVICES:
            raise ValueError(
                f"device must be one of {_DEVICES} (optionally 'cuda:i'), got {value!r}"
            )
        self._device = str(value)

    @property
    def n_jobs(self) -> int | None:
        """Worker processes; ``None`` or ``-1`` mean all cores."""
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: int | None) -> None:
        if value is not None and (value == 0 or value < -1):
            raise ValueError(f"n_jobs must be a positive integer, -1 or None, got {value!r}")
        self._n_jobs = value

    @property
    def n_threads(self) -> int | None:
        """Torch's CPU threads; ``None`` chooses the free cores."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"n_threads must be a positive integer or None, got {value!r}")
        self._n_threads = value

    @property
    def cachedir(self) -> Path:
        """Directory for downloads and simulated files."""
        return self._cachedir

    @cachedir.setter
    def cachedir(self, value: str | os.PathLike) -> None:
        self._cachedir = Path(value).expanduser()

    def _apply_verbosity(self) -> None:
        logging.getLogger("scget").setLevel(_VERBOSITY_LEVELS[self._verbosity])

    def __repr__(self) -> str:
        return (
            f"ScgetSettings(verbosity={self.verbosity}, device={self.device!r}, "
            f"n_jobs={self.n_jobs}, n_threads={self.n_threads}, cachedir='{self.cachedir}')"
        )


settings = ScgetSettings()
