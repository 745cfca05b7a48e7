"""Whether a daemon a control trusts really runs: identity, not names (pure).

Anyone can start a process called ``clamd``: a copy of ``sleep`` in ``/tmp``, a shell that
renamed itself, the real binary run by an ordinary user with a configuration of their own. A
process counts as the daemon only when every part of its identity holds:

* its program (``/proc/PID/exe``) is a file of one of the daemon's packages (their dpkg file
  lists or ``rpm -q``; ``dpkg -S``/``rpm -qf`` name the owner of any other program), or, for a
  product installed without a package (Sophos), a file under its install directory that only
  root can have put there (root-owned, not group- or world-writable, in a directory alike);
* the running image is that very file: same device and inode as the file now at that path in
  this host's filesystem (a copy in a container, or a file a user bind-mounted over the path in
  a namespace of their own, has others; a service systemd sandboxes in its own mount namespace
  runs the host's file, and counts);
* it runs as root, as the daemon's own service account, as the user its configuration names,
  or as whatever systemd started it as (it is the main process of one of the daemon's units).

With systemd as PID 1 its own view comes first: an active unit whose main process is the
daemon's program proves it runs; an active unit whose main process is another program proves
nothing. Reading another user's ``/proc/PID/exe`` needs root: a collection that ran
unprivileged cannot see the program, so only the user is judged, and the finding says so.

``bl_daemons`` in ``common.sh`` fetches the table; this module judges it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Daemon", "Process", "ProcessTable", "daemon_running", "is_daemon", "parse_units"]


@dataclass(frozen=True)
class Daemon:
    """What the genuine daemon looks like."""

    label: str  # for findings: "ClamAV's daemon"
    names: tuple[str, ...]  # process names (comm, at most 15 characters)
    packages: tuple[str, ...] = ()  # packages that ship its program (Debian and RHEL names)
    users: tuple[str, ...] = ()  # service accounts it runs as, besides root
    # products installed without a package: their install directories ("/opt/sophos-spl/")
    install_dirs: tuple[str, ...] = ()


# grep -H over dpkg's file lists: /var/lib/dpkg/info/PACKAGE[:ARCH].list:PATH
_DPKG_LIST = re.compile(r"^/var/lib/dpkg/info/([^/:]+?)(?::[^/:]+)?\.list:(/.*)$")


@dataclass(frozen=True)
class _Stat:
    kind: str
    inode: str  # "dev:inode"
    uid: int
    mode: int

    @classmethod
    def parse(cls, text: str) -> _Stat | None:
        """``%F|dev:inode uid mode`` (mode in octal) or ``-``."""
        m = re.fullmatch(r"([^|]*)\|(\d+:\d+) (\d+) ([0-7]+)", text.strip())
        return cls(m[1], m[2], int(m[3]), int(m[4], 8)) if m else None

    def root_only(self) -> bool:
        """Owned by root and writable by no one else."""
        return self.uid == 0 and not self.mode & 0o022


@dataclass(frozen=True)
class Process:
    """One process as ``bl_daemons`` saw it."""

    pid: int
    name: str
    uid: int | None
    user: str  # the account's name; its uid when it has none
    exe: str  # the program's path ("" when it could not be read); " (deleted)" stripped
    deleted: bool  # the program was removed or replaced on disk since the process started
    image: _Stat | None  # the running program
    file: _Stat | None  # the file now at ``exe``
    directory: _Stat | None  # ``exe``'s directory

    @property
    def shown(self) -> str:
        return self.exe or "a program that could not be read"


@dataclass(frozen=True)
class ProcessTable:
    processes: tuple[Process, ...]
    owners: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path -> packages
    owner_db: str = "none"  # "dpkg", "rpm" or "none": who was asked
    reader_uid: str = ""  # the collection's own uid, from the host section

    @classmethod
    def parse(cls, text: str, rc: int, reader_uid: str = "") -> ProcessTable | None:
        """``bl_daemons``'s output; None when the process table could not be read."""
        if rc != 0:
            return None
        processes: list[Process] = []
        owners: dict[str, tuple[str, ...]] = {}
        db = ""
        # "\n" only: str.splitlines() would also break a record at \x1e, \x85 or \u2028
        for line in text.split("\n"):
            if line.startswith("@@owners "):
                db = line.split()[1]
            elif not db and line.startswith("pid="):
                if (proc := _process(line)) is not None:
                    processes.append(proc)
            elif db and (listed := _DPKG_LIST.match(line)):  # a package's own file list
                owners[listed[2]] = (*owners.get(listed[2], ()), listed[1])
            elif db and ": /" in line and not line.startswith("diversion by"):
                names, _, path = line.partition(": /")
                found = tuple(n.strip().split(":")[0] for n in names.split(",") if n.strip())
                owners["/" + path] = owners.get("/" + path, ()) + found
        return cls(tuple(processes), owners, db or "none", reader_uid.strip())

    def get(self, pid: int) -> Process | None:
        return next((p for p in self.processes if p.pid == pid), None)

    def packages(self, path: str) -> tuple[str, ...]:
        """The packages owning ``path``, or its /bin, /sbin, /lib alias with /usr merged."""
        alias = path.removeprefix("/usr") if path.startswith("/usr/") else path
        return self.owners.get(path, ()) + (self.owners.get(alias, ()) if alias != path else ())


def _process(line: str) -> Process | None:
    values: dict[str, str] = {}
    for part in line.split("\t"):
        key, _, value = part.partition("=")
        values[key] = value
    if not values.get("pid", "").isdigit():
        return None
    exe = values.get("exe", "")
    deleted = exe.endswith(" (deleted)")
    uid = values.get("uid", "")
    # a record missing a field proves nothing about who runs it
    whole = all(k in values for k in ("comm", "uid", "user", "image", "file", "dir", "exe"))
    return Process(
        pid=int(values["pid"]),
        name=values.get("comm", ""),
        uid=int(uid) if uid.isdigit() and whole else None,
        user=values.get("user") or uid or "?",
        exe=exe.removesuffix(" (deleted)"),
        deleted=deleted,
        image=_Stat.parse(values.get("image", "-")),
        file=_Stat.parse(values.get("file", "-")),
        directory=_Stat.parse(values.get("dir", "-")),
    )


def parse_units(text: str) -> dict[str, dict[str, str]]:
    """``systemctl show -p Id -p …`` blocks → {unit: {property: value}}."""
    units: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n\s*\n", text):
        props = dict(ln.split("=", 1) for ln in block.split("\n") if "=" in ln)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


# -- judging one process ---------------------------------------------------------------------


def _program(proc: Process, daemon: Daemon, table: ProcessTable) -> str | None:
    """Why ``proc``'s program is not the daemon's; None when it is."""
    path = proc.exe
    owners = table.packages(path)
    if set(owners) & set(daemon.packages):
        return None
    if any(path.startswith(d) for d in daemon.install_dirs):
        image, folder = proc.image, proc.directory
        if image is not None and folder is not None and image.root_only() and folder.root_only():
            return None
        return f"{path} is not a root-owned file in a directory only root can write"
    if owners:
        return f"{path} belongs to package {', '.join(owners)}"
    if table.owner_db == "none":
        return "no package database to tell which package owns it"
    return f"no package owns {path}"


def _identify(
    proc: Process,
    daemon: Daemon,
    table: ProcessTable,
    users: tuple[str, ...],
    by_unit: bool,
) -> tuple[bool | None, str]:
    """(True, "program as user") for the daemon; (False, what it is instead); (None, why)."""
    user = "root" if proc.uid == 0 else proc.user
    head = f"a process named {proc.name} (PID {proc.pid}) runs {proc.shown} as {user}"
    if proc.uid is None:
        return None, f"{head}: who runs it could not be read"
    wrong: list[str] = []
    if proc.exe:
        why = _program(proc, daemon, table)
        if (
            why is None
            and not proc.deleted
            and (proc.image is None or proc.file is None or proc.image.inode != proc.file.inode)
        ):
            why = f"the program running is not the file now at {proc.exe}"
        if why is not None:
            wrong.append(why)
    if not (by_unit or proc.uid == 0 or user in (*daemon.users, *users)):
        accounts = list(dict.fromkeys(("root", *daemon.users, *users)))
        listed = ", ".join(accounts[:-1]) + f" or {accounts[-1]}" if len(accounts) > 1 else "root"
        wrong.append(f"{daemon.label} runs as {listed}")
    if wrong:
        return False, f"{head}: not {daemon.label} ({'; '.join(wrong)})"
    if not proc.exe:
        as_uid = f", the check ran as uid {table.reader_uid}" if table.reader_uid else ""
        return True, (
            f"as {user}; which program it runs could not be read (/proc/{proc.pid}/exe needs "
            f"root{as_uid}), so only its user was checked"
        )
    note = ", replaced on disk since it started: restart pending" if proc.deleted else ""
    return True, f"{proc.exe} as {user}{note}"


# -- the daemon as a whole -------------------------------------------------------------------


def _main_pid(props: dict[str, str]) -> int:
    main = props.get("MainPID", "0")
    return int(main) if props.get("ActiveState") == "active" and main.isdigit() else 0


def _unit_users(units: dict[str, dict[str, str]], unit_names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(u for n in unit_names if (u := units.get(n, {}).get("User", "")))


def is_daemon(
    daemon: Daemon,
    table: ProcessTable,
    pid: int,
    units: dict[str, dict[str, str]],
    unit_names: tuple[str, ...] = (),
    users: tuple[str, ...] = (),
) -> tuple[bool | None, str]:
    """Whether process ``pid`` is the genuine ``daemon`` (None: not in the table, or unknown)."""
    proc = table.get(pid)
    if proc is None:
        return None, f"process {pid} was not in the process table"
    by_unit = any(_main_pid(units.get(n, {})) == pid for n in unit_names)
    return _identify(proc, daemon, table, (*users, *_unit_users(units, unit_names)), by_unit)


def daemon_running(
    daemon: Daemon,
    table: ProcessTable | None,
    units: dict[str, dict[str, str]],
    unit_names: tuple[str, ...] = (),
    users: tuple[str, ...] = (),
) -> tuple[bool | None, str]:
    """Whether the genuine ``daemon`` runs: (True/False/None, what was seen).

    ``units``: systemd's properties (``ActiveState``, ``MainPID``, ``User``) when it runs;
    ``unit_names``: the daemon's units; ``users``: accounts its configuration names."""
    notes: list[str] = []
    users = (*users, *_unit_users(units, unit_names))
    mains: set[int] = set()
    for name in unit_names:
        props = units.get(name, {})
        if props.get("ActiveState") != "active":
            continue
        if name.endswith(".socket"):  # systemd listens and starts the daemon on demand
            return True, f"systemd: {name} active"
        pid = _main_pid(props)
        if not pid:
            continue  # no main process to judge: the process table decides
        if table is None:  # systemd's word alone: only root changes units
            return True, f"systemd: {name} active (main process {pid})"
        proc = table.get(pid)
        if proc is None:
            continue
        mains.add(pid)
        ok, text = _identify(proc, daemon, table, users, by_unit=True)
        if ok is False:
            notes.append(f"systemd: {name} active, but {text}")
            continue
        return True, f"systemd: {name} active, main process {pid} ({text})"
    if table is None:
        return None, "; ".join([*notes, "the process table could not be read"])
    found = [p for p in table.processes if p.name in daemon.names and p.pid not in mains]
    verdicts = [(p, *_identify(p, daemon, table, users, by_unit=False)) for p in found]
    genuine = [f"process {p.name} running ({text})" for p, ok, text in verdicts if ok is True]
    impostors = [text for _, ok, text in verdicts if ok is False]
    unknown = [text for _, ok, text in verdicts if ok is None]
    if genuine:
        also = f"; also {'; '.join(impostors)}" if impostors else ""
        return True, f"{genuine[0]}{also}"
    if unknown:
        return None, "; ".join([*notes, *unknown, *impostors])
    if impostors or notes:
        return False, "; ".join([*notes, *impostors])
    return False, f"no {' or '.join(daemon.names)} process running"
