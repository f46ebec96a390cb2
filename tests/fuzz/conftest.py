"""Hypothesis profiles for the fuzz tests.

`ci` (default): 200 examples a test, no deadline (2 shared cores), and derandomized so a CI
failure reproduces on every run and machine. `dev`: 2000 examples, random, with the example
database, for hunting locally: `HYPOTHESIS_PROFILE=dev pytest tests/fuzz`.

The graph and CLI properties run fewer examples (a fraction of the profile's count, see
`scaled`) since each one is a real batch through the graph and the CRM.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=200, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=2000, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
