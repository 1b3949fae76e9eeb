"""Fault points: named places in the write paths where a test can make the process fail.

In production nothing is armed and :func:`reached` returns at once (one dictionary look-up).
A test arms a point either in-process with :func:`arm` or, for a bot running as a separate
process, with the environment variable ``PPIDBOT_FAULTS`` read at import::

    PPIDBOT_FAULTS="upload.written=kill"              # SIGKILL the process right there
    PPIDBOT_FAULTS="storage.chunk=enospc"             # the disk is full while writing
    PPIDBOT_FAULTS="receive.copied=sleep:5,x=edquot"  # several points, comma-separated

Actions: ``kill`` (SIGKILL the own process, like a power cut), ``enospc`` / ``edquot``
(raise the ``OSError`` a full disk or quota raises), ``sleep:<seconds>`` (widen a window).

The points (where they sit is documented at each call):

- ``storage.chunk``: before each chunk is written to the temp file;
- ``storage.written``: a file is renamed into its final path, nothing is committed yet;
- ``upload.intent``: the intent row of an upload is committed, the download not started;
- ``receive.copied``: every step-3 copy is written, the step is not committed yet;
- ``move.copied`` / ``move.committed``: a division change's copies are written / the
  change is committed and the old copies are not removed yet.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal

ENV_VAR = "PPIDBOT_FAULTS"

_armed: dict[str, str] = {}


def _parse(spec: str) -> dict[str, str]:
    plan: dict[str, str] = {}
    for item in spec.split(","):
        name, sep, action = item.strip().partition("=")
        if name and sep and action:
            plan[name.strip()] = action.strip()
    return plan


def arm(name: str, action: str) -> None:
    """Make the fault point ``name`` do ``action`` (tests only)."""
    _armed[name] = action


def disarm(name: str | None = None) -> None:
    """Disarm one fault point, or all of them."""
    if name is None:
        _armed.clear()
    else:
        _armed.pop(name, None)


async def reached(name: str) -> None:
    """The code reached the fault point ``name``: do what a test armed there, if anything."""
    action = _armed.get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action in {"enospc", "edquot"}:
        code = errno.ENOSPC if action == "enospc" else errno.EDQUOT
        raise OSError(code, os.strerror(code))
    elif action.startswith("sleep:"):
        await asyncio.sleep(float(action.removeprefix("sleep:")))
    else:
        raise ValueError(f"unknown fault action {action!r} at {name}")


_armed.update(_parse(os.environ.get(ENV_VAR, "")))
