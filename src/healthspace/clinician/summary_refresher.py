"""Rebuild a person's cached summary in the background after their record changes.

Why: the summary is cached sealed per person and any change to the record drops the cache
(``summary_service``), so the first summary after an import paid for reading the whole record
(about 0.6 s at 20,000 resources). The running app (``serve``) rebuilds it on one background
thread right after each import, so a clinician opening the patient next finds it ready. The
rebuild is an audited read under ``REFRESH_ACTOR``, like any other read of the record.

Only ``serve`` starts one: tests and the command line build summaries when asked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary_service import summarize
from healthspace.errors import HealthspaceError

REFRESH_ACTOR = "healthspace:summary-refresh"
_log = logging.getLogger(__name__)


class SummaryRefresher:
    """One daemon thread; a person already waiting is not queued twice."""

    def __init__(self, hs: Healthspace) -> None:
        self._hs = hs
        self._pending: list[str] = []
        self._condition = threading.Condition()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="summary-refresh", daemon=True)
        self._thread.start()

    def schedule(self, persons: Iterable[str]) -> None:
        with self._condition:
            for person in persons:
                if person not in self._pending:
                    self._pending.append(person)
            self._condition.notify()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once nothing is waiting or running (for benches and tests)."""
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._pending and not self._busy, timeout=timeout
            )

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: bool(self._pending))
                person = self._pending.pop(0)
                self._busy = True
            try:
                summarize(self._hs, REFRESH_ACTOR, person)
            except HealthspaceError as error:  # an erased record, a key gone: nothing to warm
                _log.info("summary of %s not refreshed: %s", person, error)
            except Exception:  # never let one record stop the thread
                _log.exception("summary of %s not refreshed", person)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
