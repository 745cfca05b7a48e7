"""Ansible YAML inventories read as one Client, so providers can keep the inventory they have.

    all:
      vars: {baluarte_client: acme}
      children:
        web:
          hosts:
            srv-web: {ansible_host: 10.0.10.7, ansible_user: admin}

becomes client ``acme`` (default: the file's stem), site ``default`` (or the host's
``baluarte_site``), device ``srv-web`` tagged with every group it belongs to, transitively.
``baluarte_collector`` names the site collector of the host's site (declared in a Baluarte
inventory file beside it, docs/collectors.md): every host of a site must name the same one.
Platform: ``baluarte_platform``, else ``windows`` for ``ansible_connection: winrm|psrp``,
``fortigate`` for ``ansible_network_os: fortinet.fortios.fortios``, else ``linux``.
Variables follow Ansible's precedence: ``all`` < parent groups < child groups < host.
Unknown ``ansible_*`` variables are ignored; credentials must be references as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from baluarte.errors import InputError
from baluarte.validation import did_you_mean, error_at, raise_all
from baluarte.yamlsource import Loc, YamlDoc

__all__ = ["BALUARTE_VARS", "translate"]

BALUARTE_VARS = (
    "baluarte_client",
    "baluarte_legal_name",
    "baluarte_site",
    "baluarte_collector",
    "baluarte_platform",
    "baluarte_tags",
    "baluarte_ssh",
    "baluarte_winrm",
    "baluarte_fortios",
)
_GROUP_KEYS = ("hosts", "children", "vars")
_SECRET_REFS = ("env:", "file:", "keyring:")

Var = tuple[Any, Loc]  # a value and where it was written


@dataclass
class _Group:
    children: list[str] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)


@dataclass
class _Tree:
    groups: dict[str, _Group] = field(default_factory=dict)
    host_vars: dict[str, dict[str, Var]] = field(default_factory=dict)
    host_loc: dict[str, Loc] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)


def translate(doc: YamlDoc) -> tuple[dict[str, Any], Callable[[Loc], Loc]]:
    """The Client data (our shape) of an Ansible inventory, and a map back to its file."""
    tree = _Tree()
    top: dict[str, Any] = doc.data
    for name, body in top.items():
        _walk(tree, doc, str(name), body, (name,))
        if name != "all":
            tree.groups["all"].children.append(str(name))
    raise_all(tree.errors)
    depth = _depths(tree)
    origins: dict[Loc, Loc] = {}
    all_vars = tree.groups["all"].vars
    client = _plain(all_vars.get("baluarte_client")) or doc.path.stem
    sites: dict[str, list[dict[str, Any]]] = {}
    collectors: dict[str, tuple[Var | None, str]] = {}  # site: its first host's, and that host
    for host in tree.host_loc:
        groups = _groups_of(tree, host)
        merged: dict[str, Var] = {}
        for g in sorted(groups, key=lambda g: (depth.get(g, 0), g)):
            merged.update(tree.groups[g].vars)
        merged.update(tree.host_vars.get(host, {}))
        site = str(_plain(merged.get("baluarte_site")) or "default")
        devices = sites.setdefault(site, [])
        dev_loc: Loc = ("sites", list(sites).index(site), "devices", len(devices))
        origins[dev_loc] = tree.host_loc[host]
        tags = sorted(g for g in groups if g not in ("all", "ungrouped"))
        devices.append(_device(host, merged, tags, dev_loc, origins))
        _site_collector(tree, doc, collectors, site, host, merged.get("baluarte_collector"))
    raise_all(tree.errors)
    site_data: list[dict[str, Any]] = []
    for name, devices in sites.items():
        site_data.append({"name": name, "devices": devices})
        var = collectors[name][0]
        if var is not None:
            site_data[-1]["collector"] = var[0]
            origins[("sites", len(site_data) - 1, "collector")] = var[1]
    data = {
        "name": client,
        "legal_name": _plain(all_vars.get("baluarte_legal_name")) or client,
        "sites": site_data,
    }
    if "baluarte_client" in all_vars:
        origins[("name",)] = all_vars["baluarte_client"][1]

    def to_source(loc: Loc) -> Loc:
        for n in range(len(loc), 0, -1):
            if loc[:n] in origins:
                return origins[loc[:n]]
        return ("all",)

    return data, to_source


def _site_collector(
    tree: _Tree,
    doc: YamlDoc,
    seen: dict[str, tuple[Var | None, str]],
    site: str,
    host: str,
    var: Var | None,
) -> None:
    """Record the collector ``host`` names for ``site``; a host naming another one than the
    site's first host (or none where it names one) is an error: a collector serves whole sites,
    and a host must not be collected through one nobody named for it."""
    if site not in seen:
        seen[site] = (var, host)
        return
    first, first_host = seen[site]
    if _plain(first) == _plain(var):
        return
    said = f"'{_plain(var)}'" if var is not None else "none"
    other = f"'{_plain(first)}'" if first is not None else "none"
    tree.errors.append(
        error_at(
            doc,
            var[1] if var is not None else tree.host_loc[host],
            f"host {host} names collector {said} for site {site}, whose host {first_host}"
            f" names {other}: a collector serves a whole site",
            code="wrong_value",
            allowed=f"baluarte_collector: {_plain(first)}"
            if first is not None
            else ("no baluarte_collector for this site's hosts"),
        )
    )


def _plain(var: Var | None) -> Any:
    return var[0] if var else None


def _walk(tree: _Tree, doc: YamlDoc, name: str, body: Any, loc: Loc) -> None:
    """Record one group definition (a group may be defined in several places: merge)."""
    group = tree.groups.setdefault(name, _Group())
    if body is None:
        return
    if not isinstance(body, dict):
        tree.errors.append(
            error_at(
                doc,
                loc,
                f"group '{name}' must be a mapping",
                code="wrong_type",
                allowed=", ".join(_GROUP_KEYS),
            )
        )
        return
    for key, value in body.items():
        if key not in _GROUP_KEYS:
            tree.errors.append(
                error_at(
                    doc,
                    (*loc, key),
                    f"unknown key '{key}'{did_you_mean(str(key), _GROUP_KEYS)}",
                    code="unknown_key",
                    allowed=", ".join(_GROUP_KEYS),
                )
            )
        elif value is not None and not isinstance(value, dict):
            tree.errors.append(
                error_at(
                    doc,
                    (*loc, key),
                    "expected a mapping",
                    code="wrong_type",
                    allowed="a mapping (key: value)",
                )
            )
    for var, value in _vars(tree, doc, body.get("vars"), (*loc, "vars")).items():
        group.vars[var] = value
    for host, hvars in (body.get("hosts") or {}).items():
        host = str(host)
        if host not in group.hosts:
            group.hosts.append(host)
        tree.host_loc.setdefault(host, (*loc, "hosts", host))
        tree.host_vars.setdefault(host, {}).update(_vars(tree, doc, hvars, (*loc, "hosts", host)))
    for child, child_body in (body.get("children") or {}).items():
        if str(child) not in group.children:
            group.children.append(str(child))
        _walk(tree, doc, str(child), child_body, (*loc, "children", child))


def _vars(tree: _Tree, doc: YamlDoc, values: Any, loc: Loc) -> dict[str, Var]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        tree.errors.append(
            error_at(
                doc,
                loc,
                "host or group variables must be a mapping",
                code="wrong_type",
                allowed="a mapping (key: value)",
            )
        )
        return {}
    out: dict[str, Var] = {}
    for key, value in values.items():
        key = str(key)
        if key.startswith("baluarte_") and key not in BALUARTE_VARS:
            tree.errors.append(
                error_at(
                    doc,
                    (*loc, key),
                    f"unknown variable '{key}'{did_you_mean(key, BALUARTE_VARS)}",
                    code="unknown_key",
                    allowed=", ".join(BALUARTE_VARS),
                )
            )
        out[key] = (value, (*loc, key))
    return out


def _depths(tree: _Tree) -> dict[str, int]:
    """Each group's longest distance from ``all``: deeper groups' variables win."""
    depth = {"all": 0}
    frontier = ["all"]
    for _ in range(len(tree.groups) + 1):  # bounded: a cycle in children cannot loop forever
        nxt: list[str] = []
        for g in frontier:
            for child in tree.groups[g].children:
                if depth.get(child, -1) < depth[g] + 1:
                    depth[child] = depth[g] + 1
                    nxt.append(child)
        frontier = nxt
    return depth


def _groups_of(tree: _Tree, host: str) -> set[str]:
    parents: dict[str, set[str]] = {}
    for g, group in tree.groups.items():
        for child in group.children:
            parents.setdefault(child, set()).add(g)
    found = {g for g, group in tree.groups.items() if host in group.hosts}
    todo = list(found)
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found | {"all"}


def _platform(v: dict[str, Var]) -> str:
    explicit = _plain(v.get("baluarte_platform"))
    if explicit:
        return str(explicit)
    if _plain(v.get("ansible_connection")) in ("winrm", "psrp"):
        return "windows"
    if str(_plain(v.get("ansible_network_os")) or "").endswith("fortios"):
        return "fortigate"
    return "linux"


def _device(
    host: str, v: dict[str, Var], tags: list[str], dev: Loc, origins: dict[Loc, Loc]
) -> dict[str, Any]:
    platform = _platform(v)
    address = _plain(v.get("ansible_host")) or host
    if _plain(v.get("ansible_connection")) == "local":
        address = "@local"
    out: dict[str, Any] = {"name": host, "platform": platform, "address": address, "tags": tags}
    extra = _plain(v.get("baluarte_tags"))
    if isinstance(extra, list):
        out["tags"] = sorted({*tags, *map(str, extra)})

    def take(ours: Loc, *names: str, as_key: bool = False) -> None:
        """Copy the first Ansible variable set among ``names`` to ``ours`` (under the device)."""
        for n in names:
            if n in v:
                value, where = v[n]
                if as_key and isinstance(value, str) and not value.startswith(_SECRET_REFS):
                    value = f"file:{value}"  # Ansible gives a path; we reference the file
                target = out
                for part in ours[:-1]:
                    target = target.setdefault(str(part), {})
                target[str(ours[-1])] = value
                origins[(*dev, *ours)] = where
                return

    take(("port",), "ansible_port", "ansible_ssh_port", "ansible_httpapi_port")
    section = {"linux": "ssh", "windows": "winrm", "fortigate": "fortios"}[platform]
    if platform in ("linux", "windows", "fortigate") and f"baluarte_{section}" in v:
        value, where = v[f"baluarte_{section}"]
        out[section] = dict(value) if isinstance(value, dict) else value
        origins[(*dev, section)] = where
        if isinstance(value, dict):
            origins.update({(*dev, section, k): (*where, k) for k in value})
    if platform == "linux" and address != "@local":
        take(("ssh", "user"), "ansible_user", "ansible_ssh_user")
        take(("ssh", "key"), "ansible_ssh_private_key_file", as_key=True)
        take(("ssh", "key_passphrase"), "ansible_ssh_private_key_passphrase")
        take(("ssh", "password"), "ansible_password", "ansible_ssh_pass")
        take(("ssh", "sudo"), "ansible_become")
        take(("ssh", "sudo_password"), "ansible_become_password", "ansible_become_pass")
        take(
            ("ssh", "host_key_checking"),
            "ansible_ssh_host_key_checking",
            "ansible_host_key_checking",
        )
    elif platform == "windows":
        take(("winrm", "user"), "ansible_user")
        take(("winrm", "password"), "ansible_password")
        take(("winrm", "auth"), "ansible_winrm_transport")
        take(("winrm", "ca_bundle"), "ansible_winrm_ca_trust_path")
        if "ansible_winrm_scheme" in v:
            out.setdefault("winrm", {})["https"] = _plain(v["ansible_winrm_scheme"]) != "http"
            origins[(*dev, "winrm", "https")] = v["ansible_winrm_scheme"][1]
        if "ansible_winrm_server_cert_validation" in v:
            value, where = v["ansible_winrm_server_cert_validation"]
            out.setdefault("winrm", {})["verify"] = value != "ignore"
            origins[(*dev, "winrm", "verify")] = where
    elif platform == "fortigate":
        take(("fortios", "token"), "fortios_access_token")
        take(("fortios", "username"), "ansible_user")
        take(("fortios", "password"), "ansible_password", "ansible_httpapi_pass")
        take(("fortios", "vdom"), "vdom", "ansible_httpapi_vdom")
        take(("fortios", "verify"), "ansible_httpapi_validate_certs")
    return out
