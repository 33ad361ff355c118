"""Shared machinery for the sandbox provider's resources: schema helpers, boto3 clients (I/O: moto only).

Every resource reads live values from the moto server, so an out-of-band change made with boto3 shows
up in ``terraform plan`` exactly as drift would on real AWS. boto3 is imported lazily: Terraform starts
the provider about three times per plan and most starts never touch AWS.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlparse

from tf import types
from tf.blocks import SetNestedBlock
from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    PlanContext,
    ReadContext,
    State,
    UpdateContext,
)
from tf.schema import Attribute, Block, Schema
from tf.types import Unknown
from tf.utils import Diagnostics

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

T = TypeVar("T")

_PLANNING = threading.local()  # the configuration of the resource being planned, per gRPC thread


@contextmanager
def planning(config: Mapping[str, Any] | None) -> Iterator[None]:
    """Make ``config`` the configuration ``planning_config`` returns while a plan runs on this thread."""
    _PLANNING.config = config
    try:
        yield
    finally:
        _PLANNING.config = None


def planning_config() -> Mapping[str, Any] | None:
    """The configuration of the resource being planned, or None outside a plan (or when unknown)."""
    config = getattr(_PLANNING, "config", None)
    return config if isinstance(config, Mapping) else None


def with_provider_defaults(
    schema: Schema, config: Mapping[str, Any] | None, planned: dict[str, Any]
) -> dict[str, Any]:
    """``planned`` with every defaulted attribute the configuration omits set to its default.

    hashicorp/aws (plugin SDK ``Default:``) plans an omitted attribute to its default on every plan, so
    a value changed out of band is put back; Terraform's proposed state keeps the prior value of an
    Optional+Computed attribute instead, which is why the provider does it here. Without the
    configuration (plan() called outside ConfigAwareServicer) nothing changes.
    """
    if config is None:
        return planned
    for attribute in schema.attributes:
        if attribute.default is Unknown or not attribute.optional or attribute.requires_replace:
            continue  # replacing attributes (a security group's description) cannot drift in place
        if config.get(attribute.name) is None:
            planned[attribute.name] = attribute.default
    return planned


class SandboxSettings:
    """Provider configuration resolved once per provider process."""

    def __init__(self) -> None:
        self.region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self.access_key = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
        self.secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._lock = threading.Lock()

    def endpoint_problem(self) -> str | None:
        """Why this endpoint is unsafe to use, or None. The sandbox must never reach real AWS."""
        if not self.endpoint:
            return "AWS_ENDPOINT_URL is not set"
        host = urlparse(self.endpoint).hostname or ""
        if host not in LOOPBACK_HOSTS:
            return f"AWS_ENDPOINT_URL={self.endpoint} is not a loopback address"
        return None

    def client(self, service: str) -> Any:
        # Terraform refreshes resources in parallel; one lock, one botocore session: the session
        # caches parsed service models, halving client start-up (1.1 s → 0.5 s for five services).
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    import boto3  # deferred: ~0.4 s, and most provider starts never need it

                    # A profile would point boto3 at the user's real AWS config; the sandbox has its own keys.
                    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
                        os.environ.pop(name, None)
                    self._session = boto3.session.Session()
                self._clients[service] = self._session.client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint,
                    aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key,
                )
            return self._clients[service]


class ExactSetBlock(SetNestedBlock):  # type: ignore[misc]
    """A set-nested block compared by value, nested blocks included.

    tf's own SetNestedBlock compares only top-level attributes, which would hide drift inside a
    nested block (e.g. an encryption algorithm changed out of band).
    """

    def __init__(self, type_name: str, block: Block, max_items: int | None = None) -> None:
        super().__init__(type_name, block)
        self.max_items = max_items

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(_canonical_set(a_decoded) == _canonical_set(b_decoded))


def _canonical_set(items: Any) -> list[str] | None:
    if items is None:
        return None
    return sorted(json.dumps(_canonical(i), sort_keys=True, default=str) for i in items)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted(
            (_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str)
        )
    return value


_NAMES = itertools.count(1)


def unique_name(prefix: str = "terraform-") -> str:
    """A generated name for a resource whose code sets none, shaped like the SDK's ``id.UniqueId()``."""
    return f"{prefix}{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}{next(_NAMES):08x}"


def name_attr(name: str = "name") -> Attribute:
    """The name of most AWS resources: Optional+Computed+ForceNew, generated when the code omits it."""
    return Attribute(name, types.String(), optional=True, computed=True, requires_replace=True)


def attr(name: str, type_: Any, **kw: Any) -> Attribute:
    return Attribute(name, type_, **kw)


def id_attrs() -> list[Attribute]:
    return [
        Attribute("id", types.String(), computed=True),
        Attribute("arn", types.String(), computed=True),
    ]


def tag_attrs() -> list[Attribute]:
    return [
        Attribute("tags", types.Map(types.String()), optional=True),
        Attribute("tags_all", types.Map(types.String()), computed=True),
    ]


def tags_from_aws(pairs: list[dict[str, str]] | dict[str, str] | None, prior: Any) -> dict[str, str] | None:
    """AWS tags as Terraform would hold them: null when there are none and the code set none."""
    tags = dict(pairs) if isinstance(pairs, dict) else {p["Key"]: p["Value"] for p in pairs or []}
    if not tags and not prior:
        return None if prior is None else {}
    return tags


def same_json(a: str | None, b: Any) -> bool:
    """Whether a JSON document string equals another document (string or parsed)."""
    if a is None or b is None:
        return a is b
    try:
        left = json.loads(a)
        right = json.loads(b) if isinstance(b, str) else b
    except (TypeError, ValueError):
        return False
    return bool(left == right)


def json_doc(prior: str | None, live: Any) -> str:
    """Keep the code's spelling of a JSON document when it means the same; else a canonical one."""
    if prior is not None and same_json(prior, live):
        return prior
    doc = json.loads(live) if isinstance(live, str) else live
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


class SandboxResource:
    """Base of every sandbox resource: lifecycle plumbing, tags, error translation.

    Subclasses implement ``_create``, ``_read`` (return None when the object is gone), ``_update``
    and ``_delete`` in terms of boto3 calls; everything else is shared.
    """

    name: ClassVar[str]
    has_tags: ClassVar[bool] = True
    generated_name: ClassVar[str | None] = "name"  # Optional+Computed name attribute filled on create

    def __init__(self, provider: Any) -> None:
        self.settings: SandboxSettings = provider.settings

    # -- schema -------------------------------------------------------------------------------
    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_schema(cls) -> Schema:
        raise NotImplementedError

    # -- hooks for subclasses ------------------------------------------------------------------
    def _create(self, planned: State) -> State:
        raise NotImplementedError

    def _read(self, current: State) -> State | None:
        raise NotImplementedError

    def _update(self, current: State, planned: State) -> State:
        raise NotImplementedError

    def _delete(self, current: State) -> None:
        raise NotImplementedError

    # -- tf.iface.Resource --------------------------------------------------------------------
    def validate(self, diags: Diagnostics, type_name: str, config: dict[str, Any]) -> None:
        from tf.iface import _validate_config

        schema = self.get_schema()
        _validate_config(diags, type_name, config, schema.attributes, schema.block_types)

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State:
        planned = with_provider_defaults(self.get_schema(), planning_config(), planned)
        if self.has_tags and "tags" in planned:
            planned["tags_all"] = dict(planned.get("tags") or {})
        return planned

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        return self._guard(
            ctx.diagnostics,
            f"create {ctx.type_name}",
            lambda: self._with_tags_all(self._create(self._with_generated_name(planned))),
            fallback=None,
        )

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return self._guard(
            ctx.diagnostics,
            f"read {ctx.type_name} {current.get('id')}",
            lambda: self._with_tags_all(self._read(current)),
            fallback=current,
        )

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return self._guard(
            ctx.diagnostics,
            f"update {ctx.type_name} {current.get('id')}",
            lambda: self._with_tags_all(self._update(current, planned)),
            fallback=current,
        )

    def delete(self, ctx: DeleteContext, current: State) -> None:
        self._guard(
            ctx.diagnostics,
            f"delete {ctx.type_name} {current.get('id')}",
            lambda: self._delete(current),
            fallback=None,
        )

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        state = self._guard(
            ctx.diagnostics,
            f"import {ctx.type_name} {id}",
            lambda: self._with_tags_all(self._read(self._blank_state(id))),
            fallback=None,
        )
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error(f"Cannot import non-existent remote object {id}")
        return state

    def upgrade(self, ctx: Any, version: int, old: State) -> State:
        return old

    # -- helpers --------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return self.settings.client(service)

    def _blank_state(self, id_: str) -> State:
        schema = self.get_schema()
        state: State = {a.name: None for a in schema.attributes}
        state.update({b.type_name: [] for b in schema.block_types})
        state["id"] = id_
        return state

    def _with_generated_name(self, planned: State) -> State:
        field = self.generated_name
        if field is not None and (planned.get(field) is None or planned.get(field) is Unknown):
            planned = {**planned, field: unique_name()}
        return planned

    def _with_tags_all(self, state: State | None) -> State | None:
        if state is not None and self.has_tags:
            state["tags_all"] = dict(state.get("tags") or {})
        return state

    def _guard(self, diags: Diagnostics, what: str, fn: Callable[[], T], fallback: T) -> T:
        problem = self.settings.endpoint_problem()
        if problem:
            diags.add_error(
                "driftctl sandbox provider refuses to run",
                f"{problem}. This provider only talks to a local moto server started by "
                "`driftctl sandbox up`; it must never reach real AWS.",
            )
            return fallback
        try:
            return fn()
        except Exception as exc:  # boto3/botocore errors become Terraform diagnostics
            diags.add_error(f"sandbox: {what} failed", f"{type(exc).__name__}: {exc}")
            return fallback


def is_not_found(exc: Exception, *codes: str) -> bool:
    """Whether a botocore ClientError carries one of the given AWS error codes."""
    response = getattr(exc, "response", None)
    code = (response or {}).get("Error", {}).get("Code", "")
    return code in codes


def tag_list(tags: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]
