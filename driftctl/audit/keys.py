"""The audit chain's keys: where they live, how they are made, and how they rotate (I/O: one key file).

The chain is an HMAC-SHA256 chain, so rewriting it needs a key that is kept *outside* the database:
whoever can write the database but cannot read the key cannot forge, re-hash or extend the trail.

A key source (a file, or an environment variable) holds one secret per line; blank lines and lines
starting with ``#`` are ignored. The **last** secret signs new rows; every secret verifies old ones.
Each row records the id of the key that signed it: ``key_id = sha256("driftctl audit key id\\n" +
secret)[:16]``, which names the key without revealing it. Rotating is adding a line (``driftctl
audit rotate-key`` for a key file); dropping an old line makes the rows it signed unverifiable.

Where the keys come from, first match wins: the ``audit.key_env`` variable named in driftctl.yaml,
``audit.key_file``, then ``audit.key`` next to the database (``.driftctl/audit.key``), created 0600 on
the first write.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from driftctl.errors import ConfigError

KEY_FILE_NAME = "audit.key"
MIN_SECRET_CHARS = 32  # 128 bits of hex; a generated key has 256
_ID_DOMAIN = b"driftctl audit key id\n"


def key_id(secret: str) -> str:
    """The public name of ``secret``: 16 hex characters of a domain-separated sha256."""
    return hashlib.sha256(_ID_DOMAIN + secret.encode("utf-8")).hexdigest()[:16]


def new_secret() -> str:
    """A fresh random key: 64 hex characters (256 bits)."""
    return secrets.token_hex(32)


def parse_secrets(text: str, where: str) -> list[str]:
    """The secrets in ``text`` (one per line), oldest first; a short one is a ``ConfigError``."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) < MIN_SECRET_CHARS or any(c.isspace() for c in line):
            # Never echo the line: it is (meant to be) a secret.
            raise ConfigError(
                f"{where}, line {number}: an audit key must be one word of at least "
                f"{MIN_SECRET_CHARS} characters",
                hint="`driftctl audit rotate-key` writes a well-formed key",
            )
        found.append(line)
    return found


@dataclass(slots=True)
class Keyring:
    """The keys that verify the chain (by id) and the one that signs new rows (``current``).

    ``source`` says where they came from (a path or ``$VAR``) for messages; ``create_at`` is the key
    file to create on the first write when there is no key yet (``None``: never create one).
    """

    keys: dict[str, bytes] = field(default_factory=dict, repr=False)  # secrets: never in a repr
    current: str | None = None
    source: str = "no key"
    create_at: Path | None = None

    @classmethod
    def ephemeral(cls) -> Keyring:
        """A random key held only in memory: for a throw-away (in-memory) database."""
        return cls.from_secrets([new_secret()], "an in-memory key")

    @classmethod
    def from_secrets(cls, found: list[str], source: str, create_at: Path | None = None) -> Keyring:
        keys = {key_id(s): s.encode("utf-8") for s in found}
        return cls(keys, key_id(found[-1]) if found else None, source, create_at)

    def get(self, kid: str) -> bytes | None:
        return self.keys.get(kid)

    def signing_key(self) -> tuple[str, bytes]:
        """(id, secret) of the key for new rows, creating the key file first if that is allowed."""
        if self.current is not None:
            return self.current, self.keys[self.current]
        if self.create_at is None:
            raise ConfigError(
                f"no audit key in {self.source}: cannot extend the audit trail",
                hint="put a key there (`driftctl audit rotate-key` writes one to a key file)",
            )
        secret = create_key_file(self.create_at)
        kid = key_id(secret)
        self.keys[kid] = secret.encode("utf-8")
        self.current = kid
        return kid, self.keys[kid]


def _read_key_file(path: Path) -> list[str]:
    try:
        return parse_secrets(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the audit key file {path}: {exc}") from exc


def create_key_file(path: Path) -> str:
    """Create ``path`` (0600, its directory 0700) holding a new key, unless another process just did.

    The key is written to a private temporary file that is then hard-linked into place, so a reader
    never sees a half-written key and two first writers agree on one key.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = new_secret()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(
                f"# driftctl audit key: the last line signs new rows; keep old lines to verify\n{secret}\n"
            )
        try:
            os.link(tmp, path)
        except FileExistsError:
            found = _read_key_file(path)
            if not found:
                raise ConfigError(f"the audit key file {path} exists but holds no key") from None
            return found[-1]
    except OSError as exc:
        raise ConfigError(f"cannot create the audit key file {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return secret


def rotate_key_file(path: Path) -> str:
    """Append a new key to ``path`` (creating it 0600 if need be); the new key's id."""
    if not path.exists():
        return key_id(create_key_file(path))
    old = _read_key_file(path)
    secret = new_secret()
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{secret}\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot add a key to {path}: {exc}") from exc
    if old and key_id(old[-1]) == key_id(secret):  # pragma: no cover - 2^-64
        raise ConfigError("the new audit key collides with the old one; run it again")
    return key_id(secret)


def load_keyring(
    default_file: Path | None, *, key_file: Path | None = None, key_env: str | None = None
) -> Keyring:
    """The keyring from ``$key_env``, else ``key_file``, else ``default_file`` (created on first write)."""
    if key_env:
        text = os.environ.get(key_env, "")
        if not text.strip():
            raise ConfigError(
                f"audit.key_env names ${key_env}, which is not set",
                hint=f"export {key_env}=<64 hex characters> (e.g. from `openssl rand -hex 32`)",
            )
        return Keyring.from_secrets(parse_secrets(text, f"${key_env}"), f"${key_env}")
    path = key_file or default_file
    if path is None:
        return Keyring()
    return Keyring.from_secrets(_read_key_file(path), str(path), create_at=path)


def configured_keyring(config_path: Path | None) -> Keyring | None:
    """The keyring the ``audit:`` section of ``config_path`` names; ``None`` if it names none."""
    if config_path is None or not config_path.is_file():
        return None
    from driftctl.config import load_audit_settings

    settings = load_audit_settings(config_path)
    if settings.key_env is None and settings.key_file is None:
        return None
    return load_keyring(None, key_file=settings.key_file, key_env=settings.key_env)
