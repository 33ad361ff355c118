"""The `forge:` config section: validated like the rest of driftctl.yaml; secrets only from the env."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from driftctl import core
from driftctl.config import load_config
from driftctl.errors import ConfigError
from driftctl.forge.door import door_from_config
from driftctl.forge.github import GitHubForge
from driftctl.forge.gitlab import GitLabForge


def config(tmp_path: Path, forge: dict[str, object] | None) -> Path:
    (tmp_path / "ws").mkdir(exist_ok=True)
    doc: dict[str, object] = {"version": 1, "workspaces": [{"name": "a", "path": "ws"}]}
    if forge is not None:
        doc["forge"] = forge
    path = tmp_path / "driftctl.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_defaults_and_env_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_config(config(tmp_path, {"kind": "gitlab", "repo": "grp/sub/proj"})).forge
    assert settings is not None
    assert settings.base_url == "https://gitlab.com/api/v4" and settings.comment_limit == 65_536
    monkeypatch.delenv("DRIFTCTL_FORGE_TOKEN", raising=False)
    with pytest.raises(ConfigError) as err:
        settings.token()
    assert "$DRIFTCTL_FORGE_TOKEN" in err.value.message
    monkeypatch.setenv("DRIFTCTL_FORGE_TOKEN", "t0ken")
    assert settings.token() == "t0ken"
    assert settings.allowed("Alice") is False


@pytest.mark.parametrize(
    ("forge", "says"),
    [
        ({"kind": "bitbucket", "repo": "a/b"}, "forge.kind"),
        ({"kind": "github", "repo": "not a repo"}, "owner/name"),
        ({"kind": "github", "repo": "a/b", "token": "ghp_inline"}, "token"),
        ({"kind": "github", "repo": "a/b", "token_env": "not-a-var"}, "token_env"),
        ({"kind": "github", "repo": "a/b", "comment_limit": 100}, "comment_limit"),
    ],
)
def test_bad_sections_are_config_errors(tmp_path: Path, forge: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config(tmp_path, forge))
    assert says in err.value.render()


def test_door_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCTL_FORGE_TOKEN", "t")
    monkeypatch.setenv("DRIFTCTL_WEBHOOK_SECRET", "s")
    plain = config(tmp_path, None)
    rt = core.build_runtime(plain, database_url=f"sqlite:///{tmp_path / 'd.db'}")
    assert door_from_config(plain, rt) is None
    for kind, cls in (("github", GitHubForge), ("gitlab", GitLabForge)):
        path = config(tmp_path, {"kind": kind, "repo": "a/b", "allow_users": ["Alice"]})
        door = door_from_config(path, rt)
        assert door is not None and isinstance(door.forge, cls) and door.settings.allowed("alice")
    monkeypatch.delenv("DRIFTCTL_WEBHOOK_SECRET")
    with pytest.raises(ConfigError, match="DRIFTCTL_WEBHOOK_SECRET"):
        door_from_config(path, rt)
