from baluarte.inventory import load_inventory

from ._helpers import BAD, DATA, only_error


def test_ansible_inventory_loads_with_groups_as_tags():
    inv = load_inventory([DATA / "ansible_hosts.yaml"])
    (client,) = inv.clients
    assert (client.name, client.legal_name) == ("acme", "ACME Asesores S.L.")
    refs = {r.name: r for r in inv.devices()}
    web = refs["srv-web"]
    assert web.site_name == "madrid-hq"
    assert web.tags == ("debian", "linux_servers", "web")
    assert web.device.address == "10.0.10.7"
    assert web.device.port == 2222
    assert web.device.ssh is not None
    assert web.device.ssh.user == "deploy"  # the host's own value beats the group's
    assert str(web.device.ssh.key) == "file:~/.ssh/acme_ed25519"
    assert web.device.ssh.sudo is True
    assert str(web.device.ssh.sudo_password) == "env:ACME_SUDO"
    assert refs["srv-db"].device.ssh.user == "admin"
    assert refs["srv-db"].tags == ("linux_servers",)
    pc = refs["pc-recepcion"]
    assert pc.platform == "windows" and pc.site_name == "default"
    assert pc.device.winrm is not None and pc.device.winrm.auth == "ntlm"
    assert str(pc.device.winrm.password) == "keyring:baluarte/acme"
    fw = refs["fw-hq"]
    assert fw.platform == "fortigate" and str(fw.device.fortios.token) == "env:ACME_FW_TOKEN"


def test_client_name_defaults_to_the_file_stem(tmp_path):
    f = tmp_path / "contoso.yml"
    f.write_text("all:\n  hosts:\n    box1: {ansible_host: 192.0.2.1}\n")
    (ref,) = load_inventory([f]).devices()
    assert (ref.client_name, ref.site_name, ref.name, ref.tags) == (
        "contoso",
        "default",
        "box1",
        (),
    )


def test_literal_ansible_password_is_refused_where_it_was_written():
    err = only_error(lambda: load_inventory([BAD / "ansible_literal_password.yaml"]))
    assert (err.code, err.line, err.column) == ("literal_secret", 8, 11)
    assert err.key == "all.children.web.hosts.srv-web.ansible_password"
    assert "hunter2-literal" not in str(err)


def test_unknown_baluarte_variable_suggests_the_right_one(tmp_path):
    f = tmp_path / "acme.yaml"
    f.write_text("all:\n  vars:\n    baluarte_clinet: acme\n  hosts:\n    h1:\n")
    err = only_error(lambda: load_inventory([f]))
    assert (err.code, err.line, err.column, err.key) == (
        "unknown_key",
        3,
        5,
        "all.vars.baluarte_clinet",
    )
    assert "did you mean 'baluarte_client'?" in err.message


COLLECTORS = "collectors:\n  - name: madrid\n  - name: sevilla\nclients: []\n"


def _ansible_with_collectors(tmp_path, hosts: str):
    (tmp_path / "collectors.yaml").write_text(COLLECTORS)
    f = tmp_path / "acme.yaml"
    f.write_text("all:\n  vars:\n    baluarte_client: acme\n" + hosts)
    return f


def test_a_sites_hosts_name_its_collector_from_a_group_or_the_host(tmp_path):
    _ansible_with_collectors(
        tmp_path,
        "  children:\n"
        "    madrid_office:\n"
        "      vars: {baluarte_site: hq, baluarte_collector: madrid}\n"
        "      hosts:\n"
        "        srv1: {ansible_host: 192.168.1.10}\n"
        "        srv2: {ansible_host: 192.168.1.11}\n"
        "    branch:\n"
        "      hosts:\n"
        "        pos1: {ansible_host: 192.168.1.10, baluarte_site: shop,"
        " baluarte_collector: sevilla}\n"
        "    cloud:\n"
        "      hosts:\n"
        "        web1: {ansible_host: 203.0.113.7}\n",
    )
    inventory = load_inventory([tmp_path])
    refs = {r.name: r for r in inventory.devices()}
    assert {n: (r.site_name, r.collector) for n, r in refs.items()} == {
        "srv1": ("hq", "madrid"),
        "srv2": ("hq", "madrid"),
        "pos1": ("shop", "sevilla"),
        "web1": ("default", None),  # collected directly
    }


def test_hosts_of_one_site_naming_different_collectors_are_refused_where_written(tmp_path):
    f = _ansible_with_collectors(
        tmp_path,
        "  hosts:\n"
        "    srv1: {baluarte_site: hq, baluarte_collector: madrid}\n"
        "    srv2: {baluarte_site: hq, baluarte_collector: sevilla}\n",
    )
    err = only_error(lambda: load_inventory([tmp_path]))
    assert (err.file, err.line, err.column) == (str(f), 6, 31)
    assert err.key == "all.hosts.srv2.baluarte_collector"
    assert "host srv2 names collector 'sevilla' for site hq" in err.message
    assert "srv1 names 'madrid'" in err.message


def test_a_host_without_the_collector_its_site_names_is_refused(tmp_path):
    f = _ansible_with_collectors(
        tmp_path,
        "  hosts:\n"
        "    srv1: {baluarte_site: hq, baluarte_collector: madrid}\n"
        "    srv2: {baluarte_site: hq}\n",
    )
    err = only_error(lambda: load_inventory([tmp_path]))
    assert (err.file, err.line) == (str(f), 6)
    assert "host srv2 names collector none for site hq" in err.message


def test_an_undeclared_collector_in_an_ansible_file_is_refused_where_written(tmp_path):
    f = _ansible_with_collectors(
        tmp_path, "  hosts:\n    srv1: {baluarte_site: hq, baluarte_collector: madird}\n"
    )
    err = only_error(lambda: load_inventory([tmp_path]))
    assert (err.file, err.line, err.column) == (str(f), 5, 31)
    assert "no collector named 'madird'" in err.message and "madrid" in err.message
