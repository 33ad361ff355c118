"""One httpx client per forge, with the errors translated at the boundary (I/O: HTTP).

Why httpx and not githubkit, PyGithub or python-gitlab: the front door uses ten endpoints per forge.
One small client serves both forges with one retry/error policy, one timeout, and one test seam
(an ``httpx`` transport, or a real loopback server); the SDKs are one per forge, each far larger
than what is used, and each with its own exceptions, pagination and retry behaviour to translate.
The token travels only in a header; error messages carry the method, path and status.
"""

from __future__ import annotations

from typing import Any

import httpx

from driftctl.forge.protocol import ForgeError


class ForgeHttp:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        timeout_s: float = 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout_s, transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The decoded JSON answer (None for 204, or for 404 when ``missing_ok``)."""
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise ForgeError(f"{method} {path}: {type(exc).__name__}", retryable=True) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise ForgeError(
                f"{method} {path}: HTTP {response.status_code} {_message(response)}".rstrip(),
                status=response.status_code,
                retryable=response.status_code in (429, 502, 503, 504),
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ForgeError(f"{method} {path}: the answer is not JSON") from None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    text = data.get("message") if isinstance(data, dict) else None
    return str(text)[:200] if text else ""
