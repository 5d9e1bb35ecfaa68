"""Row metadata kept as columns, and filters evaluated over whole columns at once.

A :class:`VectorIndex` keeps each row's metadata (province, country, consent, salary, …) as one
small integer code per field and row, plus each field's distinct values. A filter is a tree of
:class:`Where` nodes; a leaf tests one field's *distinct values* (34 provinces, not a million
rows) and the codes turn that into a boolean mask over every row in one numpy step. Calling a
Python predicate on a metadata dict per row took 400 ms at a million postings (issue 18).

    where = equals("country", "VN") & (equals("remote", True) | folded_equals("province", home))
    index.search(query, 10, where=where)

A filter also reads one metadata dict (``where(meta)``), with the same result. Filters built
by the helpers here have a ``key``: two filters with the same key keep the same rows, so an
index can reuse a mask between its changes (``VectorIndex`` does).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.text import fold

#: The code of a field a row does not have (``None`` is a value of its own).
ABSENT = 0


def _key(value: Any) -> Any:
    """A dictionary key that keeps apart what Python's equality merges (True, 1 and 1.0)."""
    try:
        hash(value)
    except TypeError:
        return ("json", json.dumps(value, sort_keys=True, default=str))
    return (type(value).__name__, value)


class _Column:
    """One field: a code per row, and the value of each code (code 0: the row lacks it)."""

    def __init__(self, capacity: int) -> None:
        self.codes = np.zeros(capacity, dtype=np.int32)
        self.values: list[Any] = [None]
        #: code of each value's key; made on first use after a load (a million content
        #: hashes: a second, that a start-up that adds nothing need not spend)
        self._lookup: dict[Any, int] | None = {}

    def code(self, value: Any) -> int:
        if self._lookup is None:
            self._lookup = {_key(v): code for code, v in enumerate(self.values) if code}
        key = _key(value)
        found = self._lookup.get(key)
        if found is None:
            found = self._lookup[key] = len(self.values)
            self.values.append(value)
        return found


class Columns:
    """The metadata of a sequence of rows, one column per field."""

    def __init__(self) -> None:
        self._rows = 0
        self._capacity = 0
        self._fields: dict[str, _Column] = {}

    def __len__(self) -> int:
        return self._rows

    @property
    def fields(self) -> list[str]:
        return list(self._fields)

    def extend(self, records: Sequence[Mapping[str, Any]]) -> None:
        start = self._rows
        self._reserve(start + len(records))
        for offset, record in enumerate(records):
            for name, value in record.items():
                column = self._fields.get(name)
                if column is None:
                    column = self._fields[name] = _Column(self._capacity)
                column.codes[start + offset] = column.code(value)
        self._rows = start + len(records)

    def _reserve(self, rows: int) -> None:
        if rows <= self._capacity:
            return
        capacity = max(rows, int(self._capacity * 1.5), 1024)
        for column in self._fields.values():
            grown = np.zeros(capacity, dtype=np.int32)
            grown[: self._rows] = column.codes[: self._rows]
            column.codes = grown
        self._capacity = capacity

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every column as two arrays, its codes and its values (JSON): a file's metadata in
        a few arrays, read back by :meth:`from_arrays` in about a second for a million rows
        (a JSON record per row took 12 s)."""
        names = list(self._fields)
        arrays: dict[str, npt.NDArray[Any]] = {"column_names": _json_bytes(names)}
        for number, name in enumerate(names):
            column = self._fields[name]
            arrays[f"column{number}_codes"] = column.codes[: self._rows]
            arrays[f"column{number}_values"] = _json_bytes(column.values)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]], rows: int) -> Columns:
        """The ``rows`` rows :meth:`to_arrays` wrote (``arrays``: a mapping such as an open
        npz)."""
        columns = cls()
        columns._rows = columns._capacity = rows
        for number, name in enumerate(json.loads(arrays["column_names"].tobytes())):
            codes = np.asarray(arrays[f"column{number}_codes"], dtype=np.int32)
            column = _Column(0)
            column.codes = codes.copy()
            column.values = json.loads(arrays[f"column{number}_values"].tobytes())
            column._lookup = None
            if len(codes) != rows:
                raise ValueError(f"{len(codes)} rows in column {name!r}, {rows} ids")
            columns._fields[name] = column
        return columns

    def values(self, name: str) -> list[Any]:
        """Each row's value of field ``name`` (``None`` where absent), in one pass."""
        column = self._fields.get(name)
        if column is None:
            return [None] * self._rows
        table = np.empty(len(column.values), dtype=object)  # None where absent
        for code, value in enumerate(column.values[1:], start=1):
            table[code] = value  # one by one: a list value stays one value
        return table[column.codes[: self._rows]].tolist()  # type: ignore[no-any-return]

    def row(self, row: int) -> dict[str, Any]:
        """The metadata of ``row`` as it was given (absent fields stay absent)."""
        out = {}
        for name, column in self._fields.items():
            code = int(column.codes[row])
            if code != ABSENT:
                out[name] = column.values[code]
        return out

    def clear(self, row: int) -> None:
        """Forget a removed row's values."""
        for column in self._fields.values():
            column.codes[row] = ABSENT

    def keep(self, rows: npt.NDArray[np.intp]) -> None:
        """Keep only ``rows``, in that order (compaction); unused values are dropped."""
        kept: dict[str, _Column] = {}
        for name, column in self._fields.items():
            codes = column.codes[rows]
            used = np.unique(codes)
            used = used[used != ABSENT]
            if not used.size:
                continue
            fresh = _Column(len(rows))
            remap = np.zeros(len(column.values), dtype=np.int32)
            for old in used.tolist():
                remap[old] = fresh.code(column.values[old])
            fresh.codes = remap[codes]
            kept[name] = fresh
        self._fields, self._rows, self._capacity = kept, len(rows), len(rows)

    def test(self, name: str, check: Callable[[Any], bool]) -> npt.NDArray[np.bool_]:
        """``check`` of each row's value of field ``name`` (``None`` where absent), as a mask:
        ``check`` runs once per distinct value."""
        column = self._fields.get(name)
        if column is None:
            return np.full(self._rows, bool(check(None)))
        table = np.fromiter((bool(check(v)) for v in column.values), dtype=bool,
                            count=len(column.values))  # fmt: skip
        table[ABSENT] = bool(check(None))
        return table[column.codes[: self._rows]]


def _json_bytes(value: Any) -> npt.NDArray[np.uint8]:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


# ---------------------------------------------------------------------- filters
class Where(ABC):
    """A filter over row metadata: ``mask(columns)`` for every row at once, ``where(meta)`` for
    one metadata dict. Combine with ``&``, ``|`` and ``~``."""

    @abstractmethod
    def mask(self, columns: Columns) -> npt.NDArray[np.bool_]: ...

    @abstractmethod
    def __call__(self, meta: Mapping[str, Any]) -> bool: ...

    @property
    @abstractmethod
    def key(self) -> Hashable | None:
        """What this filter keeps, as a value (equal keys keep the same rows); ``None`` for a
        filter that cannot say (a :class:`Test` of a bare function)."""

    def __and__(self, other: Where) -> Where:
        return AllOf((self, other))

    def __or__(self, other: Where) -> Where:
        return AnyOf((self, other))

    def __invert__(self) -> Where:
        return Not(self)


@dataclass(frozen=True, eq=False)
class Test(Where):
    """``check`` of one field's value (``None`` where the row lacks the field)."""

    field: str
    check: Callable[[Any], bool]
    #: what ``check`` tests, as a value (see :attr:`Where.key`); ``None``: unknown
    what: Hashable | None = None

    @property
    def key(self) -> Hashable | None:
        return None if self.what is None else (self.field, self.what)

    def mask(self, columns: Columns) -> npt.NDArray[np.bool_]:
        return columns.test(self.field, self.check)

    def __call__(self, meta: Mapping[str, Any]) -> bool:
        return bool(self.check(meta.get(self.field)))


@dataclass(frozen=True, eq=False)
class AllOf(Where):
    parts: tuple[Where, ...]

    @property
    def key(self) -> Hashable | None:
        return _combined("all", self.parts)

    def mask(self, columns: Columns) -> npt.NDArray[np.bool_]:
        out = np.ones(len(columns), dtype=bool)
        for part in self.parts:
            out &= part.mask(columns)
        return out

    def __call__(self, meta: Mapping[str, Any]) -> bool:
        return all(part(meta) for part in self.parts)


@dataclass(frozen=True, eq=False)
class AnyOf(Where):
    parts: tuple[Where, ...]

    @property
    def key(self) -> Hashable | None:
        return _combined("any", self.parts)

    def mask(self, columns: Columns) -> npt.NDArray[np.bool_]:
        out = np.zeros(len(columns), dtype=bool)
        for part in self.parts:
            out |= part.mask(columns)
        return out

    def __call__(self, meta: Mapping[str, Any]) -> bool:
        return any(part(meta) for part in self.parts)


@dataclass(frozen=True, eq=False)
class Not(Where):
    part: Where

    @property
    def key(self) -> Hashable | None:
        inner = self.part.key
        return None if inner is None else ("not", inner)

    def mask(self, columns: Columns) -> npt.NDArray[np.bool_]:
        return ~self.part.mask(columns)

    def __call__(self, meta: Mapping[str, Any]) -> bool:
        return not self.part(meta)


def _combined(how: str, parts: tuple[Where, ...]) -> Hashable | None:
    keys = [part.key for part in parts]
    return None if any(key is None for key in keys) else (how, *keys)


def _is_many(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def equals(field: str, wanted: Any) -> Where:
    """The field is ``wanted`` (a list-valued field: contains it)."""
    return Test(field, lambda v: wanted in v if _is_many(v) else v == wanted,
                ("equals", _key(wanted)))  # fmt: skip


def one_of(field: str, wanted: Iterable[Any]) -> Where:
    """The field is one of ``wanted`` (a list-valued field: shares one with it)."""
    options = frozenset(wanted)
    return Test(field, lambda v: bool(set(v) & options) if _is_many(v) else v in options,
                ("one of", frozenset(_key(option) for option in options)))  # fmt: skip


def folded_equals(field: str, wanted: str) -> Where:
    """The field's text equals ``wanted`` as :func:`matcher.text.fold` compares them (case,
    white space and Unicode form ignored; diacritics kept)."""
    target = fold(wanted)
    return Test(field, lambda v: isinstance(v, str) and fold(v) == target, ("folded", target))


def at_least(field: str, floor: float) -> Where:
    return Test(field, lambda v: v is not None and not isinstance(v, bool) and v >= floor,
                ("at least", _key(floor)))  # fmt: skip


def missing(field: str) -> Where:
    return Test(field, lambda v: v is None, "missing")


def everything() -> Where:
    return AllOf(())


def from_mapping(where: Mapping[str, Any]) -> Where:
    """``{"field": value}`` (equals) and ``{"field": [any, of, these]}`` (one of), all of them."""
    return AllOf(tuple(one_of(name, wanted) if _is_many(wanted) else equals(name, wanted)
                     for name, wanted in where.items()))  # fmt: skip
