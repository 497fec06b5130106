"""What ``pas rebalance`` shows while it waits for fills, and says when interrupted.

On a terminal a spinner on stderr shows the run's orders (sent, settled, open) after
every poll; under cron, in a pipe or with ``--json`` nothing is shown. Ctrl-C stops the
command with one line saying where the run stands and which command settles it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

    from pas.portfolio.trading.progress import RunProgress
    from pas.store import Store


class WaitDisplay:
    """Receives the run's progress; updates the spinner when there is one."""

    def __init__(self, status: Status | None) -> None:
        self.status = status
        self.last: RunProgress | None = None

    def update(self, progress: RunProgress) -> None:
        """The ``progress`` callback of :func:`pas.portfolio.trading.run.run_rebalance`."""
        self.last = progress
        if self.status is not None:
            self.status.update(spinner_text(progress))


def spinner_text(p: RunProgress) -> str:
    """``waiting for fills: 3 order(s) sent: 1 settled, 2 open``."""
    return f"waiting for fills: {p.sent} order(s) sent: {p.settled} settled, {p.open} open"


@contextmanager
def wait_display(as_json: bool, console: Console | None = None) -> Iterator[WaitDisplay]:
    """A spinner on ``console`` (default: stderr) when it is a terminal and not ``--json``."""
    from rich.console import Console

    out = console or Console(stderr=True)
    if as_json or not out.is_terminal:
        yield WaitDisplay(None)
        return
    with out.status("sending orders…") as status:
        yield WaitDisplay(status)


def interrupted_message(store: Store, display: WaitDisplay, run_id: str) -> str:
    """One line for Ctrl-C: the state of the run it interrupted and how to settle it.

    Args:
        run_id: the id a new run would have had (used when neither a poll nor an
            unfinished run names the run).
    """
    from pas.portfolio.trading.progress import run_progress

    if display.last is not None:
        run_id = display.last.run_id
    else:
        unfinished = store.unfinished_trade_run()
        run_id = run_id if unfinished is None else unfinished.run_id
    p = run_progress(store, run_id)
    if p.unsent + p.sent + p.failed + p.unknown == 0:
        return "interrupted before any order was stored: nothing was sent"
    doubt = f", {p.unknown} with an unknown fate" if p.unknown else ""
    return (
        f"interrupted: trading run {run_id} is unfinished: {p.sent} order(s) sent ({p.settled} "
        f"settled, {p.open} open at the broker), {p.unsent} not sent or not confirmed{doubt}; "
        "`pas sync` records the fills of open orders and `pas rebalance` looks up what was in "
        "flight and plans the rest afresh (nothing is sent twice)"
    )
