"""Readers of motif files: MEME, JASPAR, TRANSFAC and HOMER formats."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._collection import MotifCollection

FORMATS = ("meme", "jaspar", "transfac", "homer")
_EXTENSIONS = {
    ".meme": "meme",
    ".jaspar": "jaspar",
    ".pfm": "jaspar",
    ".transfac": "transfac",
    ".dat": "transfac",
    ".motif": "homer",
    ".motifs": "homer",
    ".homer": "homer",
}


def read_motifs(path: str | os.PathLike, *, format: str | None = None) -> MotifCollection:
    """Read position matrices from a motif file.

    Each motif becomes its own cluster; group similar motifs with
    :func:`scget.motifs.cluster_motifs`.

    Parameters
    ----------
    path
        Motif file.
    format
        ``"meme"`` (MEME minimal format: ``MOTIF id [name]`` and letter-probability
        matrices), ``"jaspar"`` (``>id name`` followed by four rows ``A [ counts ]`` ...,
        or four bare rows in the order A, C, G, T), ``"transfac"`` (``AC``/``ID``/``NA``
        lines, a ``P0``/``PO`` header naming the base columns, numbered rows, ``//``
        between motifs) or ``"homer"`` (``>consensus<TAB>name<TAB>...`` followed by rows
        of four probabilities). ``None`` guesses from the extension, then the content.

    Returns
    -------
    :class:`~scget.motifs.MotifCollection`; ``info["name"]`` holds the TF name when the file
    gives one (else the id).

    Raises
    ------
    ValueError
        If the format is unknown, the file holds no motif, or a matrix is malformed
        (message names the motif).
    """
    path = Path(path)
    text = path.read_text()
    fmt = format or _guess_format(path, text)
    if fmt not in FORMATS:
        raise ValueError(f"Unknown motif format {fmt!r}; choose one of {FORMATS}.")
    records = {
        "meme": _parse_meme,
        "jaspar": _parse_jaspar,
        "transfac": _parse_transfac,
        "homer": _parse_homer,
    }[fmt](text)
    if not records:
        raise ValueError(f"No {fmt} motif found in {path}; pass format= if the guess was wrong.")
    ids = _unique([motif_id for motif_id, _, _ in records])
    matrices = {motif_id: matrix for motif_id, (_, _, matrix) in zip(ids, records, strict=True)}
    info = pd.DataFrame({"name": [name for _, name, _ in records]}, index=ids)
    return MotifCollection(matrices, info)


def _guess_format(path: Path, text: str) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".txt"]
    for suffix in reversed(suffixes):
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    if re.search(r"^MEME version", text, re.M):
        return "meme"
    if re.search(r"^P[0O]\s", text, re.M):
        return "transfac"
    if re.search(r"^\s*[ACGT]\s*\[", text, re.M):
        return "jaspar"
    if re.search(r"^>[^\n]*\t[^\n]*\n\s*[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s*$", text, re.M):
        return "homer"
    if text.lstrip().startswith(">"):
        return "jaspar"
    raise ValueError(f"Cannot guess the motif format of {path}; pass format= (one of {FORMATS}).")


def _unique(ids: list[str]) -> list[str]:
    """Make repeated ids unique by appending ``_2``, ``_3``..."""
    seen: dict[str, int] = {}
    unique = []
    for motif_id in ids:
        seen[motif_id] = seen.get(motif_id, 0) + 1
        unique.append(motif_id if seen[motif_id] == 1 else f"{motif_id}_{seen[motif_id]}")
    return unique


def _numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", line)]


def _parse_meme(text: str) -> list[tuple[str, str, np.ndarray]]:
    records = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fields = lines[i].split()
        if fields[:1] == ["MOTIF"] and len(fields) >= 2:
            motif_id, name = fields[1], fields[2] if len(fields) > 2 else fields[1]
            while i < len(lines) and "letter-probability matrix" not in lines[i]:
                i += 1
            width = re.search(r"w=\s*(\d+)", lines[i]) if i < len(lines) else None
            if width is None:
                raise ValueError(
                    f"MEME motif {motif_id!r} has no 'letter-probability matrix: ... w= N' line."
                )
            rows = [_numbers(line) for line in lines[i + 1 : i + 1 + int(width.group(1))]]
            records.append((motif_id, name, _matrix(rows, motif_id)))
        i += 1
    return records


def _parse_jaspar(text: str) -> list[tuple[str, str, np.ndarray]]:
    records = []
    for block in re.split(r"^>", text, flags=re.M)[1:]:
        header, *body = [line for line in block.splitlines() if line.strip()]
        fields = header.split()
        motif_id, name = fields[0], " ".join(fields[1:]) or fields[0]
        rows = {}
        for k, line in enumerate(body[:4]):
            letter = line.strip()[0].upper()
            rows[letter if letter in "ACGT" else "ACGT"[k]] = _numbers(line)
        if sorted(rows) != list("ACGT"):
            raise ValueError(f"JASPAR motif {motif_id!r} must have four rows A, C, G, T.")
        lengths = {len(v) for v in rows.values()}
        if len(lengths) != 1:
            raise ValueError(
                f"JASPAR motif {motif_id!r} has rows of different lengths {sorted(lengths)}."
            )
        records.append((motif_id, name, _matrix(np.array([rows[b] for b in "ACGT"]).T, motif_id)))
    return records


def _parse_transfac(text: str) -> list[tuple[str, str, np.ndarray]]:
    records = []
    for block in re.split(r"^//", text, flags=re.M):
        fields: dict[str, str] = {}
        order, rows = None, []
        for line in block.splitlines():
            tag, _, value = line.strip().partition(" ")
            if tag in ("P0", "PO"):
                order = value.split()[:4]
            elif order is not None and tag.isdigit():
                rows.append(_numbers(value)[:4])
            elif tag in ("AC", "ID", "NA", "DE") and tag not in fields:
                fields[tag] = value.strip()
        if order is None:
            continue
        motif_id = fields.get("AC") or fields.get("ID") or f"motif{len(records) + 1}"
        name = fields.get("NA") or fields.get("ID") or motif_id
        if sorted(b.upper() for b in order) != list("ACGT"):
            raise ValueError(f"TRANSFAC motif {motif_id!r}: the P0 header must name A, C, G, T.")
        columns = [[b.upper() for b in order].index(base) for base in "ACGT"]
        records.append((motif_id, name, _matrix(np.array(rows)[:, columns], motif_id)))
    return records


def _parse_homer(text: str) -> list[tuple[str, str, np.ndarray]]:
    records = []
    for block in re.split(r"^>", text, flags=re.M)[1:]:
        header, *body = [line for line in block.splitlines() if line.strip()]
        fields = header.split("\t")
        motif_id = fields[1] if len(fields) > 1 and fields[1] else fields[0]
        name = motif_id.split("/")[0].split("(")[0] or motif_id
        records.append((motif_id, name, _matrix([_numbers(line) for line in body], motif_id)))
    return records


def _matrix(rows, motif_id: str) -> np.ndarray:
    rows = [list(row) for row in rows]
    if not rows or any(len(row) != 4 for row in rows):
        lengths = sorted({len(row) for row in rows})
        raise ValueError(
            f"Motif {motif_id!r}: expected rows of four numbers, got row lengths {lengths}."
        )
    return np.asarray(rows, dtype=np.float64)
