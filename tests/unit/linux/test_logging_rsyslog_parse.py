"""rsyslog forwarding read as rsyslog reads it: the tokenizer, rulesets, includes, TLS.

Recorded documents (``tests/samples/linux/logging/rsyslog_*.json``) come from rsyslogd 8.2302
on lab hosts, with ``rsyslogd -N1 -o`` and the files; small synthetic files cover each form.
"""

from __future__ import annotations

import pytest

from checks.linux import logging_rsyslog
from checks.linux.logging import parse
from checks.linux.logging_rainerscript import tokenize
from tests.unit.linux import samples

BASE = """== /etc/rsyslog.conf
module(load="imuxsock") # provides support for local system logging
$WorkDirectory /var/spool/rsyslog
$IncludeConfig /etc/rsyslog.d/*.conf
*.*;auth,authpriv.none\t\t-/var/log/syslog
"""


def targets(remote: str, running: bool = True, base: str = BASE, **files: str) -> dict:
    """host → (port, protocol, tls, active, reason) for the files BASE plus 90-remote.conf."""
    text = base + "== /etc/rsyslog.d/90-remote.conf\n" + remote
    for path, body in files.items():
        text += f"== {path.replace('__', '/').replace('_', '.')}\n{body}"
    got = logging_rsyslog.read(text, running).targets
    return {t.host: (t.port, t.protocol, t.tls, t.active, t.inactive_reason) for t in got}


def test_tokenizer_reads_objects_as_rsyslog_does():
    (action,) = tokenize(
        'Action(Type="omfwd" # a comment, "quoted"\n'
        '  Target="h" queue.type="LinkedList" /* block ) comment */\n'
        '  template="a#b\\"c" tpl=["x", "y"])\n'
    )
    assert (action.kind, action.text, action.line, action.end) == ("object", "action", 1, 3)
    assert dict(action.params) == {
        "type": "omfwd",
        "target": "h",
        "queue.type": "LinkedList",
        "template": 'a#b"c',
        "tpl": ("x", "y"),
    }


def test_tokenizer_statements_filters_and_expressions():
    tokens = tokenize(
        ':msg, contains, "x" /var/log/x\n& stop\n'
        "if $msg contains 'then' and $x == \"do\" then {\n call fwd\n}\n"
        "$ActionSendStreamDriverMode 1\n*.* @@(o)host:514;T # trailing\n"
    )
    kinds = [(t.kind, t.text) for t in tokens]
    assert kinds[:4] == [
        ("propfilt", ':msg, contains, "x"'),
        ("legacy", "/var/log/x"),
        ("punct", "&"),
        ("keyword", "stop"),
    ]
    assert ("expr", "$msg contains 'then' and $x == \"do\"") in kinds
    assert ("name", "fwd") in kinds
    assert kinds[-3:] == [
        ("directive", "$ActionSendStreamDriverMode 1"),
        ("prifilt", "*.*"),
        ("legacy", "@@(o)host:514;T # trailing"),
    ]


@pytest.mark.parametrize("bad", ['action(type="omfwd" target=h)', 'action(type="x"', "*.* ^"])
def test_unreadable_configuration_raises(bad):
    with pytest.raises(ValueError):
        tokenize(bad)


def test_documented_reliable_form_with_dotted_parameters():
    got = targets(
        'action(type="omfwd" target="logs.example.net" port="6514" protocol="tcp"\n'
        '       queue.type="LinkedList" queue.filename="fwd" action.resumeRetryCount="-1")\n'
    )
    assert got == {"logs.example.net": (6514, "tcp", False, True, "")}


def test_tls_forms():
    got = targets(
        'action(type="omfwd" target="a" port="6514" protocol="tcp"\n'
        '       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name")\n'
        'action(type="omfwd" target="b" protocol="tcp" StreamDriverMode="1")\n'
        'action(type="omfwd" target="c" protocol="udp" StreamDriverMode="1")\n'
        'action(type="omrelp" target="d" port="2514" tls="on")\n'
        "$ActionSendStreamDriverMode 1\n*.* @@e:6514\n"
        "$ActionSendStreamDriverMode 0\n*.* @@f:6514\n"
        'global(DefaultNetstreamDriver="gtls")\n'
    )
    # b and e take the global driver; c is UDP; f has mode 0
    assert {h: v[2] for h, v in got.items()} == {
        "a": True,
        "b": True,
        "c": False,
        "d": True,
        "e": True,
        "f": False,
    }
    plain = targets('action(type="omfwd" target="b" protocol="tcp" StreamDriverMode="1")\n')
    assert plain["b"][2] is False  # the default driver is ptcp


def test_rulesets_reached_by_call_input_or_nothing():
    got = targets(
        'ruleset(name="called") { action(type="omfwd" target="called") }\n'
        "if $programname == 'sshd' then { call called }\n"
        'ruleset(name="unused") { action(type="omfwd" target="unused") }\n'
        'input(type="imtcp" port="514" ruleset="relay")\n'
        'ruleset(name="relay") { action(type="omfwd" target="relay") call relayed }\n'
        'ruleset(name="relayed") { action(type="omfwd" target="relayed") }\n'
        'input(type="imfile" File="/var/log/app.log" Tag="app" ruleset="files")\n'
        'ruleset(name="files") { action(type="omfwd" target="files") }\n'
        "$RuleSet legacy\n*.* @legacy\n$RuleSet RSYSLOG_DefaultRuleset\n*.* @default\n"
    )
    assert {h: v[3] for h, v in got.items()} == {
        "called": True,
        "unused": False,
        "relay": False,
        "relayed": False,
        "files": True,
        "legacy": False,
        "default": True,
    }
    assert got["unused"][4] == "ruleset unused is bound to no input and no call reaches it"
    assert got["relayed"][4] == (
        "ruleset relayed receives only network input (imtcp), not this device's logs"
    )
    assert "ruleset relay receives only network input (imtcp)" in got["relay"][4]


def test_default_ruleset_needs_a_local_input():
    no_input = "== /etc/rsyslog.conf\n$IncludeConfig /etc/rsyslog.d/*.conf\n"
    got = targets("*.* @@h\n", base=no_input)
    assert not got["h"][3] and "rsyslog loads no local input" in got["h"][4]
    journal = no_input + 'module(load="imuxsock" SysSock.Use="off")\nmodule(load="imjournal")\n'
    assert targets("*.* @@h\n", base=journal)["h"][3]
    socket_off = no_input + 'module(load="imuxsock" SysSock.Use="off")\n'
    assert not targets("*.* @@h\n", base=socket_off)["h"][3]
    bound = no_input + 'module(load="imuxsock")\ninput(type="imuxsock" Socket="/x" ruleset="r")\n'
    assert targets('ruleset(name="r") { action(type="omfwd" target="h") }\n', base=bound)["h"][3]


def test_unconditional_stop_cuts_the_ruleset_conditional_does_not():
    for stop in ("*.* /var/log/all.log\n& stop\n", "*.* ~\n", "*.* { stop }\n"):
        assert not targets("*.* @@h\n", **{"__etc__rsyslog_d__10-all_conf": stop})["h"][3]
    guards = (':programname, isequal, "cron" stop\n', "if $x == 1 then stop\n", "cron.* ~\n")
    for guarded in guards:
        assert targets("*.* @@h\n", **{"__etc__rsyslog_d__10-x_conf": guarded})["h"][3]
    # a stop in another ruleset does not cut the default one
    other = 'ruleset(name="o") { stop }\n'
    assert targets("*.* @@h\n", **{"__etc__rsyslog_d__10-x_conf": other})["h"][3]
    # the stop comes after: the action runs first
    assert targets("*.* @@h\n*.* stop\n")["h"][3]


def test_comments_and_other_actions_are_not_forwarding():
    got = targets(
        '# *.* @@commented\n/* action(type="omfwd" target="block") */\n'
        'action(type="omfile" file="/var/log/x")\n*.* :omusrmsg:*\n'
        'action(type="omfwd" protocol="tcp")\n'  # no target: nowhere to send
    )
    assert got == {}


def test_includes_followed_from_files_and_missing_ones_named():
    text = BASE + "== /etc/rsyslog.d/90-remote.conf\n"
    text += 'include(file="/etc/extra/*.inc")\ninclude(file="/etc/missing.inc")\n'
    text += "== /etc/extra/a.inc\n*.* @@a\n== /etc/extra/b.inc\n*.* @@b\n"
    view = logging_rsyslog.read(text, True)
    assert [(t.host, t.source) for t in view.targets] == [
        ("a", "/etc/extra/a.inc:1"),
        ("b", "/etc/extra/b.inc:1"),
    ]
    assert "includes /etc/missing.inc, which was not read" in view.seen


def test_expansion_by_rsyslogd_gives_real_lines_and_its_errors():
    sample = samples.load("logging", "rsyslog_forms_rulesets_includes.pass.json")
    facts = parse(sample["raw"], sample["host"])
    got = {t.host: t for t in facts.forward_targets or ()}
    assert "its configuration as rsyslogd -N1 reads it" in facts.forwarders_seen[0]
    tls = got["tls.example.net"]
    assert (tls.port, tls.protocol, tls.tls, tls.active) == (6514, "tcp", True, True)
    assert tls.source == "/etc/rsyslog.d/50-forms.conf:2"
    assert got["extra.example.net"].source == "/etc/rsyslog-extra.inc:1"
    # include(text=…) is shown where the include() stands; its :omrelp: needs rsyslog-relp
    text = got["text.example.net"]
    assert text.source == "/etc/rsyslog.d/50-forms.conf:18" and not text.active
    relp = got["relp.example.net"]
    assert relp.inactive_reason == (
        "rsyslogd -N1 reports an error in it: module name 'omrelp' is unknown"
    )
    # an unknown parameter is reported, and rsyslog still creates the action
    assert got["misspelt.example.net"].active
    assert got["legacy-tls.example.net"].tls and not got["2001:db8::5"].tls

    # without rsyslogd's expansion, the files read here give the same targets
    files_only = dict(sample["raw"])
    del files_only["rsyslog_full"]
    again = parse(files_only, sample["host"]).forward_targets or ()
    assert [(t.host, t.source, t.active) for t in again] == [
        (t.host, t.source, t.active) for t in facts.forward_targets or ()
    ]


def test_unreachable_forwarding_recorded():
    sample = samples.load("logging", "rsyslog_only_unreached_rulesets.fail.json")
    facts = parse(sample["raw"], sample["host"])
    reasons = {t.host: t.inactive_reason for t in facts.forward_targets or ()}
    assert reasons == {
        "unused.example.net": "ruleset unused is bound to no input and no call reaches it",
        "relay.example.net": "ruleset relay receives only network input (imtcp), not this "
        "device's logs",
        "legacy-ruleset.example.net": "ruleset remote is bound to no input and no call reaches it",
        "after-stop.example.net": "an unconditional stop at /etc/rsyslog.d/10-all.conf:2 comes "
        "first",
    }


def test_unreadable_configuration_is_a_problem_not_a_verdict():
    sample = samples.load("logging", "rsyslog_forms_rulesets_includes.pass.json")
    raw = dict(sample["raw"])
    del raw["rsyslog_full"]
    raw["rsyslog"] = {"out": "== /etc/rsyslog.conf\naction(type=omfwd)\n", "rc": 0}
    facts = parse(raw, sample["host"])
    assert facts.forward_targets is None
    assert "the rsyslog configuration could not be read" in facts.problems["forward_targets"]


def check_output(*errors: tuple[str, int, str]) -> tuple[str, int]:
    lines = ["@@config /etc/rsyslog.conf", "rsyslogd: version 8.2302.0, config validation run"]
    lines += [
        f"rsyslogd: error during parsing file {f}, on or before line {n}: {m} [v8.2302.0 try x]"
        for f, n, m in errors
    ]
    return "\n".join(lines) + "\n", 1


@pytest.mark.parametrize(
    ("line", "message", "active"),
    [
        (2, "parameter 'queue.typo' not known -- typo in config file?", True),  # still created
        (2, "invalid value for parameter 'port'", False),  # not known to be harmless
        (1, "syntax error", False),  # in the condition guarding it
        (4, "syntax error", True),  # elsewhere in the file
    ],
)
def test_rsyslogd_errors_in_an_action_or_its_guard_count_against_it(line, message, active):
    text = BASE + "== /etc/rsyslog.d/90-remote.conf\n"
    text += 'if $programname == "x" then {\n  action(type="omfwd" target="h")\n}\n*.* /var/x\n'
    check = check_output(("/etc/rsyslog.d/90-remote.conf", line, message))
    (target,) = logging_rsyslog.read(text, True, check).targets
    assert target.active is active
    if not active:
        assert target.inactive_reason == f"rsyslogd -N1 reports an error in it: {message}"
