"""Shared settings for every case test."""

from hypothesis import HealthCheck, settings

# Verdicts must not depend on luck: the same examples in every cell and every run.
settings.register_profile(
    "cases",
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("cases")
