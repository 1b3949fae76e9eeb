"""The SOP's "minimal 2 orang" as independent control: who may receive a record in step 3.

- The person who handed a record over (step 2) never receives it (step 3).
- ``strict`` (the default): nor does the person who produced it, that is its creator or
  anyone who completed its step 1.
- ``standard``: an office with a single Pejabat PPID, who also records documents, may let
  the producer receive; the register marks every record accepted that way.
"""

from __future__ import annotations

from enum import StrEnum

from sop.model import RecordView, State, Step


class FourEyes(StrEnum):
    STRICT = "strict"
    STANDARD = "standard"


HANDED_OVER = (
    "Sesuai SOP (minimal 2 orang), orang yang menyerahkan berkas (langkah 2) tidak boleh "
    "juga menerimanya (langkah 3)."
)
PRODUCED = (
    "Sesuai SOP (minimal 2 orang), orang yang membuat berkas atau menyelesaikan langkah 1 "
    "tidak boleh juga menerimanya (langkah 3)."
)


def producers(record: RecordView) -> frozenset[int]:
    """Who produced the record: its creator and everyone who completed its step 1."""
    completed = {
        run.completed_by
        for run in record.runs
        if run.step is Step.PRODUCE and run.outcome == "done" and run.completed_by is not None
    }
    return frozenset({record.created_by, *completed})


def receive_problem(user_id: int, record: RecordView, mode: FourEyes) -> str | None:
    """Why ``user_id`` may not act on the record at step 3 (accept or return), or None."""
    if record.completer(Step.HANDOVER) == user_id:
        return HANDED_OVER
    if mode is FourEyes.STRICT and user_id in producers(record):
        return PRODUCED
    return None


def accepted_by_producer(record: RecordView) -> bool:
    """Whether the record was received in step 3 by someone who produced it (only
    possible with ``FOUR_EYES=standard``)."""
    receiver = record.completer(Step.RECEIVE)
    return record.state is State.STORED and receiver is not None and receiver in producers(record)
