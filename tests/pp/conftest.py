"""Fixtures of the pp tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def scget_log(caplog):
    """``caplog`` receiving the records of the ``scget`` logger (which does not propagate)."""
    from scget._logging import logger

    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="scget")
    yield caplog
    logger.removeHandler(caplog.handler)
