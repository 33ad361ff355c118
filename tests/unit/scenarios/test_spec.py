"""Scenario files: the shipped ones load, and a broken one is named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.errors import ConfigError
from driftctl.sandbox.drift import MUTATIONS
from driftctl.scenarios.spec import load_scenario, load_scenarios

SHIPPED = Path(__file__).parents[3] / "scenarios"

GOOD = """\
name: {name}
summary: a tag
inject:
  - mutation: tag
    address: module.app.aws_cloudwatch_log_group.app
expect:
  findings:
    module.app.aws_cloudwatch_log_group.app: {{outcome: proposed}}
"""


def test_the_shipped_scenarios_cover_what_issue_6_asks_for() -> None:
    loaded = {sf.scenario.name: sf.scenario for sf in load_scenarios(SHIPPED)}
    assert len(loaded) >= 12
    mutations = {inj.mutation for s in loaded.values() for inj in s.inject}
    for needed in (
        "tag",
        "sg-open-world",
        "versioning-suspend",
        "public-access-off",
        "instance-type",
        "queue-delete",
        "iam-policy-widen",
    ):
        assert needed in mutations
    assert any(len(s.inject) >= 3 for s in loaded.values())  # several at once
    assert any(s.code_change is not None and s.expect.pending for s in loaded.values())  # next to pending
    assert any("${" in v for s in loaded.values() for i in s.inject for v in i.params.values())  # hostile
    assert any(
        i.address and i.address.startswith('module.storage["') for s in loaded.values() for i in s.inject
    )
    outcomes = {e.outcome for s in loaded.values() for e in s.expect.findings.values()}
    assert {"healed", "proposed", "needs_human", "blocked"} <= outcomes


def test_every_shipped_mutation_name_exists() -> None:
    known = set(MUTATIONS)
    for sf in load_scenarios(SHIPPED):
        for inj in sf.scenario.inject:
            assert inj.mutation in known, f"{sf.path}: unknown mutation {inj.mutation}"


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text(GOOD.format(name="tag"))
    sf = load_scenario(path)
    assert sf.scenario.mode == "auto" and sf.scenario.expect.findings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.format(name="tag").replace("outcome: proposed", "outcome: fixed"), ":8: expect.findings"),
        (
            GOOD.format(name="tag").replace("mutation: tag", "mutashun: tag"),
            ":4: inject[0].mutashun: unknown key",
        ),
        (GOOD.format(name="other"), "must match the file name"),
        (
            GOOD.format(name="tag").replace(
                "inject:\n  - mutation: tag\n    address: module.app.aws_cloudwatch_log_group.app\n",
                "inject: []\n",
            ),
            "inject",
        ),
    ],
)
def test_a_broken_file_is_named_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert str(path) in err.value.message and message in err.value.message


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown scenario 'nope'; known: .*sg-open-world"):
        load_scenarios(SHIPPED, ("nope",))
