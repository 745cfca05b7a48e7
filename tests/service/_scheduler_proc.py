"""One ``serve``-like process running a ComplianceScheduler, for the two-process tests.

The store's location comes in the environment (BALUARTE_TEST_DB), never on the command line.
Its clock is shared with its sibling: ``--base`` at real time ``--epoch``, running ``--speed``
times faster. Each firing appends "DUE HOLDER CHECK_ID" to ``--out`` and queues a service
check. Prints "started" once the scheduler runs; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from baluarte.service.config import Schedule
from baluarte.service.db import ServiceDb
from baluarte.service.scheduler import ComplianceScheduler
from baluarte.service.tables import service_checks


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holder", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epoch", type=float, required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--lease", type=float, required=True)
    parser.add_argument("--renew", type=float, required=True)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format=f"{args.holder} %(name)s: %(message)s"
    )
    base = datetime.fromisoformat(args.base)

    def clock() -> datetime:
        return base + timedelta(seconds=(time.time() - args.epoch) * args.speed)

    db = ServiceDb.open(os.environ["BALUARTE_TEST_DB"])

    def fire(schedule: Schedule, due: datetime) -> int:
        with db.write() as conn:
            check_id = conn.execute(
                sa.insert(service_checks).values(
                    origin="schedule",
                    schedule=schedule.name,
                    requested_at=clock(),
                    state="queued",
                    holder=args.holder,
                )
            ).inserted_primary_key
        assert check_id is not None
        with args.out.open("a") as out:
            out.write(f"{due.isoformat()} {args.holder} {check_id[0]}\n")
        return int(check_id[0])

    scheduler = ComplianceScheduler(
        db,
        [Schedule(name="every-minute", cron="* * * * *", grace_minutes=5)],
        "Europe/Madrid",
        fire,
        holder=args.holder,
        clock=clock,
        speed=args.speed,
        lease_seconds=args.lease,
        renew_seconds=args.renew,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    scheduler.start()
    print("started", flush=True)
    done.wait()
    scheduler.stop()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
