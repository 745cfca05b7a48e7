"""Site collectors benchmark: `baluarte check` of N real lab hosts in 4 sites, directly and
through 1, 2 and 4 `baluarte collector` processes on the real RabbitMQ.

    sudo .venv/bin/python bench/collectors.py [20 200] [--runs 2] [--parallel 20]
        [--concurrency 4] [--collector-parallel 20] [--all-at-once]

For each fleet size N (default 200): N lab hosts prepared as bench/fleet.py prepares them (one
normal and one security update, a real restic repository; every Linux domain of
policies/linux-baseline.yaml), split evenly over the 4 sites of one client. Then, each after a
warm-up run, the wall time of `baluarte check` of all N:
- directly (no `collector:` in the inventory) with `--parallel` (default 20): the reference;
  and with every host at once (`--parallel N`): whether hosts in flight matter;
- through 1 collector (all 4 sites bound to it), 2 (2 sites each) and 4 (one per site): each a
  `baluarte collector --secrets FILE --concurrency C --parallel P` process on this machine, in
  a vhost of the benchmark's own, started (and seen consuming its queue) before the timing.
  The central side sends each collector its devices in tasks of up to
  `dispatch.TASK_DEVICES` (500); the collector's `--parallel` bounds the hosts it works on.
Beside wall time, the CPU seconds the run cost: the central `baluarte check` (with its SSH
worker), the collector processes (with theirs), RabbitMQ, the lab hosts (their sshd and the
collection scripts) and the whole machine — that says where the time goes on shared cores.
The findings of every run are compared with the direct run's.

Everything made is removed at the end, also on Ctrl-C or SIGTERM: collector processes, the
RabbitMQ users and vhost, the lab hosts. Figures, not assertions: the tests never time anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

from fleet import BIN, RESTIC_PASSWORD, ROOT, prepare, write_policy

from baluarte.collectors.broker import (
    connection,
    parse_broker_url,
    provision_collector,
    remove_collector,
)
from baluarte.collectors.dispatch import TASK_DEVICES
from baluarte.lab.images import ensure_image
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab

SITES = 4
COLLECTOR_COUNTS = (1, 2, 4)
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
TICK = os.sysconf("SC_CLK_TCK")
INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


# -- the broker: a vhost of our own, its collectors' users -------------------------------------


def ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RABBITMQCTL, "-q", *args], capture_output=True, text=True, timeout=120, check=False
    )


class BenchVhost:
    """A vhost of the benchmark's own, the central login (guest) on it, and the collectors
    provisioned in it."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(4)
        self.name = f"baluarte-bench-{self.tag}"
        self.central = f"amqp://guest:guest@127.0.0.1:5672/{self.name}"
        self.collectors: list[str] = []

    def provision(self, short: str) -> tuple[str, str]:
        """(name, broker URL) of a new collector; also declares its task queue."""
        name = f"bench-{self.tag}-{short}"  # user names are global to the node: unique
        self.collectors.append(name)
        return name, provision_collector(name, parse_broker_url(self.central)).url


@contextlib.contextmanager
def bench_vhost() -> Iterator[BenchVhost]:
    """A BenchVhost, deleted with its collectors' users when the block ends."""
    box = BenchVhost()
    done = ctl("add_vhost", box.name)
    if done.returncode != 0:
        raise SystemExit(f"rabbitmqctl add_vhost failed: {done.stderr.strip()}")
    try:
        if ctl("set_permissions", "-p", box.name, "guest", ".*", ".*", ".*").returncode != 0:
            raise SystemExit("rabbitmqctl set_permissions failed")
        yield box
    finally:
        for name in box.collectors:
            try:
                remove_collector(name, parse_broker_url(box.central))
            except Exception:  # the broker is unhappy: by name then
                ctl("delete_user", f"baluarte-collector-{name}")
        ctl("delete_vhost", box.name)


def consumers(central: str, name: str) -> int:
    with connection(parse_broker_url(central)) as conn:
        ok = conn.default_channel.queue_declare(queue=f"baluarte.collector.{name}", passive=True)
        return int(ok.consumer_count)


# -- processes and their CPU -------------------------------------------------------------------


def cpu_of(pid: int) -> float:
    """CPU seconds of ``pid`` and of its children it has reaped (utime stime cutime cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine was busy since boot (every core, not idle nor iowait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


def broker_pids() -> list[int]:
    """The RabbitMQ server's Erlang VM, not rabbitmqctl's (read only: its CPU is measured,
    nothing is done to it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if b"\0rabbit\0boot\0" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def process_children() -> dict[int, list[int]]:
    """Every process's children, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    children = process_children() if children is None else children
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def stop_tree(proc: subprocess.Popen[bytes], grace: float = 20) -> None:
    """End ``proc`` (a session leader we started) and everything it started, its SSH workers
    too (they run in sessions of their own): SIGTERM, then SIGKILL by pid."""
    if proc.poll() is not None:
        return
    tree = descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class HostsCpu:
    """CPU seconds the lab hosts spent: each host's init and its children, sshd above all,
    whose count includes every connection it has reaped (the collection scripts' too)."""

    def __init__(self, hosts: Sequence[LinuxHost]) -> None:
        self.inits = [h._init_pid for h in hosts]
        self.idle = self.processes()

    def processes(self) -> int:
        children = process_children()
        return sum(len(descendants(pid, children)) for pid in self.inits)

    def settle(self, timeout: float = 15) -> None:
        """Until every session has ended and been reaped (its CPU counted in sshd's)."""
        ends = time.monotonic() + timeout
        while self.processes() > self.idle and time.monotonic() < ends:
            time.sleep(0.1)

    def total(self) -> float:
        children = process_children()
        return sum(cpu_of(p) for pid in self.inits for p in [pid, *children.get(pid, [])])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("BALUARTE_", "BENCH_"))}


class CollectorProcess:
    """``baluarte collector NAME``; its broker URL and the devices' secret in its secrets file."""

    def __init__(self, name: str, url: str, folder: Path, concurrency: int, parallel: int):
        self.name = name
        self.log = folder / f"collector-{name}.log"
        env_file = folder / f"collector-{name}.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"BALUARTE_BROKER={url}\nBENCH_RESTIC_PASSWORD={RESTIC_PASSWORD}\n")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [str(BIN), "collector", "--name", name, "--secrets", str(env_file),
                 "--concurrency", str(concurrency), "--parallel", str(parallel),
                 "--artifacts", str(folder / "artifacts")],
                stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=clean_env(),
                start_new_session=True,
            )  # fmt: skip

    def wait_consuming(self, central: str, timeout: float = 60) -> None:
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            if self.proc.poll() is not None:
                raise SystemExit(f"collector {self.name} exited: {self.log.read_text()[-2000:]}")
            if consumers(central, self.name) >= 1:
                return
            time.sleep(0.1)
        raise SystemExit(f"collector {self.name} did not consume its queue within {timeout} s")

    def answered(self) -> int:
        """Tasks it has finished (it logs one line each)."""
        return self.log.read_text(errors="replace").count(" answered ")

    def times(self, run: int, what: str) -> list[float]:
        """When it logged ``what`` (collecting, answered) for run ``run``: epoch seconds."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if f" {what} " in line and line.endswith(f" for run {run}"):
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                found.append(stamp.timestamp())
        return found

    def cpu(self) -> float:
        return cpu_of(self.proc.pid)


# -- the inputs --------------------------------------------------------------------------------


def sites_of(hosts: Sequence[LinuxHost]) -> list[list[LinuxHost]]:
    size = math.ceil(len(hosts) / SITES)
    return [list(hosts[i * size : (i + 1) * size]) for i in range(SITES)]


def write_inventory(
    path: Path,
    lab: LinuxHostLab,
    sites: list[list[LinuxHost]],
    declared: list[str],
    bound: Sequence[str],
) -> None:
    """4 sites of client bench, shared out evenly over the ``bound`` collectors (none: no
    `collector:` anywhere, every device collected directly). Every collector is declared."""
    lines = ["collectors:"] + [f"  - name: {n}" for n in declared]
    lines += ["clients:", "  - name: bench", "    legal_name: Bench S.L.", "    sites:"]
    for index, hosts in enumerate(sites):
        lines.append(f"      - name: site{index + 1}")
        if bound:
            lines.append(f"        collector: {bound[index * len(bound) // SITES]}")
        lines.append("        devices:")
        for h in hosts:
            lines += [
                f"          - name: {h.name}",
                "            platform: linux",
                f"            address: {h.address}",
                "            ssh:",
                f'              key: "file:{lab.key_path}"',
                f"              known_hosts: {lab.known_hosts_path}",
            ]
    path.write_text("\n".join(lines) + "\n")


# -- one measured check ------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    exit: int
    statuses: dict[str, dict[str, str]]  # device → control → status
    failed: int  # devices not collected: every finding of theirs in error
    sample: str  # why, for one of them
    central_cpu: float
    collectors_cpu: float
    broker_cpu: float
    hosts_cpu: float
    machine_cpu: float  # every process of the machine, while the check ran
    # through collectors: from the check's start to the first task taken, to the last task
    # answered, and to the check's end (the collectors' log lines, to the millisecond)
    timeline: tuple[float, float, float] | None = None


def timed_check(
    tmp: Path,
    policy: Path,
    parallel: int,
    central: str | None,
    collectors: Sequence[CollectorProcess],
    tasks_each: dict[str, int],
    hosts_cpu: HostsCpu,
    deadline: float,
) -> Run:
    env = clean_env()
    if central is None:
        env["BENCH_RESTIC_PASSWORD"] = RESTIC_PASSWORD  # resolved here: collected directly
    else:
        env["BALUARTE_BROKER"] = central  # only the collectors hold the devices' secret
    cmd = [
        str(BIN), "check", "--format", "json", "--parallel", str(parallel),
        "--deadline", str(deadline),
        "--inventory", str(tmp / "inventory.yaml"), "--policies", str(policy),
        "--waivers", str(tmp / "waivers.yaml"), "--db", str(tmp / "runs.db"),
    ]  # fmt: skip
    answered = {c.name: c.answered() for c in collectors}
    beams = broker_pids()

    def counters() -> tuple[float, float, float]:
        return (
            sum(c.cpu() for c in collectors),
            sum(cpu_of(p) for p in beams),
            hosts_cpu.total(),
        )

    before, busy = counters(), machine_busy()
    with (tmp / "check.json").open("w") as out, (tmp / "check.err").open("w") as err:
        started, epoch = time.monotonic(), time.time()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, cwd=tmp, env=env, start_new_session=True
        )
        try:
            # wait4: the check's own CPU with its SSH worker's (which it reaped)
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            stop_tree(proc)
            raise
        wall = time.monotonic() - started
        busy = machine_busy() - busy
        ended = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
    # the last answers can reach the check before the collectors have reaped their SSH
    # workers, and the hosts' sshd their sessions: their CPU is counted once they have
    ends = time.monotonic() + 30
    for c in collectors:
        while c.answered() < answered[c.name] + tasks_each[c.name] and time.monotonic() < ends:
            time.sleep(0.05)
    hosts_cpu.settle()
    after = counters()
    statuses, failed, sample, run_id = read_report(tmp)
    timeline = None
    taken = [t for c in collectors for t in c.times(run_id, "collecting")]
    done = [t for c in collectors for t in c.times(run_id, "answered")]
    if taken and done:
        timeline = (min(taken) - epoch, max(done) - min(taken), ended - max(done))
    return Run(
        wall=wall,
        exit=proc.returncode,
        statuses=statuses,
        failed=failed,
        sample=sample or (tmp / "check.err").read_text()[-300:],
        central_cpu=usage.ru_utime + usage.ru_stime,
        collectors_cpu=after[0] - before[0],
        broker_cpu=after[1] - before[1],
        hosts_cpu=after[2] - before[2],
        machine_cpu=busy,
        timeline=timeline,
    )


def read_report(tmp: Path) -> tuple[dict[str, dict[str, str]], int, str, int]:
    """Each device's findings (control → status); how many devices were not collected (every
    finding in error) and why, for one of them; the run's id."""
    try:
        doc = json.loads((tmp / "check.json").read_text())
    except ValueError:
        return {}, 0, "", 0
    statuses: dict[str, dict[str, str]] = {}
    reasons: dict[str, str] = {}
    for f in doc.get("findings", []):
        statuses.setdefault(f["device"], {})[f["control"]] = f["status"]
        if f["status"] == "error":
            reasons.setdefault(f["device"], f.get("reason") or "")
    failed = [d for d, found in statuses.items() if set(found.values()) == {"error"}]
    return statuses, len(failed), reasons[failed[0]] if failed else "", doc["run"]["id"]


# -- a fleet size ------------------------------------------------------------------------------


@dataclass
class Config:
    name: str
    parallel: int  # check --parallel
    collectors: list[str]  # the collectors its sites are shared out over (none: direct)
    tasks_each: dict[str, int]  # tasks the central side sends each collector in a run
    in_flight: int  # hosts worked on at once, at most
    runs: list[Run]

    @property
    def median(self) -> Run:
        by_wall = sorted(self.runs, key=lambda r: r.wall)
        return by_wall[(len(by_wall) - 1) // 2]


def task_sizes(devices: int, batch: int) -> list[int]:
    """The tasks the central side sends one collector: its devices in batches of ``batch``."""
    return [min(batch, devices - start) for start in range(0, devices, batch)]


def configurations(
    n: int, args: argparse.Namespace, sites: list[list[LinuxHost]], sets: dict[int, list[str]]
) -> list[Config]:
    configs = [Config(f"direct, --parallel {args.parallel}", args.parallel, [], {}, 0, [])]
    if args.all_at_once and n > args.parallel:
        configs.append(Config(f"direct, all at once (--parallel {n})", n, [], {}, 0, []))
    for configuration in configs:
        configuration.in_flight = min(n, configuration.parallel)
    batch = TASK_DEVICES  # what the central side sends a collector per task
    for count, names in sets.items():
        devices: dict[str, int] = {}
        for index, site in enumerate(sites):
            owner = names[index * count // SITES]
            devices[owner] = devices.get(owner, 0) + len(site)
        sizes = {c: task_sizes(d, batch) for c, d in devices.items()}
        in_flight = sum(
            min(size, args.collector_parallel)
            for each in sizes.values()
            for size in sorted(each, reverse=True)[: args.concurrency]
        )
        tasks = "one task each" if batch >= n else f"tasks of ≤ {batch}"
        label = f"{count} collector{'s' if count > 1 else ''}, {tasks}"
        tasks_each = {c: len(each) for c, each in sizes.items()}
        configs.append(Config(label, args.parallel, names, tasks_each, in_flight, []))
    return configs


def measure(n: int, args: argparse.Namespace, image: Path) -> list[Config]:
    with (
        LinuxHostLab(image=image) as lab,
        tempfile.TemporaryDirectory(prefix="baluarte-bench-") as tmpdir,
        bench_vhost() as box,
    ):
        tmp = Path(tmpdir)
        started = time.monotonic()
        hosts = [lab.up(f"bench{i}") for i in range(n)]
        # each host is prepared on its own (packages, restic, sshd): a few at once
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(prepare, hosts))
        print(f"# {n} hosts up and prepared in {time.monotonic() - started:.0f} s", flush=True)
        sites = sites_of(hosts)
        hosts_cpu = HostsCpu(hosts)
        policy = write_policy(tmp, args.policy)
        (tmp / "waivers.yaml").write_text("waivers: []\n")
        # a set of collector processes per collector count, all running throughout: the
        # configurations are measured in turns, so that a drift of the machine's speed over
        # the run falls on all of them alike
        urls: dict[str, str] = {}
        sets: dict[int, list[str]] = {}
        for count in COLLECTOR_COUNTS:
            made = [box.provision(f"{count}-{i + 1}") for i in range(count)]
            sets[count] = [name for name, _ in made]
            urls.update(made)
        configs = configurations(n, args, sites, sets)
        procs: dict[str, CollectorProcess] = {}
        try:
            for name, url in urls.items():
                procs[name] = CollectorProcess(
                    name, url, tmp, args.concurrency, args.collector_parallel
                )
            for proc in procs.values():
                proc.wait_consuming(box.central)

            def timed(config: Config) -> Run:
                write_inventory(tmp / "inventory.yaml", lab, sites, list(urls), config.collectors)
                run = timed_check(
                    tmp,
                    policy,
                    config.parallel,
                    box.central if config.collectors else None,
                    [procs[c] for c in config.collectors],
                    config.tasks_each,
                    hosts_cpu,
                    args.deadline,
                )
                if run.failed or len(run.statuses) != n:
                    print(
                        f"# {config.name}: {len(run.statuses)} devices reported, {run.failed}"
                        f" not collected (exit {run.exit}): {run.sample}",
                        file=sys.stderr,
                    )
                return run

            # warm-up: the hosts, and each collector process's first task
            seen: set[tuple[str, ...]] = set()
            for config in configs:
                if tuple(config.collectors) not in seen:
                    seen.add(tuple(config.collectors))
                    run = timed(config)
                    print(f"# warm-up, {config.name}: {run.wall:.2f} s", flush=True)
            for round_ in range(args.runs):
                turn = round_ % len(configs)
                for config in configs[turn:] + configs[:turn]:
                    run = timed(config)
                    config.runs.append(run)
                    print(
                        f"# round {round_ + 1}, {config.name}: {run.wall:.2f} s, exit {run.exit}",
                        flush=True,
                    )
        finally:
            for proc in procs.values():
                stop_tree(proc.proc)
    return configs


def table(n: int, configs: list[Config]) -> None:
    direct = configs[0].median
    cores = os.cpu_count() or 1
    runs = len(configs[0].runs)
    which = "faster" if runs == 2 else "median"
    print(
        f"\n{n} hosts in {SITES} sites ({math.ceil(n / SITES)} per site); wall time of the"
        f" {which} of {runs} run(s) after a warm-up (every run in brackets), and the CPU"
        " seconds that run cost"
    )
    print(
        "| configuration | hosts in flight (max) | tasks | wall | per device | overhead vs direct"
        " | CPU: central + collectors + RabbitMQ | extra CPU vs direct, per device"
        " | CPU: the hosts | CPU: whole machine (busy) | findings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ours_direct = direct.central_cpu + direct.collectors_cpu + direct.broker_cpu
    for config in configs:
        run = config.median
        walls = ", ".join(f"{r.wall:.1f}" for r in config.runs)
        over = run.wall - direct.wall
        first = config is configs[0]
        overhead = (
            "—" if first else f"{over / direct.wall * 100:+.1f} % ({over / n * 1000:+.0f} ms)"
        )
        ours = run.central_cpu + run.collectors_cpu + run.broker_cpu
        extra = "—" if first else f"{(ours - ours_direct) / n * 1000:+.0f} ms"
        differ = sum(
            1 for d, found in run.statuses.items() if direct.statuses.get(d) != found
        ) + len(set(direct.statuses) - set(run.statuses))
        findings = "as direct" if not differ else f"{differ} device(s) differ"
        if run.failed:
            findings += f", {run.failed} not collected"
        print(
            f"| {config.name} | {config.in_flight} | {sum(config.tasks_each.values()) or '—'}"
            f" | {run.wall:.1f} s ({walls}) | {run.wall / n * 1000:.0f} ms | {overhead}"
            f" | {run.central_cpu:.1f} + {run.collectors_cpu:.1f} + {run.broker_cpu:.1f}"
            f" = {ours:.1f} s | {extra} | {run.hosts_cpu:.1f} s"
            f" | {run.machine_cpu:.1f} s ({run.machine_cpu / (cores * run.wall) * 100:.0f} %)"
            f" | {findings} |",
            flush=True,
        )
    for config in configs:
        if config.median.timeline:
            first_task, collecting, last = config.median.timeline
            print(
                f"{config.name}: check started → first task taken {first_task:.2f} s → last"
                f" task answered {collecting:.2f} s later → check ended {last:.2f} s later"
            )


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"machine: {os.cpu_count()} cores ({model}), {int(mem) // 1024} MB;"
        f" load average {load}; the hosts, the central side, the collectors and RabbitMQ all"
        " share it"
    )


def _interrupted(signum: int, frame: FrameType | None) -> None:
    for sig in INTERRUPTS:  # a second one must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    print("interrupted: removing what was made…", file=sys.stderr, flush=True)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[200], help="fleet sizes (200)")
    parser.add_argument("--parallel", type=int, default=20, help="check --parallel (20)")
    parser.add_argument(
        "--all-at-once", action="store_true", help="also check every host at once, directly"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="collector --concurrency: tasks at once"
    )
    parser.add_argument(
        "--collector-parallel", type=int, default=20, help="collector --parallel (per task)"
    )
    parser.add_argument("--runs", type=int, default=1, help="timed runs per configuration")
    parser.add_argument("--deadline", type=float, default=1800, help="check --deadline")
    parser.add_argument("--policy", type=Path, default=ROOT / "policies" / "linux-baseline.yaml")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root: lab hosts and rabbitmqctl need it")
    # SIGTERM and SIGHUP unwind like Ctrl-C, so every `finally` below cleans up
    for sig in INTERRUPTS:
        signal.signal(sig, _interrupted)
    image = ensure_image()
    print(machine())
    print(
        f"policy: {args.policy}; check --parallel {args.parallel}; tasks of up to"
        f" {TASK_DEVICES} devices; collector --concurrency {args.concurrency} --parallel"
        f" {args.collector_parallel}",
        flush=True,
    )
    for n in args.sizes:
        table(n, measure(n, args, image))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: everything made was removed", file=sys.stderr)
        sys.exit(130)
