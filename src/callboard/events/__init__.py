"""Event Streams: recording execution events, sinks and subscriptions, delivering the
events to the sinks (see docs/events.md)."""
