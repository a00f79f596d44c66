"""Send to Flex: hand the call to a Flex (TaskRouter) workflow.

Voice: ``<Enqueue workflowSid="WW..." action="?...&Callback=enqueue" method="POST"
waitUrl waitUrlMethod><Task priority timeout>attributes</Task></Enqueue>``. Empty
``attributes`` use Studio's voice default ``{"type":"inbound","name":"<caller>"}``. The
TaskChannel (``channel``) cannot be expressed in ``<Enqueue>`` TwiML (voice tasks use the
voice channel), so it is only validated, not sent.

Events (from the Enqueue action's ``QueueResult``, as Enqueue Call): ``callComplete``
("Task Created"), ``failedToEnqueue`` (``queue-full``), ``callFailure``
(``system-error``). Variables: the action parameters and call parameters.

Messaging and conversation executions: Callboard does not create Flex tasks for messages
(that needs Twilio's TaskRouter and Flex Interactions APIs), so the widget records warning
81020 and takes ``failedToEnqueue``; the same happens for an execution without a call.
"""

from __future__ import annotations

from callboard.contract.io import Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
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


class SendToFlex(Widget):
    type = "send-to-flex"
    label = "Send to Flex"
    group = "Connect Other Products"
    description = "Creates a Flex task for the call through a TaskRouter workflow."
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
        return enqueue_result(event)


WIDGET = SendToFlex()
