"""``lablens.Table``: rows and columns logged at a step, stored as Parquet, as W&B's
``wandb.Table``. Its cells may hold images: each is stored as an image blob, and the cell as
the reference to it."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from lablens.contract.media import reference
from lablens.errors import UsageError
from lablens.sdk.media import Encoded, Media

__all__ = ["Table"]


class Table(Media):
    """A table of rows, as W&B's ``wandb.Table``: numbers, strings, bools and ``lablens.Image``
    cells, stored as Parquet.

    Args:
        columns: the column names (default ``"0"``, ``"1"``, ... for ``data``).
        data: the rows, a list of lists (or a 2-D numpy array).
        rows: W&B's older name for ``data``.
        dataframe: a pandas DataFrame instead of ``columns``/``data``.
        caption: the text shown with it.

    Example:
        >>> table = lablens.Table(columns=["id", "pred", "image"])
        >>> table.add_data(3, "cat", lablens.Image(img))
        >>> run.log({"predictions": table})
        >>> run.log({"confusion": lablens.Table(dataframe=df)})
    """

    _type = "table"

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        caption: str | None = None,
    ) -> None:
        self.caption = caption
        if data is None:
            data = rows
        if dataframe is not None:
            if data is not None:
                raise UsageError("Table: give dataframe or data, not both", field="dataframe")
            if not hasattr(dataframe, "columns") or not hasattr(dataframe, "itertuples"):
                raise UsageError(
                    f"Table: dataframe must be a pandas DataFrame, not {type(dataframe).__name__}",
                    field="dataframe",
                )
            columns = [str(c) for c in dataframe.columns]
            data = [list(r) for r in dataframe.itertuples(index=False, name=None)]
        if isinstance(data, np.ndarray):
            data = data.tolist()
        data = [list(row) for row in (data or [])]
        if columns is None:
            columns = [str(i) for i in range(len(data[0]) if data else 0)]
        self.columns: list[str] = [str(c) for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise UsageError("Table: column names must be unique", field="columns")
        self.data: list[list[Any]] = []
        for row in data:
            self.add_data(*row)

    def add_data(self, *values: Any) -> None:
        """Add a row, one value per column."""
        if len(values) != len(self.columns):
            raise UsageError(
                f"Table: a row has {len(values)} values for {len(self.columns)} columns "
                f"(row {len(self.data)})",
                field="data",
            )
        self.data.append(list(values))

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Add a column ``name`` holding ``data``, one value per row."""
        if len(data) != len(self.data):
            raise UsageError(
                f"Table: column {name!r} has {len(data)} values for {len(self.data)} rows",
                field="data",
            )
        self.columns.append(str(name))
        for row, value in zip(self.data, data, strict=True):
            row.append(value)

    def get_column(self, name: str) -> list[Any]:
        """The values of column ``name``."""
        i = self.columns.index(name)
        return [row[i] for row in self.data]

    def _encode(self, blobs: dict[str, bytes]) -> Encoded:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays, types, refs = [], {}, []
        for c, name in enumerate(self.columns):
            values = [row[c] for row in self.data]
            media = [v for v in values if isinstance(v, Media)]
            if media:
                cells = []
                for v in values:
                    if v is None:
                        cells.append(None)
                        continue
                    if not isinstance(v, Media):
                        raise UsageError(
                            f"Table: column {name!r} mixes media and other values", field=name
                        )
                    enc = v._encode(blobs)
                    sha = hashlib.sha256(enc.content).hexdigest()
                    blobs[sha] = enc.content
                    refs.append(sha)
                    item = {
                        "key": name,
                        "step": 0,
                        "index": 0,
                        "type": enc.type,
                        "format": enc.format,
                        "sha256": sha,
                        "size": len(enc.content),
                        "caption": v.caption,
                        "meta": enc.meta,
                    }
                    ref = reference(item)
                    ref.pop("path", None)
                    cells.append(json.dumps(ref))
                    types[name] = ref["_type"]
                arrays.append(pa.array(cells, pa.string()))
            else:
                values = [v.item() if isinstance(v, np.generic) else v for v in values]
                try:
                    arrays.append(pa.array(values))
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    # Mixed types in one column (W&B refuses them unless allowed): keep text.
                    arrays.append(pa.array([None if v is None else str(v) for v in values]))
        table = pa.table(dict(zip(self.columns, arrays, strict=True)) if arrays else {})
        if types:
            table = table.replace_schema_metadata({"lablens.media_columns": json.dumps(types)})
        out = io.BytesIO()
        pq.write_table(table, out)
        meta: dict[str, Any] = {"rows": len(self.data), "columns": list(self.columns)}
        if types:
            meta["media_columns"] = types
        return Encoded("table", "parquet", out.getvalue(), meta, list(dict.fromkeys(refs)))
