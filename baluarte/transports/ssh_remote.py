# mypy: disallow-untyped-calls=False
"""How every command runs on a Linux host: no secret on a command line, nothing left running.

Imported only inside the SSH worker; ``install`` puts ``remote_command`` in place of pyinfra's
command builder, so collection scripts, facts, operations and file moves all go through it.

**The sudo password.** pyinfra's own builder runs ``env PYINFRA_SUDO_PASSWORD=<password> sudo
-A …``: any local user of the host reads it in ``/proc/*/cmdline`` while the command runs. Here
the password is the first line of the command's standard input (``feed_password`` writes it
before anything of the script's own, which the script then reads as before). A small POSIX
prologue reads it with the shell's ``read`` builtin — no process, no argument — and hands it to
sudo alone, in sudo's environment: sudo is set-uid, so its ``/proc/PID/environ`` is readable by
root only. sudo asks for it with ``-A``: the askpass helper is ``printenv``, told by the prompt
(``-p``) which variable to print, so the password is in no file and no argument, only in the
environment of that one helper, which runs as the login user. The first thing the command does
as root is ``unset`` it, so nothing it starts inherits it, even where sudoers keeps the
environment. A password that does not fit on one line is refused.

**Nothing left running.** sshd does not stop a command when its connection goes (without a
terminal there is no SIGHUP), and pyinfra's timeout only stops waiting. So every command runs
under a supervisor (``baluarte-run`` in ``ps``) that

- runs it through coreutils ``timeout``, in a process group of its own that is killed whole, a
  little after the worker's own timeout: a stuck command stops even if nobody is connected;
- watches the process it was started for — the SSH session's sshd (the nearest ``sshd*`` or
  ``dropbear`` ancestor), or for @local the worker — and stops the command within a second once
  that is gone. Closing the connection therefore stops the work on the host: the worker does it
  on a timeout, on an interrupt and when it ends, and the kernel does it when the worker dies.

Without ``timeout`` on the host the command still stops on the watch, but only its first
process is signalled.
"""

from __future__ import annotations

from typing import Any

from pyinfra.api.command import QuoteString, StringCommand

__all__ = ["PASSWORD_VARIABLE", "feed_password", "install", "remote_command"]

PASSWORD_VARIABLE = "BALUARTE_SUDO_PASSWORD"
# Seconds the host lets a command run past the worker's own timeout before stopping it itself.
GRACE = 10

# Runs in the login shell: the password from stdin into sudo's environment, nowhere else.
_SUDO_PROLOGUE = (
    "IFS= read -r p || exit 1; "
    f'{PASSWORD_VARIABLE}="$p" SUDO_ASKPASS="$(command -v printenv)"'
    f' sudo -p {PASSWORD_VARIABLE} -H -A -k "$@"'
)

# $1 seconds allowed; $2 what to outlive no longer ("sshd": the session's, or a PID); $3…: the
# command. Its exit status is the command's (124 when ``timeout`` stopped it).
_SUPERVISOR = f"""unset {PASSWORD_VARIABLE}
t=$1 w=$2
shift 2
if [ "$w" = sshd ]; then
  w= p=$PPID
  while [ "${{p:-0}}" -gt 1 ] && [ -r "/proc/$p/status" ]; do
    n= q=
    while IFS=':\t' read -r k v; do
      case $k in Name) n=$v ;; PPid) q=$v; break ;; esac
    done <"/proc/$p/status"
    case $n in sshd*|dropbear*) w=$p; break ;; esac
    p=$q
  done
fi
exec 3<&0
if command -v timeout >/dev/null 2>&1; then
  timeout -k 5 "$t" "$@" <&3 3<&- &
else
  "$@" <&3 3<&- &
fi
c=$!
exec 3<&-
trap 'kill -TERM "$c" 2>/dev/null' HUP INT TERM
g=
if [ -n "$w" ]; then
  (
    s=
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    while kill -0 "$w" 2>/dev/null && kill -0 "$c" 2>/dev/null; do
      sleep 1 & s=$!
      wait "$s"
    done
    kill -TERM "$c" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
  g=$!
fi
wait "$c"; r=$?
while kill -0 "$c" 2>/dev/null; do wait "$c"; r=$?; done
[ -z "$g" ] || kill "$g" 2>/dev/null
exit "$r"
"""

# The start of every command that reads the password first (what ``feed_password`` looks for).
PASSWORD_PREFIX = StringCommand("sh", "-c", QuoteString(_SUDO_PROLOGUE)).get_raw_value()

# pyinfra arguments that would change who runs the command: never set by Baluarte's operations
# (ssh_deploy allows none of them), refused rather than half-honoured.
_REFUSED = ("_sudo_user", "_use_sudo_login", "_preserve_sudo_env", "_su_user", "_doas", "_dzdo")

_settings: dict[str, Any] = {"timeout": 3600.0, "watch": "sshd"}


def install(command_timeout: float, *, local_watch: int) -> None:
    """Make every pyinfra connector build its commands with ``remote_command``.

    ``command_timeout``: the worker's own limit per command (the host's is ``GRACE`` more);
    ``local_watch``: the PID an @local command must not outlive (the worker's).
    """
    import pyinfra.connectors.local as local_connector
    import pyinfra.connectors.ssh as ssh_connector

    _settings["timeout"] = float(command_timeout) + GRACE
    # each connector module holds its own reference to pyinfra's builder
    setattr(ssh_connector, "make_unix_command_for_host", remote_command)  # noqa: B010

    def local_command(state: Any, host: Any, command: Any, **arguments: Any) -> StringCommand:
        return remote_command(state, host, command, _watch=str(local_watch), **arguments)

    setattr(local_connector, "make_unix_command_for_host", local_command)  # noqa: B010


def remote_command(
    state: Any, host: Any, command: Any, *, _watch: str = "sshd", **arguments: Any
) -> StringCommand:
    """``command`` as the host runs it: supervised, and through sudo when asked."""
    from pyinfra.connectors.util import make_unix_command

    sudo = bool(arguments.pop("_sudo", False))
    password = arguments.pop("_sudo_password", None) or None
    refused = sorted(k for k in _REFUSED if arguments.pop(k, None))
    if refused:
        raise ValueError(f"not supported by Baluarte's transport: {', '.join(refused)}")
    shell = arguments.pop("_shell_executable", "sh") or "sh"
    # env and chdir as pyinfra writes them, without its shell wrapping or its sudo
    body = make_unix_command(command, _shell_executable=None, **arguments)
    seconds = str(int(_settings["timeout"]))
    supervised: list[Any] = [
        "sh", "-c", QuoteString(_SUPERVISOR), "baluarte-run", seconds, _watch,
        shell, "-c", QuoteString(body),
    ]  # fmt: skip
    if not sudo:
        return StringCommand(*supervised)
    if password is None:
        # -n: a password prompt fails at once (pyinfra reports it) instead of waiting
        return StringCommand("sudo", "-H", "-n", *supervised)
    if any(c in password for c in "\r\n\0"):
        raise ValueError("the sudo password contains a line break: it cannot be sent")
    return StringCommand("sh", "-c", QuoteString(_SUDO_PROLOGUE), "baluarte-sudo", *supervised)


def feed_password(host: Any, password: str) -> None:
    """Write ``password`` first on the stdin of every command of ``host`` that reads it."""
    client = getattr(host.connector, "client", None)
    if client is None:
        return
    original = client.exec_command

    def exec_command(command: str, *args: Any, **kwargs: Any) -> Any:
        stdin, stdout, stderr = original(command, *args, **kwargs)
        if command.startswith(PASSWORD_PREFIX):
            stdin.write(password + "\n")
            stdin.flush()
        return stdin, stdout, stderr

    client.exec_command = exec_command
