"""Connections that cannot hold the server hostage: every wait on the client is bounded, and so is their number.

uvicorn closes a connection idle between requests (keep-alive, KEEP_ALIVE_S), but not one that sent
part of its headers and stopped, nor one that trickles a body: a few hundred of those are free to
open and would pile up forever. This protocol (uvicorn's h11 one, plus timers) closes a connection
- whose request headers are not complete HEADERS_S after its first byte (or after it opened),
  however slowly they keep coming;
- whose request body has sent nothing for BODY_IDLE_S;
and, when MAX_CONNECTIONS are open, makes room for a new one by closing the one that has waited
longest for its client's headers (a connection being answered is never closed for another).
"""
from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_S = 10.0
BODY_IDLE_S = 30.0
KEEP_ALIVE_S = 5
MAX_CONNECTIONS = 512  # well under the usual limit of 1,024 open files, which the store and photos share
MAX_HEADER_BYTES = 16 * 1024  # h11's limit on an incomplete request head


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with bounded waits on the client (pass the class as uvicorn's `http`)."""

    headers_s = HEADERS_S
    body_idle_s = BODY_IDLE_S
    max_connections = MAX_CONNECTIONS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._headers_due: float | None = None
        self.idle_since: float | None = self.loop.time()  # waiting on the client for a request head since
        self._wait_headers()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request head, not yet complete (or the next one)
            self._wait_headers()
            return
        self._headers_due = self.idle_since = None
        if self.conn.their_state is h11.SEND_BODY:
            self._arm(self.loop.time() + self.body_idle_s)
        else:  # the request is in: the answer is the app's to give, not a wait on the client
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # uvicorn's keep-alive timer closes the connection if nothing comes
        if self.conn.their_state is h11.IDLE:
            self.idle_since = self.loop.time()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _waiting_on_client(self) -> bool:
        """Whether nothing of ours is under way: no request head complete, or a body stalled."""
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and (self.cycle is None or self.cycle.response_complete))

    def _wait_headers(self) -> None:
        if self._headers_due is None:
            self._headers_due = self.loop.time() + self.headers_s
        self._arm(self._headers_due)

    def _arm(self, when: float) -> None:
        self._disarm()
        self._timer = self.loop.call_at(when, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._waiting_on_client() and not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request head (this one, if none has)."""
        idle = [c for c in self.connections if isinstance(c, GuardedH11) and c.idle_since is not None
                and c.conn.their_state is h11.IDLE and c._waiting_on_client() and not c.transport.is_closing()]
        victim = min(idle, key=lambda c: c.idle_since, default=self)
        victim.idle_since = None
        victim.transport.close()
