"""Checking the store's whole hash chain: records, links, states, signatures, runs named.

``Store.check_chain`` reads the rows and hands them here; every problem names the run (the
first one is the first broken link, in chain order), so ``baluarte runs --verify`` and
``evidence export`` can say where history was changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from baluarte.chain import record_problem, short
from baluarte.errors import StoreError
from baluarte.evidence.seal import TrustedKeys, signature_problem

__all__ = ["BrokenChain", "ChainCheck", "ChainRow", "check", "unsigned_after_signed"]


class BrokenChain(StoreError):
    """The store's history was changed: its hash chain or a run's signature does not hold."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"the run store's hash chain is broken, first at {self.problems[0]}"
            if self.problems
            else "the run store's hash chain is broken"
        )


@dataclass(frozen=True)
class ChainRow:
    """A run's chain columns as stored."""

    run_id: int
    state: str
    previous_sha256: str | None
    record_sha256: str
    sealed: bool  # record format 2 (a salt is stored)
    running: tuple[int, ...]  # runs its record names as still running
    signature: str | None  # hex
    signed_by: str | None


@dataclass
class ChainCheck:
    """What ``Store.check_chain`` found. ``problems`` empty: the chain is intact."""

    runs: int = 0
    problems: list[str] = field(default_factory=list)
    signed: list[int] = field(default_factory=list)
    unsigned: list[int] = field(default_factory=list)
    unchecked: list[int] = field(default_factory=list)  # signed, but no trusted key to check
    signers: set[str] = field(default_factory=set)
    order: list[int] = field(default_factory=list)  # run ids in chain order

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unsealed(self) -> list[int]:
        """Unsigned runs after the last signed one: no signature covers them, even indirectly
        (a signed record holds the previous record's hash, so it seals every run before it)."""
        signed = set(self.signed) | set(self.unchecked)
        last = max((i for i, r in enumerate(self.order) if r in signed), default=-1)
        return [r for r in self.order[last + 1 :] if r in set(self.unsigned)]


def unsigned_after_signed(result: ChainCheck) -> list[str]:
    """``--require-signed``: every unsigned run after the first signed one, as a broken link
    (where every run finishes with the provider's key, an unsigned run is a stripped one)."""
    signed = set(result.signed) | set(result.unchecked)
    first = next((i for i, r in enumerate(result.order) if r in signed), None)
    if first is None:
        return []
    unsigned = set(result.unsigned)
    return [
        f"run {r}: unsigned, after signed runs (its signature was removed, or it finished "
        "without the provider's key)"
        for r in result.order[first + 1 :]
        if r in unsigned
    ]


def check(
    rows: Sequence[ChainRow],
    record: Callable[[int], bytes | None],
    *,
    states: Mapping[int, str],
    unchained: Sequence[int],
    keys: TrustedKeys | None,
) -> ChainCheck:
    """Check the chain ``rows`` (in chain order). ``record(run_id)``: the record recomputed from
    what is stored now; ``states``: every run id in the store → its state; ``unchained``:
    complete runs outside the chain that finished after it began."""
    result = ChainCheck(runs=len(rows), order=[row.run_id for row in rows])
    problems = result.problems
    if rows and rows[0].previous_sha256 is not None:
        problems.append(
            f"run {rows[0].run_id}: first in the chain but follows "
            f"{short(rows[0].previous_sha256)}: the runs before it are missing"
        )
    position = {row.run_id: i for i, row in enumerate(rows)}
    for i, row in enumerate(rows):
        if i > 0 and row.previous_sha256 != rows[i - 1].record_sha256:
            before = rows[i - 1]
            problems.append(
                f"between run {before.run_id} and run {row.run_id}: a run is missing "
                f"(run {row.run_id} follows {short(row.previous_sha256)}, "
                f"run {before.run_id} ends in {short(before.record_sha256)})"
            )
        if row.state != "complete":
            problems.append(
                f"run {row.run_id}: stored as {row.state}, but the chain holds it as complete "
                "(its state was changed after it finished)"
            )
        data = record(row.run_id)
        if problem := record_problem(row.run_id, data, row.record_sha256):
            problems.append(problem)
        if data is not None:
            _signature(row, data, keys, result)
        for named in row.running:
            if named not in states:
                problems.append(
                    f"run {named}: named as running by run {row.run_id}'s record, but missing "
                    "from the store (deleted?)"
                )
            elif states[named] == "complete" and named not in position:
                problems.append(
                    f"run {named}: named as running by run {row.run_id}'s record, now complete "
                    "but not in the hash chain"
                )
    problems += [
        f"run {i}: complete but not in the hash chain (its chain columns were cleared)"
        for i in unchained
        if not any(f"run {i}: named as running" in p for p in problems)
    ]
    return result


def _signature(row: ChainRow, data: bytes, keys: TrustedKeys | None, result: ChainCheck) -> None:
    if row.signature is None:
        result.unsigned.append(row.run_id)
        return
    result.signers.add(row.signed_by or "")
    if not keys:
        result.unchecked.append(row.run_id)
        return
    try:
        signature = bytes.fromhex(row.signature)
    except ValueError:
        result.problems.append(f"run {row.run_id}: its stored signature is not hex")
        return
    problem = signature_problem(row.run_id, data, signature, row.signed_by, keys)
    if problem:
        result.problems.append(problem)
    else:
        result.signed.append(row.run_id)
