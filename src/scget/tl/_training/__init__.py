"""Training: pretraining and fine-tuning, the loop, its objectives and ``scget train``."""
