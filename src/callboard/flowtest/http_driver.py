"""Tests against a running Callboard server (``callboard test --server URL``).

The flow is a stored flow (``flow: FW…``); the test plays the contact through the
server's simulator channel (``/callboard/v1/Simulator/...``), which runs the flow's
latest revision (its draft) as a test user, and reads executions and steps through the
Studio v2 API. The server keeps real time, so ``wait`` and ``mocks`` are refused.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from callboard.flowtest.model import FlowTest, TestFile
from callboard.flowtest.runner import DriverError, Output

__all__ = ["HttpDriver"]


class HttpDriver:
    def __init__(self, server: str, account: str, token: str, file: TestFile) -> None:
        if not file.flow.startswith("FW"):
            raise DriverError(
                f"with --server, 'flow' must be a stored flow's SID, not {file.flow!r}"
            )
        self.client = httpx.Client(base_url=server.rstrip("/"), auth=(account, token), timeout=30)
        self.flow_sid = file.flow
        self.contact = self.to = ""
        self.conversation: dict[str, str] | None = None
        self.executions: list[str] = []
        self.call_sid = ""
        self.heard: list[Output] = []

    def _call_api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            r = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DriverError(f"the server cannot be reached: {exc}") from None
        if r.status_code >= 400:
            try:
                message = r.json().get("message", r.text)
            except ValueError:
                message = r.text
            raise DriverError(f"{method} {path} answered {r.status_code}: {message}")
        data = r.json()
        return data if isinstance(data, dict) else {}

    def start(self, test: FlowTest) -> None:
        if test.mocks:
            raise DriverError("mocks need the local runner (drop --server)")
        self.contact, self.to = test.from_, test.to
        self.conversation = None if test.conversation is None else dict(test.conversation)
        self._call_api("GET", f"/v2/Flows/{self.flow_sid}")  # credentials, and the flow is there
        self._end_leftovers()
        if test.parameters is not None:
            form = {"To": self.contact, "From": self.to, "Parameters": json.dumps(test.parameters)}
            ex = self._call_api("POST", f"/v2/Flows/{self.flow_sid}/Executions", data=form)
            self._seen(str(ex["sid"]))
        elif test.call is not None:
            form = {"FlowSid": self.flow_sid, "From": self.contact, "To": self.to}
            answer = self._call_api("POST", "/callboard/v1/Simulator/Calls", data=form)
            self.call_sid = str(answer["call_sid"])
            self._heard(answer)

    def _end_leftovers(self) -> None:
        """End the contact's active executions (an earlier run may have left one
        waiting): a test starts a conversation of its own."""
        base = f"/v2/Flows/{self.flow_sid}/Executions"
        page = self._call_api("GET", base, params={"status": "active", "PageSize": "1000"})
        for ex in page.get("executions", []):
            if ex.get("contact_channel_address") == self.contact:
                self._call_api("POST", f"{base}/{ex['sid']}", data={"Status": "ended"})

    def send(self, text: str) -> None:
        if self.conversation is not None:
            c = self.conversation
            form = {
                "FlowSid": self.flow_sid,
                "ConversationSid": c.get("sid", ""),
                "Author": c.get("author", self.contact),
                "Body": text,
            }
            path = "/callboard/v1/Simulator/Conversations/Messages"
            answer = self._call_api("POST", path, data=form)
            c["sid"] = str(answer.get("conversation_sid") or "")
        else:
            form = {"FlowSid": self.flow_sid, "From": self.contact, "To": self.to, "Body": text}
            answer = self._call_api("POST", "/callboard/v1/Simulator/Messages", data=form)
        self._seen(str(answer.get("execution_sid") or ""))

    def press(self, digits: str) -> None:
        self._input({"Digits": digits})

    def speak(self, speech: str) -> None:
        self._input({"SpeechResult": speech})

    def hangup(self) -> None:
        self._input({"Hangup": "true"})

    def _input(self, form: dict[str, str]) -> None:
        if not self.call_sid:
            raise DriverError("there is no call: start the test with 'call: {}'")
        path = f"/callboard/v1/Simulator/Calls/{self.call_sid}/Input"
        self._heard(self._call_api("POST", path, data=form))

    def _heard(self, answer: dict[str, Any]) -> None:
        self._seen(str(answer.get("execution_sid") or ""))
        for action in answer.get("actions", []):
            if action.get("kind") in ("say", "dial"):
                self.heard.append(Output(str(action["kind"]), str(action.get("text", ""))))

    def wait(self, seconds: float) -> None:
        raise DriverError("'wait' needs the local runner's clock (drop --server)")

    def outputs(self) -> list[Output]:
        params = {"FlowSid": self.flow_sid, "Contact": ""}
        messages = self._call_api("GET", "/callboard/v1/Simulator/Messages", params=params)
        mine = {*self.executions}
        sent = [
            Output("message", str(m["body"]))
            for m in messages.get("messages", [])
            if m["direction"] != "inbound" and m.get("execution_sid") in mine
        ]
        return sent + self.heard

    def _last(self) -> str:
        if not self.executions:
            raise DriverError("no execution has started yet")
        return self.executions[-1]

    def context(self) -> dict[str, Any]:
        path = f"/v2/Flows/{self.flow_sid}/Executions/{self._last()}/Context"
        context = self._call_api("GET", path).get("context")
        return context if isinstance(context, dict) else {}

    def ended(self) -> bool:
        if not self.executions:
            return False
        ex = self._call_api("GET", f"/v2/Flows/{self.flow_sid}/Executions/{self._last()}")
        return ex.get("status") == "ended"

    def steps(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        out: list[tuple[str, str, str, dict[str, Any]]] = []
        for sid in self.executions:
            url: str | None = f"/v2/Flows/{self.flow_sid}/Executions/{sid}/Steps?PageSize=1000"
            while url:
                page = self._call_api("GET", url)
                for s in page.get("steps", []):
                    ctx = s.get("context") if isinstance(s.get("context"), dict) else {}
                    out.append((s["transitioned_from"], s["name"], s["transitioned_to"], ctx))
                url = (page.get("meta") or {}).get("next_page_url")
        return out

    def notes(self) -> list[str]:
        return []

    def _seen(self, sid: str) -> None:
        if sid and sid not in self.executions:
            self.executions.append(sid)

    def close(self) -> None:
        self.client.close()
