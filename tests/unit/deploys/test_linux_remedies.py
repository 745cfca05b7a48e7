"""Linux remedies: facts + policy params + context → Remedy / Manual / Refused / None."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from baluarte.collected import Collected, HostIdentity
from baluarte.controls import EvalContext, catalogue
from baluarte.inventory import Device
from baluarte.remediation import Manual, Refused, Remedy, RemedyContext
from checks.facts.access import AccessFacts, SshFacts, SshView
from checks.facts.endpoint import EndpointFacts, ProductStatus
from checks.facts.firewall import FamilyDefault, FirewallFacts, OpenRule, PortRange
from checks.facts.logging import ForwardTarget, LoggingFacts, TimeSyncFacts
from checks.facts.patching import AutoUpdates, PatchFacts, PendingUpdate
from checks.policy.access import RootLogin
from checks.policy.base import Required
from checks.policy.endpoint import Installed, ProductRequired
from checks.policy.firewall import AllowedInbound, InboundService
from checks.policy.logging import RemoteForwarding, TimeSync
from checks.policy.patching import SecurityUpdates
from deploys.linux import MANUAL, REMEDIES, access, endpoint, firewall, patching
from deploys.linux import logging as logs

NOW = EvalContext(now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
PEER = "192.0.2.10"


def rctx(
    *,
    ssh: dict[str, Any] | None = None,
    os_id: str = "debian",
    peer: str = PEER,
    address: str = "10.0.0.5",
    facts: dict[str, Any] | None = None,
    login: str | None = None,
) -> RemedyContext:
    settings = {"user": "baluarte", "sudo": True, "key": "file:/keys/id"} if ssh is None else ssh
    if login is None:  # how the collection's login went: by the key when the inventory has one
        login = "publickey" if "key" in settings else "password"
    device = Device(
        name="web1",
        platform="linux",
        address=address,
        ssh=settings if address != "@local" else None,
    )
    identity = HostIdentity(hostname="web1", os_id=os_id, peer=peer, login_method=login)
    return RemedyContext(
        device=device, collected=Collected(identity=identity, facts=facts or {}), ctx=NOW
    )


def view(conn: str = "default", pw: bool = True, kbd: bool = False, root: str = "yes") -> SshView:
    return SshView(
        connection=conn,
        password_authentication=pw,
        kbd_interactive_authentication=kbd,
        use_pam=True,
        permit_root_login=root,
    )


def access_facts(*views: SshView) -> AccessFacts:
    return AccessFacts(
        ssh=SshFacts(installed=True, views=views),
        admins=(),
        password_policy=None,
        insecure_services=(),
    )


def commands(remedy: Remedy) -> str:
    return json.dumps([o.model_dump() for o in remedy.ops])


# -- catalogue coverage ------------------------------------------------------------------------


def test_every_linux_control_has_a_remedy_or_a_manual_text() -> None:
    linux = {c.id for c in catalogue().values() if "linux" in c.platforms}
    assert linux == set(REMEDIES) | set(MANUAL)
    assert not set(REMEDIES) & set(MANUAL)
    assert all(len(text) > 40 for text in MANUAL.values())


def test_ops_are_json_able_pyinfra_builtins() -> None:
    import importlib

    remedy = access.ssh_password_authentication(access_facts(view()), Required(), rctx())
    assert isinstance(remedy, Remedy)
    for spec in remedy.ops:
        module = importlib.import_module(f"pyinfra.operations.{spec.module}")
        assert callable(getattr(module, spec.function))
        json.dumps(spec.kwargs)


# -- sshd --------------------------------------------------------------------------------------


def test_password_authentication_writes_the_drop_in_validates_and_reloads() -> None:
    remedy = access.ssh_password_authentication(
        access_facts(view(), view("user=root,addr=10.1.2.3")), Required(), rctx()
    )
    assert isinstance(remedy, Remedy)
    shell, reload = remedy.ops
    script = shell.kwargs["commands"][0]
    assert access.DROPIN in script
    assert "'PasswordAuthentication no' 'KbdInteractiveAuthentication no'" in script
    assert '"$S" -t' in script and "restore" in script
    # every probed connection is verified after the write, the Match one with -C
    assert "-C user=root,addr=10.1.2.3" in script
    assert (reload.module, reload.function) == ("systemd", "service")
    assert reload.kwargs == {"service": "ssh", "running": None, "reloaded": True}
    assert "-default: passwordauthentication yes" in remedy.diff
    assert "+default: passwordauthentication no" in remedy.diff
    run = json.dumps([o.kwargs for o in remedy.ops])
    assert "stop" not in run and "disable" not in run


def test_rhel_reloads_sshd_unit() -> None:
    remedy = access.ssh_root_login(access_facts(view()), RootLogin(), rctx(os_id="rocky"))
    assert isinstance(remedy, Remedy)
    assert remedy.ops[1].kwargs["service"] == "sshd"


def test_the_two_sshd_remedies_compose_in_one_drop_in() -> None:
    facts = access_facts(view(pw=True, root="yes"))
    pw = access.ssh_password_authentication(facts, Required(), rctx())
    root = access.ssh_root_login(facts, RootLogin(allowed="prohibit-password"), rctx())
    assert isinstance(pw, Remedy) and isinstance(root, Remedy)
    pw_script, root_script = pw.ops[0].kwargs["commands"][0], root.ops[0].kwargs["commands"][0]
    # same file; each replaces only its own keys, so neither undoes the other
    assert access.DROPIN in pw_script and access.DROPIN in root_script
    assert "(passwordauthentication|kbdinteractiveauthentication)" in pw_script
    assert "(permitrootlogin)[[:space:]]" in root_script
    assert "PermitRootLogin" not in pw_script
    assert "PasswordAuthentication" not in root_script.replace("permitrootlogin", "")


def test_sshd_script_rolls_back_when_sshd_rejects_it(tmp_path: Any) -> None:
    """The shell step run for real against a fake sshd that rejects the configuration."""
    import subprocess

    etc = tmp_path / "ssh"
    (etc / "sshd_config.d").mkdir(parents=True)
    (etc / "sshd_config").write_text("Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n")
    old = "# mine\nPermitRootLogin no\n"
    (etc / "sshd_config.d" / "50-baluarte.conf").write_text(old)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sshd").write_text("#!/bin/sh\necho 'line 3: Bad configuration option'; exit 255\n")
    (fake / "sshd").chmod(0o755)
    script = access.install_script({"PasswordAuthentication": "no"}, ("default",))
    script = script.replace("/etc/ssh", str(etc)).replace("mkdir -p /run/sshd", "true")
    done = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{fake}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "sshd -t rejected the configuration" in done.stderr
    assert (etc / "sshd_config.d" / "50-baluarte.conf").read_text() == old
    assert sorted(p.name for p in (etc / "sshd_config.d").iterdir()) == ["50-baluarte.conf"]


def test_sshd_script_keeps_the_other_key_and_adds_the_include(tmp_path: Any) -> None:
    import subprocess

    etc = tmp_path / "ssh"
    (etc / "sshd_config.d").mkdir(parents=True)
    (etc / "sshd_config").write_text("Port 22\n")
    (etc / "sshd_config.d" / "50-baluarte.conf").write_text("# x\nPermitRootLogin no\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sshd").write_text(
        '#!/bin/sh\n[ "$1" = -T ] && echo "passwordauthentication no"; exit 0\n'
    )
    (fake / "sshd").chmod(0o755)
    script = access.install_script({"PasswordAuthentication": "no"}, ("default",))
    script = script.replace("/etc/ssh", str(etc)).replace("mkdir -p /run/sshd", "true")
    done = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{fake}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (etc / "sshd_config.d" / "50-baluarte.conf").read_text()
    assert text == "# x\nPermitRootLogin no\nPasswordAuthentication no\n"
    assert (etc / "sshd_config").read_text().startswith(f"Include {etc}/sshd_config.d/*.conf\n")


def test_sshd_compliant_facts_need_nothing() -> None:
    facts = access_facts(view(pw=False, root="prohibit-password"))
    assert access.ssh_password_authentication(facts, Required(), rctx()) is None
    assert access.ssh_root_login(facts, RootLogin(allowed="prohibit-password"), rctx()) is None


def test_guard_password_login_refuses_password_authentication_off() -> None:
    ctx = rctx(ssh={"user": "baluarte", "password": "env:BALUARTE_PW"})
    got = access.ssh_password_authentication(access_facts(view()), Required(), ctx)
    assert isinstance(got, Refused)
    assert "lock Baluarte out" in got.reason
    assert "used password authentication, not a key" in got.reason


def test_guard_goes_by_the_login_that_succeeded_not_by_the_inventory() -> None:
    both = {"user": "baluarte", "key": "file:/keys/id", "password": "env:BALUARTE_PW"}
    facts = access_facts(view())
    # the host refused the key and the password got Baluarte in: turning passwords off locks out
    refused = access.ssh_password_authentication(
        facts, Required(), rctx(ssh=both, login="password")
    )
    assert isinstance(refused, Refused)
    kbd = rctx(ssh=both, login="keyboard-interactive")
    assert isinstance(access.ssh_password_authentication(facts, Required(), kbd), Refused)
    keyed = rctx(ssh=both, login="publickey")
    assert isinstance(access.ssh_password_authentication(facts, Required(), keyed), Remedy)
    # a login Baluarte could not see is not assumed to be a key
    unknown = access.ssh_password_authentication(facts, Required(), rctx(ssh=both, login=""))
    assert isinstance(unknown, Refused) and "could not see" in unknown.reason


@pytest.mark.parametrize("allowed", ["no", "forced-commands-only"])
def test_guard_root_login_refuses_when_baluarte_is_root(allowed: str) -> None:
    ctx = rctx(ssh={"user": "root", "key": "file:/keys/id"})
    got = access.ssh_root_login(access_facts(view()), RootLogin(allowed=allowed), ctx)
    assert isinstance(got, Refused)
    assert "as root" in got.reason


def test_root_with_a_key_may_get_prohibit_password_but_not_with_a_password() -> None:
    facts = access_facts(view())
    keyed = rctx(ssh={"user": "root", "key": "file:/keys/id"})
    assert isinstance(
        access.ssh_root_login(facts, RootLogin(allowed="prohibit-password"), keyed), Remedy
    )
    pw = rctx(ssh={"user": "root", "password": "env:PW"})
    assert isinstance(
        access.ssh_root_login(facts, RootLogin(allowed="prohibit-password"), pw), Refused
    )


def test_a_match_block_setting_the_value_is_manual() -> None:
    facts = access_facts(view(pw=False), view("user=deploy,addr=10.1.2.3", pw=True))
    got = access.ssh_password_authentication(facts, Required(), rctx())
    assert isinstance(got, Manual)
    assert "Match block" in got.text


# -- patching ----------------------------------------------------------------------------------


def patch_facts(
    pending: tuple[PendingUpdate, ...] = (), auto: AutoUpdates | None = None, pm: str = "apt"
) -> PatchFacts:
    return PatchFacts(
        package_manager=pm,
        pending=pending,
        last_update=None,
        automatic_updates=auto,
        reboot=None,
        kernel_running=None,
        kernel_newest=None,
        packages={},
    )


SEC = PendingUpdate(
    name="openssl",
    installed="3.0.15-1",
    candidate="3.0.17-1~deb12u2",
    origins=("Debian-Security:12/oldstable-security",),
    security=True,
)
UPD = PendingUpdate(
    name="tzdata",
    installed="2026a-0",
    candidate="2026b-0",
    origins=("Debian:12.9/oldstable-updates",),
    security=False,
)
NEW = PendingUpdate(
    name="linux-image-6.1.0-40-amd64",
    installed=None,
    candidate="6.1.150-1",
    origins=("Debian-Security:12/oldstable-security",),
    security=True,
)


def test_security_updates_installs_exactly_the_listed_versions() -> None:
    facts = patch_facts((SEC, UPD, NEW))
    remedy = patching.security_updates_pending(facts, SecurityUpdates(), rctx())
    assert isinstance(remedy, Remedy)
    cmds = remedy.ops[0].kwargs["commands"]
    assert "apt-get install --only-upgrade" in cmds[0] and "openssl=3.0.17-1~deb12u2" in cmds[0]
    assert "linux-image-6.1.0-40-amd64=6.1.150-1" in cmds[1] and "--only-upgrade" not in cmds[1]
    assert "tzdata" not in commands(remedy)
    assert "apt-get update" not in commands(remedy)


def test_held_security_updates_are_left_to_a_technician() -> None:
    held = SEC.model_copy(update={"kept": "held"})
    phased = NEW.model_copy(update={"kept": "deferred by phasing"})
    remedy = patching.security_updates_pending(
        patch_facts((held, phased)), SecurityUpdates(), rctx()
    )
    assert isinstance(remedy, Remedy)
    assert "openssl=" not in commands(remedy)  # apt-get would refuse it (exit 100) anyway
    assert "linux-image-6.1.0-40-amd64=6.1.150-1" in commands(remedy)
    assert "held, left alone: openssl" in remedy.summary
    only_held = patching.security_updates_pending(patch_facts((held,)), SecurityUpdates(), rctx())
    assert isinstance(only_held, Manual) and "apt-mark unhold" in only_held.text


def test_security_updates_honour_the_policy_origins() -> None:
    facts = patch_facts((SEC, UPD))
    params = SecurityUpdates(origins=["Debian:12.9/oldstable-updates"])
    remedy = patching.security_updates_pending(facts, params, rctx())
    assert isinstance(remedy, Remedy)
    assert "tzdata=2026b-0" in commands(remedy) and "openssl" not in commands(remedy)


def test_security_updates_dnf_and_nothing_pending() -> None:
    facts = patch_facts((SEC,), pm="dnf")
    remedy = patching.security_updates_pending(facts, SecurityUpdates(), rctx(os_id="rocky"))
    assert isinstance(remedy, Remedy)
    assert remedy.ops[0].kwargs["commands"] == ["dnf -y upgrade --security openssl"]
    assert patching.security_updates_pending(patch_facts((UPD,)), SecurityUpdates(), rctx()) is None


def test_unattended_upgrades_installed_and_configured() -> None:
    auto = AutoUpdates(
        tool="unattended-upgrades",
        installed=False,
        enabled=False,
        security_origin=False,
        detail="unattended-upgrades not installed; "
        "APT::Periodic::Unattended-Upgrade=unset; "
        "APT::Periodic::Update-Package-Lists=unset",
    )
    remedy = patching.automatic_updates(patch_facts(auto=auto), Required(), rctx())
    assert isinstance(remedy, Remedy)
    install, put = remedy.ops
    assert install.kwargs == {"packages": ["unattended-upgrades"]}
    assert put.kwargs["dest"] == patching.AUTO_UPGRADES
    assert 'APT::Periodic::Unattended-Upgrade "1";' in put.kwargs["src_text"]
    assert 'APT::Periodic::Update-Package-Lists "1";' in put.kwargs["src_text"]
    assert "+APT::Periodic::Unattended-Upgrade=1" in remedy.diff
    done = auto.model_copy(update={"installed": True, "enabled": True, "security_origin": True})
    assert patching.automatic_updates(patch_facts(auto=done), Required(), rctx()) is None


def test_dnf_automatic() -> None:
    auto = AutoUpdates(
        tool="dnf-automatic",
        installed=False,
        enabled=False,
        security_origin=False,
        detail="dnf-automatic not installed",
    )
    remedy = patching.automatic_updates(
        patch_facts(auto=auto, pm="dnf"), Required(), rctx(os_id="rocky")
    )
    assert isinstance(remedy, Remedy)
    text = commands(remedy)
    assert "apply_updates = yes" in text and "upgrade_type = security" in text
    assert remedy.ops[-1].kwargs == {
        "service": "dnf-automatic.timer",
        "running": True,
        "enabled": True,
    }


# -- firewall ----------------------------------------------------------------------------------


def fw(tools: tuple[str, ...] = ("nft",), *rules: OpenRule, deny: bool = False) -> FirewallFacts:
    action = "drop" if deny else "accept"
    everything = OpenRule(
        families=("ipv4", "ipv6"),
        protocol=None,
        ports=None,
        sources=None,
        tool="nftables",
        where="kernel",
        rule="no inbound filtering chain",
    )
    return FirewallFacts(
        tools_installed=tools,
        tools_active=(),
        active=deny,
        defaults=tuple(
            FamilyDefault(family=f, action=action, source="x") for f in ("ipv4", "ipv6")
        ),
        open_inbound=rules if deny else (everything, *rules),
    )


SSH_ADMIN = InboundService(port=22, sources=(ipaddress.ip_network("192.0.2.0/24"),), name="ssh")
WEB = InboundService(port=443)


def test_firewall_guard_refuses_when_ssh_from_the_peer_is_not_listed() -> None:
    other = InboundService(port=22, sources=(ipaddress.ip_network("10.0.0.0/8"),))
    got = firewall.allowed_inbound(fw(), AllowedInbound(services=(other, WEB)), rctx())
    assert isinstance(got, Refused)
    assert f"do not include SSH (tcp/22) from {PEER}" in got.reason
    assert "lock Baluarte out" in got.reason
    # a port Baluarte does not use does not count either
    ctx = rctx(ssh={"user": "b", "key": "file:/k", "port": 2222})
    got = firewall.allowed_inbound(fw(), AllowedInbound(services=(SSH_ADMIN,)), ctx)
    assert isinstance(got, Refused) and "tcp/2222" in got.reason


def test_firewall_guard_refuses_when_the_peer_is_unknown() -> None:
    got = firewall.allowed_inbound(fw(), AllowedInbound(services=(SSH_ADMIN,)), rctx(peer=""))
    assert isinstance(got, Refused)


def test_nftables_ruleset_allows_the_policy_and_drops_the_rest() -> None:
    remedy = firewall.allowed_inbound(fw(), AllowedInbound(services=(SSH_ADMIN, WEB)), rctx())
    assert isinstance(remedy, Remedy)
    put = next(o for o in remedy.ops if o.function == "put")
    text = put.kwargs["src_text"]
    assert "policy drop;" in text
    assert "ip saddr { 192.0.2.0/24 } tcp dport 22 accept" in text
    assert "tcp dport 443 accept" in text
    assert "ct state established,related accept" in text
    load = next(o for o in remedy.ops if o.function == "shell")
    assert load.kwargs["commands"] == [
        f"nft -c -f {firewall.NFT_FILE} && nft -f {firewall.NFT_FILE}"
    ]
    boot = next(o for o in remedy.ops if o.module == "systemd")
    assert boot.kwargs == {"service": "nftables", "running": None, "enabled": True}
    assert "+default inbound ipv4 drop" in remedy.diff


def test_ufw_adds_before_deleting_and_enables_last() -> None:
    extra = OpenRule(
        families=("ipv4", "ipv6"),
        protocol="tcp",
        ports=(PortRange(first=8080, last=8080),),
        sources=None,
        tool="ufw",
        where="ufw-user-input",
        rule="-A ufw-user-input -p tcp --dport 8080 -j ACCEPT",
    )
    facts = fw(("nft", "ufw"), extra, deny=True)
    remedy = firewall.allowed_inbound(facts, AllowedInbound(services=(SSH_ADMIN,)), rctx())
    assert isinstance(remedy, Remedy)
    flat = [c for o in remedy.ops for c in o.kwargs["commands"]]
    assert flat == [
        "ufw allow proto tcp from 192.0.2.0/24 to any port 22",
        "ufw delete allow proto tcp from any to any port 8080",
        "ufw default deny incoming",
        "ufw --force enable",
    ]


def test_firewall_enabled_points_to_allowed_inbound_and_none_when_compliant() -> None:
    got = firewall.enabled(fw(), Required(), rctx())
    assert isinstance(got, Manual) and "firewall.allowed_inbound" in got.text
    ok = fw(("nft",), deny=True)
    assert firewall.default_inbound_deny(ok, Required(), rctx()) is None
    assert firewall.allowed_inbound(ok, AllowedInbound(services=(SSH_ADMIN,)), rctx()) is None


def test_no_firewall_guard_on_local() -> None:
    remedy = firewall.allowed_inbound(
        fw(), AllowedInbound(services=(WEB,)), rctx(address="@local", peer="")
    )
    assert isinstance(remedy, Remedy)


# -- endpoint ----------------------------------------------------------------------------------


def ep(clamav: bool = False, running: bool | None = None) -> EndpointFacts:
    products = (
        ProductStatus(product="clamav", installed=clamav, running=running, enabled=running),
        ProductStatus(product="defender", installed=False),
    )
    return EndpointFacts(products=products, disk=None)


def test_clamav_installed_and_running() -> None:
    remedy = endpoint.installed(ep(), Installed(product="clamav"), rctx())
    assert isinstance(remedy, Remedy)
    assert remedy.ops[0].kwargs["packages"] == ["clamav-daemon", "clamav-freshclam"]
    units = [o.kwargs for o in remedy.ops[1:]]
    assert units == [
        {"service": "clamav-freshclam", "running": True, "enabled": True},
        {"service": "clamav-daemon", "running": True, "enabled": True},
    ]
    again = endpoint.running(ep(True, False), ProductRequired(product="any"), rctx())
    assert isinstance(again, Remedy) and again.ops == remedy.ops
    assert endpoint.running(ep(True, True), ProductRequired(product="clamav"), rctx()) is None


def test_other_products_are_manual() -> None:
    got = endpoint.installed(ep(), Installed(product="defender"), rctx())
    assert isinstance(got, Manual) and "mdatp" in got.text


# -- logging -----------------------------------------------------------------------------------


def lf(targets: tuple[ForwardTarget, ...] = (), sync: TimeSyncFacts | None = None) -> LoggingFacts:
    return LoggingFacts(forward_targets=targets, time_sync=sync)


def test_rsyslog_forwarding_drop_in() -> None:
    params = RemoteForwarding(targets=("logs.example.net:6514", "10.0.0.9"))
    remedy = logs.remote_forwarding(lf(), params, rctx())
    assert isinstance(remedy, Remedy)
    put = remedy.ops[1]
    assert put.kwargs["dest"] == logs.FORWARD_CONF
    assert "*.* @@logs.example.net:6514\n*.* @@10.0.0.9:514\n" in put.kwargs["src_text"]
    assert "+*.* @@10.0.0.9:514" in remedy.diff
    assert remedy.ops[2].kwargs["restarted"] is True
    target = ForwardTarget(
        via="rsyslog",
        host="10.0.0.9",
        port=514,
        protocol="tcp",
        source=f"{logs.FORWARD_CONF}:2",
        active=True,
    )
    assert (
        logs.remote_forwarding(lf((target,)), RemoteForwarding(targets=("10.0.0.9",)), rctx())
        is None
    )


def test_forwarding_without_targets_is_manual() -> None:
    assert isinstance(logs.remote_forwarding(lf(), RemoteForwarding(), rctx()), Manual)


def test_time_sync_timesyncd_with_servers() -> None:
    sync = TimeSyncFacts(
        synchronized=False,
        source="no NTP client",
        detail="no NTP client is running (chronyd, ntpd, systemd-timesyncd)",
    )
    remedy = logs.time_sync(lf(sync=sync), TimeSync(servers=("ntp.example.net",)), rctx())
    assert isinstance(remedy, Remedy)
    assert remedy.ops[0].kwargs["packages"] == ["systemd-timesyncd"]
    assert remedy.ops[0].kwargs["extra_install_args"] == "--no-remove"
    assert remedy.ops[1].kwargs["src_text"] == "[Time]\nNTP=ntp.example.net\n"
    assert remedy.ops[-1].kwargs["service"] == "systemd-timesyncd"


def test_time_sync_uses_installed_chrony() -> None:
    sync = TimeSyncFacts(
        synchronized=False,
        source="no NTP client",
        detail="no NTP client is running (chronyd, ntpd); chrony is installed",
    )
    remedy = logs.time_sync(lf(sync=sync), TimeSync(servers=("ntp1",)), rctx())
    assert isinstance(remedy, Remedy)
    assert "systemd-timesyncd" not in commands(remedy)
    assert remedy.ops[1].kwargs["line"] == "server ntp1 iburst"
    assert remedy.ops[-1].kwargs["service"] == "chrony"
    synced = sync.model_copy(update={"synchronized": True, "source": "chronyc tracking"})
    assert logs.time_sync(lf(sync=synced), TimeSync(), rctx()) is None


def test_unreadable_facts_are_manual_never_none() -> None:
    facts = AccessFacts(
        ssh=None,
        admins=None,
        password_policy=None,
        insecure_services=None,
        problems={"ssh": "sshd -T needs root"},
    )
    got = access.ssh_password_authentication(facts, Required(), rctx())
    assert isinstance(got, Manual) and "sshd -T needs root" in got.text


def test_no_remedy_ever_stops_or_disables_ssh() -> None:
    facts = access_facts(view(pw=True, root="yes"))
    for remedy in (
        access.ssh_password_authentication(facts, Required(), rctx()),
        access.ssh_root_login(facts, RootLogin(), rctx()),
        firewall.allowed_inbound(fw(), AllowedInbound(services=(SSH_ADMIN,)), rctx()),
    ):
        assert isinstance(remedy, Remedy)
        text = commands(remedy)
        for bad in ("stop ssh", "disable ssh", "mask ssh", '"running": false'):
            assert bad not in text
