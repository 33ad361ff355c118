"""Hostile or broken YAML fails fast with one ConfigError naming the file (issue 16 items 2 and 5).

An alias bomb, 20,000 nested brackets, a file of many MiB, an infinite timeout: as ``driftctl.yaml``
and as a workspace's ``.driftctl-ignore.yaml`` (repository content anyone who can commit controls).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftctl.config import load_config
from driftctl.detect.ignore_file import read_rules
from driftctl.errors import ConfigError
from driftctl.yamlsafe import MAX_YAML_BYTES

HEADER = "version: 1\nworkspaces:\n  - name: a\n    path: .\n"


def alias_bomb(levels: int = 9) -> str:
    """Nested anchors: each level is nine aliases of the one before, 9**9 ≈ 387 million values."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


Loader = Callable[[Path], object]


def _config(path: Path) -> object:
    return load_config(path)


def _ignore(path: Path) -> object:
    return read_rules(path)


LOADERS = [pytest.param(_config, HEADER, id="config"), pytest.param(_ignore, "rules: []\n", id="ignore")]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "input.yaml"
    path.write_text(text)
    return path


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("load", "head"), LOADERS)
def test_an_alias_bomb_fails_fast(tmp_path: Path, load: Loader, head: str) -> None:
    text = head + alias_bomb()
    assert len(text.encode()) < 600  # a few hundred bytes
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(path) in err.value.message
    assert "expands to more than 100,000 values through its aliases" in err.value.message


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("load", "head"), LOADERS)
def test_an_alias_bomb_nested_in_mappings_and_merges_fails_fast(
    tmp_path: Path, load: Loader, head: str
) -> None:
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for i in range(1, 9):
        lines.append(f"m{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(8)) + "}")
    lines.append("merged: {<<: *m8, extra: 1}")
    path = _write(tmp_path, head + "\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="alias bomb"):
        load(path)


def test_shared_anchors_within_bounds_still_work(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "defaults: &d\n  timeout: 90\n  env: &env {A: b}\n"
        "workspaces:\n"
        "  - {name: a, path: ., env: *env}\n"
        "  - {<<: *d, name: b, path: ./b}\n"
    )
    config = load_config(_write(tmp_path, text))
    assert [w.timeout for w in config.workspaces] == [90, 90]
    assert config.workspaces[0].env == {"A": "b"}


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("load", "head"), LOADERS)
@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(
    tmp_path: Path, load: Loader, head: str, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    path = _write(tmp_path, head + "x: " + opener * 20_000 + closer * 20_000 + "\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.message == f"{path}: {'config' if load is _config else 'ignore'} file is nested too " + (
        "deeply (more than 64 levels)"
    )


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "x: &x [1, *x]\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


@pytest.mark.parametrize(("load", "head"), LOADERS)
def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path, load: Loader, head: str) -> None:
    path = _write(tmp_path, head + "# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.message.startswith(f"{path}: ")
    assert "larger than 1024 KiB" in err.value.message


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("timeout: .inf", "defaults.timeout: should be a finite number, got inf"),
        ("timeout: -.inf", "defaults.timeout: should be a finite number, got -inf"),
        ("timeout: .nan", "defaults.timeout: should be a finite number, got nan"),
        ("timeout: 1.0e+300", "defaults.timeout: should be less than or equal to 86400, got 1e+300"),
        ("timeout: 1e300", "defaults.timeout: should be a valid number, got '1e300'"),  # YAML 1.1: a string
    ],
)
def test_a_timeout_has_a_finite_upper_bound(tmp_path: Path, setting: str, expected: str) -> None:
    path = _write(tmp_path, f"version: 1\ndefaults:\n  {setting}\nworkspaces:\n  - {{name: a, path: .}}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.message == f"{path}:3: {expected}"


def test_the_llm_timeout_has_a_finite_upper_bound(tmp_path: Path) -> None:
    text = HEADER + "llm: {base_url: 'http://127.0.0.1:1', model: m, timeout_s: .inf}\n"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"llm\.timeout_s: should be a finite number, got inf"):
        load_config(path)
