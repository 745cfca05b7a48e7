"""The engine's own sentences that reach the pack (the phrase table's part for ``phrases.py``):
why a device could not be checked (``baluarte/evaluate.py``, ``checks/device_errors.py``, the
collectors' errors and the transports' — SSH, WinRM, the FortiOS client — in
``baluarte/transports``), what a waiver did to a finding, and apply's notes and refusals in a
remediation record (``baluarte/apply.py``, ``deploys/*/executor.py``). Only the sentences we
write: what a library or the device said (an OS error, pyinfra's "Could not connect (…)", a
certificate's verify message, a host's stderr) stays as stored, inside the translated frame.
"""

from __future__ import annotations

__all__ = ["ENGINE_KINDS", "ENGINE_LOOKED_UP", "ENGINE_PHRASES", "ENGINE_TEMPLATES"]

# Fixed sentences, looked up whole (or as a part of a joined text).
ENGINE_PHRASES: tuple[str, ...] = (
    # --- evaluate: no facts to judge ---
    "no answer from the device",
    # --- SSH (baluarte/transports/ssh*.py, checks/linux/collector.py) ---
    "connection timed out",
    "command timed out",
    "timed out",
    "unknown failure",
    "the collection command failed on the host",
    "sudo refused the configured sudo password",
    "sudo asked for a password and none is configured",
    "sudo asked for a password",
    "interrupted: the run was stopped before this host answered",
    "the SSH worker stopped before answering for this host",
    "the collection script printed no JSON document",
    "interrupted before anything ran on this host",
    "interrupted: no operation was started after the interrupt",
    "planning stopped",
    # --- site collectors ---
    "last seen never",
    "connect by a name the broker's certificate holds",
    "give the CA that signed it with --broker-ca FILE (or BALUARTE_BROKER_CA)",
    "without it the system's CAs are used",
    "stopped while running",
    "pyinfra could not read a fact",
    "not planned: the host failed",
    "not planned: an earlier operation could not be planned",
    "failed: no output",
    "the sudo password contains a line break: it cannot be sent",  # after "ValueError: "
    "src_text is only for files.put, instead of src",
    "src_text must be text",
    # --- WinRM (baluarte/transports/winrm.py, checks/windows/) ---
    "the client certificate was refused: is it mapped to a local account?",
    "no reason given",
    "certificate rejected",
    "unknown PowerShell error",
    "client certificate",
    "auth: basic sends the password in clear over HTTP: use it with https: true",
    "auth: certificate needs https: true",
    "auth: certificate needs certificate and certificate_key",
    "no winrm settings: a Windows device needs winrm.user and a password reference",
    "the Windows check script's output is not a JSON object",
    "the Windows check output has no host.ComputerName",
    "the Windows check output has no checks object",
    "the fix script's answer has no changed field",
    "changed true",
    "changed false",
    "a reboot is needed to complete it",
    # --- FortiOS (baluarte/transports/fortios/, checks/fortigate/collector.py) ---
    "401: token refused — wrong or revoked token, or this address is not one of the API user's "
    "trusted hosts",
    "401: session refused — not logged in, or the session expired",
    "the API user's profile has no read access to this object",
    "the API user's profile has no write access to this object, or the CSRF token is missing",
    "the unit has no such path or object (not in this FortiOS version?)",
    "access temporarily blocked after too many failed logins",
    "the unit could not carry out the request",
    "session expired and could not be renewed (401 again after a new login)",
    "transaction-start answered no transaction-id",
    "the unit answered a JSON envelope, not a configuration file",
    # the FortiOS CLI return codes (_answers.ERROR_CODES)
    "invalid length of value",
    "entry not found",
    "maximum number of entries reached",
    "a duplicate entry already exists",
    "value conflicts with system settings",
    "invalid IP address",
    "invalid netmask",
    "permission denied",
    "duplicate entry found",
    "blank entry",
    "the entry is in use (referenced by another object)",
    "the password does not conform to the password policy",
    "input in invalid format",
    "empty values are not allowed",
    "command error",
    "input value is invalid",
    # a login refused (_session)
    "the pre-login disclaimer must be accepted",
    "wrong username or password",
    "the admin needs a two-factor token code",
    "the post-login disclaimer must be accepted",
    "the admin must change the password first",
    "the admin account is locked out",
    "the unit's answer is not a login result",
    "login refused: 429 Too Many Requests — the unit blocks this address after too many failed "
    "logins; wait before trying again",
    # … and its two halves, as a reason joined with "; " is shown part by part
    "login refused: 429 Too Many Requests — the unit blocks this address after too many failed "
    "logins",
    "wait before trying again",
    "the unit did not state its FortiOS version in any answer",
    "the answer carries no results",
    "the unit's answer is not a configuration file (no #config-version= header)",
    "no fortios settings: a FortiGate needs a token, or a username and password",
    "fortios needs a token, or a username and password",
    "the unit did not show Baluarte's own session (current-admins)",
    # --- secrets (baluarte/secrets.py) ---
    "it is not a regular file",
    "it holds a NUL byte: it is not a text secret",
    "a secret file holds the secret alone, on one line",
    # --- apply (baluarte/apply.py, deploys/*/executor.py) ---
    "(the commands run differ from the plan's)",
    "verified: every written value re-read",
    "it removes https from the allowaccess of an interface (the unit did not say which Baluarte "
    "uses), the way Baluarte arrives",
    "it removes https from the ipv6 ip6-allowaccess of an interface (the unit did not say which "
    "Baluarte uses), the way Baluarte arrives",
)

# Fixed frames around values (slots as in ``phrase_table.KINDS``, the engine's in
# ``ENGINE_KINDS``).
ENGINE_TEMPLATES: tuple[str, ...] = (
    # --- evaluate.py: why a control has no verdict of its own ---
    "device unreachable: %(text)s",
    "device authentication refused: %(text)s",
    "device timed out: %(text)s",
    "device unparseable answer: %(text)s",
    "device could not be checked: %(text)s",
    "%(control)s does not apply to %(platform)s devices",
    "%(control)s cannot be checked: the evaluator is missing from this installation of Baluarte "
    "(reinstall it)",
    "%(control)s cannot be checked: the %(platform)s %(domain)s collection is missing from this "
    "installation of Baluarte (reinstall it)",
    "no %(domain)s facts collected",
    "evaluating %(control)s failed: %(error)s",
    # a waiver, and what it did to the finding
    "a waiver (until %(day)s: %(waiver)s) covers this control, but not a result that could not "
    "be established",
    "waiver expired on %(day)s and no longer applies",
    "waived until %(day)s: %(waiver)s (result without waiver: fail)",
    "waived until %(day)s: %(waiver)s (result without waiver: pass)",
    "waived until %(day)s: %(waiver)s (result without waiver: error)",
    # --- what the collectors found wrong with an answer (evaluate's reason for a domain) ---
    "the device's answer has no '%(domain)s' section",
    "could not parse the %(domain)s facts: %(error)s",
    "credentials unavailable: %(text)s",
    "internal error while collecting: %(error)s",
    "internal error: %(error)s",
    # Linux: the collection script and the SSH worker
    "the collection script's output is not valid JSON (%(error)s)",
    "unexpected collection document (schema %(schema)s expected)",
    "the collection command failed on the host: %(output)s",
    "the SSH worker stopped before answering for this host: %(output)s",
    "the host took longer than %(num)s s",
    "not planned: %(text)s",
    "could not plan '%(step)s'",
    "operation '%(step)s' failed",
    "failed running %(cmdline)s: no output",
    "failed running %(cmdline)s: %(output)s",
    "failed: %(output)s",
    "interrupted while it ran: the connection was closed and the host stopped it (%(items)s)",
    "not a pyinfra operation: %(op)s",
    "no pyinfra operations module %(module)s",
    "arguments not allowed in an operation: %(args)s",
    # a step of a Linux remedy, and how it failed or could not be planned
    "%(step)s failed: %(error)s",
    "%(step)s: not planned: %(text)s",
    "%(step)s: not planned: an earlier operation could not be planned",
    "%(step)s: sudo asked for a password",
    "%(step)s: pyinfra could not read a fact",
    "%(step)s: planning stopped",
    # Windows: the check script's answer (checks/windows/)
    "the check script stopped with an error: %(error)s",
    "the check script's output is not Baluarte's JSON document: %(num)s output objects, one "
    "expected",
    "the check script's output is not Baluarte's JSON document: %(text)s",
    "errors: %(error)s",
    "the Windows check script's output is not JSON (%(error)s)",
    "the Windows check output's schema is %(shown)s, not %(schema)s",
    "the Windows check output's host.Now %(shown)s is not a date",
    "the Windows check output lacks the checks %(checks)s",
    "the Windows check output is malformed: %(text)s",
    "check %(check)s has no ok flag",
    "check %(check)s is ok but has no data",
    "check %(check)s failed without an error message",
    # WinRM
    "%(url)s did not finish the script within %(num)s s (pipeline stopped)",
    "%(url)s did not finish the script within %(num)s s",
    "the WinRM service at %(url)s does not offer %(auth)s authentication (it offers: %(offered)s)",
    "credentials refused (%(auth)s): wrong user or password, or the account may not use WinRM",
    "credentials refused (%(auth)s): HTTP 401 from %(url)s",
    "WS-Management fault %(fault)s from %(url)s: %(error)s — access denied: the account must be "
    "a local administrator or in Remote Management Users",
    "WS-Management fault %(fault)s from %(url)s: %(error)s",
    "HTTP %(code)s from the WinRM service at %(url)s: %(error)s",
    "TLS certificate verification failed for %(url)s: %(error)s (set winrm.ca_bundle)",
    "TLS handshake with %(url)s failed: %(error)s",
    "no connection to %(url)s within %(num)s s",
    "no answer from %(url)s in time",
    "%(auth)s authentication with %(url)s failed: %(error)s",
    "PowerShell Remoting protocol error from %(url)s: %(error)s",
    "WinRM settings refused by pypsrp: %(error)s",
    "CA bundle %(bundle)s cannot be read: %(error)s",
    "CA bundle %(bundle)s cannot be read",
    # FortiOS: a request and how it failed (a message ends with "[METHOD /api/v2/…]": the
    # frame "%(text)s [%(tools)s]" of the phrase table keeps the request as stored)
    "no connection from %(url)s in time",
    "the connection to %(url)s was dropped",
    "TLS certificate verification failed for %(url)s: %(error)s",
    "%(text)s (set fortios.ca_bundle to the unit's CA)",
    "cannot connect to %(url)s: %(error)s",
    "cannot talk to %(url)s: %(error)s",
    "%(http)s: %(text)s",
    "%(text)s (FortiOS error %(code)s)",
    "the unit does not accept %(method)s on this path",
    "session expired and could not be renewed (%(text)s)",
    "login refused: %(text)s",
    "login refused: %(code)s — wrong username or password",
    "login not accepted (status %(status)s)",
    "%(code)s but the login answer is not JSON",
    "%(code)s but the answer is not a FortiOS JSON envelope (%(mime)s, %(size)s bytes)",
    "%(code)s but FortiOS reports status %(shown)s",
    "%(code)s but FortiOS reports status %(shown)s: error (FortiOS error %(error_code)s)",
    "%(code)s but FortiOS reports status %(shown)s: %(text)s",
    "the unit did not answer within %(num)s s",
    "the unit did not answer: %(error)s",
    "the configuration backup could not be written to %(folder)s: %(error)s",
    # secrets (a device's credentials, read when it is checked)
    "secret %(secret)s cannot be read: %(text)s",
    "environment variable %(var)s is not set",
    "unknown scheme %(shown)s",
    "no such file %(location)s",
    "cannot read %(location)s: %(error)s",
    "the system keyring failed: %(error)s",
    "no keyring entry for service %(shown)s, user %(shown2)s",
    "secret %(secret)s is not a plain secret file: %(text)s",
    "it holds %(num)s bytes, more than the %(limit)s a secret file may hold",
    "every user of this machine can read it (mode %(mode)s); make it private: chmod 600 "
    "%(location)s",
    "every user of this machine can read it (mode %(mode)s)",
    "make it private: chmod 600 %(location)s",
    "it holds %(num)s lines; a secret file holds the secret alone, on one line",
    "it holds %(num)s lines",
    # --- apply: a change that could not be planned, or how it ran ---
    "could not be planned: %(text)s",
    "not planned: it comes after %(earlier)s, which could not be planned",
    "Baluarte could not read what %(control)s needs (%(items)s); nothing is changed until a "
    "check can read it.",
    # Windows fixes
    "the fix script stopped with an error: %(error)s",
    "%(num)s output objects, one JSON answer expected",
    "the fix script's answer is not JSON: %(shown)s",
    "before %(json)s",
    "after %(json)s",
    # FortiGate: the lockout guard, a plan that no longer holds, the change and its check
    "lockout guard: %(text)s (%(mgmt)s)",
    "%(user)s from %(address)s on %(interface)s (admin-sport %(sport)s, trusthosts %(trusthosts)s)",
    "%(user)s from %(address)s on %(interface)s (admin-sport %(sport)s, trusthosts none)",
    "it removes https from the %(list)s of %(interface)s, the way Baluarte arrives",
    "it moves the admin HTTPS port %(sport)s Baluarte connects to",
    "it changes %(user)s, the account Baluarte logs in with",
    "it changes %(object)s, which may take Baluarte's access away",
    "%(object)s is not on the unit",
    "%(object)s %(key)s is now %(now)s, not %(was)s as collected",
    "no %(table)s %(shown)s on the unit to attach",
    "not applied: %(text)s",
    "nothing applied: no configuration backup (%(items)s)",
    "nothing applied: the named revision could not be saved (%(items)s)",
    "backup sha256 %(sha256)s kept at %(saved)s",
    'revision %(id)s "baluarte apply %(stamp)s"',
    "transaction aborted, nothing applied: %(text)s",
    "transaction %(id)s committed: %(num)s PUTs",
    "%(object)s %(key)s reads %(now)s, not %(want)s",
    "verification failed, undone (transaction %(id)s)",
    "verification failed, and the undo failed too: %(text)s",
    # --- site collectors (baluarte/collectors/dispatch.py, worker.py): why a device collected
    # through a collector has no facts ---
    "collector %(name)s did not answer within %(num)s s",
    "last seen %(last_heartbeat)s",
    "collector %(name)s sent an answer that is not valid: %(error)s",
    "collector %(name)s refused the device: %(error)s",
    "the task was meant for collector '%(name)s', not '%(name2)s'",
    "its site %(site)s is bound to collector '%(name)s', not to this collector '%(name2)s'",
    "its site %(site)s is bound to no collector, not to this collector '%(name)s'",
    # --- the broker, as the dashboard's collectors page says it (baluarte/collectors/broker.py,
    # health.py, baluarte/service/collectors.py) ---
    "cannot reach the broker %(broker)s: %(error)s",
    "the broker %(broker)s did not answer within %(num)s s",
    "the broker %(broker)s refused the login or the vhost (%(error)s)",
    "reading the collectors' status on %(broker)s failed: %(error)s",
    "reading the collectors' queues on %(broker)s failed: %(error)s",
    "TLS with the broker %(broker)s failed (%(error)s): is that port the broker's amqps port "
    "(usually 5671)?",
    "the broker's certificate could not be verified (%(error)s) at %(broker)s: %(text)s",
    "is %(file)s the CA that signed the broker's certificate?",
)

# What a slot of these frames may hold, by its name (the phrase table's ``KINDS`` has the rest).
# a library's or a device's message: ": " allowed, "; " only inside its parentheses (whole)
_ERROR = r"(?:(?!; )[^()]|\((?:[^()]|\([^()]*\))*\))+?"
_QUOTED = r"'[^']*'|\"[^\"]*\"|None"  # a Python repr of a text (or None)
ENGINE_KINDS: dict[str, str] = {
    "url": r"https?://\S+",
    # an HTTP status with its phrase ("403 Forbidden", "429 Too Many Requests"), or "HTTP 599"
    "http": r"\d{3}(?: [A-Z][\w'-]*)+|HTTP \d{3}",
    "code": r"-?\d+",
    "error_code": r"-?\d+|None",
    "error": _ERROR,
    "output": r".+",
    "control": r"[a-z_]+\.[a-z_]+",
    "platform": r"[a-z]+",
    "domain": r"[a-z_]+",
    "waiver": r".+?",
    "secret": r"[a-z]+:\S+",
    "var": r"\S+",
    "step": r"(?:(?!: |; | \| )[^'])+?",  # a step's name: "install nftables", "write /etc/x"
    "cmdline": _QUOTED,
    "op": r"\S+",
    "args": r"[\w, ]+",
    "fault": r"-?\d+ \(0x[0-9A-F]+\)|\S+",
    "auth": r"NTLM|Negotiate|Kerberos|Basic|client certificate",
    "offered": r"[^()]*",
    "user": r"\S+",
    "sport": r"\S+",
    "trusthosts": r"[^()]+",
    "mgmt": r"[^()]+\([^()]*\)",  # MgmtPath.describe(): who, from where, on which interface
    "list": r"allowaccess|ipv6 ip6-allowaccess",
    "object": r"[a-z][\w.-]*/\S+",
    "key": r"[\w-]+",
    "now": r".+?",
    "was": r".+?",
    "want": r".+?",
    "shown": _QUOTED + r"|\S+",
    "shown2": _QUOTED,
    "mime": r"[^(),]+",
    "stamp": r"[\dT:Z-]+",
    "json": r"null|true|false|-?\d[\d.eE+-]*|\".*\"|\{.*\}|\[.*\]",
    "schema": r"\S+",
    "bundle": r"\S+",
    "mode": r"\d+",
    "folder": r"\S+",
    "method": r"GET|POST|PUT|DELETE|PATCH|HEAD",
    "checks": r"[\w., -]+",  # check ids of the Windows script ("os.build, updates.installed")
    "name2": r"[\w.@+-]+",
    "last_heartbeat": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC",
    "site": r"[\w.@+-]+/[\w.@+-]+",  # client/site
    "broker": r"amqps?://\S+",  # a broker URL, its password masked
}

# Slots of these frames holding a phrase of their own, translated in turn.
ENGINE_LOOKED_UP = frozenset({"error", "step", "auth", "mgmt"})
