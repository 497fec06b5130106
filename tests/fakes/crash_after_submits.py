"""A test-only entry point: the pas CLI, dying abruptly after the broker accepted N orders.

Usage: ``python tests/fakes/crash_after_submits.py N ARGS...`` runs ``pas ARGS...`` with an
``after_submit`` hook on every trading run that ends the process with
:data:`CRASH_EXIT_CODE` (``os._exit``: no cleanup, as a power cut or ``kill -9``) once N
orders were accepted, so the crash-and-resume tests see what a real crash leaves.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from pas import workflows
from pas.cli import main
from pas.domain.broker import Order
from pas.models import TradeOrder

CRASH_EXIT_CODE = 70


def _crash_after(limit: int) -> Any:
    sent = [0]

    def after_submit(order: TradeOrder, placed: Order) -> None:
        sent[0] += 1
        if sent[0] >= limit:
            os._exit(CRASH_EXIT_CODE)

    return after_submit


def _run() -> None:
    limit, args = int(sys.argv[1]), sys.argv[2:]
    trade = workflows.trade

    def crashing_trade(*positional: Any, **named: Any) -> workflows.Traded:
        return trade(*positional, **named, after_submit=_crash_after(limit))

    workflows.trade = crashing_trade  # type: ignore[assignment]  # the commands look it up per call
    sys.argv = ["pas", *args]
    main()


if __name__ == "__main__":
    _run()
