"""Two users and a team on a real server: what each may see and do, through the ``Api``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from lablens import cli
from lablens.api import Api, Member, Team
from lablens.errors import (
    Conflict,
    PermissionDenied,
    ProjectNotFound,
    RunNotFound,
    TeamNotFound,
    Unauthorized,
)
from lablens.transport import Transport


@dataclass
class People:
    admin: Api
    alice: Api  # owns the team
    bob: Api  # a member of the team
    carol: Api  # in no team
    team: str
    passwords: dict[str, str]


@pytest.fixture
def people(server) -> People:
    admin = Api(host=server.url, api_key=server.api_key)
    tag = uuid.uuid4().hex[:6]
    apis, passwords = {}, {}
    for who in ("alice", "bob", "carol"):
        passwords[who] = f"{who}-password-{tag}"
        made = admin.user().create(
            username=f"{who}-{tag}", password=passwords[who], email=f"{who}-{tag}@lab.test"
        )
        apis[who] = Api(host=server.url, api_key=made.api_key)
    team = apis["alice"].create_team(f"vision-{tag}")
    team.invite(apis["bob"].viewer.username)
    return People(admin, apis["alice"], apis["bob"], apis["carol"], team.name, passwords)


def _log(api: Api, path: str, **fields) -> str:
    return api.client.post_json(f"/api/v1/projects/{path}/runs", fields)["id"]


def test_team_members_invite_and_remove(people):
    team = people.alice.team(people.team)
    assert isinstance(team, Team) and team.role == "OWNER"
    assert [(m.username, m.role) for m in team.members] == [
        (people.alice.viewer.username, "OWNER"),
        (people.bob.viewer.username, "MEMBER"),
    ]
    assert all(isinstance(m, Member) for m in team.members)
    people.bob.flush()  # the viewer was read before the invitation
    assert people.team in people.bob.user().teams
    assert people.bob.team(people.team).role == "MEMBER"
    with pytest.raises(TeamNotFound):
        people.carol.team(people.team)
    with pytest.raises(PermissionDenied):
        people.bob.team(people.team).invite(people.carol.viewer.username)
    assert team.invite(f"{people.carol.viewer.username}@lab.test")  # by email
    assert people.carol.viewer.username in [m.username for m in team.members]
    with pytest.raises(Conflict):
        team.invite(people.carol.viewer.username)
    carol = next(m for m in team.members if m.username == people.carol.viewer.username)
    assert carol.delete() is True
    with pytest.raises(TeamNotFound):
        people.carol.team(people.team)
    owner = next(m for m in team.load().members if m.role == "OWNER")
    with pytest.raises(Conflict, match="last owner"):
        owner.delete()
    # a member may leave; a team shows among its members' workspaces
    assert people.team in [w.username for w in people.bob.workspaces()]
    next(m for m in team.members if m.username == people.bob.viewer.username).delete()
    assert people.team not in [w.username for w in people.bob.workspaces()]


def test_private_projects_never_show_in_others_lists_or_filters(people):
    alice, bob, carol = people.alice, people.bob, people.carol
    secret = alice.create_project("secret", people.team)
    shared = alice.create_project("shared", people.team, visibility="PUBLIC")
    secret_run = _log(alice, secret.path, config={"lr": 0.1}, tags=["x"])
    shared_run = _log(alice, shared.path, config={"lr": 0.1}, tags=["x"])
    # members list both; the outsider only the public one
    assert {p.name for p in bob.projects(people.team)} == {"secret", "shared"}
    assert [p.name for p in carol.projects(people.team)] == ["shared"]
    assert len(carol.projects(people.team, search="sec")) == 0
    assert people.team not in [w.username for w in carol.workspaces()]
    # the outsider's filters only ever see the public project's runs
    for filters in (
        {"config.lr": 0.1},
        {"tags": "x"},
        {"username": alice.viewer.username},
        {"$or": [{"id": secret_run}, {"id": shared_run}]},
    ):
        runs = carol.runs(shared.path, filters=filters)
        assert [r.id for r in runs] == [shared_run], filters
        assert runs.to_pandas()["id"].tolist() == [shared_run]
    # ... and the private project answers as if it did not exist
    with pytest.raises(ProjectNotFound):
        carol.project(secret.path)
    with pytest.raises(ProjectNotFound):
        list(carol.runs(secret.path, filters={"config.lr": 0.1}))
    with pytest.raises(ProjectNotFound):
        carol.run(f"{secret.path}/{secret_run}")
    with pytest.raises(ProjectNotFound):
        carol.runs(secret.path).histories()
    # a private run's id used through the public project finds nothing (no cross-project leak)
    http = carol.client
    with pytest.raises(RunNotFound):
        http.post_arrow(f"/api/v1/projects/{shared.path}/history", {"runs": [secret_run]})
    with pytest.raises(RunNotFound):
        http.get_json(f"/api/v1/projects/{shared.path}/runs/{secret_run}")
    # the outsider may read the public project and not write it
    assert carol.run(f"{shared.path}/{shared_run}").config == {"lr": 0.1}
    with pytest.raises(PermissionDenied):
        _log(carol, shared.path)
    # a report cannot reach into a project its author may not read
    with pytest.raises(ProjectNotFound):
        carol.create_report(
            f"{carol.viewer.username}/mine", "peek", runsets=[{"project": secret.path}]
        )


def test_a_member_cannot_delete_a_project_nor_make_it_public(people):
    project = people.alice.create_project("keep", people.team)
    _log(people.bob, project.path)  # a member writes runs
    as_bob = people.bob.project(project.path)
    with pytest.raises(PermissionDenied):
        as_bob.delete()
    as_bob.visibility = "PUBLIC"
    with pytest.raises(PermissionDenied):
        as_bob.update()
    as_bob.visibility, as_bob.description = "PRIVATE", "members may describe it"
    assert as_bob.update().description == "members may describe it"
    with pytest.raises(ProjectNotFound):
        people.carol.project(project.path).delete()
    people.alice.project(project.path).delete()
    with pytest.raises(ProjectNotFound):
        people.alice.project(project.path)


def test_a_revoked_key_is_refused_at_once(people, server):
    me = people.bob.user()
    key = me.generate_api_key("laptop")
    api = Api(host=server.url, api_key=key)
    assert api.viewer.username == me.username
    assert len(me.api_keys) == 2
    me.delete_api_key(key)
    with pytest.raises(Unauthorized):
        Transport(server.url, key).get_json("/api/v1/viewer")
    # an admin revokes another user's key the same way
    other = people.admin.user(people.carol.viewer.username)
    (key_id,) = other.api_keys
    other.delete_api_key(key_id)
    with pytest.raises(Unauthorized):
        people.carol.client.get_json("/api/v1/viewer")


def test_users_are_listed_and_created_by_admins_only(people):
    admin, bob = people.admin, people.bob
    made = admin.create_user(f"dora-{uuid.uuid4().hex[:4]}@lab.test")
    assert made.username.startswith("dora-") and made.api_key
    assert [u.username for u in admin.users(made.email)] == [made.username]
    assert admin.user(made.email).username == made.username
    assert admin.user("nobody-at-all") is None
    with pytest.raises(PermissionDenied):
        bob.users()
    with pytest.raises(PermissionDenied):
        bob.create_user("eve@lab.test")
    with pytest.raises(PermissionDenied):
        bob.user().create(username="eve")
    # others see a user without their email and without teams they do not share
    seen = people.carol.user(bob.viewer.username)
    assert seen.email is None and seen.teams == []
    assert bob.user(people.alice.viewer.username).teams == [people.team]
    assert people.carol.user(made.email) is None  # no looking people up by email


def test_sign_in_with_a_password(people, server):
    http = Transport(server.url, None)
    username = people.bob.viewer.username
    answer = http.post_json(
        "/api/v1/login", {"username": username, "password": people.passwords["bob"]}
    )
    assert Api(host=server.url, api_key=answer["api_key"]).viewer.username == username
    for wrong in (
        {"username": username, "password": "not-it-at-all"},
        {"username": "nobody-at-all", "password": "whatever1"},
    ):
        with pytest.raises(Unauthorized):
            http.post_json("/api/v1/login", wrong)
    # changing it needs the old one
    bob = people.bob.client
    with pytest.raises(PermissionDenied):
        bob.request(
            "PUT",
            "/api/v1/viewer/password",
            json_body={"password": "a-new-password", "old_password": "wrong"},
        )
    bob.request(
        "PUT",
        "/api/v1/viewer/password",
        json_body={"password": "a-new-password", "old_password": people.passwords["bob"]},
    )
    assert http.post_json(
        "/api/v1/login", {"username": f"{username}@lab.test", "password": "a-new-password"}
    )["api_key"]


def test_cli_user_key_and_login(server, tmp_path, monkeypatch, capsys):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    # an admin (whose key the server stored in LABLENS_HOME) creates a user with a password
    assert (
        cli.main(["user", "create", name, "--password", "pw-for-cli-user", "--host", server.url])
        == 0
    )
    first_key = capsys.readouterr().out.split()[-1]
    assert cli.main(["user", "list", "--search", name, "--host", server.url]) == 0
    assert name in capsys.readouterr().out
    # the user signs in on "another machine" (an empty LABLENS_HOME) with the password
    monkeypatch.setenv("LABLENS_HOME", str(tmp_path))
    assert (
        cli.main(
            ["login", "--host", server.url, "--username", name, "--password", "pw-for-cli-user"]
        )
        == 0
    )
    assert f"as {name}" in capsys.readouterr().out
    assert Api(host=server.url).viewer.username == name
    assert cli.main(["key", "create", "--name", "ci", "--host", server.url]) == 0
    new_key = capsys.readouterr().out.strip()
    assert cli.main(["key", "list", "--host", server.url]) == 0
    listed = capsys.readouterr().out
    assert listed.count("\n") == 3 and "ci" in listed  # first key, login key, ci
    assert cli.main(["key", "revoke", new_key, "--host", server.url]) == 0
    with pytest.raises(Unauthorized):
        Transport(server.url, new_key).get_json("/api/v1/viewer")
    assert Transport(server.url, first_key).get_json("/api/v1/viewer")["username"] == name
    # a plain user cannot create users
    with pytest.raises(PermissionDenied):
        cli.main(["user", "create", "someone", "--host", server.url])
