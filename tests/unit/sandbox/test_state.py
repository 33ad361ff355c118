"""Reading addresses out of a local state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftctl.errors import SandboxError
from driftctl.sandbox.state import read_state


def test_addresses_keep_modules_and_instance_keys(tmp_path: Path) -> None:
    state = {
        "version": 4,
        "resources": [
            {
                "module": 'module.storage["logs"]',
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "this",
                "instances": [{"attributes": {"id": "logs"}}],
            },
            {
                "module": "module.app",
                "mode": "managed",
                "type": "aws_sqs_queue",
                "name": "jobs",
                "instances": [
                    {"index_key": 0, "attributes": {"id": "q0"}},
                    {"index_key": 1, "attributes": {"id": "q1"}},
                ],
            },
            {
                "module": "module.app.module.network",
                "mode": "managed",
                "type": "aws_instance",
                "name": "web",
                "instances": [{"index_key": "blue", "attributes": {"id": "i-1"}}],
            },
            {"mode": "data", "type": "aws_caller_identity", "name": "me", "instances": [{"attributes": {}}]},
        ],
    }
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    found = read_state(tmp_path)
    assert sorted(found) == [
        "module.app.aws_sqs_queue.jobs[0]",
        "module.app.aws_sqs_queue.jobs[1]",
        'module.app.module.network.aws_instance.web["blue"]',
        'module.storage["logs"].aws_s3_bucket.this',
    ]
    assert found["module.app.aws_sqs_queue.jobs[1]"].attributes["id"] == "q1"


def test_missing_state_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(SandboxError) as info:
        read_state(tmp_path)
    assert "no Terraform state" in info.value.message and "sandbox up" in (info.value.hint or "")


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "terraform.tfstate").write_text("{not json")
    with pytest.raises(SandboxError, match="cannot read Terraform state"):
        read_state(tmp_path)
