"""The permissions table (issue 14): every authenticated route → the weakest role that
may call it, and the audit action it records. :mod:`callboard.api.access` applies it
to every request; handlers do not check roles themselves.

A rule with ``publish`` needs ``admin`` when the request publishes (form
``Status=published``, except a rename of a flow already published) and is then audited
as ``flow.publish``; otherwise it needs its own role. Paths are templates: ``{FW}``,
``{FN}``, ``{DG}``, ``{DF}``, ``{FT}``, ``{SK}``, ``{US}``, ``{CA}`` match a SID with
that prefix; ``{*}`` any one segment.
A protected path without a rule needs ``viewer`` to read and ``owner`` for anything
else (a test checks that every route of the app has a rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callboard.runtime.roles import Role

__all__ = ["PUBLIC_PATHS", "RULES", "Rule", "explicit_rule", "needs_auth", "rule_for"]


@dataclass(frozen=True, slots=True)
class Rule:
    methods: tuple[str, ...]
    template: str
    role: Role
    audit: str | None = None
    publish: bool = False
    pattern: re.Pattern[str] = re.compile("")


def _compile(template: str) -> re.Pattern[str]:
    def part(m: re.Match[str]) -> str:
        name = m.group(1)
        return "[^/]+" if name == "*" else f"{name}[0-9a-fA-F]{{32}}"

    return re.compile("^" + re.sub(r"\{([A-Z]{2}|\*)\}", part, template) + "$")


def _r(
    methods: str, template: str, role: Role, audit: str | None = None, *, publish: bool = False
) -> Rule:
    return Rule(tuple(methods.split("|")), template, role, audit, publish, _compile(template))


_FLOW = "/v2/Flows/{FW}"
_EX = _FLOW + "/Executions/{FN}"
_CB = "/callboard/v1"
_SINK = "/v1/Sinks/{DG}"
_SUB = "/v1/Subscriptions/{DF}"

RULES: tuple[Rule, ...] = (
    # Studio v2
    _r("GET", "/v2/Flows", "viewer"),
    _r("POST", "/v2/Flows", "editor", "flow.publish", publish=True),
    _r("POST", "/v2/Flows/Validate", "viewer"),
    _r("GET", _FLOW, "viewer"),
    _r("POST", _FLOW, "editor", "flow.publish", publish=True),
    _r("DELETE", _FLOW, "admin", "flow.delete"),
    _r("GET", _FLOW + "/Revisions", "viewer"),
    _r("GET", _FLOW + "/Revisions/{*}", "viewer"),
    _r("GET", _FLOW + "/TestUsers", "viewer"),
    _r("POST", _FLOW + "/TestUsers", "admin", "flow.test_users"),
    _r("GET", _FLOW + "/Executions", "viewer"),
    _r("POST", _FLOW + "/Executions", "editor"),
    _r("GET", _EX, "viewer"),
    _r("POST", _EX, "editor"),
    _r("DELETE", _EX, "admin"),
    _r("GET", _EX + "/Context", "viewer"),
    _r("GET", _EX + "/Steps", "viewer"),
    _r("GET", _EX + "/Steps/{FT}", "viewer"),
    _r("GET", _EX + "/Steps/{FT}/Context", "viewer"),
    # Event Streams v1
    _r("GET", "/v1/Types", "viewer"),
    _r("GET", "/v1/Types/{*}", "viewer"),
    _r("GET", "/v1/Schemas/{*}", "viewer"),
    _r("GET", "/v1/Schemas/{*}/Versions", "viewer"),
    _r("GET", "/v1/Schemas/{*}/Versions/{*}", "viewer"),
    _r("GET", "/v1/Sinks", "viewer"),
    _r("POST", "/v1/Sinks", "admin", "sink.create"),
    _r("GET", _SINK, "viewer"),
    _r("POST", _SINK, "admin", "sink.update"),
    _r("DELETE", _SINK, "admin", "sink.delete"),
    _r("POST", _SINK + "/Test", "admin"),
    _r("POST", _SINK + "/Validate", "admin"),
    _r("GET", "/v1/Subscriptions", "viewer"),
    _r("POST", "/v1/Subscriptions", "admin", "subscription.create"),
    _r("GET", _SUB, "viewer"),
    _r("POST", _SUB, "admin", "subscription.update"),
    _r("DELETE", _SUB, "admin", "subscription.delete"),
    _r("GET", _SUB + "/SubscribedEvents", "viewer"),
    _r("POST", _SUB + "/SubscribedEvents", "admin", "subscription.update"),
    _r("GET", _SUB + "/SubscribedEvents/{*}", "viewer"),
    _r("POST", _SUB + "/SubscribedEvents/{*}", "admin", "subscription.update"),
    _r("DELETE", _SUB + "/SubscribedEvents/{*}", "admin", "subscription.update"),
    # Callboard's own
    _r("GET", _CB + "/Me", "viewer"),
    _r("GET", _CB + "/WidgetTypes", "viewer"),
    _r("GET", _CB + "/Notifications", "viewer"),
    _r("GET", _CB + "/Flows/{FW}/Events/Stream", "viewer"),
    _r("GET", _CB + "/Flows/{FW}/Revisions", "viewer"),
    _r("POST", _CB + "/Flows/{FW}/Revisions/{*}/Restore", "editor", "revision.restore"),
    _r("GET", _CB + "/Flows/{FW}/Tests", "viewer"),  # flow tests (issue 15)
    _r("POST", _CB + "/Flows/{FW}/Tests", "editor"),
    _r("GET", _CB + "/Flows/{FW}/Tests/Versions", "viewer"),
    _r("POST", _CB + "/Flows/{FW}/Tests/Run", "editor"),  # runs like the simulator
    _r("GET", _CB + "/Sinks/{DG}/Failures", "viewer"),
    _r("GET", _CB + "/Sinks/{DG}/Deliveries", "viewer"),
    _r("GET", _CB + "/Simulator/Messages", "viewer"),
    _r("POST", _CB + "/Simulator/Messages", "editor"),
    _r("GET", _CB + "/Simulator/Calls", "viewer"),
    _r("POST", _CB + "/Simulator/Calls", "editor"),
    _r("POST", _CB + "/Simulator/Calls/{CA}/Input", "editor"),
    _r("GET", _CB + "/Simulator/Conversations", "viewer"),
    _r("POST", _CB + "/Simulator/Conversations/Messages", "editor"),
    _r("GET", _CB + "/Simulator/FlexTasks", "viewer"),
    _r("GET", _CB + "/Users", "admin"),
    _r("POST", _CB + "/Users", "admin"),  # owners only for admin/owner roles (runtime.team)
    _r("POST", _CB + "/Users/{US}", "admin"),
    _r("DELETE", _CB + "/Users/{US}", "admin"),
    _r("POST", _CB + "/Users/{US}/Invitation", "admin"),
    _r("GET", _CB + "/Keys", "admin"),
    _r("POST", _CB + "/Keys", "admin", "api_key.create"),
    _r("DELETE", _CB + "/Keys/{SK}", "admin", "api_key.delete"),
    _r("GET", _CB + "/AuditEvents", "admin"),
)

PUBLIC_PATHS = (
    re.compile(r"^/callboard/v1/Health$"),
    re.compile(r"^/callboard/v1/Session$"),  # log in / out (checks the cookie itself)
    re.compile(r"^/callboard/v1/Schemas/FlowTest$"),  # the flow-test format's JSON Schema
    re.compile(r"^/callboard/v1/Invitations/[^/]+$"),  # the one-time link's token
)
_PROTECTED = re.compile(
    r"^/v2(/.*)?$|^/callboard/v1/|^/v1/(Sinks|Subscriptions|Types|Schemas)(/|$)"
)

_FALLBACK_READ = Rule(("GET",), "", "viewer")
_FALLBACK_WRITE = Rule(("POST", "DELETE"), "", "owner")


def needs_auth(path: str) -> bool:
    """Whether ``path`` needs credentials (``/v1/Accounts/…`` webhooks, the editor, the
    docs and :data:`PUBLIC_PATHS` do not)."""
    if any(p.match(path) for p in PUBLIC_PATHS):
        return False
    return bool(_PROTECTED.match(path))


def explicit_rule(method: str, path: str) -> Rule | None:
    wanted = "GET" if method == "HEAD" else method
    for rule in RULES:
        if wanted in rule.methods and rule.pattern.match(path):
            return rule
    return None


def rule_for(method: str, path: str) -> Rule:
    found = explicit_rule(method, path)
    if found is not None:
        return found
    return _FALLBACK_READ if method in ("GET", "HEAD", "OPTIONS") else _FALLBACK_WRITE
