"""The long history frame's row order: run, key, step, however the server sent the series."""

from __future__ import annotations

import numpy as np
import pytest

from lablens.api._frames import _sorted_order


def _rows(seed: int, runs: int = 4, keys: int = 5, steps: int = 30):
    rng = np.random.default_rng(seed)
    key_order = rng.permutation(keys)  # the server's own key order
    run = np.repeat(np.arange(runs), keys * steps)
    key = np.tile(np.repeat(key_order, steps), runs)
    step = np.tile(np.sort(rng.choice(1000, steps, replace=False)), runs * keys)
    return run, key, step


def _expected(sel, step, key_rank, run_rank):
    return sel[np.lexsort((step[sel], key_rank[sel], run_rank[sel]))]


@pytest.mark.parametrize("shuffled", [False, True])
def test_rows_come_in_run_key_step_order(shuffled):
    run, key, step = _rows(3)
    if shuffled:  # not one series after the other: the rows are sorted
        perm = np.random.default_rng(4).permutation(len(run))
        run, key, step = run[perm], key[perm], step[perm]
    run_rank = np.array([2, 0, 3, 1])[run]  # the order the caller asked for the runs in
    key_rank = np.array([1, 4, 0, 2, 3])[key]
    sel = np.flatnonzero(key_rank != 2)  # a key left out
    got = _sorted_order(sel, step, key_rank, run_rank)
    np.testing.assert_array_equal(got, _expected(sel, step, key_rank, run_rank))


def test_a_series_sent_in_two_pieces_is_still_whole():
    run, key, step = _rows(5, runs=1, keys=2, steps=6)
    # key 0's steps, then key 1's, then key 0 again: the blocks may not just be reordered.
    order = np.r_[0:3, 6:12, 3:6]
    run, key, step = run[order], key[order], step[order]
    sel = np.arange(len(run))
    got = _sorted_order(sel, step, key, run)
    np.testing.assert_array_equal(got, _expected(sel, step, key, run))
