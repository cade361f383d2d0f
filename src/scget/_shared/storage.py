"""The ``.uns["scget"]`` store: one writer and the readers that undo it.

Every result is a record ``data.uns["scget"][key]`` with

- ``"result"``: the table or values (anything anndata writes, e.g. a DataFrame);
- ``"params"``: the parameters as a JSON string, so that they read back exactly as they
  were given (``None``, empty lists and nested mappings included) after
  ``write_h5mu``/``read_h5mu``;
- ``"slots"``: a JSON list of the ``[modality, attribute, name]`` places outside
  ``.uns`` the writer filled (``layers``, ``varm``...). Writing the key again removes
  the slots of the earlier run that the new run does not fill, so nothing stale stays;
- further entries a writer names (``extra``), e.g. a second table.

The ``tl`` writers share one return convention, written once here: they check their
input, compute, take the object to write into from :func:`writable` (``data``, or a
copy of it with ``copy=True``), fill their slots, and end with :func:`finish_writer`,
which writes the record, logs one line and returns the copy with ``copy=True``, else the
writer's answer (its table, or ``None`` where the answer is the slots it filled).

The public readers are in :mod:`scget.get`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .constants import UNS_KEY
from .logging import logger
from .utils import wrong_data_type

#: A place outside ``.uns``: modality (``None`` for the container itself), attribute
#: (``"layers"``, ``"varm"``, ``"obsm"``...) and key.
Slot = tuple[str | None, str, str]


def write_result(
    data,
    key: str,
    result: Any,
    params: Mapping[str, Any],
    *,
    slots: Iterable[Slot] = (),
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the record ``data.uns["scget"][key]``, replacing an earlier one.

    Parameters
    ----------
    data
        :class:`~mudata.MuData` or :class:`~anndata.AnnData` written into.
    key
        Key of the record.
    result
        The result stored under ``"result"``.
    params
        Parameters of the run; values must be JSON-serialisable (numpy scalars and
        arrays, tuples and paths are converted).
    slots
        Places outside ``.uns`` this run has filled. Those of an earlier record under
        ``key`` that are not among them are deleted.
    extra
        Further entries of the record, after ``"slots"`` (anything anndata writes).
    """
    slots = [_slot(slot) for slot in slots]
    store = data.uns.setdefault(UNS_KEY, {})
    if key in store:
        for stale in set(read_slots(data, key)) - set(slots):
            _delete(data, stale)
    store[key] = {
        "result": result,
        "params": to_json(dict(params)),
        "slots": json.dumps([list(slot) for slot in slots]),
        **(extra or {}),
    }


def writable(data, copy: bool):
    """The object a ``tl`` writer writes into: ``data``, or with ``copy`` a copy of it.

    Call it after the input is checked, so that bad input costs no copy.
    """
    return data.copy() if copy else data


def finish_writer(
    data,
    key: str,
    result: Any,
    params: Mapping[str, Any],
    *,
    copy: bool,
    returns: Any = None,
    slots: Iterable[Slot] = (),
    extra: Mapping[str, Any] | None = None,
    message: str | None = None,
    answer_with_copy: bool = False,
) -> Any:
    """The end of every ``tl`` writer: write the record, log, return by the convention.

    Parameters
    ----------
    data
        The object written into (from :func:`writable`).
    key, result, params, slots, extra
        As for :func:`write_result`.
    copy
        The writer's ``copy``: ``data`` is a copy to return.
    returns
        The writer's answer without ``copy``: its table, or ``None`` where the answer is
        the slots it filled.
    message
        One line logged (info) after writing, saying what was written.
    answer_with_copy
        With ``copy``, return ``(returns, data)``: for an answer the record does not hold
        (a trained model).

    Returns
    -------
    With ``copy``, ``data`` (or ``(returns, data)``); else ``returns``.
    """
    write_result(data, key, result, params, slots=slots, extra=extra)
    if message is not None:
        logger.info(message)
    if not copy:
        return returns
    return (returns, data) if answer_with_copy else data


def read_record(data, key: str, *, writer: str | None = None) -> Mapping[str, Any]:
    """Return the record ``data.uns["scget"][key]``.

    Parameters
    ----------
    data
        The object the result was written into.
    key
        Key of the record.
    writer
        The function that writes it (e.g. ``"scget.tl.evaluate"``), named in the error.

    Returns
    -------
    The record (``result``, ``params``, ``slots``).

    Raises
    ------
    TypeError
        If ``data`` has no ``.uns`` (not a MuData or AnnData).
    KeyError
        If there is no such record; the message names ``writer`` and the stored keys.
    """
    if not hasattr(data, "uns"):
        raise wrong_data_type(data, "a MuData or AnnData holding scget results")
    store = data.uns.get(UNS_KEY, {})
    record = store.get(key)
    if not isinstance(record, Mapping) or "params" not in record:
        hint = f"; run {writer}(...) first" if writer else ""
        raise KeyError(
            f"No scget result under uns[{UNS_KEY!r}][{key!r}]{hint} (stored keys: {sorted(store)})."
        )
    return record


def read_params(data, key: str, *, writer: str | None = None) -> dict[str, Any]:
    """Return the parameters of the record ``key`` (see :func:`read_record`) as written."""
    return json.loads(str(read_record(data, key, writer=writer)["params"]))


def read_result(data, key: str, *, writer: str | None = None) -> Any:
    """Return the ``"result"`` of the record ``key`` (see :func:`read_record`).

    Tables and arrays come as copies: changing what a reader returned leaves the stored
    result (and what ``write_h5mu`` writes) as it was.
    """
    result = read_record(data, key, writer=writer)["result"]
    return result.copy() if hasattr(result, "copy") else result


def read_slots(data, key: str) -> list[Slot]:
    """Return the places outside ``.uns`` the record ``key`` filled."""
    slots = read_record(data, key).get("slots", "[]")
    return [_slot(slot) for slot in json.loads(str(slots))]


def _slot(slot) -> Slot:
    modality, attribute, name = slot
    return (None if modality is None else str(modality), str(attribute), str(name))


def _delete(data, slot: Slot) -> None:
    modality, attribute, name = slot
    if modality is not None and modality not in getattr(data, "mod", {}):
        return
    container = data if modality is None else data.mod[modality]
    mapping = getattr(container, attribute)
    if name in mapping:
        del mapping[name]


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text of ``value``, with numpy scalars and arrays, tuples and paths converted.

    Raises
    ------
    TypeError
        If a value has no JSON form; the message names it.
    """
    return json.dumps(value, indent=indent, default=_jsonable)


def _jsonable(value: Any) -> Any:
    """JSON form of the values :func:`json.dumps` does not know."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"Parameter value {value!r} ({type(value).__name__}) is not storable.")
