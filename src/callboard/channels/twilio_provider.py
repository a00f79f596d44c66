"""The Twilio channel: messages through the Messages API, calls through the Calls API,
with the twilio helper library (``twilio.rest.Client``).

The REST base URL is Twilio's own unless ``CALLBOARD_TWILIO_API_URL`` says otherwise
(``client.api.base_url`` is overridden, so tests can stand in for Twilio). Every call
here does network I/O: the worker runs them from the outbox, never inside a database
transaction. A 4xx answer from Twilio is final (the widget takes its failure event with
``ErrorCode``/``ErrorMessage``); a 5xx or a network error raises
:class:`~callboard.runtime.outbox.TransientJobError` and the job is retried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from callboard.runtime.outbox import TransientJobError

__all__ = ["LOOKUP_SLACK", "TwilioChannel", "TwilioError", "plain", "resource"]

# Clocks differ: a message Twilio stamped up to this long before our attempt began
# still counts as that attempt's.
LOOKUP_SLACK = timedelta(seconds=30)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _since(item: Any, since: datetime) -> bool:
    created = getattr(item, "date_created", None)
    return not isinstance(created, datetime) or _utc(created) >= since


class TwilioError(Exception):
    """Twilio refused the request (4xx): final."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def data(self) -> dict[str, Any]:
        return {
            "Status": "failed",
            "ErrorCode": self.code,
            "ErrorMessage": self.message,
            "error": f"Twilio answered {self.status}: {self.message}",
        }


def _camel(name: str) -> str:
    if name == "uri":
        return "Uri"
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def plain(instance: Any) -> dict[str, Any]:
    """A twilio-python instance as JSON with twilio-python's (snake_case) names, the
    names the Conversations and Flex widgets' variables use."""
    out: dict[str, Any] = {}
    for key, value in vars(instance).items():
        if key.startswith("_") or callable(value):
            continue
        if isinstance(value, datetime):
            value = format_datetime(value, usegmt=True) if value.tzinfo else value.isoformat()
        elif hasattr(value, "value") and not isinstance(value, str | int | float | bool):
            value = value.value  # enums
        elif not isinstance(value, str | int | float | bool | list | dict | type(None)):
            value = str(value)
        out[key] = value
    return out


def resource(instance: Any) -> dict[str, Any]:
    """A twilio-python instance as Twilio's JSON names (``Sid``, ``Status``, ``NumSegments``...)."""
    out = {_camel(key): value for key, value in plain(instance).items()}
    if "Status" in out and out["Status"] is not None:
        out["Status"] = str(out["Status"])
    return out


class TwilioChannel:
    """One Twilio account's REST client."""

    def __init__(self, account_sid: str, auth_token: str, api_url: str | None = None) -> None:
        self.account_sid = account_sid
        self.client = Client(account_sid, auth_token)
        if api_url:  # the Messages/Calls, Conversations and Flex APIs all go there
            self.client.api.base_url = api_url.rstrip("/")
            self.client.conversations.base_url = api_url.rstrip("/")
            self.client.flex_api.base_url = api_url.rstrip("/")
            self.client.taskrouter.base_url = api_url.rstrip("/")
        self._workspaces: dict[str, str] = {}  # workflow SID → its TaskRouter workspace

    def _do(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TwilioRestException as exc:
            if exc.status >= 500 or exc.status == 429:
                raise TransientJobError(f"{what}: Twilio answered {exc.status}") from None
            raise TwilioError(exc.status, exc.code, str(exc.msg)) from None
        except TwilioException as exc:
            raise TransientJobError(f"{what}: {exc}") from None
        except OSError as exc:
            raise TransientJobError(f"{what}: {exc}") from None

    def send_message(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        media_urls: list[str] | None = None,
        status_callback: str | None = None,
        content_sid: str = "",
        content_variables: str = "",
        shorten_urls: bool = False,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"to": to}
        if from_.startswith("MG"):
            kwargs["messaging_service_sid"] = from_
        elif from_:
            kwargs["from_"] = from_
        if content_sid:
            kwargs["content_sid"] = content_sid
            if content_variables:
                kwargs["content_variables"] = content_variables
        else:
            kwargs["body"] = body
        if media_urls:
            kwargs["media_url"] = list(media_urls)
        if status_callback:
            kwargs["status_callback"] = status_callback
        if shorten_urls:
            kwargs["shorten_urls"] = True
        return resource(self._do("send a message", self.client.messages.create, **kwargs))

    def conversation_message(
        self, conversation_sid: str, *, author: str, body: str, attributes: str = ""
    ) -> dict[str, Any]:
        """Post a message to a Conversation (``POST /v1/Conversations/{CH}/Messages``)."""
        kwargs: dict[str, Any] = {"author": author, "body": body}
        if attributes:
            kwargs["attributes"] = attributes
        messages = self.client.conversations.v1.conversations(conversation_sid).messages
        return resource(self._do("post a conversation message", messages.create, **kwargs))

    def _conversations(self, service_sid: str) -> Any:
        v1 = self.client.conversations.v1
        return v1.services(service_sid).conversations if service_sid else v1.conversations

    def open_conversation(
        self,
        action: str,
        options: dict[str, Any],
        participant: dict[str, Any],
        webhook_url: str,
    ) -> dict[str, Any]:
        """Start Conversation (create it and its participant) or Resume Conversation
        (fetch it), then a scoped ``onMessageAdded`` webhook to ``webhook_url``."""
        service = str(options.get("ChatServiceSid") or "")
        conversations = self._conversations(service)
        if action == "start":
            kwargs: dict[str, Any] = {}
            for key, name in (
                ("FriendlyName", "friendly_name"),
                ("Attributes", "attributes"),
                ("MessagingServiceSid", "messaging_service_sid"),
            ):
                if options.get(key):
                    kwargs[name] = options[key]
            made = self._do("create a conversation", conversations.create, **kwargs)
            conversation = plain(made)
        else:
            sid = str(options.get("ConversationSid") or "")
            conversation = plain(self._do("fetch a conversation", conversations(sid).fetch))
        sid = str(conversation.get("sid") or "")
        scoped = conversations(sid)
        participants: list[dict[str, Any]] = []
        if action == "start" and participant:
            names = {
                "Identity": "identity",
                "MessagingBinding.Address": "messaging_binding_address",
                "MessagingBinding.ProxyAddress": "messaging_binding_proxy_address",
                "Attributes": "attributes",
            }
            kwargs = {names[k]: v for k, v in participant.items() if k in names and v}
            made = self._do("add a participant", scoped.participants.create, **kwargs)
            participants.append(plain(made))
        webhook = self._do(
            "create a conversation webhook",
            scoped.webhooks.create,
            target="webhook",
            configuration_url=webhook_url,
            configuration_method="POST",
            configuration_filters=["onMessageAdded"],
        )
        conversation["participants"] = participants
        return {"conversation": conversation, "webhook_sid": str(plain(webhook).get("sid"))}

    def workspace_of(self, workflow_sid: str) -> str:
        """The TaskRouter workspace holding ``workflow_sid`` (Flex routing needs it; the
        widget names the workflow only): the account's only workspace, else the one the
        workflow is found in. Remembered per workflow."""
        found = self._workspaces.get(workflow_sid)
        if found:
            return found
        taskrouter = self.client.taskrouter.v1
        listed = self._do("list TaskRouter workspaces", taskrouter.workspaces.list, limit=50)
        sids = [str(w.sid) for w in listed]
        if len(sids) > 1:
            for sid in sids:
                fetch = taskrouter.workspaces(sid).workflows(workflow_sid).fetch
                try:
                    self._do("find the workflow", fetch)
                except TwilioError as exc:
                    if exc.status == 404:
                        continue
                    raise
                sids = [sid]
                break
            else:
                sids = []  # none holds it
        if not sids:
            raise TwilioError(404, 20404, f"no TaskRouter workspace holds workflow {workflow_sid}")
        self._workspaces[workflow_sid] = sids[0]
        return sids[0]

    def flex_interaction(self, channel: dict[str, Any], routing: dict[str, Any]) -> dict[str, Any]:
        """Create a Flex Interaction (and its TaskRouter task): ``POST /v1/Interactions``;
        ``routing.properties.workspace_sid`` is found from the workflow when absent."""
        properties = dict(routing.get("properties") or {})
        if not properties.get("workspace_sid") and properties.get("workflow_sid"):
            properties["workspace_sid"] = self.workspace_of(str(properties["workflow_sid"]))
            routing = {**routing, "properties": properties}
        interactions = self.client.flex_api.v1.interaction
        made = self._do("create a Flex interaction", interactions.create, channel, routing=routing)
        return plain(made)

    def find_message(
        self, *, to: str, from_: str, body: str | None, since: datetime
    ) -> dict[str, Any] | None:
        """The message sent ``to`` from ``from_`` (a number, or a Messaging Service
        ``MG…``) at or after ``since`` (naive or aware UTC) whose body is ``body`` (None:
        any), as Twilio's JSON names; None when Twilio has none. The Messages list,
        filtered by To, From and DateSent (the whole day: Twilio compares dates), then
        here by body, sender and creation time."""
        since = _utc(since) - LOOKUP_SLACK
        kwargs: dict[str, Any] = {"to": to, "date_sent_after": since, "limit": 50}
        if from_ and not from_.startswith("MG"):
            kwargs["from_"] = from_
        for item in self._do("look up messages", self.client.messages.list, **kwargs):
            data = resource(item)
            if from_.startswith("MG") and data.get("MessagingServiceSid") not in (None, from_):
                continue
            if body is not None and str(data.get("Body") or "") != body:
                continue
            if not _since(item, since):
                continue
            return data
        return None

    def find_conversation_message(
        self, conversation_sid: str, *, author: str, body: str, since: datetime
    ) -> dict[str, Any] | None:
        """The message ``author`` posted in the Conversation at or after ``since`` whose
        body is ``body`` (as :meth:`conversation_message` answers it); None when there is
        none. The Conversation's latest 50 messages, newest first, matched here."""
        since = _utc(since) - LOOKUP_SLACK
        messages = self.client.conversations.v1.conversations(conversation_sid).messages
        listed = self._do("look up conversation messages", messages.list, order="desc", limit=50)
        for item in listed:
            data = plain(item)
            if str(data.get("author") or "") != author or str(data.get("body") or "") != body:
                continue
            if _since(item, since):
                return resource(item)
        return None

    def find_call(self, *, to: str, from_: str, since: datetime) -> dict[str, Any] | None:
        """The call placed ``to`` from ``from_`` at or after ``since``, or None (the
        Calls list by To and From, newest first; creation time checked here: a call
        still queued has no StartTime to filter on)."""
        since = _utc(since) - LOOKUP_SLACK
        for item in self._do("look up calls", self.client.calls.list, to=to, from_=from_, limit=50):
            if _since(item, since):
                return resource(item)
        return None

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str | None,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        names = {
            "Timeout": "timeout",
            "Record": "record",
            "RecordingChannels": "recording_channels",
            "RecordingStatusCallback": "recording_status_callback",
            "Trim": "trim",
            "MachineDetection": "machine_detection",
            "MachineDetectionTimeout": "machine_detection_timeout",
            "MachineDetectionSpeechThreshold": "machine_detection_speech_threshold",
            "MachineDetectionSpeechEndThreshold": "machine_detection_speech_end_threshold",
            "MachineDetectionSilenceTimeout": "machine_detection_silence_timeout",
            "SendDigits": "send_digits",
            "SipAuthUsername": "sip_auth_username",
            "SipAuthPassword": "sip_auth_password",
            "StatusCallbackEvent": "status_callback_event",
        }
        kwargs: dict[str, Any] = {"to": to, "from_": from_, "url": url, "method": "POST"}
        for key, value in options.items():
            if key in names and value is not None:
                kwargs[names[key]] = value
        if status_callback:
            kwargs["status_callback"] = status_callback
            kwargs["status_callback_method"] = "POST"
        else:
            kwargs.pop("status_callback_event", None)
        return resource(self._do("place a call", self.client.calls.create, **kwargs))

    def start_recording(self, call_sid: str, options: dict[str, Any]) -> dict[str, Any]:
        names = {
            "RecordingStatusCallback": "recording_status_callback",
            "RecordingStatusCallbackMethod": "recording_status_callback_method",
            "RecordingStatusCallbackEvent": "recording_status_callback_event",
            "RecordingChannels": "recording_channels",
            "Trim": "trim",
        }
        kwargs = {names[k]: v for k, v in options.items() if k in names and v is not None}
        recordings = self.client.calls(call_sid).recordings
        return resource(self._do("start a recording", recordings.create, **kwargs))

    def stop_recording(self, call_sid: str) -> dict[str, Any]:
        current = self.client.calls(call_sid).recordings("Twilio.CURRENT")
        return resource(self._do("stop a recording", current.update, status="stopped"))

    def hang_up(self, call_sid: str) -> None:
        self._do("hang up", self.client.calls(call_sid).update, status="completed")
