"""Whether the SSH servers running use the configuration ``sshd -T`` read (pure).

The SSH controls read ``sshd -T`` of the sshd on PATH with ``/etc/ssh/sshd_config``. A listener
started with another file (``-f``) or with a judged setting on its command line
(``-o PasswordAuthentication=yes``, often hidden in ``/etc/default/ssh``'s ``SSHD_OPTS``) serves
settings that were never read: its configuration is not the one checked, so the SSH controls
cannot pass on it. Only root's listeners count (another account's sshd can let in that account
alone). Which program a listener runs is not judged: a wrapper on PATH that runs the packaged
sshd is common, and a build of its own reads its own default file, which ``-T`` reads alike.
"""

from __future__ import annotations

__all__ = ["DEFAULT_CONFIG", "unread_listener"]

DEFAULT_CONFIG = "/etc/ssh/sshd_config"
# the settings the SSH controls judge: given on a command line, sshd -T of the file misses them
_READ = {
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "challengeresponseauthentication",
    "usepam",
    "permitrootlogin",
    "authenticationmethods",
    "include",
}


def _arguments(lines: list[str]) -> list[str]:
    """The listener's arguments from its command line; sshd rewrites it as its process title,
    ``sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups``."""
    words = " ".join(lines).split()
    if words[:1] == ["sshd:"]:
        words = words[1:]
    if "[listener]" in words:
        words = words[: words.index("[listener]")]
    return words[1:]  # the program itself is judged by /proc/PID/exe


def _options(args: list[str]) -> tuple[str, list[str]]:
    """(the -f file, the -o settings)."""
    config, settings = DEFAULT_CONFIG, []
    i = 0
    while i < len(args):
        arg = args[i]
        for flag in ("-f", "-o"):
            if arg.startswith(flag):
                value = arg[2:] or (args[i + 1] if i + 1 < len(args) else "")
                i += 0 if arg[2:] else 1
                if flag == "-f":
                    config = value
                else:
                    settings.append(value)
        i += 1
    return config, settings


def unread_listener(text: str) -> str | None:
    """Why a running root sshd serves settings ``sshd -T`` did not read; None when none does.
    ``text``: ``@@pid PID UID EXE`` and the command line (indented arguments), per listener."""
    listeners: list[tuple[str, str, str, list[str]]] = []
    for line in text.split("\n"):
        if line.startswith("@@pid "):
            pid, uid, exe = [*line[6:].split(" ", 2), "", ""][:3]
            listeners.append((pid, uid, exe.removesuffix(" (deleted)"), []))
        elif listeners and line.startswith(" "):  # an argument, indented by access.sh
            listeners[-1][3].append(line)
    for pid, uid, exe, lines in listeners:
        if uid != "0":
            continue
        args = _arguments(lines)
        config, settings = _options(args)
        shown = " ".join([exe or "sshd", *args])
        if config != DEFAULT_CONFIG:
            return (
                f"the SSH server listening as PID {pid} runs {shown}: its configuration is "
                f"{config}, not the {DEFAULT_CONFIG} whose settings sshd -T read"
            )
        given = [s for s in settings if s.split("=", 1)[0].strip().lower() in _READ]
        if given:
            return (
                f"the SSH server listening as PID {pid} runs {shown}: {', '.join(given)} on its "
                "command line overrides what sshd -T read"
            )
    return None
