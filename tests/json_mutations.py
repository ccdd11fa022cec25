"""Field-by-field mutation of a parsed JSON record, shared by the hostile-input tests: every field path, the
value at a path, and a copy with one field replaced or removed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

MISSING = object()  # the mutation that removes a field


def fields(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every field path of a JSON value (lists: their first element only)."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from fields(inner, (*path, key))
    elif isinstance(value, list) and value:
        yield from fields(value[0], (*path, 0))


def value_at(value: Any, path: tuple) -> Any:
    """The value at ``path``."""
    for key in path:
        value = value[key]
    return value


def mutated(value: Any, path: tuple, new: Any) -> Any:
    """A deep copy of ``value`` with the field at ``path`` set to ``new`` (or removed for :data:`MISSING`);
    None where ``new`` is :data:`MISSING` and the field is a list element, which cannot be removed."""
    out = copy.deepcopy(value)
    parent = value_at(out, path[:-1])
    if new is MISSING:
        if isinstance(path[-1], int):
            return None
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return out
