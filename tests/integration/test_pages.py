"""The pages behind the reprs' URLs, against a real server: signing in, a project's and a run's
page with their values, refusals and 404 pages, and bad input never a 500."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest
import requests

import lablens

TIMEOUT = 30


def signed_in(server_url: str, **form: str) -> requests.Session:
    """A browser-like session signed in through the form."""
    session = requests.Session()
    answer = session.post(
        f"{server_url}/-/signin", data={**form, "next": "/"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert answer.status_code == 303, answer.text
    return session


@pytest.fixture
def logged(server, start, unique):
    """A run with config, metrics, summary and an image, and a second run beside it."""
    run = start(config={"optim": {"lr": 0.01}, "hidden": [64, 32], "seed": 7}, name="alpha-run")
    pixels = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4).astype(np.uint8)
    for step in range(1, 6):
        run.log({"train/loss": 1.0 / step, "val/acc": 0.5 + step / 20}, step=step)
    run.log({"samples": lablens.Image(pixels, caption="digits")}, step=5)
    run.summary["best/acc"] = 0.7525
    run.finish()
    other = start(config={"optim": {"lr": 0.1}, "hidden": [64, 32], "seed": 7}, name="beta-run")
    other.log({"train/loss": 2.0}, step=1)
    other.finish()
    api = lablens.Api(host=server.url, api_key=server.api_key)
    return api.run(f"{api.default_entity}/{unique}/{run.id}"), other.id


def test_a_page_asks_to_sign_in_first(server, logged):
    run, _ = logged
    answer = requests.get(run.url, timeout=TIMEOUT)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "Sign in to lablens" in answer.text and "alpha-run" not in answer.text
    # the form comes back to the page asked for
    assert f"value='/{run.entity}/{run.project}/runs/{run.id}'" in answer.text


def test_sign_in_with_a_key_sets_a_signed_session_cookie(server, logged):
    run, _ = logged
    session = requests.Session()
    wrong = session.post(
        f"{server.url}/-/signin", data={"api_key": "ll_wrong", "next": "/"}, timeout=TIMEOUT
    )
    assert wrong.status_code == 401 and "wrong or was revoked" in wrong.text
    answer = session.post(
        f"{server.url}/-/signin",
        data={"api_key": server.api_key, "next": f"/{run.entity}/{run.project}"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/{run.entity}/{run.project}"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert server.api_key not in cookie
    value = session.cookies["lablens_session"]
    # a cookie changed by hand is no session
    forged = value.rsplit(":", 1)[0] + ":AAAA"
    refused = requests.get(run.url, cookies={"lablens_session": forged}, timeout=TIMEOUT)
    assert refused.status_code == 401
    assert session.get(run.url, timeout=TIMEOUT).status_code == 200


def test_project_page_lists_runs_with_summary_and_differing_config(server, logged):
    run, other_id = logged
    session = signed_in(server.url, api_key=server.api_key)
    project = lablens.Api(host=server.url, api_key=server.api_key).project(
        f"{run.entity}/{run.project}"
    )
    answer = session.get(project.url, timeout=TIMEOUT)
    assert answer.status_code == 200
    text = answer.text
    assert "alpha-run" in text and "beta-run" in text and "2 runs" in text
    assert f"href='/{run.entity}/{run.project}/runs/{run.id}'" in text
    assert f"href='/{run.entity}/{run.project}/runs/{other_id}'" in text
    head = re.search(r"<table class='grid' id='runs'>(.*?)<tr><td>", text).group(1)
    assert "class='group'>summary<" in head and "class='group'>config that differs<" in head
    assert "title='summary.best/acc'>best/acc<" in head and ">optim.lr<" in head
    assert "seed" not in head  # the same for both runs: not a column
    assert "Same for all runs:" in text and "seed=7" in text
    assert ">0.7525<" in text and ">FINISHED<" in text


def test_run_page_shows_summary_config_charts_and_media(server, logged):
    run, _ = logged
    session = signed_in(server.url, api_key=server.api_key)
    answer = session.get(run.url, timeout=TIMEOUT)
    assert answer.status_code == 200
    text = answer.text
    assert "<h1>alpha-run" in text and " UTC</b>" in text
    summary = re.search(r"id='summary'>(.*?)</table>", text).group(1)
    assert "<th>best/acc</th><td class=num>0.7525</td>" in summary
    assert "<th>val/acc</th><td class=num>0.75</td>" in summary
    config = re.search(r"id='config'>(.*?)</table>", text).group(1)
    assert "<th>optim.lr</th><td class=num>0.01</td>" in config
    assert "<th>hidden</th><td>[64, 32]</td>" in config
    # a chart per metric, in sections by prefix, drawn by the served plotly
    assert "<script src='/-/plotly.js'></script>" in text
    assert "<h3>train</h3>" in text and "<h3>val</h3>" in text
    assert text.count("class='panel'") == 2
    assert '"y":[1.0,0.5,0.3333333333333333,0.25,0.2]' in text.replace(" ", "")
    js = session.get(f"{server.url}/-/plotly.js", timeout=TIMEOUT)
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()
    # the image as a thumbnail, read with the session
    src = re.search(r"<img[^>]* src='([^']+)'", text).group(1)
    assert "thumb=256" in src and "digits" in text
    image = session.get(server.url + src, timeout=TIMEOUT)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert requests.get(server.url + src, timeout=TIMEOUT).status_code == 401


def test_missing_things_get_a_readable_404_page(server, logged):
    run, _ = logged
    session = signed_in(server.url, api_key=server.api_key)
    for path in (
        f"/{run.entity}/no-such-project",
        f"/{run.entity}/{run.project}/runs/nosuchrun",
        "/nobody/nothing",
        f"/{run.entity}/{run.project}/media/{'0' * 64}",
    ):
        answer = session.get(server.url + path, timeout=TIMEOUT)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "<h1>Not found</h1>" in answer.text


def test_bad_input_is_never_a_500(server, logged):
    run, _ = logged
    session = signed_in(server.url, api_key=server.api_key)
    base = f"{server.url}/{run.entity}/{run.project}"
    assert session.get(f"{base}/media/zz?thumb=abc", timeout=TIMEOUT).status_code == 400
    assert session.get(f"{base}/runs/%00%ff", timeout=TIMEOUT).status_code == 404
    assert session.get(f"{server.url}/%E2%80%AE/x", timeout=TIMEOUT).status_code == 404
    junk = session.post(f"{server.url}/-/signin", data=b"\xff\xfe=\x00", timeout=TIMEOUT)
    assert junk.status_code == 400 and "give an API key" in junk.text
    # after signing in, only a path of this server is followed
    away = requests.post(
        f"{server.url}/-/signin",
        data={"api_key": server.api_key, "next": "//evil.example/x"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert away.headers["location"] == "/"
    # the API's own addresses stay the API's: problem+json, not a page
    api_404 = session.get(f"{server.url}/api/nothing", timeout=TIMEOUT)
    assert api_404.status_code == 404
    assert api_404.headers["content-type"].startswith("application/problem+json")


def test_access_rules_are_the_apis(server, logged, api):
    run, _ = logged
    name = f"pia-{uuid.uuid4().hex[:6]}"
    password = "a long enough password"
    api.create_user(username=name, password=password)
    outsider = signed_in(server.url, username=name, password=password)
    # a private project of someone else: the same 404 as a project that does not exist
    for url in (run.url, api.project(f"{run.entity}/{run.project}").url):
        answer = outsider.get(url, timeout=TIMEOUT)
        assert answer.status_code == 404 and "alpha-run" not in answer.text
    index = outsider.get(f"{server.url}/", timeout=TIMEOUT)
    assert index.status_code == 200 and run.project not in index.text
    wrong = requests.post(
        f"{server.url}/-/signin",
        data={"username": name, "password": "not it at all", "next": "/"},
        timeout=TIMEOUT,
    )
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    # signing out ends the session: its cookie opens nothing any more
    cookie = outsider.cookies["lablens_session"]
    out = outsider.post(f"{server.url}/-/signout", allow_redirects=False, timeout=TIMEOUT)
    assert out.status_code == 303
    again = requests.get(f"{server.url}/", cookies={"lablens_session": cookie}, timeout=TIMEOUT)
    assert again.status_code == 401


def test_pages_are_not_in_the_openapi_schema(server):
    paths = requests.get(f"{server.url}/openapi.json", timeout=TIMEOUT).json()["paths"]
    assert not [p for p in paths if p.startswith(("/-/", "/{ws}")) or p == "/"]


def test_sweep_page_draws_its_runs(server, api, make_project):
    project = make_project()
    path = lablens.sweep(
        {
            "method": "grid",
            "metric": {"name": "acc", "goal": "maximize"},
            "parameters": {
                "lr": {"values": [0.001, 0.1]},
                "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
            },
        },
        *project.path.split("/"),
        host=server.url,
        api_key=server.api_key,
    )

    def train() -> None:
        with lablens.init(settings={"console": False, "system_interval": 0, "silent": True}) as r:
            r.log({"acc": r.config["lr"] * 5 + (r.config["opt"]["name"] == "sgd")})

    assert lablens.agent(path, train, host=server.url, api_key=server.api_key) == 4
    sweep = api.sweep(path)
    session = signed_in(server.url, api_key=server.api_key)
    answer = session.get(sweep.url, timeout=TIMEOUT)
    assert answer.status_code == 200
    text = answer.text
    assert "4 of 4 runs" in text and "metric acc (maximize)" in text
    assert "parameters lr, opt.name" in text
    assert 'id="parallel-coordinates"' in text and '"type":"parcoords"' in text
    assert '"label":"config.lr"' in text and '"ticktext":["adam","sgd"]' in text
    assert '"ticktext":["0.001","0.1"]' in text  # two decades: a log axis, the values as ticks
    for run in sweep.runs:
        assert f"href='/{project.path}/runs/{run.id}'" in text
    listed = session.get(project.url, timeout=TIMEOUT).text
    assert f"href='/{project.path}/sweeps/{sweep.id}'" in listed
    missing = session.get(f"{project.url}/sweeps/nosuch", timeout=TIMEOUT)
    assert missing.status_code == 404 and "There is no sweep" in missing.text
