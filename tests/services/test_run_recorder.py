"""The recorder's live text: deltas are coalesced, in order, and complete before each step."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from agentplatform.engine.events import StepEvent
from agentplatform.models import Run
from agentplatform.services.run_events import InProcessNotifier, RunSignal
from agentplatform.services.run_recorder import DELTA_INTERVAL_S, RunRecorder
from tests.services.run_support import add, make_agent, owner


class Recording:
    """A notifier that keeps what was published."""

    def __init__(self) -> None:
        self.signals: list[RunSignal] = []

    async def publish(self, signal: RunSignal) -> None:
        self.signals.append(signal)

    def listening(self, run_id: str, kind: str) -> bool:
        return True  # it is the watcher


async def running_run() -> Run:
    user, _ = await owner()
    agent = await make_agent(user.workspace_id, "a")
    run = Run(workspace_id=user.workspace_id, kind="agent", agent_id=agent, target_name="a",
              input="hi", config={}, status="running")  # fmt: skip
    await add(run)
    return run


async def recorder() -> tuple[RunRecorder, Recording]:
    run = await running_run()
    notifier = Recording()
    return RunRecorder(run.id, notifier), notifier  # type: ignore[arg-type]


async def test_a_fast_stream_is_sent_in_few_signals_in_order_before_its_step() -> None:
    sink, notifier = await recorder()
    words = [f"w{i} " for i in range(200)]
    for word in words:
        sink.text("a1", "A1", word)
    await sink(StepEvent(agent_id="a1", agent_name="A1", kind="message", content="".join(words)))
    await sink.flush()  # the step is committed while the run goes on; then it is signalled

    kinds = [s.kind for s in notifier.signals]
    assert kinds[-1] == "step" and set(kinds[:-1]) == {"delta"}
    assert len(kinds) - 1 < 10  # 200 deltas, a handful of signals
    assert "".join(s.text or "" for s in notifier.signals[:-1]) == "".join(words)


async def test_text_is_sent_after_a_pause_without_a_step() -> None:
    sink, notifier = await recorder()
    sink.text("a1", "A1", "Hel")
    await asyncio.sleep(DELTA_INTERVAL_S * 4)
    assert [(s.agent_id, s.text) for s in notifier.signals] == [("a1", "Hel")]
    sink.text("a1", "A1", "lo")
    sink.text("a2", "A2", "!")  # another member of a parallel team
    await asyncio.sleep(DELTA_INTERVAL_S * 4)
    texts = [(s.agent_id, s.text) for s in notifier.signals]
    assert texts == [("a1", "Hel"), ("a1", "lo"), ("a2", "!")]
    await sink.flush()
    assert len(notifier.signals) == 3


async def test_a_steady_stream_is_signalled_at_most_once_per_interval() -> None:
    sink, notifier = await recorder()
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = []
    while loop.time() - started < DELTA_INTERVAL_S * 8:
        sent.append(f"t{len(sent)} ")
        sink.text("a1", "A1", sent[-1])
        await asyncio.sleep(0.002)
    await sink.flush()
    elapsed = loop.time() - started
    assert 2 <= len(notifier.signals) <= elapsed / DELTA_INTERVAL_S + 2
    assert "".join(s.text or "" for s in notifier.signals) == "".join(sent)


async def test_a_step_that_cannot_be_written_is_reported_once_not_lost_silently() -> None:
    """Steps commit while the run goes on; a failed one surfaces at the next write (the run
    fails there) or, if it was the last, at the flush before the outcome is written (here:
    the steps' run does not exist)."""
    sink = RunRecorder(uuid.uuid4(), Recording())  # type: ignore[arg-type]
    assert await sink.write(kind="message", content="first") == 1
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await sink.write(kind="message", content="second")
    assert await sink.flush() is None  # already reported to the run

    last = RunRecorder(uuid.uuid4(), Recording())  # type: ignore[arg-type]
    await last.write(kind="message", content="only")
    assert "foreign key" in str(await last.flush()).lower()


async def test_text_no_one_watches_is_not_signalled_and_a_watcher_gets_it_from_joining() -> None:
    """Live text goes only to watchers: a run nobody streams signals its steps alone, and a
    watcher who subscribes mid-message gets the text from then on, then the step in full."""
    run = await running_run()
    notifier = InProcessNotifier()
    sink = RunRecorder(run.id, notifier)
    async with notifier.subscribe(str(run.id), kinds=("cancel",)):  # the executor's watcher
        sink.text("a1", "A1", "unseen ")
        await asyncio.sleep(DELTA_INTERVAL_S * 3)
        async with notifier.subscribe(str(run.id)) as watcher:
            sink.text("a1", "A1", "seen")
            await sink(StepEvent(agent_id="a1", agent_name="A1", kind="message",
                                 content="unseen seen"))  # fmt: skip
            await sink.flush()
            received = []
            while (signal := await watcher.next(0.05)) is not None:
                received.append(signal)
    assert [(s.kind, s.text) for s in received] == [("delta", "seen"), ("step", None)]
    assert received[1].seq == 1


async def test_text_after_a_step_still_committing_is_signalled_after_that_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A parallel team: one member's message is still committing (a slow database) when
    another member streams text. The watcher gets the step first, then the later text."""
    from agentplatform.services import run_recorder

    real = run_recorder.run_writes()

    class SlowWrites:
        async def write(self, statement, row):  # type: ignore[no-untyped-def]
            await asyncio.sleep(DELTA_INTERVAL_S * 4)
            return await real.write(statement, row)

    monkeypatch.setattr(run_recorder, "run_writes", SlowWrites)
    sink, notifier = await recorder()
    await sink(StepEvent(agent_id="a1", agent_name="A1", kind="message", content="first"))
    sink.text("a2", "A2", "later")
    await asyncio.sleep(DELTA_INTERVAL_S * 2)  # the text's signal is due while the step commits
    await sink.flush()
    assert [(s.kind, s.seq, s.text) for s in notifier.signals] == [
        ("step", 1, None),
        ("delta", None, "later"),
    ]
