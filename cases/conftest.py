"""Shared settings for every case test."""

from hypothesis import HealthCheck, settings

# Verdicts must not depend on luck: the same examples in every cell and every run. 25 examples a
# property: the edges (empty, longest, zero, negative, unicode) come first in Hypothesis's search;
# at 60 the property tests were half of a cell's test time, in every one of the matrix's cells.
settings.register_profile(
    "cases",
    derandomize=True,
    deadline=None,
    max_examples=25,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("cases")
