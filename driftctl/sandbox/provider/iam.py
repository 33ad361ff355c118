"""Sandbox IAM resources: roles and inline role policies (I/O: moto)."""

from __future__ import annotations

from urllib.parse import unquote

from tf import types
from tf.iface import State
from tf.schema import Attribute, Schema

from driftctl.sandbox.provider.base import (
    SandboxResource,
    id_attrs,
    is_not_found,
    json_doc,
    name_attr,
    tag_attrs,
    tag_list,
    tags_from_aws,
)


def _doc(value: object) -> object:
    """IAM returns policy documents URL-encoded (or, through boto3, already parsed)."""
    return unquote(value) if isinstance(value, str) else value


class IamRole(SandboxResource):
    name = "iam_role"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                name_attr(),
                Attribute("assume_role_policy", types.String(), required=True),
                Attribute("description", types.String(), optional=True),
                Attribute("max_session_duration", types.Number(), optional=True, computed=True, default=3600),
                *tag_attrs(),
            ]
        )

    def _create(self, planned: State) -> State:
        iam = self.client("iam")
        kwargs = {
            "RoleName": planned["name"],
            "AssumeRolePolicyDocument": planned["assume_role_policy"],
            "MaxSessionDuration": int(planned.get("max_session_duration") or 3600),
        }
        if planned.get("description"):
            kwargs["Description"] = planned["description"]
        if planned.get("tags"):
            kwargs["Tags"] = tag_list(planned["tags"])
        role = iam.create_role(**kwargs)["Role"]
        return {
            **planned,
            "id": planned["name"],
            "arn": role["Arn"],
            "max_session_duration": int(planned.get("max_session_duration") or 3600),
        }

    def _read(self, current: State) -> State | None:
        iam = self.client("iam")
        try:
            role = iam.get_role(RoleName=current["id"])["Role"]
        except Exception as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return None
            raise
        return {
            **current,
            "name": role["RoleName"],
            "arn": role["Arn"],
            "assume_role_policy": json_doc(
                current.get("assume_role_policy"), _doc(role["AssumeRolePolicyDocument"])
            ),
            "description": role.get("Description") or (None if current.get("description") is None else ""),
            "max_session_duration": int(role.get("MaxSessionDuration", 3600)),
            "tags": tags_from_aws(role.get("Tags"), current.get("tags")),
        }

    def _update(self, current: State, planned: State) -> State:
        iam = self.client("iam")
        name = current["id"]
        if planned["assume_role_policy"] != current["assume_role_policy"]:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=planned["assume_role_policy"])
        iam.update_role(
            RoleName=name,
            Description=planned.get("description") or "",
            MaxSessionDuration=int(planned.get("max_session_duration") or 3600),
        )
        stale = [k for k in current.get("tags") or {} if k not in (planned.get("tags") or {})]
        if stale:
            iam.untag_role(RoleName=name, TagKeys=stale)
        if planned.get("tags"):
            iam.tag_role(RoleName=name, Tags=tag_list(planned["tags"]))
        return {**planned, "id": name, "arn": current["arn"]}

    def _delete(self, current: State) -> None:
        iam = self.client("iam")
        try:
            for policy in iam.list_role_policies(RoleName=current["id"])["PolicyNames"]:
                iam.delete_role_policy(RoleName=current["id"], PolicyName=policy)
            iam.delete_role(RoleName=current["id"])
        except Exception as exc:
            if not is_not_found(exc, "NoSuchEntity"):
                raise


class IamRolePolicy(SandboxResource):
    name = "iam_role_policy"
    has_tags = False

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", types.String(), computed=True),
                name_attr(),
                Attribute("role", types.String(), required=True, requires_replace=True),
                Attribute("policy", types.String(), required=True),
            ]
        )

    def _put(self, planned: State) -> State:
        self.client("iam").put_role_policy(
            RoleName=planned["role"], PolicyName=planned["name"], PolicyDocument=planned["policy"]
        )
        return {**planned, "id": f"{planned['role']}:{planned['name']}"}

    def _create(self, planned: State) -> State:
        return self._put(planned)

    def _update(self, current: State, planned: State) -> State:
        return self._put(planned)

    def _read(self, current: State) -> State | None:
        role, _, name = str(current["id"]).partition(":")
        try:
            doc = self.client("iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        except Exception as exc:
            if is_not_found(exc, "NoSuchEntity"):
                return None
            raise
        return {**current, "role": role, "name": name, "policy": json_doc(current.get("policy"), _doc(doc))}

    def _delete(self, current: State) -> None:
        role, _, name = str(current["id"]).partition(":")
        try:
            self.client("iam").delete_role_policy(RoleName=role, PolicyName=name)
        except Exception as exc:
            if not is_not_found(exc, "NoSuchEntity"):
                raise
