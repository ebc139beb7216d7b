"""The mail sender thread each server process runs (started and stopped by the app's lifespan).

Every ``mail.sender_poll_s`` it delivers queued mail (``app.mail.deliver``; only with an SMTP host),
and at most every ``mail.housekeeping_every_s`` it tidies expired rows (``app.housekeeping``). Several
processes run one each safely: a message is claimed by one sender only. When the database cannot be
reached it says so once, waits longer each time (up to five minutes), and says when it is back;
``stop`` ends it at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from sqlalchemy import Engine

from app import housekeeping, mail
from app.db import new_session
from app.settings import Settings

log = logging.getLogger(__name__)
_LONGEST_PAUSE_S = 300.0


def sender_name(suffix: str = "mail") -> str:
    """Who claims: host, process and thread kind, so an operator can tell senders apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{suffix}"[:200]


class MailSender:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.name = sender_name()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="mail-sender", daemon=True)
        self.next_tidy = time.monotonic()  # first tidy on the first pass, then every housekeeping_every_s

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=self.settings.mail.smtp_timeout_s + 5)

    def run_once(self) -> None:
        """One pass: deliver what is due, then tidy if it is time."""
        with new_session(self.engine) as session:
            mail.deliver(session=session, settings=self.settings, sender=self.name)
            if time.monotonic() >= self.next_tidy:
                tidied = housekeeping.tidy(session=session, settings=self.settings)
                self.next_tidy = time.monotonic() + self.settings.mail.housekeeping_every_s
                if any(tidied.as_dict().values()):
                    log.info("housekeeping: %s", tidied.as_dict())

    def _loop(self) -> None:
        poll = self.settings.mail.sender_poll_s
        failures = 0
        while not self.stopping.wait(min(poll * 2 ** failures, _LONGEST_PAUSE_S)):
            try:
                self.run_once()
            except Exception:
                if failures == 0:
                    log.warning("mail sender: a pass failed; trying again less often", exc_info=True)
                failures = min(failures + 1, 16)
                continue
            if failures:
                log.info("mail sender: the database answers again")
            failures = 0
