"""The motif scan: MOODS and torch scanners, its stored record, motif TF names."""
