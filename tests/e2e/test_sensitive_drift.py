"""Drift of a sensitive value on a real sandbox (issue 16 item 1).

A bucket tag is fed by a ``sensitive = true`` variable; someone changes that tag with boto3. Terraform
shows ``~ secret = (sensitive value)``; driftctl must report it (`detect`, `detect --plan-file`),
propose a revert (never an adopt: that would write the secret into code), heal it in auto mode, and
never print or store either value — not in output, audit rows, prompts, or any file under
``.driftctl/`` other than Terraform's own saved plans.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox
from tests.unit.draft.fake_openai import FakeOpenAI, reply_json

pytestmark = pytest.mark.slow

BUCKET = 'module.storage["assets"].aws_s3_bucket.this'
OLD = "CANARY-sens-old-3f9a1c"  # the variable's value: in the code's default and in state
NEW = "CANARY-sens-new-8b2e47"  # what someone sets out of band
CANARIES = (OLD, NEW)


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxLayout(tmp_path_factory.mktemp("sensitive-sandbox")))
    try:
        sandbox.up(reattach=True)
        main_tf = sandbox.layout.stack_root / "terraform/sandbox/main.tf"
        text = main_tf.read_text()
        old = "tags = merge(local.tags, { data = each.key })"
        assert old in text
        text = text.replace(old, "tags = merge(local.tags, { data = each.key, secret = var.token })")
        text += (
            f'\nvariable "token" {{\n  type      = string\n  sensitive = true\n  default   = "{OLD}"\n}}\n'
        )
        main_tf.write_text(text)
        tf = sandbox.terraform()
        plan_file = sandbox.layout.root / "setup.tfplan"
        tf.plan(out=plan_file)
        tf.apply(plan_file)
        plan_file.unlink()
        yield sandbox
    finally:
        sandbox.down()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftctl.cli", *args],
        env={**{k: v for k, v in os.environ.items() if k != "DRIFTCTL_DATABASE_URL"}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def bucket_tags(sb: Sandbox) -> dict[str, str]:
    tag_set = sb.clients()("s3").get_bucket_tagging(Bucket="driftctl-assets")["TagSet"]
    return {t["Key"]: t["Value"] for t in tag_set}


def items(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (ws,) = doc["workspaces"]
    return {i["address"]: i for i in ws["items"]}


def test_sensitive_tag_drift_is_detected_proposed_and_healed(sb: Sandbox, tmp_path: Path) -> None:
    config = str(sb.layout.config_file)
    state = (sb.layout.workspace / "terraform.tfstate").read_text()
    assert OLD in state  # the secret is really in play
    sb.drift("tag", address=BUCKET, params={"key": "secret", "value": NEW})
    assert bucket_tags(sb)["secret"] == NEW
    outputs: list[str] = []

    # detect: exit 2, the path masked on both sides, "the value changed"
    detect = run("detect", "-c", config, "-o", "json")
    outputs += [detect.stdout, detect.stderr]
    assert detect.returncode == 2, detect.stdout + detect.stderr
    (ws,) = json.loads(detect.stdout)["workspaces"]
    (finding,) = [f for f in ws["findings"] if f["address"] == BUCKET]
    assert finding["changes"] == [
        {
            "path": "tags.secret",
            "kind": "modified",
            "before": "(sensitive value)",
            "after": "(sensitive value)",
            "sensitive": True,
            "note": "the value changed",
        }
    ]
    console = run("detect", "-c", config)
    outputs += [console.stdout, console.stderr]
    assert console.returncode == 2
    assert "tags.secret: (sensitive value) → (sensitive value) (the value changed)" in console.stdout

    # detect --plan-file on Terraform's own plan of it
    tf = sb.terraform()
    saved = tmp_path / "drift.tfplan"
    tf.plan(out=saved)
    plan_json = tmp_path / "drift.json"
    plan_json.write_text(json.dumps(tf.show_json(saved)))
    assert NEW in plan_json.read_text()  # Terraform's plan holds the secret; ours must not repeat it
    for fmt in ("console", "json", "markdown", "sarif"):
        from_file = run("detect", "--plan-file", str(plan_json), "-o", fmt)
        outputs += [from_file.stdout, from_file.stderr]
        assert from_file.returncode == 2, from_file.stdout + from_file.stderr
        assert "tags.secret" in from_file.stdout

    # propose: a hostile LLM asks to adopt the console value; refused, the rules drafter reverts
    server = FakeOpenAI(
        [reply_json(strategy="adopt", block='resource "x" "y" {}', rationale="adopt it", confidence=1.0)]
    ).start()
    try:
        llm_env = {
            "DRIFTCTL_LLM_BASE_URL": server.base_url,
            "DRIFTCTL_LLM_MODEL": "fake-coder",
            "OPENAI_API_KEY": "sk-test-unused",
        }
        propose = run(
            "reconcile", "-c", config, "--mode", "propose", "--no-checkov", "-o", "json", env=llm_env
        )
    finally:
        server.close()
    outputs += [propose.stdout, propose.stderr]
    assert propose.returncode == 2, propose.stdout + propose.stderr
    item = items(json.loads(propose.stdout))[BUCKET]
    assert (item["outcome"], item["strategy"]) == ("proposed", "revert"), item
    assert "a sensitive value changed (tags.secret)" in item["rationale"]
    prompts = json.dumps(server.bodies)
    assert server.bodies and "tags.secret" in prompts and "(sensitive value)" in prompts
    outputs.append(prompts)
    assert bucket_tags(sb)["secret"] == NEW  # propose applies nothing

    # auto: the revert is applied and confirmed; reality holds the code's value again
    auto = run("reconcile", "-c", config, "--mode", "auto", "--no-checkov", "-o", "json")
    outputs += [auto.stdout, auto.stderr]
    assert auto.returncode == 3, auto.stdout + auto.stderr
    assert items(json.loads(auto.stdout))[BUCKET]["outcome"] == "healed"
    assert bucket_tags(sb)["secret"] == OLD
    after = run("detect", "-c", config)
    assert after.returncode == 0, after.stdout

    # the secret is nowhere but in Terraform's own files
    for name in ("proposals", "audit"):
        args = ("proposals", "--all", "-o", "json") if name == "proposals" else ("audit", "export")
        out = run(*args, "-c", config)
        assert out.returncode == 0, out.stderr
        outputs += [out.stdout, out.stderr]
    for text in outputs:
        for canary in CANARIES:
            assert canary not in text
    dot = sb.layout.root / ".driftctl"
    db = dot / "driftctl.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert "tags.secret" in dump and "the value changed" in dump  # the audit saw the finding
    checked = 0
    for path in dot.rglob("*"):
        if path.is_file() and path.suffix != ".tfplan":  # saved plans hold state by nature
            data = path.read_bytes()
            checked += 1
            for canary in CANARIES:
                assert canary.encode() not in data, path
    assert checked >= 1 and not any(c in dump for c in CANARIES)
