"""The sender stage: a claimed entry goes to the client, and the policy's outcome is applied.

One ``step()`` claims at most one ready entry and returns how long to wait before the next step; the
worker's sender thread calls it in a loop, and a test calls it directly with a fake clock. Pacing lives
here as state: the 429 pause and the circuit breaker for the whole sender, and per account (one handler
may send for many Sendcloud accounts through ``credentials``) a send window (rate limit) and the time its refused
credentials may be tried again. A half-open circuit's probe is the next log's own POST, so the circuit
closes exactly when POSTs work again (a GET of the list endpoint could fail while POSTs pass). Why an
attempt failed, and what follows from it, is ``policy.py``'s.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from .._diagnostics import logger, report
from .._types import Payload
from .outbox import Entry, Leftovers, Outbox
from .pacing import CircuitBreaker, Pause, SendWindow
from .policy import Action, DeliveryPolicy, Outcome
from .stats import Stats
from .summary import with_summary

#: Seconds before the sender tries a failing spool (locked, broken, full disk) again.
STORE_RETRY = 0.2


class Client(Protocol):
    """The part of ``SendcloudClient`` the sender uses."""

    def create_log(self, integration_id: Any, payload: Payload, *, timeout: Optional[float] = None) -> Any: ...

    def close(self) -> None: ...


#: The account (key pair) an integration's logs are sent with, when one handler sends for many accounts.
AccountOf = Callable[[Any], Hashable]


@dataclass
class AccountState:
    """What the sender keeps per account: its send window (rate limit) and until when its credentials are refused."""

    window: Optional[SendWindow]
    refused_until: float = 0.0

    def delay(self) -> float:
        """Seconds until the account may POST again under the rate limit."""
        return self.window.delay() if self.window is not None else 0.0

    def refused_for(self, now: float) -> float:
        """Seconds its refused credentials still wait before they are tried again."""
        return max(0.0, self.refused_until - now)


class Sender:
    """Delivers outbox entries through a client made by ``client_factory`` (once, on first use).

    ``clock`` is monotonic: pauses, cooldowns, send windows, refusals and the close deadline all read it.
    """

    def __init__(
        self,
        client_factory: Callable[[], Client],
        outbox: Outbox,
        stats: Stats,
        policy: DeliveryPolicy,
        *,
        account_of: Optional[AccountOf] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._client: Optional[Client] = None
        self._outbox = outbox
        self._stats = stats
        self._policy = policy
        self._account_of = account_of
        self._clock = clock
        self._pause = Pause(policy.pause_base, policy.pause_cap, clock)
        self._breaker = CircuitBreaker(policy.breaker_threshold, policy.breaker_cooldown, policy.pause_cap, clock)
        self._accounts: dict[Hashable, AccountState] = {}
        self._unknown_integrations: set[Any] = set()
        self._deadline: Optional[float] = None
        self._finished = False
        self._auth_reported = False
        self._trouble = False
        #: The last failure, for the line that reports logs left at close.
        self.last_error = ""

    def step(self) -> Optional[float]:
        """Deliver at most one ready entry; seconds to wait before the next step (None: until woken)."""
        self._trouble = False
        wait = self._gate()
        if wait > 0:
            return wait
        entry = self._call(self._outbox.claim)
        self._count_expired()
        if entry is None:
            return STORE_RETRY if self._trouble else self._idle()
        try:
            self._deliver(entry)
        except Exception as exc:  # noqa: BLE001  # one bad entry never kills the thread; it is counted
            logger.debug("unexpected error delivering a log", exc_info=True)
            self._call(self._outbox.done, entry)
            self._stats.drop("payload_error", detail=f"{type(exc).__name__}: {exc}")
        return STORE_RETRY if self._trouble else 0.0

    def pending(self) -> int:
        """Entries still to send, not counting held summaries (what ``flush()`` waits for)."""
        try:
            return self._outbox.unsettled()
        except Exception:  # noqa: BLE001  # a broken spool must not hang flush()
            logger.debug("could not count the outbox", exc_info=True)
            return 0

    def records(self) -> int:
        """Log records behind the entries still to send, held summaries included (for the line at exit)."""
        return int(self._call(self._outbox.records) or 0)

    def closing(self, deadline: float) -> None:
        """From now on no request may outlive ``deadline`` (in this sender's clock)."""
        self._deadline = deadline

    def finish(self, unprocessed: int, timeout: float, *, release: bool, why: Optional[str] = None) -> tuple[int, int]:
        """At close: count and report what is left; ``(left, kept)``, kept being what stays in a spool.

        ``unprocessed``: records that never reached the outbox. ``why``: what ended the delivery, for the
        stderr line (default: the timeout passed). ``release``: the threads are gone, so the
        client and the outbox may be closed. A 201 arriving later is not counted as sent any more: its log is
        counted here.
        """
        self._finished = True
        leftovers = self._call(self._outbox.close_out) or Leftovers(lost=0, kept=0)
        left = unprocessed + leftovers.lost
        if why is None:  # the deadline passed; anything else (Ctrl-C) is said as it is
            why = f"shutdown_timeout of {timeout:g} s passed"
            if self.last_error:
                why += f"; last error: {self.last_error}"
        if left:
            report(f"{left} log(s) were not delivered: {why}")
            self._stats.add("summarised", -leftovers.folded)  # a record counts once: dropped, not summarised
            self._stats.drop("shutdown", left, detail=why, reported=True)
        if leftovers.kept:
            report(f"{leftovers.kept} log(s) stay in the spool and will be sent by the next process using it")
        self._stats.say_unsaid()  # the drops since the logger's last line about each reason
        if release:
            client, self._client = self._client, None
            if client is not None:
                client.close()
            self._outbox.close()
        return left, leftovers.kept

    def _gate(self) -> float:
        """Seconds before anything may be sent: 429 pause, open circuit, and the single account's limits."""
        waits = [self._pause.remaining(), self._breaker.remaining()]
        if self._account_of is None:  # one account: its window and refusal hold every entry alike
            account = self._account(None)
            waits.append(account.delay())
            if self._policy.hold_on_auth_failure:
                waits.append(account.refused_for(self._clock()))
        return max(waits)

    def _deliver(self, entry: Entry) -> None:
        account = self._account(entry.integration_id)
        if entry.integration_id in self._unknown_integrations:
            self._apply(entry, account, self._policy.while_unknown())
            return
        refused = account.refused_for(self._clock())
        if refused > 0:
            outcome = self._policy.while_refused()
            if outcome is None:
                self._defer(entry, refused)
            else:
                self._apply(entry, account, outcome)
            return
        # An open circuit whose cooldown is over (``_gate`` held us until then) is half-open: this entry's
        # POST is the probe. Its answer closes the circuit or opens it again (``_apply``).
        wait = account.delay()
        if wait > 0:  # this account is at its limit: other accounts' entries go first
            self._defer(entry, wait)
            return
        if account.window is not None:
            account.window.take()
        payload = with_summary(
            entry.latest_payload(), entry.more, entry.first or entry.created, entry.last or entry.created
        )
        error: Optional[BaseException] = None
        try:
            self._get_client().create_log(entry.integration_id, payload, timeout=self._request_timeout())
        except Exception as exc:  # noqa: BLE001  # every failure goes to the policy, which names its outcome
            error = exc
        self._apply(entry, account, self._policy.outcome_for(error, entry.attempts))

    def _apply(self, entry: Entry, account: AccountState, outcome: Outcome) -> None:
        if outcome.account_wait:
            account.refused_until = self._clock() + outcome.account_wait
        if outcome.forget_integration:
            self._unknown_integrations.add(entry.integration_id)
        if outcome.action is Action.SENT:
            self._call(self._outbox.done, entry)
            self._breaker.succeeded()
            self._pause.succeeded()
            if not self._finished:
                self._stats.add("sent")
                if entry.more:
                    self._stats.add("summaries_sent")
            return
        if outcome.outage:
            self.last_error = outcome.detail
            self._breaker.failed()
            if self._breaker.is_open:  # an outage costs no attempt: the entry waits for the probe
                self._defer(entry, 0.0)
                return
        elif outcome.action is not Action.PAUSE:  # any other answer means the API is up: the circuit closes
            self._breaker.succeeded()
        if outcome.action is Action.RETRY:
            self._stats.add("retried")
            self._call(self._outbox.retry, entry, outcome.delay or 0.0)
        elif outcome.action is Action.PAUSE:
            seconds = self._pause.pause(outcome.delay)
            self.last_error = f"{outcome.detail} (pausing {seconds:.1f} s)"
            self._stats.add("retried")
            self._stats.add("rate_limited")
            self._defer(entry, 0.0)
        elif outcome.action is Action.HOLD:
            self._defer(entry, outcome.delay or 0.0)
            if not self._auth_reported:
                self._auth_reported = True
                report(f"the API refused the credentials ({outcome.detail}); spooled logs wait and are retried later")
        else:
            self._call(self._outbox.done, entry)
            detail = outcome.detail
            if outcome.forget_integration:
                detail = f"integration {entry.integration_id}: {detail}"
            if entry.more:  # a summary stands for 1 + more records: each counts once, as dropped
                self._stats.add("summarised", -entry.more)
            self._stats.drop(outcome.reason, 1 + entry.more, detail=detail)
            if outcome.outage:
                self._stats.add("failed")

    def _account(self, integration_id: Any) -> AccountState:
        """The state of the account an integration's entries are sent with (one account without ``account_of``)."""
        key: Hashable = None
        if self._account_of is not None:
            try:
                key = self._account_of(integration_id)
            except Exception:  # noqa: BLE001  # an account that cannot be told is paced on its own
                key = ("integration", integration_id)
        state = self._accounts.get(key)
        if state is None:
            rate = self._policy.rate_limit_per_minute
            window = SendWindow(rate, self._policy.rate_limit_burst, self._clock) if rate else None
            state = self._accounts[key] = AccountState(window)
        return state

    def _defer(self, entry: Entry, delay: float) -> None:
        """Give an entry back at no cost to its attempts (paced, or waiting for the API or its account)."""
        self._call(self._outbox.retry, entry, delay, count_attempt=False)

    def _idle(self) -> Optional[float]:
        ready: Optional[float] = self._call(self._outbox.next_ready)
        poll = self._outbox.idle_poll
        if ready is None:
            return STORE_RETRY if self._trouble else poll
        return ready if poll is None else min(ready, poll)

    def _get_client(self) -> Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Outbox calls may hit disk: a locked or broken spool is logged and tried again later, never fatal."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            logger.warning("spool access failed: %s", exc)
            self.last_error = f"spool: {exc}"
            self._trouble = True
            return None

    def _count_expired(self) -> None:
        n = self._call(self._outbox.expired)
        if n:
            self._stats.drop("expired", n)

    def _request_timeout(self) -> Optional[float]:
        """While closing, no request may outlive the shutdown deadline."""
        if self._deadline is None:
            return None
        return max(0.05, self._deadline - self._clock())

