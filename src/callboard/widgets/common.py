"""Helpers shared by several widget modules (not a widget)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from callboard.contract.io import CONVERSATION_AUTHOR, SendMessage
from callboard.contract.widget import Run
from callboard.flow.liquid import to_text

__all__ = ["conversation_sid", "key_value_items", "key_values", "message_effect"]


def key_value_items(run: Run, name: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(index, key, item)`` for each ``{key, value}`` item of a ``[{key, value}]``
    property that has a key (anything else in the list is skipped)."""
    items: Any = run.prop(name) or []
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        if key is None or key == "":
            continue
        yield i, str(key), item


def key_values(run: Run, name: str) -> dict[str, str]:
    """Render a ``[{key, value}]`` property into a dict (Liquid in values only)."""
    out: dict[str, str] = {}
    for i, key, item in key_value_items(run, name):
        value = item.get("value")
        text = to_text(value)  # a number, true/false, or JSON for an object: never a repr
        out[key] = run.render_text(text, f"properties.{name}.{i}.value")
    return out


def conversation_sid(run: Run) -> str:
    """The Conversation of a conversation execution (``flow.channel.ConversationSid``:
    an ``incomingConversationMessage`` trigger, Start / Resume Conversation), else ""."""
    channel = run.context.get("flow", {}).get("channel", {})
    return str(channel.get("ConversationSid") or "") if isinstance(channel, dict) else ""


def message_effect(run: Run, token: str, to: str) -> SendMessage:
    """The SendMessage effect for Send Message / Send & Wait For Reply properties; in a
    conversation execution the message is posted to the Conversation."""
    media = run.render("media_url").strip()
    conversation = conversation_sid(run)
    from_ = run.render("from")
    author = CONVERSATION_AUTHOR if conversation else ""
    return SendMessage(
        token=token,
        to=to,
        from_=from_,
        body=run.render("body"),
        media_urls=tuple(u.strip() for u in media.split(",") if u.strip()) if media else (),
        service=run.render("service"),
        channel=run.render("channel"),
        attributes=run.render("attributes"),
        message_type=str(run.prop("message_type") or ""),
        content_sid=run.render("content_sid"),
        content_variables=key_values(run, "content_variables"),
        shorten_urls=bool(run.prop("shorten_urls")),
        conversation_sid=conversation,
        author=author,
    )
