"""Copy the plot gallery's images (docs/gallery.md) out of the executed interpretation tutorial.

Usage: ``python docs/gallery.py [NOTEBOOK]`` (default ``tutorials/interpretation.ipynb``,
executed). Every code cell tagged ``gallery:NAME`` must have drawn one PNG; it is written
to ``docs/_static/gallery/NAME.png``, so the gallery shows exactly what the tutorial
drew. Run it after re-executing the tutorial.
"""

from __future__ import annotations

import argparse
import base64
import logging
from pathlib import Path

import nbformat

DOCS = Path(__file__).parent
OUT = DOCS / "_static" / "gallery"
TUTORIAL = DOCS.parent / "tutorials" / "interpretation.ipynb"
TAG = "gallery:"

logger = logging.getLogger("gallery")


def gallery_images(notebook: nbformat.NotebookNode) -> dict[str, bytes]:
    """The PNG drawn by each tagged code cell, by gallery name.

    Raises
    ------
    ValueError
        If a tagged cell drew no PNG or more than one, or a name is used twice: the
        notebook was not executed, or a plot failed.
    """
    images: dict[str, bytes] = {}
    for cell in notebook.cells:
        names = [
            t[len(TAG) :] for t in cell.get("metadata", {}).get("tags", []) if t.startswith(TAG)
        ]
        if not names:
            continue
        pngs = [
            o["data"]["image/png"]
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        for name in names:
            if len(pngs) != 1 or name in images:
                raise ValueError(
                    f"Gallery cell {name!r} drew {len(pngs)} PNGs (or its name is repeated); "
                    "execute the tutorial first and check that the cell draws one figure."
                )
            images[name] = base64.b64decode(pngs[0])
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, nargs="?", default=TUTORIAL)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    images = gallery_images(nbformat.read(args.notebook, as_version=4))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, png in images.items():
        (OUT / f"{name}.png").write_bytes(png)
        logger.info("wrote %s", OUT / f"{name}.png")


if __name__ == "__main__":
    main()
