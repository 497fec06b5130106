"""Stage 3 of the allocation: the bounds, by projection onto the capped simplex."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pas.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


def check_bounds(n: int, lo: float, hi: float) -> None:
    """Refuses bounds that ``n`` portfolios cannot meet.

    Raises:
        InputError: ``n × lo > 1`` or ``n × hi < 1``; the message names the setting.
    """
    if n * lo > 1.0 + 1e-12:
        raise InputError(
            f"MIN_ALLOCATION {lo:g} × {n} portfolios = {n * lo:g} is more than 1; "
            f"lower MIN_ALLOCATION to at most {1 / n:.6g}"
        )
    if n * hi < 1.0 - 1e-12:
        raise InputError(
            f"MAX_ALLOCATION {hi:g} × {n} portfolios = {n * hi:g} is less than 1; "
            f"raise MAX_ALLOCATION to at least {1 / n:.6g}"
        )


def project_capped_simplex(v: Array, lo: float, hi: float) -> Array:
    """The Euclidean projection of ``v`` onto ``{w : Σw = 1, lo ≤ w_i ≤ hi}``.

    The projection is ``w_i = clip(v_i − τ, lo, hi)`` for the shift ``τ`` at which the
    sum is 1; the sum is non-increasing in ``τ``, so ``τ`` is found by bisection to machine
    precision. A last step moves the remaining rounding error onto weights with room,
    so the bounds hold exactly and the sum is 1 to within a few ulps.

    Raises:
        InputError: the bounds cannot be met (see :func:`check_bounds`).
    """
    import numpy as np

    n = len(v)
    check_bounds(n, lo, hi)
    t_low = float(np.min(v)) - hi  # every weight at hi: sum n·hi ≥ 1
    t_high = float(np.max(v)) - lo  # every weight at lo: sum n·lo ≤ 1
    for _ in range(200):
        mid = 0.5 * (t_low + t_high)
        if mid in (t_low, t_high):
            break
        if float(np.clip(v - mid, lo, hi).sum()) > 1.0:
            t_low = mid
        else:
            t_high = mid
    w: Array = np.clip(v - 0.5 * (t_low + t_high), lo, hi)
    for _ in range(3):
        gap = 1.0 - math.fsum(w.tolist())
        if gap == 0.0:
            break
        room = (hi - w) if gap > 0 else (w - lo)
        order = np.argsort(-room, kind="stable")
        for i in order:
            step = min(abs(gap), float(room[i]))
            if step <= 0.0:
                break
            w[i] = min(hi, max(lo, w[i] + math.copysign(step, gap)))
            gap = 1.0 - math.fsum(w.tolist())
            if gap == 0.0:
                break
    return w
