"""The one HTTP session every client part uses: auth header, retries, timeouts, Arrow decoding.

``Api`` and the SDK know only this module; nothing else in the client looks at status codes,
because ``raise_for_problem`` turns every error answer into a ``lablens.errors`` class.
"""

from __future__ import annotations

import json
import math
import os
import sys
import weakref
from typing import Any

import pyarrow as pa
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lablens import errors as E
from lablens._version import __version__
from lablens.contract.arrow import ARROW, ipc_to_table, table_to_ipc

__all__ = ["ARROW", "Transport", "ipc_to_table", "raise_for_problem", "table_to_ipc"]

_BY_CODE: dict[str, type[E.ApiError]] = {
    "bad_request": E.BadRequest,
    "invalid_filter": E.BadRequest,
    "unauthorized": E.Unauthorized,
    "permission_denied": E.PermissionDenied,
    "not_found": E.NotFound,
    "workspace_not_found": E.WorkspaceNotFound,
    "project_not_found": E.ProjectNotFound,
    "run_not_found": E.RunNotFound,
    "file_not_found": E.FileNotFound,
    "user_not_found": E.UserNotFound,
    "team_not_found": E.TeamNotFound,
    "sweep_not_found": E.SweepNotFound,
    "report_not_found": E.ReportNotFound,
    "artifact_not_found": E.ArtifactNotFound,
    "artifact_type_not_found": E.ArtifactNotFound,
    "artifact_collection_not_found": E.ArtifactNotFound,
    "registry_not_found": E.RegistryNotFound,
    "conflict": E.Conflict,
}
_BY_STATUS: dict[int, type[E.ApiError]] = {
    400: E.BadRequest,
    401: E.Unauthorized,
    403: E.PermissionDenied,
    404: E.NotFound,
    409: E.Conflict,
    422: E.BadRequest,
}


def raise_for_problem(response: requests.Response) -> None:
    """Raise the ``lablens.errors`` class for an error answer; return for a success."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text or response.reason}
    if not isinstance(body, dict):
        body = {"detail": str(body)}
    code = body.get("code")
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(response.status_code, E.ApiError)
    errs = body.get("errors") or []
    field = errs[0].get("field") if errs and isinstance(errs[0], dict) else None
    detail = body.get("detail") or body.get("title") or f"HTTP {response.status_code}"
    kwargs: dict[str, Any] = dict(
        status=response.status_code,
        code=code,
        field=field,
        request_id=response.headers.get("x-request-id"),
        errors=errs,
    )
    if issubclass(cls, E.NotFound):
        kwargs["path"] = body.get("path")
    raise cls(detail, **kwargs)


def decode_floats(value: Any) -> Any:
    """Turn the strings "NaN", "Infinity", "-Infinity" back into floats, recursively."""
    if isinstance(value, str):
        if value == "NaN":
            return math.nan
        if value == "Infinity":
            return math.inf
        if value == "-Infinity":
            return -math.inf
        return value
    if isinstance(value, dict):
        return {k: decode_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_floats(v) for v in value]
    return value


def encode_floats(value: Any) -> Any:
    """Make a value JSON-safe: non-finite floats become "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): encode_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_floats(v) for v in value]
    return value


def user_agent() -> str:
    """The ``User-Agent`` lablens's clients send: their version, Python's and requests'."""
    py = ".".join(str(n) for n in sys.version_info[:3])
    return f"lablens/{__version__} python/{py} requests/{requests.__version__}"


# The variables that can send an http(s) URL through a proxy, as requests reads them.
_PROXY_VARIABLES = (
    *("http_proxy", "https_proxy", "all_proxy", "no_proxy"),
    *("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"),
)


def _environ_proxies(url: str) -> dict[str, str]:
    """requests' proxies for ``url`` from the environment; ``{}`` at once when no proxy
    variable is set (requests' own reading scans every variable, for each session made)."""
    if not any(name in os.environ for name in _PROXY_VARIABLES):
        return {}
    return requests.utils.get_environ_proxies(url)


class Transport:
    """An HTTP session bound to one server and one API key.

    Args:
        base_url: the server's address, e.g. ``http://127.0.0.1:8123``.
        api_key: sent as ``Authorization: Bearer <key>``.
        timeout: seconds to wait for an answer (default 60).
        retries: how often a failed connection or a 502/503/504 is retried, with backoff.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float | None = None,
        retries: int = 5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout or 60.0
        self.session = requests.Session()
        # requests reads proxies and the CA bundle from the environment on every request (two
        # scans of os.environ, ~0.3 ms of a ~1.5 ms loopback request); this session talks to
        # one server, so they are read once, here, with the same rules (no_proxy included).
        self.session.trust_env = False
        self.session.proxies.update(_environ_proxies(self.base_url))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle:
            self.session.verify = ca_bundle
        # A Transport dropped without ``close`` (a notebook's ``Api()`` going out of scope, or
        # collected from a reference cycle) closes its pooled connections instead of leaving the
        # sockets to the garbage collector, which warns about each one.
        self._closer = weakref.finalize(self, self.session.close)
        # Every method is retried: writes carry ids (run ids, batch ids) that make a retry safe.
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=None,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        #: What every request says the client is: ``lablens/<version> python/<version>
        #: requests/<version>`` (W&B's ``Api.user_agent``).
        self.user_agent = user_agent()
        self.session.headers["User-Agent"] = self.user_agent
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    def close(self) -> None:
        """Close the pooled connections; the next request opens a new one."""
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request and raise the matching ``lablens.errors`` class on an error."""
        body = data
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(encode_floats(json_body)).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=body,
                headers=hdrs,
                timeout=timeout or self.timeout,
                stream=stream,
            )
        except requests.RequestException as exc:
            raise E.ConnectionFailed(f"cannot reach {self.base_url}: {exc}") from exc
        raise_for_problem(response)
        return response

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON resource."""
        return self.request("GET", path, params=params).json()

    def post_json(self, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """POST a JSON body and decode the JSON answer (``None`` for an empty one)."""
        r = self.request("POST", path, json_body=body if body is not None else {}, params=params)
        return r.json() if r.content else None

    def patch_json(self, path: str, body: Any) -> Any:
        """PATCH a JSON body and decode the JSON answer."""
        return self.request("PATCH", path, json_body=body).json()

    def delete(self, path: str) -> None:
        """DELETE a resource."""
        self.request("DELETE", path)

    def post_arrow(self, path: str, body: Any) -> pa.Table:
        """POST a JSON body and read the Arrow IPC answer."""
        r = self.request("POST", path, json_body=body, headers={"Accept": ARROW}, stream=True)
        # Reading the raw stream in one call is several times faster than ``.content``, which
        # assembles the body from 10 kB chunks.
        with r:
            data = r.raw.read(decode_content=True)
        return ipc_to_table(data)
