from __future__ import annotations

import asyncio
import os
import threading

import pytest

from skranke.lib import eventloop


async def _where() -> tuple[int, int]:
    return id(asyncio.get_running_loop()), threading.get_ident()


def test_coroutines_share_one_loop_in_another_thread():
    first = eventloop.run(_where())
    second = eventloop.run(_where())
    assert first == second
    assert first[1] != threading.get_ident()


def test_exceptions_reach_the_caller():
    async def fail() -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        eventloop.run(fail())


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_its_own_loop():
    parent = eventloop.run(_where())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's loop thread does not exist here
        try:
            child = eventloop.run(_where(), timeout=5)
            os.write(write, b"ok" if child != parent else b"same")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"ok"
