"""Pieces of the replay's detection that have a plainer equivalent elsewhere."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from skyparley.domain.traffic import sorted_codes
from skyparley.replay._engine import party_groups, text_codes

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, max_size=40), st.integers(1, 3))
def test_text_codes_match_sorted_codes_whatever_the_chunks(values: list[str], parts: int) -> None:
    """Arrow's codes are the Python ones: the same sorted texts (non-ASCII included, where
    Arrow sorts bytes and Python code points), the same code per row."""
    cut = len(values) // parts
    chunks = [values[k * cut : (k + 1) * cut] for k in range(parts - 1)]
    chunks.append(values[(parts - 1) * cut :])
    column = pa.chunked_array([pa.array(c, type=pa.string()) for c in chunks], pa.string())
    uniq, codes = text_codes(column)
    want_uniq, want_codes = sorted_codes(np.array(values, dtype=object))
    assert uniq == want_uniq
    assert codes.tolist() == want_codes.tolist()


def test_aircraft_without_a_party_are_each_a_group_of_their_own() -> None:
    rows = pa.table({"id": ["a", "b", "c", "d", "a"], "party": ["x", None, "", "x", "x"]})
    _, ids = text_codes(rows.column("id"))
    groups = party_groups(rows, ids).tolist()
    assert groups[0] == groups[3] == groups[4]  # both of party x
    assert len({groups[0], groups[1], groups[2]}) == 3  # b and c: no party, not x, not each other
    no_party = pa.table({"id": ["a", "b", "a"]})
    assert party_groups(no_party, text_codes(no_party.column("id"))[1]).tolist() == [1, 2, 1]
