"""Running pas from cron with nobody watching: the schedule in New York time (``pas tick``),
the run log, abandoned runs, alerts and the installation check (``pas doctor``)."""
