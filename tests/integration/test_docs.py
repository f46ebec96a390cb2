"""docs/ is the reference a user reads; these tests keep it true to the code.

Every fenced block whose info string says `example=NAME.ext` is written to a file of that
name and run through the real `leadflow run` (a fresh SQLite CRM per example, the `rules`
model). Every block marked `outcome=NAME.ext` is what that run must write: a JSON value
matched against the outcome records (one record, or the list of them when the file holds
several), after `at=a.0.b` picks a part. `…` stands for any value (or, inside a string, any
text), a list ending in `…` for any further items, and `complete` asks for exactly the keys
shown. The tables of statuses, queues, recognised field names, settings and configuration
files are compared with the code and YAML they describe.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from leadflow import cli
from leadflow.graph.messages import AGENT_NAMES, make_message
from leadflow.outcome import outcome_record
from leadflow.tools.crm import QUEUES, STATUSES
from leadflow.tools.ingest import CHANNELS, read_items

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\S*)([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ANY = "…"


@dataclass(frozen=True)
class Block:
    where: str  # docs/file.md:line
    lang: str
    attrs: dict[str, str]
    body: str


def doc_blocks() -> list[Block]:
    found = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            attrs = dict(word.partition("=")[::2] for word in match.group(2).split())
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(f"docs/{path.name}:{line}", match.group(1), attrs,
                               match.group(3)))
    return found


BLOCKS = doc_blocks()
EXAMPLES = {b.attrs["example"]: b for b in BLOCKS if "example" in b.attrs}
OUTCOMES = [b for b in BLOCKS if "outcome" in b.attrs]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """{example name: its outcome record, or the list of them} from a real `leadflow run`,
    each example alone in a fresh CRM, as a user trying it would run it."""
    ran: dict[str, Any] = {}
    for name, block in EXAMPLES.items():
        where = tmp_path_factory.mktemp(Path(name).stem)
        path = where / name
        path.write_text(block.body, encoding="utf-8")
        out = where / "outcomes.jsonl"
        result = CliRunner().invoke(
            cli.app, ["run", "-i", str(path), "--out", str(out), "--no-progress"],
            env={"LEADFLOW_HOME": str(where / "home"), "LEADFLOW_DATABASE_URL": None,
                 "LEADFLOW_CHECKPOINT_DB": None, "LEADFLOW_MODEL": "rules"})
        assert result.exit_code == 0, f"{block.where}: leadflow run failed\n{result.output}"
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert records and all(r["status"] in STATUSES for r in records), block.where
        ran[name] = records[0] if len(records) == 1 else records
    return ran


def mismatch(expected: Any, actual: Any, complete: bool, path: str = "") -> str | None:
    """Where `actual` differs from what the docs show, or None."""
    here = path or "the record"
    if expected == ANY:
        return None
    if isinstance(expected, str) and ANY in expected and isinstance(actual, str):
        pattern = ".*".join(re.escape(part) for part in expected.split(ANY))
        return None if re.fullmatch(pattern, actual, re.DOTALL) else (
            f"{here}: docs show {expected!r}, the run wrote {actual!r}")
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{here}: docs show an object, the run wrote {actual!r}"
        missing = set(expected) - set(actual)
        extra = set(actual) - set(expected) if complete else set()
        if missing or extra:
            return (f"{here}: keys the run did not write {sorted(missing)}, "
                    f"keys the docs leave out {sorted(extra)}")
        for key, value in expected.items():
            if (problem := mismatch(value, actual[key], complete, f"{path}.{key}".lstrip("."))):
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{here}: docs show a list, the run wrote {actual!r}"
        open_ended = bool(expected) and expected[-1] == ANY
        shown = expected[:-1] if open_ended else expected
        if len(actual) < len(shown) or (not open_ended and len(actual) != len(shown)):
            return f"{here}: docs show {len(shown)} items, the run wrote {len(actual)}"
        for n, value in enumerate(shown):
            if (problem := mismatch(value, actual[n], complete, f"{path}.{n}".lstrip("."))):
                return problem
        return None
    return None if expected == actual else (
        f"{here}: docs show {expected!r}, the run wrote {actual!r}")


@pytest.mark.parametrize("block", OUTCOMES, ids=lambda b: b.where)
def test_the_documented_outcome_is_what_leadflow_run_writes(
        block: Block, outcomes: dict[str, Any]) -> None:
    name = block.attrs["outcome"]
    assert name in EXAMPLES, f"{block.where}: no block marked example={name}"
    actual = outcomes[name]
    for step in filter(None, block.attrs.get("at", "").split(".")):
        actual = actual[int(step)] if isinstance(actual, list) else actual[step]
    expected = json.loads(block.body)
    problem = mismatch(expected, actual, "complete" in block.attrs)
    assert problem is None, f"{block.where} (example {name}): {problem}"


def test_every_example_shows_its_outcome() -> None:
    assert len(EXAMPLES) >= 8
    shown = {b.attrs["outcome"] for b in OUTCOMES}
    assert set(EXAMPLES) <= shown, f"examples with no outcome block: {set(EXAMPLES) - shown}"
    names = [b.attrs["example"] for b in BLOCKS if "example" in b.attrs]
    assert len(names) == len(set(names)), "two examples share a file name"


def test_the_examples_cover_every_channel_file_kind_and_payload_shape(tmp_path: Path) -> None:
    shapes: set[tuple[str, str]] = set()
    for name, block in EXAMPLES.items():
        path = tmp_path / name
        path.write_text(block.body, encoding="utf-8")
        for item in read_items(path):
            if "_error" not in item and isinstance(item.get("source"), str):
                shapes.add((item["source"], type(item["payload"]).__name__))
    assert {source for source, _ in shapes} >= set(CHANNELS)
    assert {("email", "str"), ("email", "dict"), ("event", "dict"), ("event", "str"),
            ("web_form", "dict"), ("chat", "list"), ("api", "dict")} <= shapes
    assert {Path(n).suffix for n in EXAMPLES} >= {".json", ".jsonl", ".csv", ".eml", ".mbox"}


def table_keys(doc: str, heading: str) -> list[str]:
    """The backticked first cells of the table under `heading` in docs/<doc>."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", section.split("\n\n#", 1)[0], re.MULTILINE)
    assert rows, f"no table under {heading!r} in docs/{doc}"
    return rows


def test_the_outcome_tables_name_every_field(outcomes: dict[str, Any]) -> None:
    record = outcome_record({})
    assert table_keys("outcome.md", "## The outcome record") == list(record)
    routed = outcomes["web-form.json"]
    for part in ("contact", "company", "assignment"):
        assert set(table_keys("outcome.md", f"### `{part}`")) == set(routed[part]), part
    assert set(table_keys("outcome.md", "### `bant`")) == set(routed["bant"])
    assert set(table_keys("outcome.md", "### `decisions`")) == set(routed["decisions"][0])


def test_statuses_and_queues_are_the_codes() -> None:
    assert set(table_keys("statuses.md", "## Statuses")) == set(STATUSES)
    assert set(table_keys("statuses.md", "## Queues")) == set(QUEUES)


def test_the_message_format_is_the_code() -> None:
    from datetime import UTC, datetime

    message = make_message(workflow_id="LEAD-x", seq=1, from_agent="a", to_agent="b",
                           message_type="handoff", lead_data={}, processing_notes="",
                           priority="normal", now=datetime.now(UTC), deadline_s=None)
    fields = table_keys("messages.md", "## Fields")
    assert set(fields) == set(message) | {f"payload.{k}" for k in message["payload"]} | {
        f"metadata.{k}" for k in message["metadata"]}
    text = (DOCS / "messages.md").read_text(encoding="utf-8")
    for name in AGENT_NAMES.values():
        assert f"`{name}`" in text
    for kind in ("handoff", "error", "escalation", "notification"):
        assert f"`{kind}`" in text


def test_recognised_field_names_are_standardize_yaml() -> None:
    rules = yaml.safe_load((ROOT / "leadflow/config/standardize.yaml").read_text())["form_fields"]
    text = (DOCS / "input.md").read_text(encoding="utf-8")
    table = text.split("<!-- form-fields:start -->", 1)[1].split("<!-- form-fields:end -->")[0]
    documented = {}
    for row in re.findall(r"^\| `(\w+)` \|(.*)$", table, re.MULTILINE):
        exact, keywords = row[1].split("|")[:2]
        documented[row[0]] = (re.findall(r"`([^`]+)`", exact), re.findall(r"`([^`]+)`", keywords))
    keywords = dict((field, words) for field, words in rules["keywords"])
    assert set(documented) == set(rules["exact"]) | set(keywords)
    for field, (exact, words) in documented.items():
        assert exact == [str(a) for a in rules["exact"].get(field, [])], field
        assert words == [str(w) for w in keywords.get(field, [])], field
    order = re.search(r"tried in this order: (.*?)\.", text.replace("\n", " "))
    assert order and re.findall(r"`(\w+)`", order.group(1)) == [f for f, _ in rules["keywords"]]


def test_every_setting_and_configuration_file_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = set(re.findall(r"\b((?:LEADFLOW|OPENAI|LANGSMITH)_[A-Z_]+)\b",
                           (ROOT / "leadflow/settings.py").read_text()
                           + (ROOT / ".env.example").read_text()))
    assert names and not {n for n in names if f"`{n}`" not in text and
                          not (n.endswith("_") and (f"`{n}<AGENT>`" in text
                                                    or f"`{n}<REP>`" in text))}, names
    for path in sorted((ROOT / "leadflow/config").glob("*.yaml")):
        heading = f"### `{path.name}`"
        assert heading in text, f"docs/configuration.md has no section {heading}"
        section = text.split(heading, 1)[1].split("\n### ", 1)[0]
        for key in yaml.safe_load(path.read_text()):
            assert f"`{key}`" in section, f"{path.name}: top-level key {key} not documented"


def test_the_readme_and_docs_cite_docs_not_the_spec() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "SPEC" not in readme
    for path in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        assert "SPEC" not in text, path.name
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
