"""The nearest-rank percentile that S3/S4's probe (login_load.py) and S5's HAProxy timers
(haproxy_log.py) report."""


def pct(values, p):
    """The p-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]
