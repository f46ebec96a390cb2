"""Capture extraction over the hand-written case file (tests/data/capture_cases.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from leadflow.agents.capture import extract_lead

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "capture_cases.yaml").read_text())


def test_the_case_file_is_big_and_varied() -> None:
    channels = {c["item"]["source"] for c in CASES}
    assert len(CASES) >= 40
    assert channels == {"web_form", "email", "chat", "event"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_capture_extracts_expected_fields(case: dict[str, Any]) -> None:
    record = extract_lead(case["item"])
    for key, expected in case["expect"].items():
        if key == "inquiry_contains":
            assert expected in record["inquiry"], key
        elif key == "usable_contact":
            assert record["usable_contact"] is expected, key
        else:
            section, field = key.split(".")
            assert record[section][field] == expected, key
