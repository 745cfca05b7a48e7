"""Fleet benchmark: `baluarte check` on N real lab hosts, beside plain parallel ssh and Ansible.

    sudo .venv/bin/python bench/fleet.py 1 10 50 100 [--ansible] [--policy FILE]

For each fleet size N (lab hosts offering one normal and one security update), in the same run:
- `baluarte check` with every Linux domain of the policy (default: policies/linux-baseline.yaml):
  wall time, remote commands per host (counted by each host's sshd) and peak memory (RSS of
  `baluarte check` or its SSH worker);
- the floor: plain OpenSSH clients in parallel (one connection per host, curve25519 key exchange)
  running the same collection script;
- with --ansible: an Ansible playbook (ansible-core 2.19, pipelining on, forks = N, gather_facts
  off) collecting the same facts with one task per item of the script. Ansible needs Python on
  the hosts, so the lab image then includes python3 (for every column, to compare like with like).
  ansible-playbook is taken from PATH or from `pip install -e '.[bench]'`.
Figures, not assertions: the tests never time anything.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml

from baluarte.collected import CollectOptions
from baluarte.engine import load_inputs
from baluarte.lab.aptrepo import publish_updates
from baluarte.lab.images import IMAGE_PACKAGES, ensure_image
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.plan import plan
from checks.linux.bundle import LINUX_DOMAINS, collection_script
from checks.linux.collector import settings_for

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "baluarte"
# Peak RSS of the children of a fresh parent: `baluarte check` and its SSH worker only.
RSS_WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[2:]).returncode; "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
    ".ru_maxrss)); sys.exit(rc)"
)


def write_policy(tmp: Path, baseline: Path) -> Path:
    """The baseline, with its backup controls pointed at each host's restic repository."""
    policy = yaml.safe_load(baseline.read_text())
    policy["id"] = "bench"
    source = {
        "tool": "restic",
        "repository": "/srv/restic",
        "password": "env:BENCH_RESTIC_PASSWORD",
    }
    for name, params in (policy.get("backup") or {}).items():
        params.update(source)
        if name == "configured":
            params["paths"] = ["/srv/data"]
    folder = tmp / "policies"
    folder.mkdir()
    (folder / "bench.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    return folder


def write_inventory(tmp: Path, lab: LinuxHostLab, hosts: Sequence[LinuxHost]) -> None:
    lines = [
        "clients:",
        "  - name: bench",
        "    legal_name: Bench S.L.",
        "    sites:",
        "      - name: lab",
        "        devices:",
    ]
    for h in hosts:
        lines += [
            f"          - name: {h.name}",
            "            platform: linux",
            f"            address: {h.address}",
            "            ssh:",
            f'              key: "file:{lab.key_path}"',
            f"              known_hosts: {lab.known_hosts_path}",
        ]
    (tmp / "inventory.yaml").write_text("\n".join(lines) + "\n")
    (tmp / "waivers.yaml").write_text("waivers: []\n")


def sessions(host: LinuxHost) -> int:
    log = (host.root / "var/log/baluarte-sshd.log").read_text(errors="replace")
    return len(re.findall(r"Starting session: command", log))


RESTIC_PASSWORD = "bench-only-password"


def prepare(host: LinuxHost) -> None:
    publish_updates(
        host, normal=[("bl-demo", "1.0", "1.1")], security=[("bl-sec", "1.0", "1.0+deb12u1")]
    )
    # a real restic repository with one snapshot, so the backup controls (and the restore
    # test) do their real work
    host.run(
        "mkdir -p /srv/data && for i in 1 2 3 4 5; do head -c 20000 /dev/urandom > /srv/data/f$i;"
        f" done && export RESTIC_REPOSITORY=/srv/restic RESTIC_PASSWORD={RESTIC_PASSWORD} &&"
        " restic init -q && restic backup -q /srv/data"
    )
    # sshd logs each session at VERBOSE: that is how remote commands are counted
    host.run("echo 'LogLevel VERBOSE' > /etc/ssh/sshd_config.d/99-bench.conf")
    host.stop_sshd()
    host.start_sshd()


def reset_session_logs(hosts: Sequence[LinuxHost]) -> None:
    for h in hosts:
        (h.root / "var/log/baluarte-sshd.log").write_text("")


def host_jobs(tmp: Path, policy: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Per host, the exact script and stdin `baluarte check` sends (settings included)."""
    os.environ["BENCH_RESTIC_PASSWORD"] = RESTIC_PASSWORD
    inputs = load_inputs([tmp / "inventory.yaml"], policy, tmp / "waivers.yaml")
    jobs = {}
    for device_plan in plan(inputs.inventory, inputs.policies):
        settings = settings_for(device_plan, CollectOptions())
        jobs[device_plan.ref.device.address] = collection_script(LINUX_DOMAINS, settings)
    return jobs


def floor(
    lab: LinuxHostLab, hosts: Sequence[LinuxHost], jobs: dict[str, tuple[str, tuple[str, ...]]]
) -> float:
    started = time.monotonic()
    procs = []
    for h in hosts:
        script, stdin = jobs[h.address]
        procs.append(
            subprocess.Popen(
                [
                    "ssh",
                    "-T",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "KexAlgorithms=curve25519-sha256",
                    "-o",
                    "StrictHostKeyChecking=yes",
                    "-o",
                    f"UserKnownHostsFile={lab.known_hosts_path}",
                    "-i",
                    str(lab.key_path),
                    f"root@{h.address}",
                    "sh -c " + shlex.quote(script),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        assert procs[-1].stdin is not None
        procs[-1].stdin.write("".join(f"{line}\n" for line in stdin).encode())
        procs[-1].stdin.close()
    for p in procs:
        p.wait()
    return time.monotonic() - started


def run_check(
    tmp: Path, policy: Path, parallel: int, extra: Sequence[str] = ()
) -> tuple[float, float, int]:
    (tmp / "rss").unlink(missing_ok=True)
    started = time.monotonic()
    env = {**os.environ, "BENCH_RESTIC_PASSWORD": RESTIC_PASSWORD}
    done = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, str(tmp / "rss"), str(BIN), "check",
         "--format", "json", "--parallel", str(parallel), *extra,
         "--inventory", str(tmp / "inventory.yaml"), "--policies", str(policy),
         "--waivers", str(tmp / "waivers.yaml"), "--db", str(tmp / "runs.db")],
        capture_output=True, text=True, cwd=tmp, env=env,
    )  # fmt: skip
    wall = time.monotonic() - started
    return wall, int((tmp / "rss").read_text()) / 1024, done.returncode


def fragment_items() -> list[tuple[str, str]]:
    """(name, shell) per item the collection script gathers: one Ansible task each."""
    files = resources.files("checks.linux")
    common = files.joinpath("common.sh").read_text()
    items: list[tuple[str, str]] = []
    for fragment in ("host", *LINUX_DOMAINS):
        text = files.joinpath(f"{fragment}.sh").read_text()
        field = re.compile(r"^(\s*)field (\S+) (\S+) (.+)$", re.M)
        # the fragment's function definitions, with every item replaced by a no-op
        defs = field.sub(lambda m: f"{m[1]}:", text)
        for m in field.finditer(text):
            items.append((f"{m[2]}.{m[3]}", f"{common}\n{defs}\n{m[4]}"))
    return items


def ansible(tmp: Path, lab: LinuxHostLab, hosts: Sequence[LinuxHost], playbook_bin: str) -> float:
    inventory = ["[fleet]"] + [f"{h.name} ansible_host={h.address}" for h in hosts]
    inventory += [
        "[fleet:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={lab.key_path}",
        "ansible_python_interpreter=/usr/bin/python3",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts_path}"
        " -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256'",
    ]
    (tmp / "hosts.ini").write_text("\n".join(inventory) + "\n")
    tasks = []
    for name, shell in fragment_items():
        body = textwrap.indent(shell, " " * 8)
        # !unsafe: the script is shell, not a Jinja2 template
        tasks.append(
            f"    - name: {name}\n      ansible.builtin.shell:\n        cmd: !unsafe |\n"
            f"{textwrap.indent(body, '  ')}\n        executable: /bin/sh\n"
            "      changed_when: false\n      failed_when: false\n"
        )
    (tmp / "collect.yml").write_text(
        "- hosts: fleet\n  gather_facts: false\n  tasks:\n" + "".join(tasks)
    )
    env = {
        **os.environ,
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_FORKS": str(len(hosts)),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
    }
    started = time.monotonic()
    done = subprocess.run(
        [playbook_bin, "-i", str(tmp / "hosts.ini"), str(tmp / "collect.yml")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    wall = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="+", help="fleet sizes, e.g. 1 10 50 100")
    parser.add_argument("--parallel", type=int, default=20, help="baluarte check --parallel")
    parser.add_argument("--ansible", action="store_true", help="also time an Ansible playbook")
    parser.add_argument("--restore-test", action="store_true", help="also time --restore-test")
    parser.add_argument("--policy", type=Path, default=ROOT / "policies" / "linux-baseline.yaml")
    args = parser.parse_args()
    playbook_bin = shutil.which("ansible-playbook") or str(BIN.parent / "ansible-playbook")
    if args.ansible and not Path(playbook_bin).exists():
        parser.error("ansible-playbook not found: pip install -e '.[bench]'")
    image = ensure_image((*IMAGE_PACKAGES, "python3")) if args.ansible else ensure_image()
    script, _ = collection_script()
    print(f"domains collected: {', '.join(LINUX_DOMAINS)}; policy: {args.policy}")
    print(f"collection script: {len(script)} bytes; machine: {os.cpu_count()} cores")
    header = "| hosts | baluarte check | floor (ssh) | ratio | commands/host | peak memory |"
    extra_cols = ""
    if args.restore_test:
        extra_cols += " with --restore-test |"
    if args.ansible:
        extra_cols += " Ansible | Ansible ÷ baluarte |"
    print(header + extra_cols)
    print("|" + "---|" * (header.count("|") - 1 + extra_cols.count("|")))
    for n in args.sizes:
        with LinuxHostLab(image=image) as lab, tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            hosts = [lab.up(f"bench{i}") for i in range(n)]
            for h in hosts:
                prepare(h)
            write_inventory(tmp, lab, hosts)
            policy = write_policy(tmp, args.policy)
            floor_s = floor(lab, hosts, host_jobs(tmp, policy))
            reset_session_logs(hosts)
            wall, peak_mb, rc = run_check(tmp, policy, args.parallel)
            counts = [sessions(h) for h in hosts]
            row = (
                f"| {n} | {wall:.2f} s (exit {rc}) | {floor_s:.2f} s | {wall / floor_s:.2f}× "
                f"| {min(counts)}–{max(counts)} | {peak_mb:.0f} MB |"
            )
            if args.restore_test:
                restore_s, _, _ = run_check(tmp, policy, args.parallel, ["--restore-test"])
                row += f" {restore_s:.2f} s |"
            if args.ansible:
                ansible_s = ansible(tmp, lab, hosts, playbook_bin)
                row += f" {ansible_s:.2f} s | {ansible_s / wall:.1f}× |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
