"""Interpretation of a trained GET: gene-by-motif, region importance, regulatory embedding.

Each public function runs the network only through the inference engine
(:func:`scget.tl._core._engine.attribute`), via the one pass of :mod:`._pass`.
"""
