"""Signing in: a wrong key or none is refused with Unauthorized, before any data is read."""

from __future__ import annotations

import pytest

from lablens.api import Api
from lablens.errors import Unauthorized


def test_wrong_key_is_unauthorized(server, make_run):
    run = make_run()
    api = Api(host=server.url, api_key="wrong")
    with pytest.raises(Unauthorized):
        api.viewer  # noqa: B018
    with pytest.raises(Unauthorized):
        api.run(run.path)
    with pytest.raises(Unauthorized):
        list(api.runs(f"{run.entity}/{run.project}"))
    with pytest.raises(Unauthorized):
        api.workspaces()
    assert repr(api) == f"<Api {server.url}>"


def test_no_key_is_unauthorized(server, make_run, tmp_path, monkeypatch):
    run = make_run()
    monkeypatch.setenv("LABLENS_HOME", str(tmp_path))  # no stored credentials here
    api = Api(host=server.url)
    assert api.api_key is None
    with pytest.raises(Unauthorized):
        api.run(run.path)
    with pytest.raises(Unauthorized):
        api.runs(f"{run.entity}/{run.project}").to_pandas()


def test_stored_key_is_found(server):
    api = Api(host=server.url)  # the server stored its admin key for this address
    assert api.api_key == server.api_key
    assert api.viewer.username == server.username
