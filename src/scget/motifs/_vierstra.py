"""The Vierstra et al. (2020) motif archetypes v1.0: the 282 motif features of published GET."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .._shared.download import fetch, source_url
from .._shared.settings import settings
from ._collection import MotifCollection, storable_name
from ._read import read_motifs

CLUSTERS_CSV = "archetype_clusters_v1.0.csv"
MOTIFS_CSV = "archetype_motifs_v1.0.csv"
#: Local name -> (path in the clustering's repository at the v1.0 commit, SHA-256) of the
#: member PWM files (MEME format); the release's cluster tables come as an Excel workbook.
MEME_FILES = {
    "databases_hocomoco_v11_HOCOMOCOv11_core_HUMAN_mono_meme_format.meme": (
        "databases/hocomoco_v11/HOCOMOCOv11_core_HUMAN_mono_meme_format.meme",
        "35e21832b3c892ebe24e8620c86d7aff3a91cc4c73b036f24a4492efc9a35c7e",
    ),
    "databases_hocomoco_v11_HOCOMOCOv11_core_MOUSE_mono_meme_format.meme": (
        "databases/hocomoco_v11/HOCOMOCOv11_core_MOUSE_mono_meme_format.meme",
        "a5abe152cb5454e06b9cd73473d33fdead042425f2b541e802df588b455cbf48",
    ),
    "databases_jaspar2018_JASPAR2018_CORE_vertebrates_non-redundant_pfms.meme": (
        "databases/jaspar2018/JASPAR2018_CORE_vertebrates_non-redundant_pfms_meme.txt",
        "e5ec609a4f7b2752743cd40e7cda54582d15bd2e095fdacd1094630a2f1588e2",
    ),
    **{
        f"jolma2013_table_s3-{k}.meme": (f"databases/jolma2013/table_s3-{k}.meme", digest)
        for k, digest in enumerate(
            [
                "63895a01b19d1d1ee90f526617369b3f2f49b6d8ea2e5c5c3e19ea56535dcaff",
                "9fe698a680fb3203042669f5aa1f8cc7eb8e21e109fa59210cbce69b1f001eb5",
                "a27efc0c46d770f0012489a201f249c7cae47d411beb0b95eb237983e5660ae2",
                "3fd795a39da08dd8155082f1633dc901716dc40baad90109c507fda23ab177db",
                "04b76e6065b4d0262c19f622c4457bc522b62599c78cf89eb212568801571c5d",
                "3716db7c06e0c5c9c7b900892b654d0ec932d3b21b299bcaf982cc58ec4d6f8c",
            ],
            start=1,
        )
    },
}


def vierstra_archetypes(path: str | os.PathLike | None = None) -> MotifCollection:
    """Load the motif archetype clustering v1.0 of Vierstra et al. (Nature 2020).

    The feature space of the published GET checkpoints: the release's 2,174 annotated
    member PWMs (HOCOMOCO v11 human and mouse, JASPAR 2018 CORE vertebrates, Jolma et al.
    2013) in 286 clusters, whose 282 distinct names are the features; clusters sharing a
    name are merged, as GET does. Cluster order is the published checkpoints' column order
    (the names in Python string order); names are stored with ``"."`` for ``"/"``.

    Parameters
    ----------
    path
        Folder holding ``archetype_clusters_v1.0.csv`` (``Cluster_ID``, ``Name``, ``DBD``...),
        ``archetype_motifs_v1.0.csv`` (``Cluster_ID``, ``Motif``, ``Database``...) and the
        member PWMs as MEME files (``*.meme``). ``None`` downloads them once into
        ``scget.settings.cachedir / "vierstra_archetypes_v1"`` (the PWMs checksummed; the
        cluster tables come from the release's ``motif_annotations.xlsx``, which has no
        published checksum), from the sources ``"vierstra_repository"`` and
        ``"vierstra_release"`` of :data:`scget.datasets.BASE_URLS`.

    Returns
    -------
    :class:`~scget.motifs.MotifCollection` indexed by motif id, ``info`` columns ``name``
    (TF), ``cluster`` (archetype name), ``cluster_id``, ``database``, ``dbd``.

    Raises
    ------
    FileNotFoundError
        If the folder lacks a cluster table or holds no MEME file.
    ValueError
        If member motifs of the table have no PWM in the MEME files (listed).
    """
    folder = (
        Path(path).expanduser()
        if path is not None
        else _download(settings.cachedir / "vierstra_archetypes_v1")
    )
    for name in (CLUSTERS_CSV, MOTIFS_CSV):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} is missing; see scget.motifs.vierstra_archetypes."
            )
    memes = sorted(folder.glob("*.meme"))
    if not memes:
        raise FileNotFoundError(f"No MEME file (*.meme) with the member PWMs in {folder}.")
    clusters = pd.read_csv(folder / CLUSTERS_CSV).set_index("Cluster_ID")
    members = pd.read_csv(folder / MOTIFS_CSV)
    matrices = {}
    for meme in memes:
        matrices.update(read_motifs(meme, format="meme").matrices)
    missing = sorted(set(members["Motif"]) - set(matrices))
    if missing:
        raise ValueError(
            f"{len(missing)} member motif(s) have no PWM in {folder}/*.meme, e.g. {missing[:5]}."
        )
    ids = members["Motif"].astype(str).tolist()
    info = pd.DataFrame(
        {
            "name": [motif.split("_")[0].removesuffix(".mouse") for motif in ids],
            "cluster": clusters.loc[members["Cluster_ID"], "Name"].astype(str).to_numpy(),
            "cluster_id": members["Cluster_ID"].to_numpy(),
            "database": members["Database"].astype(str).to_numpy(),
            "dbd": clusters.loc[members["Cluster_ID"], "DBD"].astype(str).to_numpy(),
        },
        index=ids,
    )
    return MotifCollection(
        {motif: matrices[motif] for motif in ids}, info, cluster_order=published_order(clusters)
    )


def published_order(clusters: pd.DataFrame) -> list[str]:
    """Feature order of the published GET checkpoints: distinct archetype names, sorted.

    Sorted as published (Python string order of the original names), then made storable
    (``"/"`` becomes ``"."``, :func:`~scget.motifs._collection.storable_name`).
    """
    return [storable_name(name) for name in sorted(set(clusters["Name"].astype(str)))]


def _download(folder: Path) -> Path:
    """Fetch the release into ``folder`` (once) and write the two cluster tables."""
    for name, (repo_path, digest) in MEME_FILES.items():
        fetch(source_url("vierstra_repository", repo_path), folder / name, known_hash=digest)
    if not (folder / CLUSTERS_CSV).is_file() or not (folder / MOTIFS_CSV).is_file():
        workbook = fetch(
            source_url("vierstra_release", "motif_annotations.xlsx"),
            folder / "motif_annotations.xlsx",
        )
        sheets = pd.read_excel(workbook, sheet_name=[0, 1])
        sheets[0].to_csv(folder / CLUSTERS_CSV, index=False)
        sheets[1].to_csv(folder / MOTIFS_CSV, index=False)
    return folder
