"""driftctl.yaml: defaults merged into workspaces, absolute paths, errors naming file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from driftctl.config import Config, Thresholds, check_cron, find_config, load_config
from driftctl.errors import ConfigError

FULL = """\
version: 1
defaults:
  terraform: null
  mode: detect
  schedule: "*/30 * * * *"
  parallel: 4
  thresholds: {confidence: 0.9, max_risk: 0.3}
  ignore_file: .driftctl-ignore.yaml
  timeout: 600
  env: {TF_IN_AUTOMATION: true, AWS_REGION: eu-west-1}
  backend_config: {bucket: state}
workspaces:
  - name: sandbox
    path: terraform/sandbox
    var_files: [prod.tfvars]
    backend_config: {key: sandbox.tfstate}
    env: {AWS_REGION: us-east-1}
    thresholds: {max_risk: 0.1}
    mode: auto
  - name: prod.eu-1
    path: /srv/tf/prod
    terraform: ./bin/tofu
    ignore_file: null
    timeout: 90
"""


def write(tmp_path: Path, text: str, name: str = "driftctl.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return info.value.message


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # paths resolve against the config file, never the current directory
    return load_config(write(tmp_path, FULL))


# --- merging and paths ---------------------------------------------------------------------------------


def test_workspace_values_win_and_dicts_merge(config: Config) -> None:
    sandbox = config.workspace("sandbox")
    assert sandbox.mode == "auto"
    assert sandbox.thresholds == Thresholds(confidence=0.9, max_risk=0.1)
    assert sandbox.env == {"TF_IN_AUTOMATION": "true", "AWS_REGION": "us-east-1"}
    assert sandbox.backend_config == {"bucket": "state", "key": "sandbox.tfstate"}
    assert sandbox.schedule == "*/30 * * * *"
    assert sandbox.parallel == 4
    assert sandbox.timeout == 600


def test_defaults_fill_what_a_workspace_leaves_out(config: Config) -> None:
    prod = config.workspace("prod.eu-1")
    assert prod.mode == "detect"
    assert prod.thresholds == Thresholds(confidence=0.9, max_risk=0.3)
    assert prod.env == {"TF_IN_AUTOMATION": "true", "AWS_REGION": "eu-west-1"}
    assert prod.timeout == 90


def test_paths_are_absolute_and_relative_to_the_right_place(config: Config, tmp_path: Path) -> None:
    sandbox, prod = config.workspaces
    assert config.path == tmp_path / "driftctl.yaml"
    assert sandbox.path == tmp_path / "terraform" / "sandbox"
    assert sandbox.var_files == (tmp_path / "terraform" / "sandbox" / "prod.tfvars",)
    assert sandbox.ignore_file == tmp_path / "terraform" / "sandbox" / ".driftctl-ignore.yaml"
    assert sandbox.terraform is None
    assert prod.path == Path("/srv/tf/prod")
    assert prod.ignore_file is None
    assert prod.terraform == str(tmp_path / "bin" / "tofu")


def test_builtin_defaults_apply_without_a_defaults_section(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "version: 1\nworkspaces:\n  - {name: a, path: .}\n"))
    (ws,) = config.workspaces
    assert (ws.mode, ws.schedule, ws.parallel, ws.timeout) == ("detect", "*/30 * * * *", 4, 600)
    assert ws.thresholds == Thresholds(confidence=0.85, max_risk=0.3)
    assert ws.path == tmp_path
    assert ws.ignore_file == tmp_path / ".driftctl-ignore.yaml"
    assert (ws.terraform, ws.var_files, ws.env, ws.backend_config) == (None, (), {}, {})


def test_a_bare_terraform_name_is_left_for_a_path_lookup(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "version: 1\nworkspaces:\n  - {name: a, path: ., terraform: tofu}\n")
    )
    assert config.workspaces[0].terraform == "tofu"


def test_an_explicit_null_in_a_workspace_overrides_the_default(tmp_path: Path) -> None:
    text = """\
        version: 1
        defaults: {terraform: /opt/terraform}
        workspaces:
          - {name: a, path: ., terraform: null}
          - {name: b, path: .}
        """
    a, b = load_config(write(tmp_path, text)).workspaces
    assert (a.terraform, b.terraform) == (None, "/opt/terraform")


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    text = """\
        version: 1
        workspaces:
          - &base {name: a, path: a, mode: propose}
          - <<: *base
            name: b
        """
    a, b = load_config(write(tmp_path, text)).workspaces
    assert (a.name, a.mode) == ("a", "propose")
    assert (b.name, b.mode, b.path) == ("b", "propose", tmp_path / "a")


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nworkspaces:\n  - name: a\n    path: .\n    mode: yolo\n",
            "driftctl.yaml:5: workspaces[0].mode: 'yolo' is not one of detect, propose or auto",
            id="bad-mode",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - name: a\n    path: .\n    mdoe: auto\n",
            "driftctl.yaml:5: workspaces[0].mdoe: unknown key; allowed: terraform, mode, schedule",
            id="unknown-key",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - {name: a, path: .}\nbogus: 1\n",
            "driftctl.yaml:4: bogus: unknown key; allowed: version, defaults, workspaces",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "version: 1\ndefaults:\n  parallel: '4'\nworkspaces:\n  - {name: a, path: .}\n",
            "driftctl.yaml:3: defaults.parallel: should be a valid integer, got '4'",
            id="wrong-type",
        ),
        pytest.param(
            "version: 1\ndefaults:\n  parallel: 0\nworkspaces:\n  - {name: a, path: .}\n",
            "driftctl.yaml:3: defaults.parallel: should be greater than or equal to 1, got 0",
            id="too-small",
        ),
        pytest.param(
            "version: 1\ndefaults:\n  thresholds:\n    confidence: 1.5\nworkspaces: [{name: a, path: .}]\n",
            "driftctl.yaml:4: defaults.thresholds.confidence: should be less than or equal to 1, got 1.5",
            id="threshold-out-of-range",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - {name: a, path: ., schedule: '*/30 * * *'}\n",
            "driftctl.yaml:3: workspaces[0].schedule: '*/30 * * *' is not a 5-field cron expression",
            id="cron-four-fields",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - {name: a, path: ., schedule: '0 24 * * *'}\n",
            "driftctl.yaml:3: workspaces[0].schedule: cron hour value '24' is out of range (0-23)",
            id="cron-out-of-range",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n- {name: a, path: .}\n- {name: b, path: .}\n- {name: a, path: b}\n",
            "driftctl.yaml:5: workspaces[2].name: duplicate workspace name 'a' (also workspaces[0])",
            id="duplicate-name",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - {name: 'my app', path: .}\n",
            "driftctl.yaml:3: workspaces[0].name: 'my app' is not a valid workspace name",
            id="bad-name",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - path: .\n",
            "driftctl.yaml:3: workspaces[0].name: required key is missing",
            id="missing-name",
        ),
        pytest.param(
            "version: 2\nworkspaces:\n  - {name: a, path: .}\n",
            "driftctl.yaml:1: version: unsupported version 2; this driftctl reads version 1",
            id="future-version",
        ),
        pytest.param(
            "workspaces:\n  - {name: a, path: .}\n",
            "driftctl.yaml:1: version: required key is missing",
            id="missing-version",
        ),
        pytest.param(
            "version: 1\nworkspaces: []\n",
            "driftctl.yaml:2: workspaces: should not be empty",
            id="no-workspaces",
        ),
        pytest.param(
            "- version: 1\n",
            "driftctl.yaml:1: should be a mapping (key: value), got [{'version': 1}]",
            id="top-level-list",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - {name: a, path: ., env: {A: [1]}}\n",
            "driftctl.yaml:3: workspaces[0].env.A: should be a valid string, got [1]",
            id="env-value-not-scalar",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - name: a\n    path: .\n    mode: [auto\n",
            "driftctl.yaml:6: invalid YAML: while parsing a flow sequence (line 5); expected ',' or ']'",
            id="invalid-yaml",
        ),
        pytest.param(
            "version: 1\nworkspaces:\n  - name: a\n    path: .\n    name: b\n",
            "driftctl.yaml:5: duplicate key 'name'",
            id="duplicate-yaml-key",
        ),
        pytest.param("", "driftctl.yaml: config file is empty", id="empty"),
        pytest.param("# nothing yet\n", "driftctl.yaml: config file is empty", id="only-a-comment"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    # The path is as given by the caller; here it is absolute, so compare from the file name on.
    assert message.startswith(str(tmp_path) + "/")
    assert expected in message


def test_every_problem_is_listed_one_per_line_in_file_order(tmp_path: Path) -> None:
    text = """\
        version: 1
        workspaces:
          - name: a
            path: .
            parallel: many
          - name: a
            path: .
            mode: yolo
        """
    lines = error_of(tmp_path, text).splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{tmp_path}/driftctl.yaml:5", "workspaces[0].parallel"],
        [f"{tmp_path}/driftctl.yaml:6", "workspaces[1].name"],
        [f"{tmp_path}/driftctl.yaml:8", "workspaces[1].mode"],
    ]


def test_an_unquoted_cron_schedule_gets_a_quoting_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "version: 1\ndefaults:\n  schedule: */5 * * * *\nworkspaces: []\n"))
    assert info.value.message.endswith(
        "driftctl.yaml:3: invalid YAML: while scanning an alias; "
        "expected alphabetic or numeric character, but found '/'"
    )
    assert info.value.hint is not None and '"*/30 * * * *"' in info.value.hint


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, "version: 1\nworkspaces:\n  - {name: a, path: ., mdoe: auto}\n")
    assert "(did you mean 'mode'?)" in message


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read config file"):
        load_config(tmp_path / "missing.yaml")


def test_a_relative_path_is_named_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "version: 1\nworkspaces:\n  - {name: a, path: ., mode: yolo}\n")
    with pytest.raises(ConfigError) as info:
        load_config(Path("driftctl.yaml"))
    assert (
        info.value.message
        == "driftctl.yaml:3: workspaces[0].mode: 'yolo' is not one of detect, propose or auto"
    )


# --- choosing workspaces -------------------------------------------------------------------------------


def test_unknown_workspace_lists_the_known_ones(config: Config) -> None:
    with pytest.raises(ConfigError, match=r"unknown workspace 'prod'.*known: sandbox, prod\.eu-1"):
        config.workspace("prod")


def test_select_nothing_means_all(config: Config) -> None:
    assert config.select([]) == config.workspaces


def test_select_keeps_the_order_asked_and_drops_repeats(config: Config) -> None:
    assert [w.name for w in config.select(["prod.eu-1", "sandbox", "prod.eu-1"])] == ["prod.eu-1", "sandbox"]


def test_select_names_every_unknown_workspace(config: Config) -> None:
    with pytest.raises(ConfigError, match=r"unknown workspaces 'x', 'y' .*known: sandbox, prod\.eu-1"):
        config.select(["sandbox", "x", "y"])


# --- finding the file ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["driftctl.yaml", "driftctl.yml"])
def test_find_config_in_the_given_directory(tmp_path: Path, name: str) -> None:
    write(tmp_path, "version: 1\n", name)
    assert find_config(tmp_path) == tmp_path / name


def test_find_config_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "version: 1\n")
    monkeypatch.chdir(tmp_path)
    assert find_config() == tmp_path / "driftctl.yaml"


def test_find_config_without_a_file(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None


def test_find_config_refuses_to_guess_between_two_files(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\n", "driftctl.yaml")
    write(tmp_path, "version: 1\n", "driftctl.yml")
    with pytest.raises(ConfigError, match="keep one"):
        find_config(tmp_path)


# --- cron shape ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr", ["*/30 * * * *", "0 3 * * MON-FRI", "5,35 0-23/2 1 JAN,jul 0", "0 0 1-31/7 * 7"]
)
def test_cron_accepts(expr: str) -> None:
    assert check_cron(expr) == expr


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("@hourly", "5-field"),
        ("60 * * * *", "minute value '60'"),
        ("* * 0 * *", "day-of-month value '0'"),
        ("* * * 13 *", "month value '13'"),
        ("* * * * FUNDAY", "day-of-week value 'FUNDAY'"),
        ("*/0 * * * *", "minute field"),
        ("10-5 * * * *", "runs backwards"),
        ("1--2 * * * *", "minute field"),
    ],
)
def test_cron_rejects(expr: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_cron(expr)


def test_llm_section_is_validated_and_optional(tmp_path: Path) -> None:
    path = tmp_path / "driftctl.yaml"
    path.write_text("version: 1\nworkspaces:\n  - name: a\n    path: .\n")
    assert load_config(path).llm is None
    path.write_text(
        "version: 1\nworkspaces:\n  - name: a\n    path: .\n"
        "llm:\n  base_url: http://127.0.0.1:8000/v1\n  model: coder\n  max_attempts: 1\n"
    )
    llm = load_config(path).llm
    assert llm is not None and (llm.model, llm.api_key_env, llm.max_attempts) == (
        "coder",
        "OPENAI_API_KEY",
        1,
    )
    path.write_text(
        "version: 1\nworkspaces:\n  - name: a\n    path: .\n"
        "llm:\n  base_url: x\n  model: m\n  api_key: sk-123\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "driftctl.yaml:8" in info.value.message and "api_key" in info.value.message


def test_flapping_thresholds_merge_key_by_key_and_default_to_24h_and_3(tmp_path: Path) -> None:
    text = (
        "version: 1\ndefaults:\n  flapping: {window: 90m}\nworkspaces:\n  - {name: a, path: .}\n"
        "  - {name: b, path: ., flapping: {heals: 5}}\n"
        "  - {name: c, path: ., flapping: {window: 2d, heals: 0}}\n"
    )
    a, b, c = load_config(write(tmp_path, text)).workspaces
    assert (a.flapping.window_s, a.flapping.heals) == (5400, 3)
    assert (b.flapping.window_s, b.flapping.heals) == (5400, 5)
    assert (c.flapping.window_s, c.flapping.heals) == (172800, 0)
    plain = load_config(write(tmp_path, "version: 1\nworkspaces:\n  - {name: a, path: .}\n")).workspaces[0]
    assert (plain.flapping.window_s, plain.flapping.heals) == (86400, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{window: 24 hours}", "driftctl.yaml:3: defaults.flapping.window: '24 hours' is not a duration"),
        ("{window: 0h}", "defaults.flapping.window: '0h' is not a duration"),
        ("{heals: -1}", "defaults.flapping.heals: should be greater than or equal to 0, got -1"),
        (
            "{windows: 1h}",
            "defaults.flapping.windows: unknown key; allowed: window, heals (did you mean 'window'?)",
        ),
    ],
)
def test_bad_flapping_thresholds_are_named(tmp_path: Path, value: str, expected: str) -> None:
    text = f"version: 1\ndefaults:\n  flapping: {value}\nworkspaces:\n  - {{name: a, path: .}}\n"
    assert expected in error_of(tmp_path, text)
