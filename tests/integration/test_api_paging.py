"""Runs paging: lazy, cached, indexable, and keyset-safe while runs are being created."""

from __future__ import annotations

import threading
import time

import pytest

from lablens.api import Api
from lablens.errors import UsageError


def _create_runs(api: Api, project_path: str, count: int, **fields) -> list[str]:
    return [
        api.client.post_json(f"/api/v1/projects/{project_path}/runs", dict(fields))["id"]
        for _ in range(count)
    ]


def _read_while_creating(api, server, project_path, *, order, per_page=7, extra=30, **fields):
    """Iterate ``api.runs()`` slowly while another client creates ``extra`` runs."""
    stop = threading.Event()
    created: list[str] = []

    def writer() -> None:
        # Its own client: a requests.Session is not meant to be shared between threads.
        other = Api(host=server.url, api_key=server.api_key)
        for _ in range(extra):
            if stop.is_set():
                return
            created.extend(_create_runs(other, project_path, 1, **fields))
            time.sleep(0.002)

    thread = threading.Thread(target=writer)
    seen: list[str] = []
    runs = api.runs(project_path, order=order, per_page=per_page)
    thread.start()
    try:
        for run in runs:
            seen.append(run.id)
            time.sleep(0.003)
    finally:
        stop.set()
        thread.join()
    return seen, created


def test_paging_never_skips_or_repeats_while_runs_are_created(api, server, make_project):
    project = make_project()
    before = _create_runs(api, project.path, 40)

    seen, created = _read_while_creating(api, server, project.path, order="+created_at")

    assert len(seen) == len(set(seen)), "a run was repeated"
    assert seen[: len(before)] == before, "a run that existed at the start was skipped"
    assert set(seen) <= set(before) | set(created)
    assert created, "no run was created while reading: the test checked nothing"
    print(f"read {len(seen)} runs while {len(created)} were created")


def test_descending_paging_while_runs_are_created(api, server, make_project):
    project = make_project()
    before = _create_runs(api, project.path, 40)

    seen, _ = _read_while_creating(api, server, project.path, order="-created_at")

    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in set(before)] == before[::-1]


def test_paging_on_a_config_key_with_ties(api, server, make_project):
    project = make_project()
    before = []
    for i in range(30):
        before += _create_runs(api, project.path, 1, config={"bucket": i % 3})

    seen, _ = _read_while_creating(
        api, server, project.path, order="+config.bucket", per_page=4, config={"bucket": 1}
    )

    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)


def test_len_index_and_slices(api, make_project):
    project = make_project()
    ids = _create_runs(api, project.path, 12)
    runs = api.runs(project.path, per_page=5)
    assert len(runs) == 12
    assert runs[0].id == ids[0]
    assert runs[7].id == ids[7]
    assert [r.id for r in runs[2:9]] == ids[2:9]
    assert [r.id for r in runs[:3]] == ids[:3]
    assert runs[-1].id == ids[-1]
    assert [r.id for r in runs[::5]] == ids[::5]
    assert [r.id for r in runs] == ids
    with pytest.raises(IndexError):
        runs[12]  # noqa: B018
    assert runs.length == 12 and not runs.more


def test_paging_is_lazy_and_cached(api, make_project):
    project = make_project()
    _create_runs(api, project.path, 9)
    calls = []
    request = api.client.request

    def counting(method, path, **kwargs):
        calls.append(path)
        return request(method, path, **kwargs)

    api.client.request = counting
    runs = api.runs(project.path, per_page=4)
    assert calls == []  # nothing read yet
    assert runs[1] is runs[1]
    assert len(calls) == 1
    assert len(list(runs)) == 9
    assert len(calls) == 3  # 4 + 4 + 1
    assert len(list(runs)) == 9
    assert len(calls) == 3  # iterating again reads nothing


def test_empty_project_has_no_runs(api, make_project):
    runs = api.runs(make_project().path)
    assert len(runs) == 0 and list(runs) == []
    with pytest.raises(IndexError):
        runs[0]  # noqa: B018


def test_per_page_must_be_positive(api, make_project):
    with pytest.raises(UsageError):
        api.runs(make_project().path, per_page=0)


def test_projects_paging(api, make_project, unique):
    made = [make_project(f"{unique}-p{i:02d}") for i in range(5)]
    projects = api.projects(search=unique, per_page=2)
    assert len(projects) == 5
    assert sorted(p.name for p in projects) == sorted(p.name for p in made)


def test_runs_display(api, make_project):
    project = make_project()
    _create_runs(api, project.path, 12)
    runs = api.runs(project.path)
    page = runs._repr_html_()
    assert page.count("<tr>") == 1 + 10 + 1  # header, ten runs, "2 more"
    assert "2 more" in page
    assert repr(runs) == f"<Runs {project.path}: 12 runs>"
    assert project.path in api.project(project.path)._repr_html_()
