"""Evaluation of predicted expression against the paper's baselines."""
