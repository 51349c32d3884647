"""Login rate limiting: a few wrong passwords per account and per address, then a pause.

In memory, per process: the server is one process (``serve``); a restart forgets the count,
which an attacker cannot cause from outside. Why both keys: per account stops guessing one
password from many addresses, per address stops trying many accounts from one.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    def __init__(
        self,
        account_limit: int = ACCOUNT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._limits = {"account": account_limit, "address": address_limit}
        self._window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before another try is heard; 0 when one may try now."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in (("account", username), ("address", address)):
                failures = self._recent(key, now)
                if len(failures) >= self._limits[key[0]]:
                    wait = max(wait, failures[0] + self._window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("account", username), ("address", address)):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("account", username), None)
