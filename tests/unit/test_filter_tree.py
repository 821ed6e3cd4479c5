"""The engine-neutral parse of run filters and orders: the tree it builds, and
``Store.check_run_query`` refusing a bad filter or order on a real embedded store."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from lablens.store.embedded.store import EmbeddedStore
from lablens.store.errors import InvalidFilter
from lablens.store.filter_parse import parse_filters
from lablens.store.filter_tree import (
    All,
    AnyOf,
    Compare,
    Eq,
    Exists,
    Field,
    In,
    Not,
    NumericText,
    Regex,
    resolve_field,
)
from lablens.store.order_tree import OrderKey, parse_order_key

STATE = Field("state", "state", "state")
LR = Field("config.lr", "json", "config", ("lr",))


def test_fields_keep_the_name_as_written_and_the_catalogue_name():
    assert resolve_field("createdAt") == Field("createdAt", "time", "created_at")
    assert resolve_field("display_name") == Field("display_name", "text", "name")
    assert resolve_field("summary_metrics.val.acc") == Field(
        "summary_metrics.val.acc", "json", "summary", ("val.acc",)
    )
    assert resolve_field("config.lr.value").keys == ("lr.value", "lr")
    assert resolve_field("colour") is None


def test_no_filter_is_an_empty_and():
    assert parse_filters(None) == parse_filters({}) == All(())


def test_a_plain_value_is_eq_and_several_keys_are_anded():
    assert parse_filters({"state": "finished"}) == Eq(STATE, "finished")
    assert parse_filters({"state": "finished", "config.lr": 0.1}) == All(
        (Eq(STATE, "finished"), Eq(LR, 0.1))
    )


def test_negations_are_not_nodes():
    tree = parse_filters(
        {"config.lr": {"$ne": 1, "$nin": [2], "$exists": False}, "$nor": [{"state": "x"}]}
    )
    assert tree == All(
        (
            All((Not(Eq(LR, 1.0)), Not(In(LR, (2.0,))), Not(Exists(LR)))),
            Not(Eq(STATE, "x")),
        )
    )
    assert parse_filters({"$or": [{"state": "a"}, {"state": "b"}]}) == AnyOf(
        (Eq(STATE, "a"), Eq(STATE, "b"))
    )


def test_values_arrive_coerced():
    created = parse_filters({"created_at": {"$gt": "2025-01-02T03:04:05"}})
    assert created == Compare(
        Field("created_at", "time", "created_at"), "$gt", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    assert parse_filters({"config.bs": "64"}) == Eq(
        Field("config.bs", "json", "config", ("bs",)), NumericText("64", 64.0)
    )
    assert parse_filters({"config.bs": "sixty"}).value == "sixty"
    nan = parse_filters({"config.lr": {"$lte": math.nan}})
    assert isinstance(nan, Compare) and math.isnan(nan.value)
    assert parse_filters({"tags": ["a", "b"]}) == Eq(Field("tags", "tags", "tags"), ("a", "b"))
    assert parse_filters({"tags": {"$in": ["a", None]}}).values == ("a",)
    assert parse_filters({"name": {"$regex": "^a", "$options": "si"}}) == Regex(
        Field("name", "text", "name"), "(?is)^a"
    )


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        ({"colour": "red"}, "filters.colour", "unknown field 'colour'"),
        ({"$and": [{}, {"config.lr": {"$gt": []}}]}, "filters.$and[1].config.lr.$gt", "$gt takes"),
        ({"name": {"$regex": "(?=a)"}}, "filters.name.$regex", "not a valid regular expression"),
        ({"created_at": {"$in": ["soon"]}}, "filters.created_at.$in[0]", "ISO 8601"),
        ("state", "filters", "filters must be an object"),
    ],
)
def test_a_bad_filter_names_its_bad_part(filters, field, message):
    with pytest.raises(InvalidFilter) as err:
        parse_filters(filters)
    assert err.value.field == field
    assert message in err.value.message


def test_an_order_is_a_field_and_a_direction():
    assert parse_order_key(None) == OrderKey(Field("created_at", "time", "created_at"), False)
    assert parse_order_key(" -config.lr") == OrderKey(LR, True)
    with pytest.raises(InvalidFilter) as err:
        parse_order_key("-tags")
    assert (err.value.field, err.value.message.split(";")[0]) == (
        "order",
        "tags cannot be sorted on",
    )


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path)
    yield store
    store.close()


def test_the_store_checks_a_run_query_without_running_it(store):
    assert store.check_run_query({"config.lr": {"$lt": 0.1}}, "-summary_metrics.loss") is None
    assert store.check_run_query(None) is None
    with pytest.raises(InvalidFilter) as err:
        store.check_run_query({"$or": [{"state": {"$gt": 3}}]})
    assert err.value.field == "filters.$or[0].state.$gt"
    assert err.value.message == "$gt on state compares with a string, got the number 3"
    with pytest.raises(InvalidFilter) as err:
        store.check_run_query({}, "colour")
    assert err.value.field == "order"
    assert err.value.message.startswith("unknown field 'colour'; sort on ")
