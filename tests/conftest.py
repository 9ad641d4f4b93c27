"""Shared test configuration: hypothesis profiles (select with HYPOTHESIS_PROFILE; the
default is the quick ``dev`` one, CI uses ``ci``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The real Redis of the Redis store's and gunicorn's tests (the redis_url fixture).
pytest_plugins = ["tests.redis_server"]

# CI: deterministic and thorough enough to matter.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
# Local heavy run: HYPOTHESIS_PROFILE=heavy pytest
settings.register_profile(
    "heavy", deadline=None, max_examples=5000, suppress_health_check=[HealthCheck.too_slow]
)
# The local default: quick. .ci/run sets HYPOTHESIS_PROFILE=ci.
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
