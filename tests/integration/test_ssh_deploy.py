"""run_deploys plans and applies real pyinfra operations on lab hosts over SSH.

Every target carries an SSH password canary (key auth is what logs in); no answer may show it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.remediation import OpSpec
from baluarte.transports.ssh import DeployAnswer, DeployJob, SshTarget, run_deploys

pytestmark = pytest.mark.hosts
CANARY = "canary-Dp4wQx9T-do-not-leak"
CONTENT = "# written by baluarte\nPermitRootLogin no\n"
DEST = "/etc/baluarte-test/hardening.conf"


@pytest.fixture(scope="module")
def hosts(lab: LinuxHostLab) -> Iterator[tuple[LinuxHost, LinuxHost]]:
    one, two = lab.up("deploy-one"), lab.up("deploy-two")
    yield one, two
    lab.down(one)
    lab.down(two)


def target(lab: LinuxHostLab, host: LinuxHost) -> SshTarget:
    return SshTarget(
        id=host.name,
        hostname=host.address,
        port=host.port,
        key_file=str(lab.key_path),
        known_hosts=str(lab.known_hosts_path),
        password=CANARY,
    )


def put(dest: str = DEST, text: str = CONTENT) -> OpSpec:
    return OpSpec(
        name=f"write {dest}",
        module="files",
        function="put",
        kwargs={"src_text": text, "dest": dest, "mode": "640"},
    )


def shell(command: str, name: str | None = None) -> OpSpec:
    return OpSpec(
        name=name or command, module="server", function="shell", kwargs={"commands": [command]}
    )


INSTALLED = OpSpec(
    name="openssh-server installed",
    module="apt",
    function="packages",
    kwargs={"packages": ["openssh-server"]},
)


def deploy(*jobs: DeployJob, **kwargs: float) -> dict[str, DeployAnswer]:
    answers = list(run_deploys(jobs, **kwargs))  # type: ignore[arg-type]
    for answer in answers:
        assert CANARY not in answer.model_dump_json()
    assert sorted(a.id for a in answers) == sorted(j.target.id for j in jobs)
    return {a.id: a for a in answers}


def exists(host: LinuxHost, path: str) -> bool:
    return host.run(f"test -e {path}", check=False).returncode == 0


def test_plan_changes_nothing_apply_does_it_and_a_second_plan_has_nothing_to_do(lab, hosts):
    host = hosts[0]
    ops = (put(), shell("echo ran > /root/shell-ran"), INSTALLED)
    job = DeployJob(target=target(lab, host), ops=ops, execute=False)

    planned = deploy(job)[host.name]
    assert planned.ok, planned
    wrote, ran, installed = planned.ops
    assert [o.name for o in planned.ops] == [op.name for op in ops]
    assert wrote.will_change and ran.will_change and not installed.will_change
    assert wrote.commands == (
        "mkdir -p /etc/baluarte-test",
        f"upload <content> -> {DEST}",
        f"chmod 640 {DEST}",
    )
    assert ran.commands == ("echo ran > /root/shell-ran",)
    assert installed.commands == ()
    assert all(o.success is None and o.error is None for o in planned.ops)
    assert not exists(host, "/etc/baluarte-test") and not exists(host, "/root/shell-ran")

    applied = deploy(job.model_copy(update={"execute": True}))[host.name]
    assert applied.ok, applied
    wrote, ran, installed = applied.ops
    assert (wrote.success, wrote.changed) == (True, True)
    assert wrote.commands == planned.ops[0].commands
    assert (ran.success, ran.changed, ran.commands) == (True, True, ran.commands)
    assert ran.commands == ("echo ran > /root/shell-ran",)
    assert (installed.success, installed.changed, installed.commands) == (True, False, ())
    assert host.run(f"cat {DEST}").stdout == CONTENT
    assert host.run(f"stat -c %a {DEST}").stdout.strip() == "640"
    assert host.run("cat /root/shell-ran").stdout == "ran\n"

    again = deploy(DeployJob(target=target(lab, host), ops=(put(), INSTALLED), execute=False))
    assert again[host.name].ok
    assert [(o.will_change, o.commands) for o in again[host.name].ops] == [(False, ())] * 2


def test_a_failing_operation_stops_the_later_ones(lab, hosts):
    host = hosts[0]
    ops = (
        shell("echo before > /root/before"),
        shell("echo went wrong >&2; exit 3", name="fails"),
        shell("echo after > /root/after"),
    )
    answer = deploy(DeployJob(target=target(lab, host), ops=ops, execute=True))[host.name]
    assert not answer.ok
    assert answer.failure == "failed" and "fails" in (answer.reason or "")
    before, fails, after = answer.ops
    assert (before.success, before.changed) == (True, True)
    assert (fails.success, fails.changed) == (False, False)
    assert fails.stderr == "went wrong"
    assert fails.error and "went wrong" in fails.error
    assert fails.commands == ("echo went wrong >&2; exit 3",)
    assert (after.success, after.changed, after.commands) == (None, None, ())
    assert exists(host, "/root/before") and not exists(host, "/root/after")


def test_two_hosts_at_once_one_planned_one_applied_and_an_unreachable_one(lab, hosts):
    one, two = hosts
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    nowhere = SshTarget(id="nowhere", hostname="127.0.0.1", port=closed_port, password=CANARY)
    mark = shell("hostname > /root/mark")
    answers = deploy(
        DeployJob(target=target(lab, one), ops=(mark,), execute=True),
        DeployJob(target=target(lab, two), ops=(mark,), execute=False),
        DeployJob(target=nowhere, ops=(mark,), execute=True),
    )
    assert answers[one.name].ok and answers[one.name].ops[0].success
    assert one.run("cat /root/mark").stdout == f"{one.name}\n"
    assert answers[two.name].ok and answers[two.name].ops[0].will_change
    assert not exists(two, "/root/mark")
    lost = answers["nowhere"]
    assert (lost.ok, lost.failure) == (False, "unreachable")
    assert lost.ops == ()  # nothing known of its operations


def test_secrets_are_masked_in_commands_and_output(lab, hosts):
    host = hosts[1]
    ops = (shell(f"echo {CANARY}; echo {CANARY} >&2", name="echoes"),)
    for execute in (False, True):
        answer = deploy(DeployJob(target=target(lab, host), ops=ops, execute=execute))[host.name]
        assert answer.ok, answer  # `deploy` asserts the canary is nowhere
        assert answer.ops[0].commands == ("echo ***; echo *** >&2",)
    assert answer.ops[0].stdout == "***" and answer.ops[0].stderr == "***"
    assert CANARY not in repr(DeployJob(target=target(lab, host), ops=(), execute=True))


def test_operations_that_cannot_be_planned_are_errors_and_nothing_runs(lab, hosts):
    host = hosts[1]
    cases = {
        "not pyinfra": OpSpec(name="x", module="os", function="system", kwargs={}),
        "hides errors": OpSpec(
            name="x", module="server", function="shell",
            kwargs={"commands": ["true"], "_ignore_errors": True},
        ),
        "raises in planning": OpSpec(
            name="x", module="files", function="put",
            kwargs={"src_text": "x", "dest": "/etc"},  # a directory: pyinfra refuses
        ),
        "a fact fails": INSTALLED,  # dpkg -l fails on the broken status file below
    }  # fmt: skip
    jobs = [
        DeployJob(
            target=target(lab, host).model_copy(update={"id": case}),
            ops=(spec, shell("touch /root/never")),
            execute=True,
        )
        for case, spec in cases.items()
    ]
    host.run(
        "cp /var/lib/dpkg/status /root/status && echo 'not: a: stanza' >> /var/lib/dpkg/status"
    )
    try:
        answers = deploy(*jobs)
    finally:
        host.run("mv /root/status /var/lib/dpkg/status")
    assert "dpkg" in (answers["a fact fails"].ops[0].error or "")
    for case, answer in answers.items():
        assert (answer.ok, answer.failure) == (False, "failed"), case
        first, later = answer.ops
        assert first.error and first.success is None, case
        assert later.error and later.success is None, case
    assert not exists(host, "/root/never")


def test_a_command_past_its_timeout_fails_the_operation(lab, hosts):
    host = hosts[1]
    ops = (shell("sleep 30", name="slow"), shell("touch /root/after-slow"))
    job = DeployJob(target=target(lab, host), ops=ops, execute=True)
    answer = deploy(job, command_timeout=1)[host.name]
    assert (answer.ok, answer.failure) == (False, "failed")
    assert answer.ops[0].success is False and "timed out" in (answer.ops[0].error or "")
    assert answer.ops[1].success is None
    assert answer.seconds < 15

    guarded = deploy(job, host_timeout=2)[host.name]  # the whole host's guard
    assert (guarded.ok, guarded.failure) == (False, "timeout")
    assert guarded.ops[0].success is False and guarded.ops[1].success is None
    assert guarded.seconds < 15
    assert not exists(host, "/root/after-slow")
