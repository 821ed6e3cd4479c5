"""The client contract as the server answers it: one vocabulary, served, not copied."""

from __future__ import annotations

import pytest

from lablens.contract.fields import FIELD_HELP, RUN_FIELDS, run_field_types
from lablens.contract.names import POINT_STREAMS, WIRE_X_AXES
from lablens.errors import BadRequest


def test_openapi_lists_the_x_axes_and_streams(api):
    spec = api.client.get_json("/openapi.json")
    query = spec["components"]["schemas"]["HistoryQuery"]["properties"]
    assert query["x_axis"]["enum"] == list(WIRE_X_AXES)
    assert query["stream"]["enum"] == list(POINT_STREAMS)


def test_a_project_serves_the_run_field_catalogue(api, make_project):
    fields = make_project().fields()
    assert fields["run"] == run_field_types()
    assert list(fields["run"]) == [f.name for f in RUN_FIELDS]
    assert fields["run"]["tags"] == "list" and fields["run"]["finished_at"] == "time"


def test_every_catalogue_field_and_alias_filters_and_an_unknown_one_lists_them(api, make_run):
    run = make_run(tags=["a"])
    project = f"{run.entity}/{run.project}"
    for field in RUN_FIELDS:
        for name in (field.name, *field.aliases):
            # Every name is accepted by the server's filter language.
            list(api.runs(project, filters={name: {"$exists": True}}))
    with pytest.raises(BadRequest) as info:
        list(api.runs(project, filters={"colour": "red"}))
    assert FIELD_HELP in str(info.value)
    assert info.value.field == "filters.colour"


def test_a_bad_x_axis_is_refused_naming_it(api, make_run):
    run = make_run(points={"loss": ([0, 1], [1.0, 0.5])})
    route = f"/api/v1/projects/{run.entity}/{run.project}/history"
    with pytest.raises(BadRequest) as info:
        api.client.post_json(route, {"runs": [run.id], "x_axis": "epoch"})
    assert "x_axis" in (info.value.field or "")
