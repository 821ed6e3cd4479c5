"""Media items as every engine takes them: a batch checked item by item (the rules of
``lablens.contract.media``), its contents checked against the blobs, and stored rows as the
items' wire form, listed and read back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lablens.contract.media import BadItem, check_item
from lablens.store import _json
from lablens.store.blob_rights import BlobRights
from lablens.store.errors import InvalidInput

# A batch is what the SDK gathers in one flush: a few hundred items at most in practice.
MAX_ITEMS = 10_000


def check_media_items(items: Any) -> list[dict[str, Any]]:
    """The items of a batch, each checked (``InvalidInput`` naming ``items[i].<field>``)."""
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise InvalidInput("items must be a list of media items", field="items")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"a batch holds at most {MAX_ITEMS:,} media items", field="items")
    try:
        checked = [check_item(item, f"items[{i}]") for i, item in enumerate(items)]
    except BadItem as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    # Text no engine can keep (PostgreSQL's text holds no NUL, DuckDB's JSON no lone
    # surrogate) is refused here, for both; meta is held to the limits a run's fields are.
    for i, it in enumerate(checked):
        for name in ("key", "caption"):
            _json.check_text(it[name], f"items[{i}].{name}")
        _json.check_fields(it["meta"], f"items[{i}].meta")
    return checked


def media_rows(
    checked: Sequence[dict[str, Any]],
    grants: BlobRights,
    workspace: str,
    username: str,
    size_of: Callable[[str], int | None],
) -> list[dict[str, Any]]:
    """The rows a checked batch stores: every content (``sha256`` and ``refs``) must be a blob
    the user may use in the workspace (``grants``) that exists (``size_of`` gives its length or
    ``None``), of the size declared; the last item wins where the batch names one place (key,
    step, index) twice."""
    workspace_id, user_id, _ = grants.ids(workspace, username)
    wanted = [d for it in checked for d in (it["sha256"], *it["refs"])]
    usable = grants.usable_blobs(wanted, workspace_id, user_id)
    sizes: dict[str, int | None] = {}
    for i, it in enumerate(checked):
        for field, digest in [("sha256", it["sha256"])] + [
            (f"refs[{j}]", d) for j, d in enumerate(it["refs"])
        ]:
            if digest not in sizes:
                sizes[digest] = size_of(digest) if digest in usable else None
            if sizes[digest] is None:
                raise InvalidInput(
                    f"the content of media item {it['key']!r} (step {it['step']}, sha256"
                    f" {digest}) was not uploaded: PUT it to .../blobs/{digest} first",
                    field=f"items[{i}].{field}",
                )
            if field == "sha256" and sizes[digest] != it["size"]:
                raise InvalidInput(
                    f"media item {it['key']!r} declares {it['size']} bytes, but its content"
                    f" (sha256 {digest}) has {sizes[digest]}",
                    field=f"items[{i}].size",
                )
    return list({(it["key"], it["step"], it["index"]): it for it in checked}.values())


def media_out(row: dict[str, Any]) -> dict[str, Any]:
    """A media row (the schema's columns, ``run_id`` added when asked) as its wire form."""
    out = {
        "key": row["key"],
        "step": row["step"],
        "timestamp": row["ts"],
        "index": row["idx"],
        "type": row["type"],
        "format": row["format"],
        "sha256": row["sha256"],
        "size": row["size"],
        "caption": row["caption"],
        "meta": _json.loads(row["meta"]) or {},
    }
    if row["refs"]:
        out["refs"] = list(row["refs"])
    if "run_id" in row:
        out["run_id"] = row["run_id"]
    return out


def media_listed(rows: list[dict[str, Any]], pks: Sequence[int]) -> list[dict[str, Any]]:
    """Media rows (read in key, step, index order, with ``run_id`` and ``run_pk``) as
    ``list_media`` answers: by run in the order of ``pks``, ``run_id`` kept only when several
    runs were asked for."""
    order = {pk: i for i, pk in enumerate(pks)}
    rows.sort(key=lambda r: order[r["run_pk"]])  # stable: key, step, index within a run
    if len(order) == 1:
        for r in rows:
            del r["run_id"]
    return [media_out(r) for r in rows]


def media_content(row: dict[str, Any], content: bytes) -> tuple[dict[str, Any], bytes]:
    """What ``read_media`` answers for a content: its item's type, format and size (``row``,
    whose ``own`` says the content is the item's own), or, for an image in a table's cell (a
    ``refs`` entry), a png of the content's size."""
    if not row["own"]:
        row = {"type": "image", "format": "png", "size": len(content)}
    return {k: row[k] for k in ("type", "format", "size")}, content
