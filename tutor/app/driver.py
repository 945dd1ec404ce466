"""Textual's terminal driver, with a quit that gives the terminal back at once.

Textual's ``LinuxDriver`` reads keys in a thread that polls the terminal every 0.1 s,
and on the way out waits one more 0.1 s poll for input that may still arrive; quitting
joins that thread, so the learner waits 0.1 to 0.2 s on a blank screen before the
shell is back. Here the thread also waits on a pipe that stopping writes to: it wakes
at once and ends (keys typed after the quit key are left to the shell, as before).

Everything else (modes, parsing, resize) is the stock driver's. Used for real
terminals only; tests run headless.
"""

from __future__ import annotations

import contextlib
import os
import selectors
from codecs import getincrementaldecoder
from threading import Event
from typing import Any

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class WakingEvent(Event):
    """An event that also makes ``read_fd`` readable while it is set, so a thread in
    ``select`` sees it at once."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self._write_fd, False)

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # a full pipe is already readable
            os.write(self._write_fd, b"!")

    def clear(self) -> None:
        super().clear()
        with contextlib.suppress(OSError):
            while os.read(self.read_fd, 512):
                pass

    def close(self) -> None:
        for fd in (self.read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class QuickExitDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread stops without a poll interval."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = WakingEvent()

    def run_input_thread(self) -> None:
        """Wait for keys or the exit event; parse keys as the stock driver does."""
        exit_event = self.exit_event
        assert isinstance(exit_event, WakingEvent)
        fileno = self.fileno
        selector = selectors.SelectSelector()
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(exit_event.read_fd, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]]) -> None:
            for key, mask in ready:
                if key.fd != fileno or not mask & selectors.EVENT_READ:
                    continue
                data = decode(os.read(fileno, 1024 * 4))
                if not data:
                    break
                for event in parser.feed(data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not exit_event.is_set():
                process(selector.select(0.1))
        finally:
            selector.close()
            with contextlib.suppress(Exception):
                for _ in parser.feed(""):
                    pass

    def close(self) -> None:
        super().close()
        exit_event = self.exit_event
        if isinstance(exit_event, WakingEvent):
            exit_event.close()
