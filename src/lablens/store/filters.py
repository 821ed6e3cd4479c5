"""MongoDB-style run filters: the language every engine reads, described once.

``{"state": "finished", "config.lr": {"$lt": 0.1}}`` is a filter. The language is MongoDB's query
language on a flat document:

- top level: ``$and``, ``$or``, ``$nor`` (non-empty lists of filters), ``$not`` (a filter); several
  keys in one object are ANDed;
- per field: ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex`` (``$options`` with ``i``, ``m``,
  ``s`` may go along with ``$regex``) and ``$not`` (an object of operators); a plain value means
  ``$eq``; several operators on one field are ANDed.

Fields are the run's columns under the names W&B and SwanLab use, ``config.<key>`` (the flattened
config, so ``config.data.bs`` is the key ``"data.bs"``) and ``summary_metrics.<key>`` /
``summary.<key>`` (``FIELD_HELP`` lists them all); :func:`resolve_field` maps a name to its field,
and an order (``lablens.store.order_tree``) names the same fields.

Semantics worth knowing, all as in MongoDB unless said otherwise:

- Every condition is two-valued (never SQL NULL), so ``$not``, ``$ne``, ``$nin`` and ``$nor`` match
  runs where the field is missing: a missing value is "not equal" to anything.
- Arrays match when any element matches (``tags``, and JSON values that are arrays such as
  ``config.layers = [64, 32]``); ``$ne``/``$nin`` match when no element does. A list given to
  ``$eq`` matches the whole array instead.
- ``state`` compares case-insensitively (W&B says ``"finished"``, SwanLab ``"FINISHED"``).
- Times (``created_at`` ...) take ISO 8601 strings or datetimes; a time without an offset is UTC.
- JSON values: a number compares numerically with stored numbers (a stored string ``"64"`` is
  text, so ``64`` does not match it), and the strings ``"NaN"``, ``"Infinity"`` and
  ``"-Infinity"`` stored for non-finite floats count as those numbers, not as text. A string
  compares as text, except that for ``$eq``/``$ne``/``$in``/``$nin`` a string that reads as a number
  also matches that number, so SwanLab's ``{"config.batch_size": "64"}`` finds a stored ``64``. A
  bool matches JSON ``true``/``false`` only (``True`` is not ``1``). ``None`` matches a missing key
  or a JSON null. Range operators never match NaN unless the bound is NaN itself (``$gte``/``$lte``
  NaN then match NaN), as with IEEE comparisons.
- ``$exists: true`` means "present and not null" (a deviation from MongoDB, which counts a stored
  null as present): W&B and SwanLab write ``None`` for unset config values, and this way
  ``{"$exists": False}`` is exactly ``{"$eq": None}``. On ``tags`` it means "at least one tag".
- ``$regex`` is a search (a match anywhere, as in MongoDB) with RE2 syntax, which is Python's
  ``re`` without lookaround and backreferences; it applies to text only.
- A W&B key ending in ``.value`` (``config.lr.value``) looks up ``lr.value`` and, when that holds
  nothing, ``lr``; ``config.data.value.bs`` falls back to ``data.bs`` the same way.

Every mistake raises :class:`~lablens.store.errors.InvalidFilter` with ``field`` naming the bad part
from the root ``filters`` (``filters.$and[1].config.lr.$gt``) and a message saying what is allowed.

The language is parsed into a tree the same for every engine (:func:`parse_filters`, into the nodes
of :mod:`lablens.store.filter_tree`); each engine compiles the tree to its SQL (DuckDB's in
``lablens.store.embedded._filter_sql``), and this module imports none of them.
"""

from __future__ import annotations

from lablens.contract.fields import FIELD_HELP
from lablens.store.filter_parse import parse_filters
from lablens.store.filter_tree import Field, FieldKind, resolve_field

__all__ = [
    "FIELD_HELP",
    "Field",
    "FieldKind",
    "parse_filters",
    "resolve_field",
]
