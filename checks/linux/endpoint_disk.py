"""Whether "/" sits on dm-crypt, from lsblk, sysfs and /proc/self/mountinfo (pure).

Order of trust: ``lsblk -J`` (the block tree with mount points), then the sysfs walk from the
root's device number down its ``slaves`` (a dm uuid starting ``CRYPT-`` is dm-crypt;
``CRYPT-LUKS1/2-`` is LUKS), then the mount record alone, which can only show that "/" is not a
block device at all (overlay, tmpfs, NFS…). dm-crypt with ``cipher_null`` encrypts nothing.
"""

from __future__ import annotations

import json
from typing import Any

from checks.facts.endpoint import DiskEncryption
from checks.linux.raw import field

__all__ = ["parse_disk", "root_path_in_lsblk"]

# filesystems that never sit on a local block device: "/" on one of them is not disk-encrypted
_NOT_BLOCK = {
    "overlay",
    "tmpfs",
    "ramfs",
    "rootfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "9p",
    "virtiofs",
}


def root_path_in_lsblk(doc: Any) -> list[dict[str, Any]] | None:
    """The lsblk nodes from the top device down to the one mounted on "/"; None if not found."""

    def walk(nodes: Any, trail: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict):
                continue
            path = [*trail, node]
            mounts = node.get("mountpoints") or [node.get("mountpoint")]
            if "/" in mounts:
                return path
            found = walk(node.get("children"), path)
            if found:
                return found
        return None

    return walk(doc.get("blockdevices") if isinstance(doc, dict) else None, [])


def _ciphers(raw: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The dm-crypt table's cipher per mapping, or none and why the table could not be read."""
    got = field(raw, "dmcrypt")
    if got is None:
        return {}, "dmsetup is not installed"
    text, rc = got
    if rc != 0:
        tail = " / ".join(text.strip().splitlines()[-2:]) or "no output"
        return {}, f"dmsetup table failed (exit {rc}, it needs root: collect with sudo): {tail}"
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            found[parts[0].rstrip(":")] = parts[1]
    return found, ""


# a dm-crypt layer: its name, its cipher from the dm-crypt table ("" unread), what kind it is
_Crypt = tuple[str, str, str]


def _verdict(
    crypt: list[_Crypt], layers: list[str], root: str, source: str, unread: str
) -> DiskEncryption:
    real = [(n, c) for n, c, _ in crypt if c and not c.startswith("cipher_null")]
    encrypted: bool | None = False
    if real:
        encrypted = True
        detail = f"{root}: dm-crypt {', '.join(f'{n} ({c})' for n, c in real)}"
    elif unknown := [f"{n} ({k})" if k else n for n, c, k in crypt if not c]:
        # LUKS with cipher_null exists (a placeholder to encrypt later): a layer is no proof
        encrypted = None
        detail = (
            f"{root}: dm-crypt {', '.join(unknown)}, but its cipher could not be read "
            f"({unread or 'not in the dm-crypt table'}): cipher_null would encrypt nothing"
        )
    elif crypt:
        detail = f"{root}: dm-crypt {crypt[0][0]} uses cipher_null (no encryption)"
    else:
        detail = f"{root}: no dm-crypt layer under the root filesystem"
    return DiskEncryption(
        encrypted=encrypted, root=root, layers=tuple(layers), source=source, detail=detail
    )


def _from_lsblk(raw: dict[str, Any], ciphers: dict[str, str], unread: str) -> DiskEncryption | None:
    got = field(raw, "lsblk")
    if not got or got[1] != 0:
        return None
    try:
        doc = json.loads(got[0])
    except json.JSONDecodeError:
        return None
    path = root_path_in_lsblk(doc)
    if not path:
        return None
    layers = [
        " ".join(str(n.get(k) or "") for k in ("name", "type", "fstype")).strip()
        for n in reversed(path)
    ]
    leaf = path[-1]
    root = f"{leaf.get('fstype') or '?'} on {leaf.get('name')}"
    crypt: list[_Crypt] = []
    for i, node in enumerate(path):
        if node.get("type") == "crypt":
            name = str(node.get("name"))
            luks = i > 0 and path[i - 1].get("fstype") == "crypto_LUKS"
            crypt.append((name, ciphers.get(name, ""), "LUKS" if luks else ""))
    return _verdict(crypt, layers, root, "lsblk", unread)


def _from_sysfs(
    raw: dict[str, Any], ciphers: dict[str, str], unread: str, root: str
) -> DiskEncryption | None:
    got = field(raw, "root_chain")
    if not got or got[1] != 0:
        return None
    layers: list[str] = []
    crypt: list[_Crypt] = []
    for line in got[0].splitlines():
        if not line.startswith("dev "):
            continue
        fields = dict(p.split("=", 1) for p in line.split()[2:] if "=" in p)
        dev, uuid, name = line.split()[1], fields.get("uuid", ""), fields.get("name", "")
        layers.append(f"{dev} {name} {uuid.split('-', 1)[0].lower() if uuid else ''}".strip())
        if uuid.startswith("CRYPT-"):
            kind = uuid.split("-")[1] if uuid.count("-") >= 2 else ""
            crypt.append((name or dev, ciphers.get(name, ""), kind))
    if not layers:
        return None
    return _verdict(crypt, layers, root, "sysfs", unread)


def parse_disk(raw: dict[str, Any]) -> tuple[DiskEncryption | None, str | None]:
    """The root filesystem's encryption, or None and the reason it could not be told."""
    mount = field(raw, "root_mount")
    parts = mount[0].split() if mount and mount[1] == 0 else []
    majmin, fstype, device = [*parts, "", "", ""][:3]
    root = f"{fstype} on {device}" if fstype else "/"
    ciphers, unread = _ciphers(raw)
    found = _from_lsblk(raw, ciphers, unread) or _from_sysfs(raw, ciphers, unread, root)
    if found and found.encrypted is None:
        return None, found.detail
    if found:
        return found, None
    if not parts:
        return None, "the root mount could not be read from /proc/self/mountinfo"
    if majmin.startswith("0:") and (fstype in _NOT_BLOCK or fstype.startswith("fuse")):
        detail = f"/ is {fstype} ({device}), not on a block device: no dm-crypt underneath"
        return DiskEncryption(encrypted=False, root=root, source="mountinfo", detail=detail), None
    return None, f"could not trace the block devices under / ({root}, device {majmin})"
