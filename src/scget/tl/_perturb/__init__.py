"""In-silico perturbations of a trained GET: motif knockout, region deletion.

Each public function runs the network only through the inference engine, via the
interpretation's promoter windows and the shared change of :mod:`._change`.
"""
