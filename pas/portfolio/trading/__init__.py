"""Trading runs: plan, check, persist, submit, wait, record; plus sync and reconcile.

Crash safety rests on three facts:

1. A run and its netted orders are stored before any order is sent, and each order is
   marked ``sending`` before its request. A run that did not finish sending is resumed by
   the next ``pas rebalance`` instead of a new plan.
2. Client order ids are deterministic (run, portfolio or netting tag, symbol), and an
   order marked ``sending`` — or whose submit raised — is looked up by its client order id
   before anything is sent, so no order goes out twice.
3. Ledger fills have deterministic ids (``<broker fill id>/<portfolio>``), so recording a
   fill again is a no-op; ``pas sync`` picks up whatever a run did not wait for.

Only one trading run at a time holds the ``trading`` lock; the lock of a process that
died on this host is taken over at once (a dead holder on another host waits for its
time-to-live).

Modules by stage: :mod:`.lock` (one trading run at a time), :mod:`.plan` (targets and
money to planned orders), :mod:`.limits` (pre-trade checks), :mod:`.run` (persist, submit,
wait), :mod:`.settle` (broker fills to ledger fills), :mod:`.sync` (fills that arrived
later) and :mod:`.reconcile` (ledgers against the broker's positions).
"""
