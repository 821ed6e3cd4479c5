"""Custom chart presets: saved through a real server, read back, drawn from their query's rows
(in the notebook and in a report's HTML), refused naming the bad part of a bad spec; and the
small Api surface beside them (``Run.create``, ``Run.read_only``, ``Api.user_agent``)."""

from __future__ import annotations

import json
import re
import sys
import uuid

import pandas as pd
import pytest

import lablens
from lablens.api import Api, CustomChart, Run
from lablens.api.custom_charts import records
from lablens.errors import BadRequest, Conflict, NotFound, PermissionDenied, UsageError
from lablens.widgets import CustomChartView

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
LINE = {
    "$schema": SCHEMA,
    "mark": "line",
    "encoding": {
        "x": {"field": "_step", "type": "quantitative"},
        "y": {"field": "loss", "type": "quantitative"},
        "color": {"field": "name", "type": "nominal"},
    },
}
SCATTER = {
    "$schema": SCHEMA,
    "mark": {"type": "point", "filled": True},
    "encoding": {
        "x": {"field": "lr", "type": "quantitative"},
        "y": {"field": "acc", "type": "quantitative"},
    },
}


@pytest.fixture
def project_runs(make_project, make_run):
    project = make_project()
    made = []
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        made.append(
            make_run(
                project,
                name=f"lr-{lr}",
                config={"lr": lr},
                tags=["keep"] if i < 2 else [],
                points={"loss": [1.0 / (s + 1 + i) for s in range(5)]},
                summary={"acc": 0.5 + 0.1 * i},
            )
        )
    return project, made


def _name() -> str:
    return "c" + uuid.uuid4().hex[:8]


def test_a_chart_is_saved_listed_read_and_deleted(api):
    entity = api.default_entity
    name = _name()
    made = api.create_custom_chart(
        entity, name, "Loss by step", "vega2", "private", json.dumps(LINE), query={"keys": ["loss"]}
    )
    assert isinstance(made, CustomChart)
    assert (made.entity, made.name, made.display_name) == (entity, name, "Loss by step")
    assert (made.spec_type, made.access) == ("vega2", "private")
    assert made.spec == LINE and made.query == {"keys": ["loss"]}
    again = api.custom_chart(f"{entity}/{name}")
    assert again.spec == LINE and again.id == f"{entity}/{name}"
    assert name in [c.name for c in api.custom_charts(entity)]
    with pytest.raises(Conflict):
        api.create_custom_chart(entity, name, spec=LINE)
    again.delete()
    with pytest.raises(NotFound):
        api.custom_chart(f"{entity}/{name}")
    assert name not in [c.name for c in api.custom_charts(entity)]


def test_charts_are_listed_by_name_a_page_at_a_time(api):
    entity = api.default_entity
    prefix = _name()
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in reversed(names):
        api.create_custom_chart(entity, name, spec=SCATTER)
    listed = [c.name for c in api.custom_charts(entity, per_page=2) if c.name.startswith(prefix)]
    assert listed == names
    for name in names:
        api.custom_chart(f"{entity}/{name}").delete()


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ("{not json", "spec", "not JSON"),
        ("[1, 2]", "spec", "object"),
        ({"mark": "line"}, "spec.$schema", "$schema"),
        (
            {"$schema": "https://vega.github.io/schema/vega/v5.json", "mark": "line"},
            "spec.$schema",
            "Vega-Lite",
        ),
        ({"$schema": SCHEMA, "encoding": {}}, "spec.mark", "mark"),
        ({"$schema": SCHEMA, "mark": 3}, "spec.mark", "mark"),
        (
            {"$schema": SCHEMA, "layer": [{"mark": "line"}, {"encoding": {}}]},
            "spec.layer[1].mark",
            "mark",
        ),
    ],
)
def test_a_bad_spec_is_a_400_naming_the_bad_part(api, spec, field, words):
    with pytest.raises(BadRequest) as err:
        api.create_custom_chart(api.default_entity, _name(), spec=spec)
    assert err.value.status == 400
    assert err.value.field == field
    assert words in str(err.value)


def test_bad_fields_of_a_chart_are_named(api):
    entity = api.default_entity
    cases = [
        ({"spec_type": "vega3"}, "spec_type"),
        ({"access": "everyone"}, "access"),
        ({"query": {"keys": "loss", "colour": 1}}, "query.colour"),
        ({"query": {"keys": ["loss", ""]}}, "query.keys[1]"),
        ({"query": {"project": "no-slash"}}, "query.project"),
    ]
    for kwargs, field in cases:
        with pytest.raises(BadRequest) as err:
            api.create_custom_chart(entity, _name(), spec=LINE, **kwargs)
        assert err.value.field == field, kwargs
    with pytest.raises(BadRequest) as err:
        api.create_custom_chart(entity, "bad/name", spec=LINE)
    assert err.value.field == "name"


def test_the_rendered_chart_holds_the_history_query_s_rows(api, project_runs):
    project, made = project_runs
    chart = api.create_custom_chart(
        None, _name(), spec=LINE, query={"keys": ["loss"], "fields": {"lr": "config.lr"}}
    )
    frame = chart.data(project.path, filters={"tags": "keep"})
    expected = api.runs(project.path, filters={"tags": "keep"}).histories(
        keys=["loss"], format="pandas"
    )
    assert len(frame) == 10
    assert frame["loss"].tolist() == expected["loss"].tolist()
    assert frame["_step"].tolist() == [0, 1, 2, 3, 4] * 2
    by_run = {r.id: r for r in made}
    assert frame["name"].tolist() == [by_run[r].name for r in frame["run_id"]]
    assert frame["lr"].tolist() == [0.1] * 5 + [0.01] * 5
    spec = chart.vega_lite(frame)
    assert spec["mark"] == "line" and spec["encoding"] == LINE["encoding"]
    values = spec["data"]["values"]
    assert [v["loss"] for v in values] == frame["loss"].tolist()
    assert [v["lr"] for v in values] == frame["lr"].tolist()
    assert pd.DataFrame(values)[["run_id", "_step", "loss"]].equals(
        frame[["run_id", "_step", "loss"]].reset_index(drop=True)
    )
    assert chart.spec == LINE  # binding copies: the preset is unchanged
    chart.delete()


def test_a_run_fields_chart_draws_one_row_per_run(api, project_runs):
    project, made = project_runs
    chart = api.create_custom_chart(
        None,
        _name(),
        spec=SCATTER,
        query={
            "fields": {"lr": "config.lr", "acc": "summary_metrics.acc"},
            "project": project.path,
            "order": "+config.lr",
        },
    )
    frame = chart.data()
    table = api.runs(project.path, order="+config.lr").to_pandas(
        ["name", "config.lr", "summary.acc"]
    )
    assert frame["lr"].tolist() == table["config.lr"].tolist() == [0.001, 0.01, 0.1]
    assert frame["acc"].tolist() == table["summary.acc"].tolist()
    assert frame["id"].tolist() == [made[2].id, made[1].id, made[0].id]
    values = chart.plot()._repr_mimebundle_()["application/vnd.vegalite.v5+json"]["data"]["values"]
    assert [(v["lr"], v["acc"]) for v in values] == [(0.001, 0.7), (0.01, 0.6), (0.1, 0.5)]
    assert values == records(frame)
    chart.delete()
    with pytest.raises(UsageError):
        api.create_custom_chart(None, _name(), spec=SCATTER).data(project.path)


def test_the_notebook_view_records_its_api_call(api, project_runs):
    project, _ = project_runs
    chart = api.create_custom_chart(None, _name(), spec=LINE, query={"keys": ["loss"]})
    view = CustomChartView(api, chart.id, project.path, filters={"tags": "keep"})
    assert view.code == (
        f"frame = api.custom_chart({chart.id!r}).data({project.path!r}, filters={{'tags': 'keep'}})"
    )
    # the code shown gives the rows drawn
    again = eval(view.code.split(" = ", 1)[1], {"api": api})  # noqa: S307 - our own code
    assert again.equals(view.to_pandas())
    bundle = view._repr_mimebundle_()
    assert bundle["application/vnd.vegalite.v5+json"]["data"]["values"] == records(again)
    chart.delete()


def test_the_explorer_draws_a_preset_on_the_runs_its_table_shows(api, project_runs):
    from lablens.widgets import Explorer

    project, _ = project_runs
    chart = api.create_custom_chart(None, _name(), spec=LINE, query={"keys": ["loss"]})
    explorer = Explorer(api, path=project.path)
    panel = explorer.custom_charts
    assert panel.path == project.path
    # The entity's presets are listed, by one recorded call.
    assert (chart.name, chart.id) in panel._picker.options
    assert f"charts = api.custom_charts({project.entity!r})" in explorer.action_log.entries
    panel._picker.value = chart.id  # picked in the page
    assert panel.chart == chart.id
    drawn = panel.to_pandas()
    assert sorted(drawn["name"].unique()) == ["lr-0.001", "lr-0.01", "lr-0.1"]
    assert len(drawn) == 15
    # The table's filter narrows the runs drawn; the code shown gives the rows drawn.
    explorer.table.filters = {"tags": "keep"}
    narrowed = panel.to_pandas()
    assert sorted(narrowed["name"].unique()) == ["lr-0.01", "lr-0.1"]
    scope = {"api": api}
    exec(panel.code.splitlines()[-1], scope)  # the call, on the test's api
    assert scope["frame"].equals(narrowed)
    assert explorer.action_log.entries[-1].startswith(f"frame = api.custom_chart({chart.id!r})")
    # A preset of no rows' worth (a bad filter) says why, and the panel keeps working.
    explorer.table.filters = {"config.lr": {"$near": 1}}
    assert panel.error and "$near" in panel.error
    chart.delete()


def test_a_report_with_a_custom_chart_panel_renders_its_spec_and_data(api, project_runs):
    project, _ = project_runs
    chart = api.create_custom_chart(None, _name(), spec=LINE, query={"keys": ["loss"]})
    report = api.create_report(
        project.path,
        "custom",
        runsets=[{"filters": {"tags": "keep"}}],
        panels=[{"type": "custom", "chart": chart.id, "title": "loss </script>"}],
    )
    text = report.to_html()
    found = re.findall(
        r"<script type='application/json' class='vega-lite-spec'>(.*?)</script>", text, re.S
    )
    assert len(found) == 1
    spec = json.loads(found[0])
    expected = chart.data(project.path, filters={"tags": "keep"})
    assert spec["mark"] == "line" and spec["title"] == "loss </script>"
    assert [v["loss"] for v in spec["data"]["values"]] == expected["loss"].tolist()
    assert "<svg" in text  # drawn offline (vl-convert)
    # a panel naming a chart the reader cannot see is a note, not a crash
    broken = api.create_report(
        project.path, "broken", panels=[{"type": "custom", "chart": f"{chart.entity}/nope"}]
    )
    assert "panel 0:" in broken.to_html()
    chart.delete()


def test_private_charts_are_hidden_from_outsiders_public_ones_are_not(api, server):
    tag = uuid.uuid4().hex[:6]
    outsider = Api(host=server.url, api_key=api.user().create(f"x-{tag}").api_key)
    entity = api.default_entity
    private = api.create_custom_chart(entity, _name(), spec=LINE, access="private")
    public = api.create_custom_chart(entity, _name(), spec=LINE, access="public")
    with pytest.raises(NotFound):
        outsider.custom_chart(private.id)
    assert outsider.custom_chart(public.id).spec == LINE
    listed = [c.name for c in outsider.custom_charts(entity)]
    assert public.name in listed and private.name not in listed
    with pytest.raises(PermissionDenied):
        outsider.create_custom_chart(entity, _name(), spec=LINE)
    with pytest.raises(PermissionDenied):
        outsider.custom_chart(public.id).delete()
    private.delete()
    public.delete()


# -- the small Api surface ------------------------------------------------------------------


def test_run_create_makes_a_run_on_the_server(api, make_project):
    project = make_project()
    run = Run.create(api, project=project.name)
    assert isinstance(run, Run) and run.state == "running"
    assert api.run(run.path).id == run.id
    done = Run.create(api, "fixed-id", project=project.name, state="finished")
    assert done.id == "fixed-id" and api.run(done.path).state == "FINISHED"
    with pytest.raises(UsageError):
        Run.create(api, project=project.name, state="sleeping")


def test_read_only_follows_the_caller_s_permission(api, server, make_project, make_run):
    tag = uuid.uuid4().hex[:6]
    owner = Api(host=server.url, api_key=api.user().create(f"o-{tag}").api_key)
    reader = Api(host=server.url, api_key=api.user().create(f"r-{tag}").api_key)
    owner.create_project("open", visibility="PUBLIC")
    run = owner.create_run(project="open")
    assert owner.run(run.path).read_only is False
    assert api.run(run.path).read_only is False  # an admin
    assert reader.run(run.path).read_only is True
    with pytest.raises((PermissionDenied, NotFound)):
        reader.run(run.path).finish()


def test_the_server_sees_the_user_agent_the_api_sends(api):
    agent = api.user_agent
    assert agent.startswith(f"lablens/{lablens.__version__} python/")
    assert f"python/{sys.version_info.major}.{sys.version_info.minor}" in agent
    assert api.client.get_json("/api/v1/viewer")["user_agent"] == agent
