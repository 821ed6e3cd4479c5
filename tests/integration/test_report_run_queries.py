"""A report's run sets are checked by the store's run-query check: a bad filter or order is a 400
naming the bad part under ``spec.runsets[i]``, and nothing is saved."""

from __future__ import annotations

import pytest

from lablens.errors import BadRequest


@pytest.mark.parametrize(
    ("runset", "field", "message"),
    [
        ({"order": "-tags"}, "spec.runsets[1].order", "tags cannot be sorted on"),
        ({"order": "colour"}, "spec.runsets[1].order", "unknown field 'colour'"),
        (
            {"filters": {"$and": [{"config.lr": {"$gt": [1]}}]}},
            "spec.runsets[1].filters.$and[0].config.lr.$gt",
            "$gt takes a number or a string, got a list",
        ),
    ],
)
def test_a_bad_run_set_query_is_a_400_naming_it(api, make_project, runset, field, message):
    project = make_project()
    good = {"filters": {"state": "finished"}, "order": "-summary_metrics.loss"}
    with pytest.raises(BadRequest) as err:
        api.create_report(project.path, "bad", runsets=[good, runset], panels=[{"runset": 1}])
    assert err.value.status == 400
    assert err.value.field == field
    assert message in str(err.value)
    assert list(project.reports()) == []


def test_a_good_run_set_query_is_saved(api, make_project):
    project = make_project()
    runset = {"filters": {"config.lr": {"$lt": 0.1}}, "order": "-summary_metrics.loss"}
    saved = api.create_report(project.path, "good", runsets=[runset], panels=[{"runset": 0}])
    assert api.report(saved.path).spec["runsets"][0]["order"] == "-summary_metrics.loss"
