"""Modules every floor of scget shares: constants, storage, logging, utilities."""
