"""Shape-keeping downsampling: the SQL against the numpy reference, on a real DuckDB."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lablens.store.embedded._sampling_sql import sampled_points_sql
from lablens.store.embedded.schema import MIGRATIONS
from lablens.store.errors import InvalidInput
from lablens.store.sampling import sample_numpy, sample_sorted

Series = tuple[np.ndarray, np.ndarray]  # steps, values


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(MIGRATIONS[0])
    return c


def store(con: duckdb.DuckDBPyConnection, series: dict[tuple[int, int], Series]) -> None:
    """Insert series keyed by (run_pk, key_id); ts is derived from the step."""
    for (run_pk, key_id), (steps, values) in series.items():
        n = len(steps)
        batch = pa.table(
            {
                "run_pk": pa.array(np.full(n, run_pk), pa.int64()),
                "key_id": pa.array(np.full(n, key_id), pa.int32()),
                "step": pa.array(steps, pa.int64()),
                "ts": pa.array(1.7e9 + np.asarray(steps, dtype=np.float64) * 0.25),
                "value": pa.array(values, pa.float64()),
            }
        )
        con.register("batch", batch)
        con.execute("INSERT INTO points SELECT * FROM batch")
        con.unregister("batch")


def sample(
    con: duckdb.DuckDBPyConnection, samples: int | None, *, x: str = "step", x_sql: str = "step"
) -> dict[tuple[int, int], pa.Table]:
    """Run the SQL the way the store does, split the answer by series."""
    sql = (
        f"WITH selected AS (SELECT run_pk, key_id, step, ts, value, ({x_sql})::DOUBLE AS x"
        f" FROM points) {sampled_points_sql(samples, x=x)}"
    )
    table = con.sql(sql).to_arrow_table()
    assert table.column_names == ["run_pk", "key_id", "step", "ts", "value"]
    out: dict[tuple[int, int], pa.Table] = {}
    keys = list(zip(table["run_pk"].to_pylist(), table["key_id"].to_pylist(), strict=True))
    for key in dict.fromkeys(keys):
        mask = [k == key for k in keys]
        out[key] = table.filter(pa.array(mask))
    # One series after the other, each by step.
    flat = list(zip(keys, table["step"].to_pylist(), strict=True))
    assert flat == sorted(flat)
    return out


def random_series(
    rng: np.random.Generator, n: int, *, nan: float = 0.0, inf: float = 0.0
) -> Series:
    """A noisy walk with spikes, unique unsorted steps with gaps, optional NaN and +/-inf."""
    steps = np.sort(rng.choice(n * 3, size=n, replace=False)) + int(rng.integers(0, 1000))
    values = np.cumsum(rng.normal(size=n)) + rng.normal(size=n) * 0.1
    spikes = rng.random(n) < 0.01
    values[spikes] += rng.normal(size=spikes.sum()) * 1000
    values[rng.random(n) < nan] = np.nan
    infs = rng.random(n) < inf
    values[infs] = np.where(rng.random(infs.sum()) < 0.5, np.inf, -np.inf)
    order = rng.permutation(n)  # stored in no particular order
    return steps[order], values[order]


def reference_steps(series: Series, samples: int | None, x: np.ndarray | None = None) -> list:
    steps, values = series
    return steps[sample_numpy(steps, values, samples, x=x)].tolist()


def same_values(a: list[float], b: list[float]) -> bool:
    return all((math.isnan(p) and math.isnan(q)) or p == q for p, q in zip(a, b, strict=True))


# --- the reference itself ------------------------------------------------------------------------


def test_reference_keeps_first_last_min_max_per_bucket():
    steps = np.arange(16)
    values = np.array([5, 1, 9, 3, 3, 8, 0, 4, 7, 7, 7, 7, 2, 6, 6, 1], dtype=float)
    # 16 > 8 points, 2 buckets of 8 steps: [0..7] keeps 0, 7, min at 6, max at 2;
    # [8..15] keeps 8, 15, min at 15 (1), max at 8 (7, the earliest of the ties).
    assert sample_numpy(steps, values, 8).tolist() == [0, 2, 6, 7, 8, 15]


def test_reference_returns_every_index_when_the_series_fits():
    assert sample_numpy(np.array([3, 1, 2]), np.zeros(3), 3).tolist() == [1, 2, 0]
    assert sample_numpy(np.array([3, 1, 2]), np.zeros(3), None).tolist() == [1, 2, 0]


# --- SQL == reference ----------------------------------------------------------------------------


@pytest.mark.parametrize("samples", [5, 8, 17, 100, 1000])
def test_sql_matches_the_reference_on_random_walks_with_spikes(con, samples):
    rng = np.random.default_rng(samples)
    series = {(run, 1): random_series(rng, int(rng.integers(1, 3000))) for run in range(1, 9)}
    series[(3, 2)] = random_series(rng, 2500)  # a second key of one run
    store(con, series)
    got = sample(con, samples)
    assert set(got) == set(series)
    for key, s in series.items():
        assert got[key]["step"].to_pylist() == reference_steps(s, samples), key


@pytest.mark.parametrize("samples", [1, 2, 3, 4])
def test_sql_matches_the_reference_with_fewer_than_five_samples(con, samples):
    rng = np.random.default_rng(40 + samples)
    series = {(run, 1): random_series(rng, 50 + run, nan=0.1 * (run % 2)) for run in range(1, 7)}
    series[(9, 1)] = (np.array([7]), np.array([1.0]))
    store(con, series)
    got = sample(con, samples)
    for key, s in series.items():
        kept = got[key]["step"].to_pylist()
        assert kept == reference_steps(s, samples), key
        assert len(kept) <= samples


def test_fewer_than_five_samples_keep_first_then_last_then_min_then_max(con):
    steps = np.arange(10)
    values = np.array([5, 2, 9, -3, 4, 4, 8, 1, 0, 6], dtype=float)
    store(con, {(1, 1): (steps, values)})
    kept = {s: sample(con, s)[(1, 1)]["step"].to_pylist() for s in (1, 2, 3, 4)}
    assert kept == {1: [0], 2: [0, 9], 3: [0, 3, 9], 4: [0, 2, 3, 9]}


@pytest.mark.parametrize("samples", [5, 9, 10, 64, 1000])
def test_sql_matches_the_reference_with_nan_values(con, samples):
    rng = np.random.default_rng(100 + samples)
    series = {(run, 1): random_series(rng, 3000, nan=0.002 * run) for run in range(1, 6)}
    steps = np.arange(2000)
    series[(7, 1)] = (steps, np.where(steps >= 1500, np.nan, np.sin(steps / 50.0)))  # diverges
    series[(8, 1)] = (steps, np.full(2000, np.nan))  # NaN only
    store(con, series)
    got = sample(con, samples)
    for key, s in series.items():
        table = got[key]
        if key == (8, 1):  # nothing but NaN: which NaN is the min/max is DuckDB's choice
            assert_shape_kept(s, samples, table)
            continue
        assert table["step"].to_pylist() == reference_steps(s, samples), key


def test_a_nan_is_never_lost(con):
    steps = np.arange(100_000)
    values = np.sin(steps / 1000.0)
    values[77_777] = np.nan
    store(con, {(1, 1): (steps, values)})
    kept = sample(con, 100)[(1, 1)]
    assert 77_777 in kept["step"].to_pylist()
    assert len(kept) <= 100


def test_nan_does_not_hide_the_maximum(con):
    steps = np.arange(1000)
    values = np.zeros(1000)
    values[10], values[11], values[12] = 5.0, np.nan, -5.0
    store(con, {(1, 1): (steps, values)})
    kept = sample(con, 5)[(1, 1)]  # one bucket
    assert kept["step"].to_pylist() == [0, 10, 11, 12, 999]


@pytest.mark.parametrize("samples", [5, 12, 100])
def test_infinities_are_ordinary_extremes(con, samples):
    rng = np.random.default_rng(7 * samples)
    series = {(run, 1): random_series(rng, 2000, nan=0.01, inf=0.01) for run in range(1, 6)}
    store(con, series)
    got = sample(con, samples)
    for key, s in series.items():
        # Several infinities in one bucket tie: any of them is a right answer.
        assert_shape_kept(s, samples, got[key])
        values = got[key]["value"].to_numpy(zero_copy_only=False)
        assert np.isposinf(values).any() and np.isneginf(values).any()


def test_points_come_back_whole(con):
    rng = np.random.default_rng(5)
    steps, values = random_series(rng, 5000, nan=0.01, inf=0.01)
    store(con, {(1, 1): (steps, values)})
    kept = sample(con, 50)[(1, 1)]
    by_step = dict(zip(steps.tolist(), values.tolist(), strict=True))
    assert same_values(kept["value"].to_pylist(), [by_step[s] for s in kept["step"].to_pylist()])
    assert kept["ts"].to_pylist() == [1.7e9 + s * 0.25 for s in kept["step"].to_pylist()]


# --- guarantees ----------------------------------------------------------------------------------


def assert_shape_kept(series: Series, samples: int, table: pa.Table) -> None:
    """At most ``samples`` points; per bucket exactly the M4 roles, ties allowed."""
    steps, values = series
    order = np.argsort(steps)
    s, v = steps[order], values[order]
    kept = table["step"].to_numpy()
    assert len(kept) == len(set(kept.tolist()))
    if len(s) <= samples:
        assert kept.tolist() == s.tolist()
        return
    assert len(kept) <= samples
    nan = np.isnan(v)
    nb = max(1, samples // 5) if nan.any() else max(1, samples // 4)
    width = (int(s[-1]) - int(s[0])) // nb + 1
    bucket = (s - s[0]) // width
    pos_of = {int(step): i for i, step in enumerate(s)}
    kept_pos = np.array([pos_of[int(k)] for k in kept])
    for b in np.unique(bucket):
        pos = np.flatnonzero(bucket == b)
        mine = kept_pos[bucket[kept_pos] == b]
        assert pos[0] in mine and pos[-1] in mine
        numbers = pos[~nan[pos]]
        roles = {pos[0], pos[-1]}
        if len(numbers):
            lo, hi = v[numbers].min(), v[numbers].max()
            assert (v[mine] == lo).any() and (v[mine] == hi).any()
            roles |= {p for p in mine if v[p] == lo or v[p] == hi}
        if nan[pos].any():
            first_nan = pos[nan[pos]][0]
            assert first_nan in mine
            roles.add(first_nan)
            if not len(numbers):
                roles |= set(mine)  # all NaN: any NaN may stand for min and max
        assert set(mine) <= roles, f"bucket {b} keeps points that play no role"
        assert len(mine) <= (5 if nan[pos].any() else 4)


@pytest.mark.parametrize("samples", [4, 5, 6, 7, 8, 9, 10, 33, 250])
def test_at_most_samples_points_and_always_first_last_min_max(con, samples):
    rng = np.random.default_rng(samples)
    series = {(run, 1): random_series(rng, 1200, nan=0.003 * (run % 3), inf=0.002 * (run % 2))
              for run in range(1, 7)}  # fmt: skip
    store(con, series)
    got = sample(con, samples)
    for key, (steps, values) in series.items():
        kept = got[key]
        kept_steps = kept["step"].to_pylist()
        kept_values = kept["value"].to_numpy(zero_copy_only=False)
        assert len(kept_steps) <= samples
        assert kept_steps[0] == steps.min() and kept_steps[-1] == steps.max()
        numbers = values[~np.isnan(values)]
        assert numbers.min() in kept_values and numbers.max() in kept_values
        if samples >= 5:  # below that, NaN has the lowest priority
            assert np.isnan(kept_values).any() == np.isnan(values).any()
            assert_shape_kept((steps, values), samples, kept)


def test_equal_extremes_keep_one_of_them(con):
    steps = np.arange(200)
    store(con, {(1, 1): (steps, np.zeros(200)), (2, 1): (steps, np.arange(200) % 3.0)})
    got = sample(con, 8)
    # A flat line: per bucket the first and the last point, plus at most one tie of each.
    flat = got[(1, 1)]["step"].to_pylist()
    assert {0, 99, 100, 199} <= set(flat) and len(flat) <= 8
    assert_shape_kept((steps, np.zeros(200)), 8, got[(1, 1)])
    assert_shape_kept((steps, np.arange(200) % 3.0), 8, got[(2, 1)])


def test_null_values_are_kept_only_as_first_or_last(con):
    con.execute(
        "INSERT INTO points SELECT 1, 1, s, s, CASE WHEN s IN (0, 25, 99) THEN NULL"
        " ELSE s % 7 END FROM range(100) t(s)"
    )
    kept = sample(con, 8)[(1, 1)]
    steps, values = kept["step"].to_pylist(), kept["value"].to_pylist()
    assert 25 not in steps
    assert steps[0] == 0 and steps[-1] == 99 and values[0] is None and values[-1] is None
    assert len(steps) <= 8 and 0.0 in values and 6.0 in values


# --- the shape of the answer ---------------------------------------------------------------------


def test_no_samples_means_every_point_ordered_by_series_and_step(con):
    rng = np.random.default_rng(3)
    series = {(2, 1): random_series(rng, 30), (1, 2): random_series(rng, 20),
              (1, 1): random_series(rng, 10)}  # fmt: skip
    store(con, series)
    got = sample(con, None)
    assert list(got) == [(1, 1), (1, 2), (2, 1)]
    for key, (steps, _values) in series.items():
        assert got[key]["step"].to_pylist() == sorted(steps.tolist())


def test_series_with_at_most_samples_points_keep_every_point(con):
    rng = np.random.default_rng(4)
    series = {(1, 1): random_series(rng, 100, nan=0.2), (2, 1): random_series(rng, 99)}
    store(con, series)
    got = sample(con, 100)
    for key, (steps, values) in series.items():
        assert got[key]["step"].to_pylist() == sorted(steps.tolist())
        by_step = dict(zip(steps.tolist(), values.tolist(), strict=True))
        assert same_values(
            got[key]["value"].to_pylist(), [by_step[s] for s in got[key]["step"].to_pylist()]
        )


def test_each_series_is_sampled_on_its_own(con):
    rng = np.random.default_rng(8)
    alone = random_series(rng, 4000, nan=0.001)
    store(con, {(5, 3): alone})
    by_itself = sample(con, 60)[(5, 3)]["step"].to_pylist()
    store(con, {(5, 4): random_series(rng, 9000), (6, 3): random_series(rng, 10)})
    assert sample(con, 60)[(5, 3)]["step"].to_pylist() == by_itself


def test_huge_step_ranges_do_not_overflow(con):
    steps = np.array([0, 1, 2**61, 2**62, 2**62 + 5, 2**63 - 2], dtype=np.int64)
    values = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.0])
    store(con, {(1, 1): (steps, values)})
    assert sample(con, 5)[(1, 1)]["step"].to_pylist() == reference_steps((steps, values), 5)


def test_negative_steps_work(con):
    rng = np.random.default_rng(11)
    steps, values = random_series(rng, 500)
    series = (steps - 10_000, values)
    store(con, {(1, 1): series})
    assert sample(con, 20)[(1, 1)]["step"].to_pylist() == reference_steps(series, 20)


# --- another x axis ------------------------------------------------------------------------------


@pytest.mark.parametrize("samples", [3, 5, 40, 400])
def test_buckets_on_the_x_column_match_the_reference(con, samples):
    rng = np.random.default_rng(samples + 1)
    series = {(run, 1): random_series(rng, 1500, nan=0.002 * run) for run in range(1, 5)}
    store(con, series)
    # An x axis that is not linear in the step (the way wall-clock time often is not).
    got = sample(con, samples, x="x", x_sql="ts * ts / 1e9")
    for key, (steps, values) in series.items():
        ts = 1.7e9 + steps.astype(np.float64) * 0.25
        x = ts * ts / 1e9
        assert got[key]["step"].to_pylist() == reference_steps((steps, values), samples, x), key


def test_points_without_a_finite_x_are_left_out(con):
    steps = np.arange(50)
    store(con, {(1, 1): (steps, np.sin(steps / 3.0))})
    x_sql = "CASE WHEN step % 10 = 3 THEN NULL WHEN step % 10 = 4 THEN 'nan'::DOUBLE ELSE step END"
    kept = sample(con, 1000, x="x", x_sql=x_sql)[(1, 1)]["step"].to_pylist()
    assert kept == [s for s in range(50) if s % 10 not in (3, 4)]
    kept = sample(con, 12, x="x", x_sql=x_sql)[(1, 1)]["step"].to_pylist()
    assert not {s for s in kept if s % 10 in (3, 4)}
    assert kept[0] == 0 and kept[-1] == 49 and len(kept) <= 12


def test_a_constant_x_is_one_bucket(con):
    steps = np.arange(100)
    values = np.sin(steps / 5.0)
    store(con, {(1, 1): (steps, values)})
    kept = sample(con, 10, x="x", x_sql="42")[(1, 1)]["step"].to_pylist()
    assert kept == reference_steps((steps, values), 10, np.full(100, 42.0))
    assert len(kept) == 4


# --- arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize("samples", [0, -1, 2.5, "10", True])
def test_samples_must_be_a_positive_integer(samples):
    with pytest.raises(InvalidInput) as info:
        sampled_points_sql(samples)  # type: ignore[arg-type]
    assert info.value.field == "samples"


def test_x_must_name_something():
    with pytest.raises(ValueError):
        sampled_points_sql(10, x="")


def test_the_sql_is_a_plain_select_to_put_after_the_callers_cte():
    for samples in (None, 3, 1000):
        for x in ("step", "x"):
            assert sampled_points_sql(samples, x=x).startswith("SELECT ")


# --- the numpy sampler of many series at once ----------------------------------------------------


def _many(rng: np.random.Generator, sizes: list[int], **kw: float) -> list[Series]:
    out = []
    for n in sizes:
        steps, values = random_series(rng, n, **kw)
        order = np.argsort(steps)
        out.append((steps[order], values[order]))
    return out


@pytest.mark.parametrize("samples", [1, 3, 5, 20, 100, 1000])
@pytest.mark.parametrize("kind", ["plain", "nan", "null", "x"])
def test_sample_sorted_keeps_what_the_sql_and_the_reference_keep(con, samples, kind):
    rng = np.random.default_rng(samples * 7 + len(kind))
    # Series that fit, series of one point, and long ones; the first buckets of consecutive
    # series share their number, so a series boundary must still start a group.
    sizes = [1, 7, samples, samples + 1, 2_000, 3, 5_000]
    # Infinities tie as extremes, where the SQL may keep any of them: none against the SQL.
    parts = _many(
        rng, sizes, nan=0.02 if kind == "nan" else 0.0, inf=0 if kind == "null" else 0.005
    )
    labels = np.repeat(np.arange(len(sizes)) * 3 + 10, sizes)  # labels need only rise
    steps = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    nulls = None
    if kind == "null":
        nulls = rng.random(len(values)) < 0.03
    x = None
    if kind == "x":
        x = steps * 0.5 + rng.random(len(steps)) * 0.1
        x[rng.random(len(x)) < 0.01] = np.nan  # no place on the axis
    given = np.where(nulls, np.nan, values) if nulls is not None else values
    kept = sample_sorted(labels, steps, given, nulls, samples, x=x)
    assert (np.diff(kept) > 0).all()
    offsets = np.r_[0, np.cumsum(sizes)]
    if kind == "null":
        # The reference has no NULL: the SQL, where NULL is never an extreme, is the rule.
        for i, (lo, hi) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
            n = hi - lo
            con.register(
                "batch",
                pa.table(
                    {
                        "run_pk": pa.array(np.full(n, i), pa.int64()),
                        "key_id": pa.array(np.zeros(n), pa.int32()),
                        "step": pa.array(steps[lo:hi], pa.int64()),
                        "ts": pa.array(np.zeros(n)),
                        "value": pa.array(values[lo:hi], mask=nulls[lo:hi]),
                    }
                ),
            )
            con.execute("INSERT INTO points SELECT * FROM batch")
            con.unregister("batch")
        by_sql = sample(con, samples)
    for i, (lo, hi) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        mine = steps[kept[(kept >= lo) & (kept < hi)]].tolist()
        if kind == "null":
            assert mine == by_sql[(i, 0)]["step"].to_pylist(), (samples, i)
            continue
        ref = sample_numpy(steps[lo:hi], values[lo:hi], samples, x=None if x is None else x[lo:hi])
        assert mine == sorted(steps[lo:hi][ref].tolist()), (kind, samples, i)
