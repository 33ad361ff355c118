"""The `forge:` section of driftctl.yaml: which forge, which repository, where the secrets live (no I/O).

Secrets are never in the file: ``token_env`` and ``webhook_secret_env`` name environment variables,
read when a client or the webhook is built.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from driftctl.errors import ConfigError

GITHUB_COMMENT_LIMIT = 65_536  # GitHub rejects a comment body longer than this (characters)
GITLAB_COMMENT_LIMIT = 1_000_000  # GitLab's note limit is larger; one budget for both keeps tests honest
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ForgeSettings(BaseModel):
    """``forge: {kind, api_url, repo, token_env, webhook_secret_env, bot_name, allow_users, ...}``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kind: Literal["github", "gitlab"]
    repo: Annotated[str, Field(min_length=3, description="owner/name (GitHub) or group/project (GitLab)")]
    api_url: str | None = None  # default: https://api.github.com, https://gitlab.com/api/v4
    token_env: Annotated[str, Field(pattern=ENV_NAME)] = "DRIFTCTL_FORGE_TOKEN"
    webhook_secret_env: Annotated[str, Field(pattern=ENV_NAME)] = "DRIFTCTL_WEBHOOK_SECRET"
    bot_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = "driftctl"
    allow_users: list[Annotated[str, Field(min_length=1)]] = []
    remote: Annotated[str, Field(min_length=1)] = "origin"  # git remote the adopt branches are pushed to
    base_branch: Annotated[str, Field(min_length=1)] = "main"
    max_body_bytes: Annotated[int, Field(ge=1024, le=25 * 1024 * 1024)] = 1024 * 1024
    comment_limit: Annotated[int, Field(ge=2048, le=GITLAB_COMMENT_LIMIT)] = GITHUB_COMMENT_LIMIT
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", value):
            raise ValueError("must be owner/name (GitHub) or group/sub/project (GitLab)")
        return value

    @property
    def base_url(self) -> str:
        default = "https://api.github.com" if self.kind == "github" else "https://gitlab.com/api/v4"
        return (self.api_url or default).rstrip("/")

    def token(self) -> str:
        """The API token from ``$token_env``; a clear error (naming the variable, never a value) if unset."""
        return _secret(self.token_env, "the forge API token")

    def webhook_secret(self) -> str:
        return _secret(self.webhook_secret_env, "the webhook secret")

    def allowed(self, user: str) -> bool:
        return user.casefold() in {u.casefold() for u in self.allow_users}


def _secret(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"{what} is read from ${name}, which is not set", hint=f"export {name}=…")
    return value
