"""Reading test files (YAML, or JSON — a subset of YAML) with line numbers.

Every mapping is checked against the keys it may have: an unknown key is a
:class:`~callboard.flowtest.model.TestFileError` naming the file, the line and the
nearest known key.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from callboard.flow.model import load_flow
from callboard.flowtest.model import (
    DEFAULT_CONTACT,
    DEFAULT_FLOW_ADDRESS,
    STEP_KINDS,
    FlowTest,
    Mock,
    Step,
    TestFile,
    TestFileError,
    Where,
)

__all__ = ["CALL_KEYS", "FILE_KEYS", "MOCK_KEYS", "TEST_KEYS", "load_test_file", "parse_test_text"]

FILE_KEYS = ("flow", "subflows", "tests")
TEST_KEYS = (
    "name",
    "from",
    "to",
    "parameters",
    "call",
    "conversation",
    "mocks",
    "steps",
    "allow_extra",
)
MAX_CHARS = 1_000_000  # a test file larger than this is refused
CALL_KEYS = ("from", "to")  # the caller and the number called (else the test's from/to)
CONVERSATION_KEYS = ("sid", "author")  # the Conversation (CH…) and who writes in it
MOCK_KEYS = ("url", "method", "status", "json", "body", "headers", "content_type")


class _Doc:
    """Turns YAML nodes into values, keeping the file name for errors."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.constructor = yaml.SafeLoader("")

    def at(self, node: yaml.Node) -> Where:
        return Where(self.file, node.start_mark.line + 1)

    def value(self, node: yaml.Node) -> Any:
        return self.constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """``{key: (key node, value node)}``; unknown keys are an error with a hint."""
        if not isinstance(node, yaml.MappingNode):
            raise TestFileError(self.at(node), f"{what} must be a mapping")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str) or key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else ""
                hint = hint or f"{what} may have: {', '.join(allowed)}"
                raise TestFileError(self.at(key_node), f"unknown key {key!r} in {what}", hint)
            if key in out:
                raise TestFileError(self.at(key_node), f"{key!r} given twice in {what}")
            out[key] = (key_node, value_node)
        return out

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.value(node)
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            raise TestFileError(self.at(node), f"{what} must be a text")
        return str(value)


def load_test_file(path: str | Path) -> TestFile:
    """Read and check one test file; the flow (and subflows) it names are read too."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TestFileError(str(p), f"cannot read the file: {exc}") from None
    return parse_test_text(text, str(p), base=p.parent)


def parse_test_text(text: str, file: str, base: Path | None = None) -> TestFile:
    """Parse a test file's text. Flow files are resolved against ``base``; with no
    ``base`` (a test stored on the server), ``flow`` is only recorded."""
    doc = _Doc(file)
    if len(text) > MAX_CHARS:
        raise TestFileError(Where(file, 1), f"the file is over {MAX_CHARS} characters")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark is not None else 1
                raise TestFileError(Where(file, line), "YAML aliases (*name) are not supported")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise TestFileError(Where(file, line), f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise TestFileError(Where(file, 1), f"not valid YAML: {exc}") from None
    if root is None:
        raise TestFileError(Where(file, 1), "the file is empty", "start with 'flow:' and 'tests:'")
    keys = doc.mapping(root, "the test file", FILE_KEYS)
    if "tests" not in keys:
        raise TestFileError(doc.at(root), "no 'tests:' in the file")
    flow_ref = ""
    definition: dict[str, Any] | None = None
    if "flow" in keys:
        flow_ref = doc.text(keys["flow"][1], "'flow'")
        definition = _read_flow(doc, keys["flow"][1], flow_ref, base)
    elif base is not None:
        raise TestFileError(doc.at(root), "no 'flow:' in the file", "flow: my-flow.json")
    subflows: dict[str, dict[str, Any]] = {}
    if "subflows" in keys:
        for sid, (key_node, value_node) in doc.mapping(
            keys["subflows"][1], "'subflows'", _keys_of(doc, keys["subflows"][1])
        ).items():
            if not sid.startswith("FW"):
                raise TestFileError(doc.at(key_node), f"subflow key {sid!r} is not a flow SID")
            ref = doc.text(value_node, f"subflow {sid}")
            found = _read_flow(doc, value_node, ref, base)
            if found is not None:
                subflows[sid] = found
    tests_node = keys["tests"][1]
    if not isinstance(tests_node, yaml.SequenceNode) or not tests_node.value:
        raise TestFileError(doc.at(tests_node), "'tests' must be a non-empty list")
    tests = tuple(_test(doc, node, i) for i, node in enumerate(tests_node.value))
    names = [t.name for t in tests]
    for t in tests:
        if names.count(t.name) > 1:
            raise TestFileError(t.where, f"two tests are named {t.name!r}")
    return TestFile(file, flow_ref, definition, subflows, tests)


def _keys_of(doc: _Doc, node: yaml.Node) -> tuple[str, ...]:
    if not isinstance(node, yaml.MappingNode):
        raise TestFileError(doc.at(node), "'subflows' must map flow SIDs to files")
    return tuple(str(doc.value(k)) for k, _ in node.value)


def _read_flow(doc: _Doc, node: yaml.Node, ref: str, base: Path | None) -> dict[str, Any] | None:
    if base is None:
        return None
    path = base / ref
    if not path.exists() and ref.startswith("FW") and "." not in ref:
        return None  # a stored flow's SID (only with --server)
    try:
        text = path.read_text(encoding="utf-8")
        definition = json.loads(text)
        load_flow(text, source=str(path))
    except OSError as exc:
        raise TestFileError(doc.at(node), f"cannot read the flow {ref!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise TestFileError(doc.at(node), f"the flow {ref!r} is not valid: {exc}") from None
    if not isinstance(definition, dict):
        raise TestFileError(doc.at(node), f"the flow {ref!r} is not a JSON object")
    return definition


def _test(doc: _Doc, node: yaml.Node, index: int) -> FlowTest:
    keys = doc.mapping(node, f"test #{index + 1}", TEST_KEYS)
    where = doc.at(node)
    name = doc.text(keys["name"][1], "'name'") if "name" in keys else f"test {index + 1}"
    if "steps" not in keys:
        raise TestFileError(where, f"test {name!r} has no 'steps:'")
    steps_node = keys["steps"][1]
    if not isinstance(steps_node, yaml.SequenceNode):
        raise TestFileError(doc.at(steps_node), "'steps' must be a list")
    steps = tuple(_step(doc, s) for s in steps_node.value)
    parameters = call = None
    if "parameters" in keys:
        parameters = doc.value(keys["parameters"][1])
        if not isinstance(parameters, dict):
            raise TestFileError(doc.at(keys["parameters"][1]), "'parameters' must be a mapping")
    if "call" in keys:
        call_node = keys["call"][1]
        if isinstance(call_node, yaml.ScalarNode) and doc.value(call_node) in (None, ""):
            call = {}
        else:
            fields = doc.mapping(call_node, "'call'", CALL_KEYS)
            call = {k: doc.text(v, f"call {k}") for k, (_, v) in fields.items()}
    if parameters is not None and call is not None:
        raise TestFileError(where, "a test starts with 'parameters' or 'call', not both")
    conversation = None
    if "conversation" in keys:
        node_c = keys["conversation"][1]
        if isinstance(node_c, yaml.ScalarNode) and doc.value(node_c) in (None, ""):
            conversation = {}
        else:
            fields = doc.mapping(node_c, "'conversation'", CONVERSATION_KEYS)
            conversation = {k: doc.text(v, f"conversation {k}") for k, (_, v) in fields.items()}
        if call is not None:
            raise TestFileError(where, "a test has a 'call' or a 'conversation', not both")
    mocks: tuple[Mock, ...] = ()
    if "mocks" in keys:
        mocks_node = keys["mocks"][1]
        if not isinstance(mocks_node, yaml.SequenceNode):
            raise TestFileError(doc.at(mocks_node), "'mocks' must be a list")
        mocks = tuple(_mock(doc, m) for m in mocks_node.value)
    allow_extra = bool(doc.value(keys["allow_extra"][1])) if "allow_extra" in keys else False
    return FlowTest(
        name=name,
        where=where,
        steps=steps,
        from_=(call or {}).get("from")
        or (doc.text(keys["from"][1], "'from'") if "from" in keys else DEFAULT_CONTACT),
        to=(call or {}).get("to")
        or (doc.text(keys["to"][1], "'to'") if "to" in keys else DEFAULT_FLOW_ADDRESS),
        parameters=parameters,
        call=call,
        conversation=conversation,
        mocks=mocks,
        allow_extra=allow_extra,
    )


def _step(doc: _Doc, node: yaml.Node) -> Step:
    keys = doc.mapping(node, "a step", tuple(STEP_KINDS))
    if len(keys) != 1:
        raise TestFileError(doc.at(node), "a step has exactly one key", "split it in two steps")
    ((kind, (_, value_node)),) = keys.items()
    where = doc.at(node)
    value = doc.value(value_node)
    shape = STEP_KINDS[kind]
    ok = {
        "text": isinstance(value, str | int | float) and not isinstance(value, bool),
        "seconds": isinstance(value, int | float) and not isinstance(value, bool) and value >= 0,
        "mapping": isinstance(value, dict),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "bool": isinstance(value, bool),
    }[shape]
    if not ok:
        wants = {
            "text": "a text (or /regex/)",
            "seconds": "a number of seconds (0 or more)",
            "mapping": "a mapping of context paths to values",
            "list": "a list of widget names",
            "bool": "true or false",
        }[shape]
        raise TestFileError(where, f"'{kind}' wants {wants}, got {value!r}")
    if shape == "text":
        value = str(value)
    patterns = [value] if kind.startswith("expect") and shape == "text" else []
    if kind == "expect_variables":
        patterns = [v for v in value.values() if isinstance(v, str)]
    for pattern in patterns:
        if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
            try:
                re.compile(pattern[1:-1])
            except re.error as exc:
                raise TestFileError(where, f"{pattern!r} is not a valid regex: {exc}") from None
    return Step(kind, value, where)


def _mock(doc: _Doc, node: yaml.Node) -> Mock:
    keys = doc.mapping(node, "a mock", MOCK_KEYS)
    where = doc.at(node)
    if "url" not in keys:
        raise TestFileError(where, "a mock needs 'url' (a glob such as https://x.test/*)")
    status = doc.value(keys["status"][1]) if "status" in keys else 200
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise TestFileError(where, "'status' must be an integer from 100 to 599")
    if "json" in keys and "body" in keys:
        raise TestFileError(where, "give 'json' or 'body', not both")
    content_type = "application/json"
    body = ""
    if "json" in keys:
        body = json.dumps(doc.value(keys["json"][1]))
    elif "body" in keys:
        body = doc.text(keys["body"][1], "'body'")
        content_type = "text/plain"
    if "content_type" in keys:
        content_type = doc.text(keys["content_type"][1], "'content_type'")
    headers = doc.value(keys["headers"][1]) if "headers" in keys else {}
    if not isinstance(headers, dict):
        raise TestFileError(where, "'headers' must be a mapping")
    method = doc.text(keys["method"][1], "'method'").upper() if "method" in keys else None
    return Mock(
        url=doc.text(keys["url"][1], "'url'"),
        method=method,
        status=status,
        body=body,
        content_type=content_type,
        headers={str(k): str(v) for k, v in headers.items()},
    )
