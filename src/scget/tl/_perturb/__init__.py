"""In-silico perturbations of a trained GET: motif knockout, region deletion.

Each public function runs the network only through the inference engine, via the
promoter pass of :mod:`scget.tl._core._promoters` and the shared change of
:mod:`._change`.
"""
