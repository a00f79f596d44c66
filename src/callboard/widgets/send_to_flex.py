"""Send to Flex: hand the call to a Flex (TaskRouter) workflow.

Voice: ``<Enqueue workflowSid="WW..." action="?...&Callback=enqueue" method="POST"
waitUrl waitUrlMethod><Task priority timeout>attributes</Task></Enqueue>``. Empty
``attributes`` use Studio's voice default ``{"type":"inbound","name":"<caller>"}``. The
TaskChannel (``channel``) cannot be expressed in ``<Enqueue>`` TwiML (voice tasks use the
voice channel), so it is only validated, not sent.

Events (from the Enqueue action's ``QueueResult``, as Enqueue Call): ``callComplete``
("Task Created"), ``failedToEnqueue`` (``queue-full``), ``callFailure``
(``system-error``). Variables: the action parameters and call parameters.

Message and conversation executions: a Flex Interaction (with its TaskRouter task) is
created through Flex's Interactions API (:class:`~callboard.contract.io.CreateFlexTask`;
the simulator channel records it). Its ``channel`` is the conversation
(``properties.media_channel_sid``) or, for a message execution, the contact and the
flow's address as its participant; ``routing.properties`` holds ``workflow_sid``,
``task_channel_sid`` / ``task_channel_unique_name`` (the widget's ``channel``),
``attributes`` (default: Studio's chat template), ``priority`` and ``timeout``.
``callComplete`` ("Task Created") carries the Interaction's ``sid``, ``channel``,
``routing`` and ``url``. ``failedToEnqueue`` with warning 81015 when the API refuses it
(``ErrorCode``/``ErrorMessage`` kept) or the attributes are not a JSON object. An
execution with no call, message or conversation (REST API) records 81020 and takes
``failedToEnqueue``.
"""

from __future__ import annotations

import json
from typing import Any

from callboard.contract.io import CreateFlexTask, EffectResult, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Wait, Widget
from callboard.widgets.common import conversation_sid
from callboard.widgets.enqueue_call import enqueue_result
from callboard.widgets.voice_common import (
    callback_url,
    has_call,
    int_prop,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "SendToFlex"]

VOICE_ATTRIBUTES = '{"type":"inbound","name":"{{trigger.call.From}}"}'
CHAT_ATTRIBUTES = (
    '{"name":"{{trigger.message.ChannelAttributes.from}}",'
    '"channelType":"{{trigger.message.ChannelAttributes.channel_type}}",'
    '"channelSid":"{{trigger.message.ChannelSid}}"}'
)
CONVERSATION_ATTRIBUTES = (
    '{"name":"{{trigger.conversation.Author}}",'
    '"channelType":"{{trigger.conversation.Source}}",'
    '"conversationSid":"{{flow.channel.ConversationSid}}"}'
)
TASK_FAILED = 81015
SOURCES = {"SMS": "sms", "WHATSAPP": "whatsapp", "MESSENGER": "messenger", "GBM": "gbm"}


class SendToFlex(Widget):
    type = "send-to-flex"
    label = "Send to Flex"
    group = "Connect Other Products"
    description = "Creates a Flex task for the call, message or conversation."
    channel = "any"
    events = (
        EventSpec("callComplete", "Task Created"),
        EventSpec("failedToEnqueue", "Failed To Enqueue"),
        EventSpec("callFailure", "Call Failure"),
    )
    props = (
        OFFSET,
        Prop("workflow", required=True, label="Workflow SID"),
        Prop("channel", required=True, label="Task channel SID"),
        Prop("attributes", editor="textarea", label="Task attributes (JSON)"),
        Prop("priority", default="0", label="Priority"),
        Prop("timeout", default="3600", label="Timeout (seconds)"),
        Prop("waitUrl", label="Hold music TwiML URL"),
        Prop("waitUrlMethod", default="POST", enum=("POST", "GET"), liquid=False, editor="select"),
    )
    variables = ("QueueResult", "QueueSid", "QueueTime", "CallSid")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            if conversation_sid(run) or "message" in run.context.get("trigger", {}):
                return _flex_task(run)
            return no_call(run, "Send to Flex", "failedToEnqueue")
        workflow = text_prop(run, "workflow")
        if not workflow:
            run.warn(81015, "Send to Flex needs a workflow SID")
            return Done("failedToEnqueue", variables={})
        token = run.new_token()
        attributes = run.render("attributes").strip() or run.render_text(
            VOICE_ATTRIBUTES, "properties.attributes"
        )
        wait_url = text_prop(run, "waitUrl")
        response = new_response()
        enqueue = response.enqueue(
            None,
            action=callback_url(run, token, "enqueue"),
            method="POST",
            workflow_sid=workflow,
            wait_url=wait_url,
            wait_url_method=(text_prop(run, "waitUrlMethod") or "POST") if wait_url else None,
        )
        enqueue.task(
            attributes,
            priority=int_prop(run, "priority", 0),
            timeout=int_prop(run, "timeout", 3600),
        )
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        if isinstance(event, EffectResult):  # the Flex task of a messaging execution
            data = dict(event.data)
            if not event.ok:
                run.warn(TASK_FAILED, f"Flex task not created: {data.get('error', 'failed')}")
                return Done("failedToEnqueue", variables=data)
            return Done("callComplete", variables=data)
        return enqueue_result(event)


def _flex_task(run: Run) -> Outcome:
    """A Flex Interaction for a message or conversation execution."""
    workflow = text_prop(run, "workflow")
    if not workflow:
        run.warn(TASK_FAILED, "Send to Flex needs a workflow SID")
        return Done("failedToEnqueue", variables={})
    conversation = conversation_sid(run)
    default = CONVERSATION_ATTRIBUTES if conversation else CHAT_ATTRIBUTES
    text = run.render("attributes").strip() or run.render_text(default, "properties.attributes")
    try:
        attributes = json.loads(text)
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        run.warn(TASK_FAILED, "Send to Flex attributes must be a JSON object")
        return Done("failedToEnqueue", variables={})
    trigger = run.context.get("trigger", {})
    channel: dict[str, Any]
    if conversation:
        source = str((trigger.get("conversation") or {}).get("Source") or "").upper()
        channel = {
            "type": SOURCES.get(source, "web"),
            "initiated_by": "customer",
            "properties": {"media_channel_sid": conversation},
        }
    else:
        contact = str(run.context.get("contact", {}).get("channel", {}).get("address") or "")
        flow_address = str(run.context.get("flow", {}).get("channel", {}).get("address") or "")
        channel = {
            "type": "whatsapp" if contact.startswith("whatsapp:") else "sms",
            "initiated_by": "customer",
            "participants": [{"address": contact, "proxy_address": flow_address}],
        }
    task_channel = text_prop(run, "channel") or "chat"
    key = "task_channel_sid" if task_channel.startswith("TC") else "task_channel_unique_name"
    routing = {
        "properties": {
            "workflow_sid": workflow,
            key: task_channel,
            "attributes": attributes,
            "priority": int_prop(run, "priority", 0),
            "timeout": int_prop(run, "timeout", 3600),
        }
    }
    token = run.new_token()
    return Wait(token, (CreateFlexTask(token, channel, routing),))


WIDGET = SendToFlex()
