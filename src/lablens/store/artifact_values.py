"""What an artifact's fields and manifest may hold, checked the same for every engine, and
the JSON collections and versions travel as.

Names, aliases, tags and paths follow ``lablens.contract.artifact_names``, the rules the SDK
applies; a bad one is an ``InvalidInput`` naming the field (``files[3].digest``).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lablens.contract import artifact_names as rules
from lablens.store import _json
from lablens.store.errors import Conflict, InvalidInput
from lablens.store.run_values import as_mapping

#: The largest byte count a manifest may declare: what a BIGINT column holds.
MAX_BYTES = 2**63 - 1


def check_manifest(files: Any) -> list[dict[str, Any]]:
    """Check a manifest ``[{path, digest, size} | {path, ref, digest?, size?}]``."""
    if not isinstance(files, Sequence) or isinstance(files, str):
        raise InvalidInput("files must be a list of {path, digest, size}", field="files")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(files):
        where = f"files[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"{where} must be an object {{path, digest, size}}", field=where)
        unknown = set(entry) - {"path", "digest", "size", "ref", "mimetype"}
        if unknown:
            raise InvalidInput(
                f"{where} has unknown keys {sorted(unknown)}", field=f"{where}.{sorted(unknown)[0]}"
            )
        path = checked(rules.check_path, entry.get("path"), f"{where}.path")
        if path in seen:
            raise InvalidInput(f"the path {path!r} is in the manifest twice", field=f"{where}.path")
        seen.add(path)
        ref = entry.get("ref")
        if ref is not None and (not isinstance(ref, str) or "://" not in ref):
            raise InvalidInput(
                f"{where}.ref must be an URI such as s3://bucket/key", field=f"{where}.ref"
            )
        digest = entry.get("digest")
        if digest is not None or ref is None:
            digest = checked(rules.check_digest, digest, f"{where}.digest")
        size = entry.get("size")
        bad_size = isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_BYTES
        if (size is not None or ref is None) and bad_size:
            raise InvalidInput(
                f"{where}.size must be a byte count (0 to {MAX_BYTES})", field=f"{where}.size"
            )
        mimetype = entry.get("mimetype")
        if mimetype is not None and not isinstance(mimetype, str):
            raise InvalidInput(f"{where}.mimetype must be a string", field=f"{where}.mimetype")
        out.append(
            {
                "path": path,
                "digest": digest,
                "size": size,
                "ref": ref,
                "mimetype": mimetype or mimetypes.guess_type(path)[0],
            }
        )
    if sum(f["size"] or 0 for f in out) > MAX_BYTES:
        # Only references can get here (a stored file's size is its blob's): their sizes are
        # declared, and their total must still fit the version's byte count.
        raise InvalidInput(f"the files' sizes add up past {MAX_BYTES} bytes", field="files")
    return out


def checked(check: Any, value: Any, field: str) -> Any:
    """``check(value)``, its ``ValueError`` an ``InvalidInput`` naming ``field``."""
    try:
        return check(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


def checked_list(value: Any, field: str, check: Any) -> list[str]:
    """A list of strings each passed through ``check``, without repeats (``[]`` for ``None``)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidInput(f"{field} must be a list of strings", field=field)
    out: list[str] = []
    for i, item in enumerate(value):
        item = checked(check, item, f"{field}[{i}]")
        if item not in out:
            out.append(item)
    return out


def optional_str(value: Any, field: str) -> str | None:
    """``value`` if it is a string or ``None``, else ``InvalidInput`` naming ``field``."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field)
    return value


def checked_digest(value: Any, field: str) -> str:
    """``value`` if it is a sha256 (64 lowercase hex characters), else ``InvalidInput``."""
    try:
        return rules.check_digest(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from None


# -- what a commit, an edit and a rename may change ----------------------------------------------

#: The columns of a new version that depend on what made it (a commit or a link).
VERSION_COLUMNS = (
    "digest",
    "size",
    "file_count",
    "description",
    "metadata",
    "tags",
    "run_pk",
    "source_pk",
    "created_by",
)

#: A version named by its number: ``v0``, ``v1``, ...
VERSION_SELECTOR = re.compile(r"v(\d+)")
#: A version named by its manifest's digest.
DIGEST_SELECTOR = re.compile(r"[0-9a-f]{64}")


def checked_aliases(value: Any) -> list[str]:
    """The aliases asked for, checked, without ``latest``: that one belongs to the newest
    version whatever is asked, and the store moves it."""
    return [a for a in checked_list(value, "aliases", rules.check_alias) if a != rules.LATEST]


def checked_commit(data: Mapping[str, Any]) -> dict[str, Any]:
    """A commit's fields checked: ``{name, type, description, metadata, aliases, tags, files,
    digest, run_id}`` (``files`` the checked manifest, ``digest`` its sha256)."""
    # Checked in this order, so that of several bad fields the first named is reported.
    out = {
        "name": checked(rules.check_name, data.get("name"), "name"),
        "type": checked(lambda v: rules.check_name(v, "artifact type"), data.get("type"), "type"),
        "description": optional_str(data.get("description"), "description"),
        "metadata": as_mapping(data.get("metadata"), "metadata"),
        "aliases": checked_aliases(data.get("aliases")),
        "tags": checked_list(data.get("tags"), "tags", rules.check_tag),
        "files": check_manifest(data.get("files")),
        "run_id": data.get("run_id"),
    }
    out["digest"] = rules.manifest_digest(out["files"])
    return out


def committed_values(
    commit: Mapping[str, Any], run_pk: int | None, username: str
) -> dict[str, Any]:
    """The ``VERSION_COLUMNS`` of a new version made by a checked commit."""
    files = commit["files"]
    return {
        "digest": commit["digest"],
        "size": sum(f["size"] or 0 for f in files),
        "file_count": len(files),
        "description": commit["description"],
        "metadata": _json.dumps(commit["metadata"]),
        "tags": commit["tags"],
        "run_pk": run_pk,
        "source_pk": None,
        "created_by": username,
    }


def linked_values(source: Mapping[str, Any], username: str) -> dict[str, Any]:
    """The ``VERSION_COLUMNS`` of a link to the version ``source`` (its row): a link shows its
    source's files and data, with tags of its own (none yet)."""
    values = {c: source[c] for c in VERSION_COLUMNS}
    values.update(tags=[], source_pk=source["pk"], created_by=username)
    return values


def checked_artifact_changes(
    changes: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str] | None]:
    """A version's edit checked: the columns to set (``description``, ``metadata`` as JSON
    text, ``tags``), and the aliases it should hold besides ``latest`` (``None``: unchanged)."""
    columns: dict[str, Any] = {}
    if "description" in changes:
        columns["description"] = optional_str(changes["description"], "description")
    if "metadata" in changes:
        columns["metadata"] = _json.dumps(as_mapping(changes["metadata"], "metadata"))
    if "tags" in changes:
        columns["tags"] = checked_list(changes["tags"], "tags", rules.check_tag)
    aliases = checked_aliases(changes["aliases"]) if "aliases" in changes else None
    return columns, aliases


def checked_collection_changes(name: str, changes: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A collection's edit checked: the columns to set (``name``, ``description``, ``tags``)
    and the collection's name after it."""
    columns: dict[str, Any] = {}
    new_name = name
    if "name" in changes and changes["name"] != name:
        new_name = columns["name"] = checked(rules.check_name, changes["name"], "name")
    if "description" in changes:
        columns["description"] = optional_str(changes["description"], "description")
    if "tags" in changes:
        columns["tags"] = checked_list(changes["tags"], "tags", rules.check_tag)
    return columns, new_name


# -- refusals both engines word the same ---------------------------------------------------------


def check_collection_fits(row: Mapping[str, Any], path: str, type_name: str, kind: str) -> None:
    """Refuse (``Conflict``) a commit or link into the existing collection ``row`` (its
    ``type`` and ``kind``) at ``workspace/project/name`` ``path`` when the type or kind differ."""
    if row["type"] != type_name:
        raise Conflict(
            f"artifact {path} has type {row['type']!r}, not {type_name!r}; an artifact name is"
            " unique in its project"
        )
    if row["kind"] != kind:
        portfolio = row["kind"] == "portfolio"
        what = "holds links (link() into it)" if portfolio else "holds logged versions"
        raise Conflict(f"artifact collection {path} {what}; use another name")


def collection_exists(path: str) -> Conflict:
    """The refusal of a rename to a name taken in the project."""
    return Conflict(f"an artifact collection {path} already exists")


def linked_conflict(what: str, link: Mapping[str, Any]) -> Conflict:
    """The refusal of deleting ``what`` while the version ``link`` (``entity``, ``project``,
    ``name``, ``version``) is a link to it."""
    return Conflict(
        f"{what} is linked as {link['entity']}/{link['project']}/"
        f"{link['name']}:v{link['version']}; delete that link first"
    )


def check_no_aliases(what: str, held: Sequence[str], delete_aliases: bool) -> None:
    """Refuse deleting a version holding aliases unless ``delete_aliases``."""
    if held and not delete_aliases:
        raise Conflict(
            f"{what} has the aliases {', '.join(held)}; pass delete_aliases=True to delete it"
            " with them"
        )


def stored_entry(entry: Mapping[str, Any], path: str) -> None:
    """Refuse opening a manifest entry that is a reference: its content is not stored here."""
    if entry["ref"] is not None:
        raise InvalidInput(
            f"{path!r} is a reference to {entry['ref']}; its content is not stored on this server",
            field="path",
        )


# -- the JSON collections and versions travel as -------------------------------------------------


def collection_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A collection's row (its columns, ``type``, ``entity``, ``project``, ``version_count``
    and ``aliases``) as the JSON it travels as."""
    return {
        "id": row["id"],
        "name": row["name"],
        "type": row["type"],
        "kind": row["kind"],
        "entity": row["entity"],
        "project": row["project"],
        "path": f"{row['entity']}/{row['project']}/{row['name']}",
        "description": row["description"],
        "tags": list(row["tags"] or []),
        "aliases": list(row["aliases"] or []),
        "version_count": row["version_count"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def run_path(row: Mapping[str, Any]) -> dict[str, Any]:
    """``{entity, project, id, path}`` of the run that logged a version."""
    return {
        "entity": row["entity"],
        "project": row["project"],
        "id": row["id"],
        "path": f"{row['entity']}/{row['project']}/{row['id']}",
    }


def source_out(row: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """What a link says of its source: the source version's ``row`` (``id``, ``version``) in
    the collection ``info`` (``name``, ``entity``, ``project``)."""
    entity, project, name = info["entity"], info["project"], info["name"]
    return {
        "id": row["id"],
        "entity": entity,
        "project": project,
        "collection": name,
        "version": f"v{row['version']}",
        "qualified_name": f"{entity}/{project}/{name}:v{row['version']}",
    }


def artifact_out(
    row: Mapping[str, Any],
    info: Mapping[str, Any],
    aliases: list[str],
    source: dict[str, Any] | None,
    logged_by: dict[str, Any] | None,
) -> dict[str, Any]:
    """A version as the JSON it travels as: its ``row`` (the ``artifacts`` columns, times as ISO
    text, ``metadata`` as JSON text), its collection ``info`` (``name``, ``kind``, ``type``,
    ``entity``, ``project``), its aliases, its source (:func:`source_out`, for a link) and the
    run that logged it (:func:`run_path`)."""
    entity, project, collection = info["entity"], info["project"], info["name"]
    name = f"{collection}:v{row['version']}"
    return {
        "id": row["id"],
        "entity": entity,
        "project": project,
        "name": name,
        "qualified_name": f"{entity}/{project}/{name}",
        "version": f"v{row['version']}",
        "version_index": row["version"],
        "collection": {"id": row["collection_id"], "name": collection, "kind": info["kind"]},
        "type": info["type"],
        "state": row["state"],
        "digest": row["digest"],
        "size": row["size"],
        "file_count": row["file_count"],
        "description": row["description"],
        "metadata": _json.loads(row["metadata"]) or {},
        "aliases": aliases,
        "tags": list(row["tags"] or []),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "created_by": row["created_by"],
        "logged_by": logged_by,
        "is_link": source is not None,
        "source": source,
    }
