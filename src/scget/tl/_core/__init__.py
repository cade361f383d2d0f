"""The model layer: the GET model object, its inputs (windows), genes, split and inference.

Imports none of its sibling packages (``_training``, ``_evaluation``).
"""
