"""Cases held for a contributor token (DESIGN §5 ⚑): released once their token is there.

A case waits unsealed in the outbox until the node's wallet holds the token of its
(cycle, region). The credential client asks for every region of this and the previous cycle
after random delays; a held case of an older cycle has its token asked for at once (on
demand: the issuer then learns that the State holds a case of that cycle, a known limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from dief.credentials import CredentialClient, TokenWallet, cycles_to_request
from dief.exceptions import DiefError, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from dief.node._node import NationalNode
    from dief.node._outbox import Outbox
    from dief.seams import ContributorCredential

__all__ = ["HeldCases"]

log = logging.getLogger("dief.node")


class HeldCases:
    """Releases the cases *node* holds in *outbox* as tokens reach *wallet* through
    *client*; *notify* tells the relay that released records are waiting."""

    def __init__(  # noqa: PLR0913  public constructor, used outside dief/node
        self,
        node: NationalNode,
        outbox: Outbox,
        wallet: TokenWallet,
        client: CredentialClient,
        *,
        notify: Callable[[], None],
        retry_seconds: float = 5.0,
    ) -> None:
        self._node = node
        self._outbox = outbox
        self._wallet = wallet
        self._client = client
        self._notify = notify
        self._retry_seconds = retry_seconds
        self._asked: set[tuple[str, str]] = set()  # older cycles' tokens asked for

    def __repr__(self) -> str:
        return f"HeldCases(held={self._outbox.held_count})"

    async def on_token(self, _credential: ContributorCredential) -> None:
        """A token arrived: seal and release the cases held for it."""
        try:
            if await self._node.release_held():
                self._notify()
        except StorageError as exc:
            log.error("held cases: outbox unavailable (%s); will retry", exc.message)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)

    async def ask_for_older_cycles(self) -> None:
        """Ask at once for the tokens of held cases of cycles older than the previous one
        (the client asks for this cycle's and the previous one's after random delays)."""
        if self._outbox.held_count == 0:
            return
        recent = set(cycles_to_request(self._client.current_cycle()))
        pairs = {(h.record.cycle, h.record.region) for h in await self._outbox.held()}
        for cycle, region in sorted(pairs - self._asked):
            if cycle not in recent and self._wallet.credential(cycle, region) is None:
                # once per run: the client sends it again until it is answered
                self._asked.add((cycle, region))
                await self._client.request_now(cycle, region)

    async def await_tokens(self, seconds: float) -> int:
        """Run the token exchange until no case is held for a token or *seconds* passed
        (``dief post``); returns how many cases are still held. Requests keep their random
        delays: with delays, held cases are left to ``dief node``. Closes the client."""
        client = self._client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            async with asyncio.timeout(seconds):
                await self.ask_for_older_cycles()
                while self._outbox.held_count and (left := deadline - loop.time()) > 0:
                    await client.step(min(left, 0.5))
        except TimeoutError:
            pass
        except DiefError as exc:
            log.info("contributor tokens not obtained (%s)", exc.message)
        finally:
            await client.close()
        await self._node.release_held()
        return self._outbox.held_count

    async def run(self, stop: asyncio.Event) -> None:
        """Seal and release the cases held for a contributor token once it is there, and
        ask for older cycles' tokens, every few seconds until *stop* is set."""
        while not stop.is_set():
            try:
                if await self._node.release_held():
                    self._notify()
                await self.ask_for_older_cycles()
            except StorageError as exc:
                log.error("held cases: outbox unavailable (%s); will retry", exc.message)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)
            except DiefError as exc:  # the directory or the broker: tried again
                log.warning("held cases: %s; will retry", exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._retry_seconds)
