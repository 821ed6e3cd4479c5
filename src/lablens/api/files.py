"""``File`` and ``Files``: the files a run saved (checkpoints, configs, images)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs
from lablens.api.paging import Paginator
from lablens.contract.routes import quote_segment, run_route
from lablens.errors import FileNotFound, UsageError

if TYPE_CHECKING:
    from lablens.api.api import Api
    from lablens.api.run import Run

__all__ = ["File", "Files"]


def file_route(run: Run, name: str) -> str:
    """The server route of one file of a run."""
    # "/" stays a separator: a file name such as "media/plot.png" is a path inside the run.
    quoted = "/".join(quote_segment(part) for part in name.split("/"))
    return f"{run_route(run.entity, run.project, run.id)}/files/{quoted}"


class File(Attrs):
    """A file saved by a run.

    Example:
        >>> f = api.run("alice/mnist/3f2a9c1b").file("model.pt")
        >>> f.name, f.size, f.md5
        >>> path = f.download(root="checkpoints", replace=True)
    """

    name: str
    """The file's name inside the run, e.g. ``model.pt`` or ``media/plot.png``."""
    size: int
    """Size in bytes."""
    md5: str | None
    """The MD5 of the content, hex."""
    mimetype: str | None
    """The content type, e.g. ``application/octet-stream``."""
    updated_at: str | None
    """When the file was last written, ISO 8601 UTC."""

    def __init__(self, api: Api, attrs: dict[str, Any] | None = None, *, run: Run | None = None):
        self._run = run
        super().__init__(api, attrs)

    @classmethod
    def from_json(cls, api: Api, data: dict[str, Any], *, run: Run | None = None) -> File:
        """Build a file from the server's JSON answer.

        Args:
            api: the ``Api`` the file talks through.
            data: the JSON object the server answered.
            run: the run that holds the file.

        Returns:
            The ``File``.
        """
        return cls(api, data, run=run)

    def _load(self, data: dict[str, Any]) -> None:
        self.name = data.get("name") or ""
        self.size = int(data.get("size") or 0)
        self.md5 = data.get("md5")
        self.mimetype = data.get("mimetype")
        self.updated_at = data.get("updated_at")

    @property
    def url(self) -> str:
        """The address the file's bytes are downloaded from (needs the API key)."""
        if self._run is not None:
            # Built here, not taken from the server: the name is quoted (the server's ``url``
            # keeps spaces as they are), and the host is the one this client reaches.
            return self._api.host + file_route(self._run, self.name)
        url = self._attrs.get("url") or ""
        return self._api.host + url if url.startswith("/") else url

    def download(self, root: str | os.PathLike[str] = ".", replace: bool = False) -> Path:
        """Download the file into ``root``, keeping its name (and sub-folders).

        Unlike W&B, which returns an open text file, this returns the path: nothing is left
        open, and binary files such as checkpoints need no decoding.

        Args:
            root: the local folder to write into; made if missing.
            replace: overwrite a local file of the same name.

        Returns:
            The path of the written file.

        Raises:
            ValueError: the local file exists and ``replace`` is false.
            FileNotFound: the run has no such file any more.

        Example:
            >>> path = run.file("config.yaml").download(root="/tmp/run", replace=True)
            >>> path.read_text()
        """
        if self._run is None:
            raise ValueError(
                "this File does not know its run; get it from run.file() or run.files()"
            )
        target = Path(root) / self.name
        if target.exists() and not replace:
            raise ValueError(f"{target} already exists; pass replace=True to overwrite it")
        response = self._api.client.request("GET", file_route(self._run, self.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside and rename, so an interrupted download never leaves half a file.
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(response.content)
        partial.replace(target)
        return target

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"


class Files(Paginator[File]):
    """The files of one run, read lazily page by page.

    Returned by ``run.files()``.

    Example:
        >>> for f in api.run("alice/mnist/3f2a9c1b").files():
        ...     print(f.name, f.size)
    """

    def __init__(self, api: Api, run: Run, names: list[str] | None = None, per_page: int = 50):
        super().__init__(api, per_page)
        self.run = run
        self.names = list(names or [])

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if self.names:
            params["names"] = self.names
        if cursor:
            params["cursor"] = cursor
        route = f"{run_route(self.run.entity, self.run.project, self.run.id)}/files"
        return self._api.client.get_json(route, params=params)

    def _convert(self, item: dict[str, Any]) -> File:
        return File.from_json(self._api, item, run=self.run)

    def __repr__(self) -> str:
        return f"<Files {self.run.path}>"


class RunFiles:
    """The file methods of ``Run`` (W&B's ``files()``, ``file()``, ``upload_file()``). A mixin, so
    ``run.py`` stays one resource's size."""

    if TYPE_CHECKING:
        _api: Api
        path: str

    def files(self, names: Sequence[str] | None = None, per_page: int = 50) -> Files:
        """The files the run saved.

        Args:
            names: only files with these names; ``None`` or empty for all.
            per_page: files per request.

        Returns:
            A lazy ``Files`` collection.

        Example:
            >>> [f.name for f in run.files()]
        """
        return Files(self._api, self, list(names or []), per_page)

    def file(self, name: str) -> File:
        """One file the run saved.

        Args:
            name: the file's name in the run, e.g. ``model.pt``.

        Returns:
            The ``File``.

        Raises:
            FileNotFound: the run has no file of that name.

        Example:
            >>> run.file("model.pt").download(replace=True)
        """
        for found in self.files([name], per_page=1):
            if found.name == name:
                return found
        raise FileNotFound(
            f"run {self.path} has no file {name!r}",
            status=404,
            code="file_not_found",
            path=f"{self.path}/{name}",
        )

    def upload_file(self, path: str | os.PathLike[str], root: str | os.PathLike[str] = ".") -> File:
        """Save a local file with the run.

        Args:
            path: the local file.
            root: the folder the file's name in the run is relative to, e.g. with
                ``root="out"`` the file ``out/ckpt/model.pt`` is saved as ``ckpt/model.pt``.

        Returns:
            The ``File`` as the server stored it.

        Raises:
            UsageError: ``path`` is not inside ``root``.
            FileNotFoundError: ``path`` does not exist.

        Example:
            >>> run.upload_file("out/model.pt", root="out")
        """
        local = Path(path).resolve()
        name = Path(os.path.relpath(local, Path(root).resolve())).as_posix()
        if name.startswith("../") or name == "..":
            raise UsageError(f"{path} is not inside root {root!s}; pass a root that holds it")
        data = local.read_bytes()
        answer = self._api.client.request(
            "PUT",
            file_route(self, name),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        ).json()
        return File.from_json(self._api, answer, run=self)
