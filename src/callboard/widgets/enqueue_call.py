"""Enqueue Call: put the caller in a queue, or hand the call to a TaskRouter workflow.

TwiML: ``<Enqueue action="?...&Callback=enqueue" method="POST" waitUrl
waitUrlMethod>queue_name</Enqueue>``, or with ``workflow_sid``:
``<Enqueue workflowSid="WW..." ...><Task priority timeout>task_attributes</Task></Enqueue>``.

Events (from the Enqueue action's ``QueueResult``): ``callComplete`` (``bridged``,
``redirected``, ``hangup``, ``leave`` or anything else: the action URL was requested),
``failedToEnqueue`` (``queue-full``), ``callFailure`` (``system-error``).
Variables: the action parameters (``QueueResult``, ``QueueSid``, ``QueueTime``...) and call
parameters. No call: warning 81020 and ``failedToEnqueue``; neither a queue name nor a
workflow: warning 81015 and ``failedToEnqueue``.
"""

from __future__ import annotations

from callboard.contract.io import CallEvent, Event
from callboard.contract.widget import OFFSET, Done, EventSpec, Outcome, Prop, Run, Widget
from callboard.widgets.voice_common import (
    call_params,
    callback_url,
    has_call,
    int_prop,
    new_response,
    no_call,
    respond,
    text_prop,
)

__all__ = ["WIDGET", "EnqueueCall", "enqueue_result"]

QUEUE_EVENTS = {"queue-full": "failedToEnqueue", "system-error": "callFailure"}


def queue_event(params: dict[str, object]) -> str:
    """The event for an Enqueue action's ``QueueResult``."""
    return QUEUE_EVENTS.get(str(params.get("QueueResult") or ""), "callComplete")


def enqueue_result(event: Event) -> Done | None:
    """The outcome of the ``<Enqueue>`` action call-back (Enqueue Call, Send to Flex)."""
    if isinstance(event, CallEvent) and event.name == "enqueue":
        variables = call_params(event.params)
        return Done(queue_event(variables), variables=variables)
    return None


class EnqueueCall(Widget):
    type = "enqueue-call"
    label = "Enqueue Call"
    group = "Voice"
    description = "Places the caller in a queue or sends the call to a TaskRouter workflow."
    channel = "voice"
    events = (
        EventSpec("callComplete", "Call Complete"),
        EventSpec("failedToEnqueue", "Failed to Enqueue"),
        EventSpec("callFailure", "Call Failure"),
    )
    props = (
        OFFSET,
        Prop("queue_name", label="Queue name", help="At most 64 characters; created on demand."),
        Prop("workflow_sid", label="TaskRouter workflow SID"),
        Prop("task_attributes", editor="textarea", label="Task attributes (JSON)"),
        Prop("priority", kind="integer", editor="number", label="Task priority"),
        Prop("timeout", kind="integer", editor="number", label="Task timeout"),
        Prop("wait_url", label="Hold music TwiML URL"),
        Prop(
            "wait_url_method",
            default="POST",
            enum=("POST", "GET"),
            liquid=False,
            editor="select",
        ),
    )
    variables = ("QueueResult", "QueueSid", "QueueTime", "CallSid", "CallStatus")

    def start(self, run: Run) -> Outcome:
        if not has_call(run):
            return no_call(run, "Enqueue Call", "failedToEnqueue")
        token = run.new_token()
        workflow = text_prop(run, "workflow_sid")
        queue = run.render("queue_name").strip()
        if not workflow and not queue:
            run.warn(81015, "Enqueue Call needs a queue name or a TaskRouter workflow SID")
            return Done("failedToEnqueue", variables={})
        wait_url = text_prop(run, "wait_url")
        response = new_response()
        enqueue = response.enqueue(
            None if workflow else queue,
            action=callback_url(run, token, "enqueue"),
            method="POST",
            wait_url=wait_url,
            wait_url_method=(text_prop(run, "wait_url_method") or "POST") if wait_url else None,
            workflow_sid=workflow,
        )
        if workflow:
            enqueue.task(
                run.render("task_attributes").strip() or "{}",
                priority=int_prop(run, "priority"),
                timeout=int_prop(run, "timeout"),
            )
        return respond(response, token)

    def resume(self, run: Run, event: Event) -> Outcome | None:
        return enqueue_result(event)


WIDGET = EnqueueCall()
