"""Interpretation of a trained GET: motifs, regions, embedding and enhancer-gene links.

Each public function runs the network only through the inference engine
(:func:`scget.tl._core._engine.attribute`), via the promoter pass of
:mod:`scget.tl._core._promoters`.
"""
