"""Cross-validation folds never split a season (nor a weather) between training and test."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.train import grouped_folds


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 9), min_size=20, max_size=200).filter(lambda g: len(set(g)) >= 2),
    st.integers(2, 5),
)
def test_no_group_in_two_folds(groups: list[int], folds: int) -> None:
    g = np.array(groups)
    seen: dict[int, int] = {}
    splits = grouped_folds(g, folds)
    for k, (train, test) in enumerate(splits):
        assert not set(g[train]) & set(g[test])
        for group in set(g[test]):
            assert group not in seen, f"group {group} tested in folds {seen[group]} and {k}"
            seen[group] = k
    assert set(seen) == set(groups)  # every group is tested exactly once
