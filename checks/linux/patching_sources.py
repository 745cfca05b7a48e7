"""A host's package sources (apt suites, dnf repositories), its release, container evidence.

Pure parsing of what ``patching.sh`` fetched.

``apt-get indextargets --no-release-info`` names every configured suite, fetched or not (without
the option apt skips the ones it holds no Release for). The header of each fetched
``Release``/``InRelease`` in /var/lib/apt/lists says who published it and when: its ``Date:``
is the archive's publish time, which bounds how old the device's view of that source is. File
mtimes are not used: apt sets them from the server's Last-Modified or the fetch time,
depending on mirror and proxy (linux-checks.md §1.3). On the RHEL family the enabled
repositories come from ``dnf repolist --enabled`` (it reads only the .repo files) and each
cached ``repomd.xml`` gives the publish time (``<revision>``, ``<timestamp>``) and whether the
repository publishes advisories (``updateinfo``): without them ``--security`` finds nothing,
whatever is pending (CentOS Stream), so only such repositories count as security sources.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from checks.facts.patching import OsRelease, PackageLists, PackageSource

__all__ = [
    "apt_sources",
    "dnf_sources",
    "is_security_source",
    "parse_container",
    "parse_os_release",
    "parse_release_headers",
    "published",
]

_HEADER = re.compile(
    r"^(?P<file>.*?Release):(?P<key>Origin|Label|Suite|Codename|Version|Date|Valid-Until):"
    r"[ \t]*(?P<value>.*)$"
)


def published(text: str) -> datetime | None:
    """A Release date (RFC 2822, "Sun, 06 Dec 2026 19:15:37 UTC") as UTC; None if unreadable."""
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def is_security_source(label: str, suite: str, codename: str) -> bool:
    """Debian-Security, or a -security pocket (Debian, Ubuntu, Ubuntu Pro's esm-*-security)."""
    return label == "Debian-Security" or any(
        s.endswith("-security") for s in (suite, codename) if s
    )


def parse_release_headers(text: str) -> dict[str, dict[str, str]]:
    """``grep -H`` over the lists' Release files → {file: {field: value}}."""
    headers: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            headers.setdefault(m["file"], {}).setdefault(m["key"], m["value"].strip())
    return headers


def _site(uri: str) -> str:
    try:
        return urlsplit(uri).hostname or ""
    except ValueError:
        return ""


def _without_credentials(uri: str) -> str:
    """A source URI as evidence: user and password (Ubuntu Pro tokens…) are never shown."""
    return re.sub(r"(?<=://)[^/@\s]*@", "", uri)


def _source(entry: str, site: str, suite: str, header: dict[str, str] | None) -> PackageSource:
    name = f"{_without_credentials(site)} {suite}"
    if header is None:
        # never fetched: only its configured suite can tell what it would be
        security = is_security_source("", suite, "")
        return PackageSource(
            name=name,
            entry=entry,
            site=_site(site),
            suite=suite,
            fetched=False,
            security=security,
            continuous=security,
        )
    label, codename = header.get("Label", ""), header.get("Codename", "")
    real_suite = header.get("Suite", suite)
    valid_until = published(header.get("Valid-Until", "")) if "Valid-Until" in header else None
    security = is_security_source(label, real_suite, codename or suite)
    return PackageSource(
        name=name,
        entry=entry,
        site=_site(site),
        fetched=True,
        published_at=published(header.get("Date", "")),
        valid_until=valid_until,
        origin=header.get("Origin", ""),
        label=label,
        suite=real_suite,
        security=security,
        # Debian's -updates carries no Valid-Until and its release pocket keeps the point
        # release's date for months: only these two promise a recent date after a refresh
        continuous=security or valid_until is not None,
    )


def apt_sources(targets: tuple[str, int], headers: tuple[str, int], listed: bool) -> PackageLists:
    """The configured sources (``ENTRY|SITE|SUITE|METAKEY|FILENAME`` lines) with their headers.

    ``listed`` is False when the fragment did not run (an older collection script).
    """
    text, rc = targets
    if not listed or rc != 0:
        tail = " / ".join(text.strip().splitlines()[-2:]) or "no output"
        return PackageLists(problem=f"apt-get indextargets failed (exit {rc}): {tail}")
    header_text, header_rc = headers
    if header_rc not in (0, 1):  # grep: 1 is "no line matched", 2 an error
        return PackageLists(
            problem=f"the apt lists' Release files could not be read: {header_text}"
        )
    by_file = parse_release_headers(header_text)
    sources: dict[str, PackageSource] = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 5:
            continue
        entry, site, suite, metakey, filename = parts
        tail = metakey.replace("/", "_")
        if not filename.endswith(tail):
            continue
        prefix = filename[: -len(tail)]
        if prefix in sources:
            continue  # one target per architecture and component: one source
        header = by_file.get(prefix + "InRelease", by_file.get(prefix + "Release"))
        sources[prefix] = _source(entry, site, suite, header)
    return PackageLists(sources=tuple(sources.values()))


# /var/cache/dnf/<id>-<16 hex>/repodata/repomd.xml; yum: /var/cache/yum/<arch>/<rel>/<id>/
_REPOMD = re.compile(r"^(?P<file>/\S+/repomd\.xml):(?P<line>.*)$")
_DNF_CACHE = re.compile(r"^/var/cache/dnf/(?P<id>.+)-[0-9a-f]{16}/repodata/repomd\.xml$")
_STAMP = re.compile(r"<(?:revision|timestamp)>(\d{9,})</")


def _repo_ids(text: str) -> list[str]:
    """``dnf repolist --enabled``: "repo id  repo name" rows (yum 3 adds a status column)."""
    ids: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("repo id", "repolist:")):
            continue
        ids.append(line.split()[0].lstrip("!*").split("/")[0])  # yum: "!base/7/x86_64"
    return ids


def dnf_sources(repos: tuple[str, int], repomd: tuple[str, int], listed: bool) -> PackageLists:
    """The enabled repositories, each with what its cached ``repomd.xml`` says."""
    text, rc = repos
    if not listed or rc != 0:
        tail = " / ".join(text.strip().splitlines()[-2:]) or "no output"
        return PackageLists(problem=f"dnf repolist --enabled failed (exit {rc}): {tail}")
    stamps: dict[str, list[int]] = {}
    advisories: set[str] = set()
    for line in repomd[0].splitlines():
        m = _REPOMD.match(line)
        if not m:
            continue
        cache = _DNF_CACHE.match(m["file"])
        repo = cache["id"] if cache else m["file"].split("/")[-2]
        stamps.setdefault(repo, [])
        stamp = _STAMP.search(m["line"])
        if stamp:
            stamps[repo].append(int(stamp[1]))
        if '<data type="updateinfo"' in m["line"]:
            advisories.add(repo)
    sources = []
    for repo in _repo_ids(text):
        when = max(stamps.get(repo) or [0])
        sources.append(
            PackageSource(
                name=repo,
                fetched=repo in stamps,
                published_at=datetime.fromtimestamp(when, UTC) if when else None,
                security=repo in advisories,
                continuous=repo in advisories,
            )
        )
    return PackageLists(sources=tuple(sources))


def parse_os_release(text: str) -> OsRelease | None:
    """``/etc/os-release`` → OsRelease; None without an ID."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            values[key.strip()] = value.strip().strip("\"'")
    if not values.get("ID"):
        return None
    return OsRelease(
        id=values["ID"].lower(),
        version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME", "").lower(),
        id_like=tuple(values.get("ID_LIKE", "").lower().split()),
        ubuntu_codename=values.get("UBUNTU_CODENAME", "").lower(),
        pretty_name=values.get("PRETTY_NAME", ""),
    )


def parse_container(text: str) -> str | None:
    """The first piece of container evidence the fragment found; None: none."""
    return next((line.strip() for line in text.splitlines() if line.strip()), None)
