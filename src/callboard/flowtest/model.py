"""What a flow test file says: files, tests, steps and mocks (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_CONTACT",
    "DEFAULT_FLOW_ADDRESS",
    "STEP_KINDS",
    "FlowTest",
    "Mock",
    "Step",
    "TestFile",
    "TestFileError",
    "Where",
]

DEFAULT_CONTACT = "+15550000001"
DEFAULT_FLOW_ADDRESS = "+15550009999"

# step kind -> what its value is (used by the loader's checks and the JSON Schema)
STEP_KINDS: dict[str, str] = {
    "send": "text",
    "expect": "text",
    "wait": "seconds",
    "expect_variables": "mapping",
    "expect_path": "list",
    "expect_end": "bool",
    "expect_say": "text",
    "press": "text",
    "speak": "text",
    "expect_dial": "text",
    "hangup": "bool",
}


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a test file (1-based line)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class TestFileError(Exception):
    """A test file (or the flow it names) that cannot be used: exit status 2."""

    __test__ = False  # not a pytest class

    def __init__(self, where: Where | str, message: str, hint: str = "") -> None:
        self.where = str(where)
        self.message = message
        self.hint = hint
        super().__init__(self.text())

    def text(self) -> str:
        out = f"{self.where}: {self.message}"
        return f"{out}\n  hint: {self.hint}" if self.hint else out


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    value: Any
    where: Where

    def describe(self) -> str:
        return f"{self.kind}: {self.value!r}"


@dataclass(frozen=True, slots=True)
class Mock:
    """A canned answer for Make HTTP Request / Run Function (glob on the URL)."""

    url: str
    method: str | None = None
    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlowTest:
    __test__ = False

    name: str
    where: Where
    steps: tuple[Step, ...]
    from_: str = DEFAULT_CONTACT
    to: str = DEFAULT_FLOW_ADDRESS
    parameters: dict[str, Any] | None = None
    call: dict[str, str] | None = None
    conversation: dict[str, str] | None = None  # send in a Conversation (sid, author)
    mocks: tuple[Mock, ...] = ()
    allow_extra: bool = False


@dataclass(frozen=True, slots=True)
class TestFile:
    """One test file: the flow it tests (a parsed definition, or a stored flow SID for
    ``--server``), the subflows, and its tests."""

    __test__ = False

    path: str
    flow: str  # as written in the file
    definition: dict[str, Any] | None  # None when ``flow`` is a stored flow SID
    subflows: dict[str, dict[str, Any]]
    tests: tuple[FlowTest, ...]
