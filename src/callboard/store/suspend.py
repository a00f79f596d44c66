"""Synchronous code on the event loop that suspends, instead of blocking, while it waits
for a commit.

Callboard's services are synchronous: a unit of work reads, computes and then waits for
its writes to be committed (:mod:`callboard.store.group_commit`). In a thread-pool thread
that wait blocks the thread. On SQLite the reads are local and take microseconds, so
the hop to a thread — and back, for every request — costs more than the work.
:func:`run_on_loop` runs the same synchronous code on the event loop, in a greenlet: where
it waits for a :class:`Completion` it suspends, the loop serves other requests meanwhile
(whose writes join the same batch), and it resumes when the committer thread completes
it. One copy of the code, two ways of waiting.

Only code whose waits all go through :class:`Completion` or :func:`offload` may run on
the loop: anything else that blocks (a lock held across a commit, a network call) would
block the loop. :func:`current_loop` says where the caller is.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

import anyio.to_thread
import greenlet  # type: ignore[import-untyped]

__all__ = ["Completion", "current_loop", "offload", "run_on_loop"]

T = TypeVar("T")


class _LoopGreenlet(greenlet.greenlet):  # type: ignore[misc]  # greenlet is untyped here
    """A greenlet running synchronous code for a task of ``loop``."""

    def __init__(self, run: Callable[..., Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(run)
        self.loop = loop


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop the caller runs on under :func:`run_on_loop` (its waits
    suspend), else None."""
    current = greenlet.getcurrent()
    return current.loop if isinstance(current, _LoopGreenlet) else None


def _suspend(awaitable: Awaitable[T]) -> T:
    """Hand ``awaitable`` to the task driving this greenlet; its result comes back."""
    current = greenlet.getcurrent()
    return cast(T, current.parent.switch(awaitable))


async def run_on_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on the event loop, in a greenlet of its own (with a copy of the
    caller's context variables): its :class:`Completion` waits and :func:`offload`
    calls suspend it and let the loop run other tasks."""
    child = _LoopGreenlet(fn, asyncio.get_running_loop())
    child.gr_context = contextvars.copy_context()
    step: Any = child.switch(*args)
    while not child.dead:
        try:
            value = await step
        except BaseException as exc:  # cancelled, or the awaitable's error: raised in fn
            step = child.throw(exc)
        else:
            step = child.switch(value)
    return cast(T, step)


def offload(fn: Callable[[], T]) -> T:
    """``fn()``, which may block: under :func:`run_on_loop` in a thread-pool thread (the
    greenlet suspended meanwhile; ``fn`` sees a copy of its context variables),
    otherwise at once."""
    if current_loop() is None:
        return fn()
    context = contextvars.copy_context()  # this greenlet's, not the driving task's
    return _suspend(anyio.to_thread.run_sync(context.run, fn))


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a cancelled waiter
            future.set_result(None)


class Completion:
    """Something one thread sets and another waits for: a thread blocks on it; code
    under :func:`run_on_loop` suspends until it is set. Made by the waiter: in a
    thread, ``event`` is set; on a loop, ``future`` is resolved on ``loop``."""

    __slots__ = ("event", "future", "loop")

    def __init__(self) -> None:
        self.loop = current_loop()
        self.future: asyncio.Future[None] | None = None
        self.event: threading.Event | None = None
        if self.loop is not None:
            self.future = self.loop.create_future()
        else:
            self.event = threading.Event()

    def wait(self) -> None:
        if self.future is not None:
            _suspend(self.future)
        else:
            assert self.event is not None
            self.event.wait()

    def set(self) -> None:
        """From any thread."""
        self.set_all((self,))

    @staticmethod
    def set_all(completions: Iterable[Completion]) -> None:
        """Set every one, waking each event loop once (not once per waiter)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for completion in completions:
            if completion.event is not None:
                completion.event.set()
            elif completion.loop is not None and completion.future is not None:
                by_loop.setdefault(completion.loop, []).append(completion.future)
        for loop, futures in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, futures)
