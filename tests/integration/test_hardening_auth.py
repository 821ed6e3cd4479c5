"""Passwords and keys a team can trust (issue 18, item 8): logins are rate limited, login keys
expire, key ids tell nothing of keys, keys suit every client, weak admin keys are refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from servers import RunningServer, server_argv, start_server, stop_server

RATE = 3
KEY_DAYS = 7
NEW_KEY = re.compile(r"^ll_[0-9a-f]{48}$")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server allowing 3 failed logins a minute, whose login keys last 7 days."""
    root = tmp_path_factory.mktemp("auth")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABLENS_LOGIN_RATE", str(RATE))
        mp.setenv("LABLENS_LOGIN_KEY_DAYS", str(KEY_DAYS))
        server = start_server(root / "data", root / "home")
    yield server
    stop_server(server)


class _FromAddress(HTTPAdapter):
    """Connects from another loopback address (127.0.0.x), as another client machine would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def _client(address: str) -> requests.Session:
    s = requests.Session()
    s.mount("http://", _FromAddress(address))
    return s


def _admin(srv: RunningServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {srv.api_key}"}


def _make_user(srv: RunningServer, password: str = "right-password-1") -> str:
    name = "u" + uuid.uuid4().hex[:8]
    r = requests.post(
        f"{srv.url}/api/v1/users",
        json={"username": name, "password": password},
        headers=_admin(srv),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return name


def _login(srv, username, password, address="127.0.0.1") -> requests.Response:
    return _client(address).post(
        f"{srv.url}/api/v1/login", json={"username": username, "password": password}, timeout=30
    )


def _assert_limited(r: requests.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "too_many_requests"
    assert problem["errors"][0]["field"] == "username"
    assert problem["errors"][0]["limit"] == RATE
    assert 1 <= int(r.headers["Retry-After"]) <= 60


# -- rate limit of failed logins ----------------------------------------------------------------


@pytest.mark.parametrize("exists", [True, False], ids=["existing-user", "unknown-user"])
def test_failed_logins_per_username_are_limited_across_addresses(srv, exists):
    name = _make_user(srv) if exists else "nobody" + uuid.uuid4().hex[:6]
    # Each failure from another address: only the username's count reaches the limit.
    for i in range(RATE):
        r = _login(srv, name, "wrong-password", f"127.0.1.{i + 1}")
        assert r.status_code == 401, r.text
    _assert_limited(_login(srv, name, "wrong-password", "127.0.1.50"))
    # Refused before the password is checked: the right one is refused too, so the limit tells
    # nothing (and an unknown user is answered exactly as a known one).
    _assert_limited(_login(srv, name, "right-password-1", "127.0.1.51"))
    # Case does not make it another username.
    _assert_limited(_login(srv, name.upper(), "right-password-1", "127.0.1.52"))


def test_failed_logins_per_address_are_limited_across_usernames(srv):
    names = [_make_user(srv) for _ in range(RATE + 1)]
    for name in names[:RATE]:
        assert _login(srv, name, "wrong-password", "127.0.2.1").status_code == 401
    _assert_limited(_login(srv, names[RATE], "right-password-1", "127.0.2.1"))
    # Another address is not held back, and a good login still works there.
    assert _login(srv, names[RATE], "right-password-1", "127.0.2.2").status_code == 201


def test_a_good_login_is_not_counted(srv):
    name = _make_user(srv)
    for _ in range(RATE + 2):
        assert _login(srv, name, "right-password-1", "127.0.3.1").status_code == 201


# -- key expiry --------------------------------------------------------------------------------


def _parse(t: str) -> dt.datetime:
    return dt.datetime.fromisoformat(t.replace("Z", "+00:00"))


def test_a_login_key_expires_after_login_key_days(srv):
    name = _make_user(srv)
    r = _login(srv, name, "right-password-1", "127.0.4.1")
    assert r.status_code == 201, r.text
    answer = r.json()
    assert _parse(answer["expires_at"]) - _parse(answer["created_at"]) == dt.timedelta(
        days=KEY_DAYS
    )
    key = answer["api_key"]
    listed = requests.get(
        f"{srv.url}/api/v1/viewer/api_keys",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()["items"]
    login_key = next(k for k in listed if k["id"] == answer["id"])
    assert login_key["expires_at"] == answer["expires_at"]
    # The user's first key, made explicitly, does not expire.
    assert [k["expires_at"] for k in listed if k["id"] != answer["id"]] == [None]


def test_an_expired_key_is_401_expired_and_an_explicit_key_lasts(srv):
    r = requests.post(
        f"{srv.url}/api/v1/viewer/api_keys",
        json={"name": "short", "expires_in_days": 2 / 86400},
        headers=_admin(srv),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    short = r.json()
    assert short["expires_at"] is not None
    lasting = requests.post(
        f"{srv.url}/api/v1/viewer/api_keys", json={"name": "ci"}, headers=_admin(srv), timeout=30
    ).json()
    assert lasting["expires_at"] is None
    viewer = f"{srv.url}/api/v1/viewer"
    assert requests.get(viewer, headers={"Authorization": f"Bearer {short['key']}"}).ok
    time.sleep(2.5)
    r = requests.get(viewer, headers={"Authorization": f"Bearer {short['key']}"}, timeout=30)
    assert r.status_code == 401
    assert r.json()["code"] == "expired"
    assert requests.get(viewer, headers={"Authorization": f"Bearer {lasting['key']}"}).ok


@pytest.mark.parametrize("days", [0, -1, "soon", 10**9])
def test_a_bad_expiry_is_400_naming_the_field(srv, days):
    r = requests.post(
        f"{srv.url}/api/v1/viewer/api_keys",
        json={"expires_in_days": days},
        headers=_admin(srv),
        timeout=30,
    )
    assert r.status_code == 400, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["expires_in_days"]


# -- key format and ids ------------------------------------------------------------------------


def test_every_new_key_suits_every_client_and_its_id_tells_nothing(srv):
    from wandb.sdk.lib.wbauth.validation import check_api_key

    name = _make_user(srv)
    made = requests.post(
        f"{srv.url}/api/v1/users", json={"username": name + "b"}, headers=_admin(srv), timeout=30
    ).json()
    login = _login(srv, name, "right-password-1", "127.0.5.1").json()
    explicit = requests.post(
        f"{srv.url}/api/v1/viewer/api_keys", json={}, headers=_admin(srv), timeout=30
    ).json()
    keys = {
        "admin (first start)": srv.api_key,
        "new user's first key": made["api_key"],
        "login": login["api_key"],
        "explicit": explicit["key"],
    }
    for what, key in keys.items():
        assert NEW_KEY.match(key), (what, key)
        # W&B's client takes what follows the first '-' and wants 40+ word characters.
        assert check_api_key(key) is None, (what, check_api_key(key))
    for key_id, key in [(login["id"], login["api_key"]), (explicit["id"], explicit["key"])]:
        secret = key.removeprefix("ll_")
        # No 8 characters of the id stand in the secret (4 could by chance, about 1 run in 100).
        assert not any(key_id[i : i + 8] in secret for i in range(len(key_id) - 7)), key_id


def _sql(data_dir: Path, sql: str, params: list) -> None:
    import duckdb

    con = duckdb.connect(str(data_dir / "lablens.duckdb"))
    con.execute(sql, params)
    con.close()


def test_keys_of_the_old_format_keep_working(tmp_path):
    from lablens.store.embedded._db import Database
    from lablens.store.embedded.schema import MIGRATIONS

    # A data dir at schema 3, holding a key as the old code made it: 'll_' + token_urlsafe, its
    # id the key's first 8 characters, and a '-' in it.
    data = tmp_path / "data"
    data.mkdir()
    db = Database(data / "lablens.duckdb", MIGRATIONS[:3])
    db.close()
    srv = start_server(data, tmp_path / "home")
    stop_server(srv)
    old_key = "ll_Ab-dEfGh" + "x" * 32
    _sql(
        data,
        "INSERT INTO api_keys (id, user_id, key_hash, name, created_at)"
        " VALUES ('Ab-dEfGh-0a1b', 1, ?, 'old', now())",
        [hashlib.sha256(old_key.encode()).hexdigest()],
    )
    srv = start_server(data, tmp_path / "home")
    try:
        old = {"Authorization": f"Bearer {old_key}"}
        r = requests.get(f"{srv.url}/api/v1/viewer/api_keys", headers=old, timeout=30)
        assert r.status_code == 200, r.text
        listed = {k["id"]: k for k in r.json()["items"]}
        assert listed["Ab-dEfGh-0a1b"]["expires_at"] is None
        r = requests.delete(
            f"{srv.url}/api/v1/viewer/api_keys/Ab-dEfGh-0a1b", headers=_admin(srv), timeout=30
        )
        assert r.status_code == 204
        r = requests.get(f"{srv.url}/api/v1/viewer", headers=old, timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    finally:
        stop_server(srv)


# -- the admin key chosen by LABLENS_ADMIN_API_KEY ---------------------------------------------


@pytest.mark.parametrize("key", ["hunter2", "x" * 31])
def test_a_short_admin_key_is_refused_at_start(tmp_path, key):
    env = {**os.environ, "LABLENS_HOME": str(tmp_path / "home"), "LABLENS_ADMIN_API_KEY": key}
    done = subprocess.run(
        server_argv("0", str(tmp_path / "data")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert f"LABLENS_ADMIN_API_KEY has {len(key)} characters" in done.stderr
    assert "at least 32" in done.stderr
    assert not (tmp_path / "data" / "admin.key").exists()


def test_an_admin_key_of_32_characters_is_taken(tmp_path, monkeypatch):
    key = "k" * 32
    monkeypatch.setenv("LABLENS_ADMIN_API_KEY", key)
    srv = start_server(tmp_path / "data", tmp_path / "home")
    try:
        assert srv.api_key == key
        r = requests.get(f"{srv.url}/api/v1/viewer", headers=_admin(srv), timeout=30)
        assert r.status_code == 200
    finally:
        stop_server(srv)
