"""Batch transactions (reference §1.7): writes cached on a shadow copy, applied at commit.

``transaction-start`` gives an id; writes sent with ``X-TRANSACTION-ID: <id>`` go to the
transaction's shadow copy of the configuration (so they are validated, and later reads in the
transaction see them) and are recorded. ``transaction-commit`` replays the recorded writes on a
copy of the live configuration and swaps it in only if every one succeeds — atomically, with a
single revision bump. ``transaction-abort``, or ``timeout`` seconds after the start, discards
them. One transaction per caller (token or session) at a time.

``slips``: writes a test wants the unit to accept but not keep — a commit answers success and
skips the first recorded write matching each slip (``"path"`` or ``"path/mkey"``), once; this
proves that a caller re-reads what it wrote instead of trusting the answer.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from baluarte.lab.fortigate.backup import cli_path, render_node
from baluarte.lab.fortigate.state import Cmdb, LabState
from baluarte.lab.fortigate.writes import WriteFailure, WriteOp, WriteResult, apply, find_row

__all__ = ["Transaction", "Transactions"]


@dataclass
class Transaction:
    id: int
    owner: str
    shadow: Cmdb
    timeout: float
    expires: float
    ops: list[WriteOp] = field(default_factory=list)


class Transactions:
    def __init__(self, state: LabState, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = state
        self.clock = clock
        self._open: dict[int, Transaction] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.slips: list[str] = []

    def start(self, owner: str, timeout: float) -> Transaction:
        """A new transaction; ``WriteFailure`` (-5) when ``owner`` already has one."""
        with self._lock:
            self._expire()
            if any(tx.owner == owner for tx in self._open.values()):
                raise WriteFailure(500, -5, "a transaction is already open for this session")
            tx = Transaction(
                id=next(self._ids),
                owner=owner,
                shadow=self.state.cmdb.copy(),
                timeout=timeout,
                expires=self.clock() + timeout,
            )
            self._open[tx.id] = tx
            return tx

    def get(self, tx_id: int, owner: str) -> Transaction | None:
        with self._lock:
            self._expire()
            tx = self._open.get(tx_id)
            return tx if tx is not None and tx.owner == owner else None

    def listing(self, owner: str) -> list[Transaction]:
        with self._lock:
            self._expire()
            return [tx for tx in self._open.values() if tx.owner == owner]

    def record(self, tx: Transaction, op: WriteOp) -> WriteResult:
        """Apply ``op`` to the shadow copy (raises ``WriteFailure``) and keep it for the commit."""
        result = apply(tx.shadow, op)
        tx.ops.append(op)
        return result

    def commit(self, tx: Transaction) -> bool:
        """Apply every recorded write at once; the transaction ends either way."""
        self._close(tx)
        live = self.state.cmdb
        work = live.copy()
        changed = False
        for op in tx.ops:
            if self._slips(op):
                continue
            changed = apply(work, op).changed or changed
        live.global_, live.vdoms = work.global_, work.vdoms
        if changed:
            self.state.bump()
        return changed

    def _slips(self, op: WriteOp) -> bool:
        """Whether ``op`` matches a slip (which is then used up)."""
        with self._lock:
            for slip in self.slips:
                # a cmdb path is "<path>/<name>": a third segment is the row's mkey
                path, mkey = slip.rsplit("/", 1) if slip.count("/") > 1 else (slip, "")
                if op.path == path and (not mkey or str(op.mkey) == mkey):
                    self.slips.remove(slip)
                    return True
            return False

    def abort(self, tx: Transaction) -> None:
        self._close(tx)

    def show(self, tx: Transaction) -> list[str]:
        """The pending writes as the CLI commands they amount to."""
        return [_command(tx.shadow, op) for op in tx.ops]

    def _close(self, tx: Transaction) -> None:
        with self._lock:
            self._open.pop(tx.id, None)

    def _expire(self) -> None:
        now = self.clock()
        for tx_id in [i for i, tx in self._open.items() if tx.expires < now]:
            del self._open[tx_id]


def _command(shadow: Cmdb, op: WriteOp) -> str:
    head = f"config {cli_path(op.path)}"
    if op.kind == "delete":
        return f'{head}\n    delete "{op.mkey}"\nend'
    if op.kind == "move":
        where = "before" if op.before is not None else "after"
        return f"{head}\n    move {op.mkey} {where} {op.before or op.after}\nend"
    if op.kind == "clone":
        return f'{head}\n    clone "{op.mkey}" to "{op.nkey}"\nend'
    schema = shadow.schema(op.path)
    if schema is None:
        return head + "\nend"
    data = {key: value for key, value in op.data.items() if key != schema.mkey}
    if schema.table:
        rows = shadow.results(op.path, op.vdom, schema)
        key = op.mkey if op.mkey is not None else op.data.get(schema.mkey or "name")
        index = find_row(rows, schema, str(key)) if key not in (None, 0, "0") else None
        key = rows[index].get(schema.mkey or "name") if index is not None else key
        return "\n".join(render_node(op.path, schema, [{schema.mkey: key, **data}]))
    return "\n".join(render_node(op.path, schema, data))
