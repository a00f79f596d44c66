"""OpenAPI path items of the team routes (issue 14): sessions, invitations, users, API
keys, the audit log and revisions with their authors (merged into ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

from callboard.api.openapi_schema import _PAGING, NO_CONTENT, J, _ok, _op, _path_param
from callboard.runtime.roles import ROLES

__all__ = ["session_paths", "team_paths", "team_schemas"]

TAG = "Team"
_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_ROLE = {"type": "string", "enum": list(ROLES)}

SCHEMAS: J = {
    "User": {
        "type": "object",
        "properties": {
            "sid": _STR,
            "account_sid": _STR,
            "email": _STR,
            "role": _ROLE,
            "status": {"type": "string", "enum": ["active", "invited"]},
            "date_created": _STR,
            "date_updated": _STR,
            "invitation_url": {**_STR, "description": "POST without Password: the one-time link"},
        },
    },
    "Session": {
        "type": "object",
        "properties": {"user": {"$ref": "#/components/schemas/User"}, "csrf_token": _STR},
    },
    "AuditEvent": {
        "type": "object",
        "properties": {
            "sid": _STR,
            "account_sid": _STR,
            "actor": _STR,
            "actor_sid": _NSTR,
            "action": _STR,
            "resource_sid": _NSTR,
            "client_address": _NSTR,
            "details": {"type": "object", "nullable": True},
            "date_created": _STR,
        },
    },
    "RevisionAuthor": {
        "type": "object",
        "properties": {
            "revision": {"type": "integer"},
            "status": _STR,
            "commit_message": _NSTR,
            "author": {**_NSTR, "description": "The user's email, else the credential SID"},
            "author_sid": _NSTR,
            "date_created": _STR,
        },
    },
}


def _list(key: str, item: str) -> J:
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "meta": {"type": "object"},
        },
    }


def _q(name: str, desc: str) -> J:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": _STR}


_TOKEN = _path_param("token", None, "The invitation link's token.")
_LOGIN: J = {"email": _STR, "password": _STR}


def session_paths() -> dict[str, Any]:
    return {
        "/callboard/v1/Session": {
            "get": _op("FetchSession", "The cookie's session", TAG, _ok("Session"), security=False),
            "post": _op(
                "CreateSession",
                "Log in: sets the session cookie (429 after 10 failures in 15 minutes)",
                TAG,
                _ok("Session"),
                form=_LOGIN,
                required=["email", "password"],
                security=False,
            ),
            "delete": _op(
                "DeleteSession", "Log out (needs X-CSRF-Token)", TAG, NO_CONTENT, security=False
            ),
        },
        "/callboard/v1/Invitations/{token}": {
            "get": _op(
                "FetchInvitation",
                "A pending invitation",
                TAG,
                _ok({"type": "object", "properties": {"email": _STR, "role": _ROLE}}),
                [_TOKEN],
                security=False,
            ),
            "post": _op(
                "AcceptInvitation",
                "Choose a password; logs in",
                TAG,
                _ok("Session"),
                [_TOKEN],
                form={"password": _STR},
                required=["password"],
                security=False,
            ),
        },
    }


def team_paths() -> dict[str, Any]:
    user = _path_param("sid", "US", "The User SID.")
    key = _path_param("sid", "SK", "The API Key SID.")
    flow = _path_param("sid", "FW", "The Flow SID.")
    revision = {"name": "revision", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/callboard/v1/Users": {
            "get": _op(
                "ListUsers",
                "The account's users (admin)",
                TAG,
                _ok({"type": "object", "properties": {"users": {"type": "array"}}}),
            ),
            "post": _op(
                "CreateUser",
                "Add a user; without Password, an invitation (admin; owner for admin/owner)",
                TAG,
                _ok("User", "201"),
                form={"Email": _STR, "Role": _ROLE, "Password": _STR},
                required=["Email", "Role"],
            ),
        },
        "/callboard/v1/Users/{sid}": {
            "post": _op(
                "UpdateUser",
                "Change a user's role (ends their sessions)",
                TAG,
                _ok("User"),
                [user],
                form={"Role": _ROLE},
                required=["Role"],
            ),
            "delete": _op("DeleteUser", "Remove a user", TAG, NO_CONTENT, [user]),
        },
        "/callboard/v1/Users/{sid}/Invitation": {
            "post": _op(
                "ResetUserPassword",
                "Clear a user's password: a new one-time link to choose one",
                TAG,
                _ok({"type": "object", "properties": {"invitation_url": _STR}}, "201"),
                [user],
            ),
        },
        "/callboard/v1/Keys": {
            "get": _op(
                "ListKeys",
                "The account's API keys (admin)",
                TAG,
                _ok({"type": "object", "properties": {"keys": {"type": "array"}}}),
            ),
            "post": _op(
                "CreateKey",
                "A new API key carrying at most your role; the secret is shown once",
                TAG,
                _ok({"type": "object", "properties": {"sid": _STR, "secret": _STR}}, "201"),
                form={"FriendlyName": _STR, "Role": _ROLE},
            ),
        },
        "/callboard/v1/Keys/{sid}": {
            "delete": _op("DeleteKey", "Delete an API key", TAG, NO_CONTENT, [key]),
        },
        "/callboard/v1/AuditEvents": {
            "get": _op(
                "ListAuditEvents",
                "The audit log, newest first (admin)",
                TAG,
                _ok(_list("audit_events", "AuditEvent")),
                [
                    *_PAGING,
                    _q("Actor", "An email or a SID"),
                    _q("Action", "e.g. flow.publish"),
                    _q("StartDate", "ISO 8601, inclusive"),
                    _q("EndDate", "ISO 8601, exclusive"),
                ],
            ),
        },
        "/callboard/v1/Flows/{sid}/Revisions": {
            "get": _op(
                "ListRevisionAuthors",
                "A flow's revisions with their authors",
                TAG,
                _ok(_list("revisions", "RevisionAuthor")),
                [flow, *_PAGING],
            ),
        },
        "/callboard/v1/Flows/{sid}/Revisions/{revision}/Restore": {
            "post": _op(
                "RestoreRevision",
                "A new draft revision with an old revision's definition (editor)",
                TAG,
                _ok({"type": "object"}),
                [flow, revision],
            ),
        },
    }


def team_schemas() -> dict[str, Any]:
    return dict(SCHEMAS)
