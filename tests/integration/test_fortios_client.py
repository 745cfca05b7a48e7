"""Baluarte's FortiOS client against the lab emulator over real HTTPS, verification on."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Literal, TypeVar

import pytest

from baluarte.errors import AuthFailed, BadAnswer, DeviceError, Unreachable
from baluarte.lab.fortigate import Fault, FortigateLab
from baluarte.transports.fortios import (
    FortiOSAuthError,
    FortiOSClient,
    FortiOSError,
    SessionAuth,
    TlsVerificationFailed,
    TokenAuth,
    tls_context,
)

T = TypeVar("T")

CANARY = "canary-Zq8v1XkP-do-not-leak"  # the token, and the admin's password
OTHER_TOKEN = "a-token-nobody-issued-0000000000"


def _row(key: str, value: Any, **fields: Any) -> dict[str, Any]:
    return {key: value, "q_origin_key": value, **fields}


def _member(name: str) -> dict[str, str]:
    return {"name": name, "q_origin_key": name}


def _policy(pid: int, name: str) -> dict[str, Any]:
    return _row(
        "policyid",
        pid,
        name=name,
        status="enable",
        srcintf=[_member("internal")],
        dstintf=[_member("wan1")],
        srcaddr=[_member("all")],
        dstaddr=[_member("all")],
        service=[_member("ALL")],
        action="accept",
        schedule="always",
        logtraffic="all",
        nat="enable",
    )


def make_state(version: str = "v7.4.5", build: int = 2702) -> dict[str, Any]:
    return {
        "version": version,
        "build": build,
        "serial": "FGT60FTK24000001",
        "hostname": "fgt-lab",
        "model": "FGT60F",
        "global": {
            "system/global": {
                "hostname": "fgt-lab",
                "admintimeout": 5,
                "timezone": "Europe/Madrid",
            },
            "system/admin": [
                _row("name", "admin", accprofile="super_admin", vdom=[_member("root")])
            ],
        },
        "vdoms": {
            "root": {
                "firewall/address": [
                    _row("name", "all", type="ipmask", subnet="0.0.0.0 0.0.0.0"),
                    _row("name", "lan", type="ipmask", subnet="192.0.2.0 255.255.255.0"),
                ],
                "firewall/policy": [_policy(1, "one"), _policy(2, "two"), _policy(3, "three")],
            }
        },
        "monitor": {},
    }


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def client_of(fgt: FortigateLab, **kw: Any) -> FortiOSClient:
    kw.setdefault("auth", TokenAuth(CANARY))
    kw.setdefault("tls", tls_context(fgt.ca_path))
    kw.setdefault("backoff", 0.01)
    return FortiOSClient(fgt.host, fgt.port, **kw)


def requests_to(fgt: FortigateLab, path: str, method: str | None = None) -> list[Any]:
    return [r for r in fgt.requests if r.path == path and (method is None or r.method == method)]


def with_client(fgt: FortigateLab, body: Callable[[FortiOSClient], Awaitable[T]], **kw: Any) -> T:
    async def go() -> T:
        async with client_of(fgt, **kw) as c:
            return await body(c)

    return run(go())


@pytest.fixture(scope="module")
def lab74() -> Iterator[FortigateLab]:
    with FortigateLab(make_state(), tokens={CANARY: None}, admins={"admin": CANARY}) as fgt:
        yield fgt


@pytest.fixture
def fgt(lab74: FortigateLab) -> Iterator[FortigateLab]:
    """The 7.4 unit, its faults cleared after each test."""
    yield lab74
    lab74.faults.clear()


# -- reads ---------------------------------------------------------------------------------


def test_token_reads_table_row_and_singleton(fgt: FortigateLab) -> None:
    async def body(c: FortiOSClient) -> tuple[Any, Any, Any, int]:
        table = await c.get_cmdb("firewall/policy")
        row = await c.get_cmdb("firewall/policy", 2)
        single = await c.get_cmdb("system/global", global_scope=True)
        return table.results, row.results, single.results, c.request_count

    table, row, single, count = with_client(fgt, body)
    assert [p["policyid"] for p in table] == [1, 2, 3]
    assert isinstance(row, list) and [r["name"] for r in row] == ["two"]
    assert isinstance(single, dict) and single["hostname"] == "fgt-lab"
    assert count == 3  # a token needs no login request
    last = fgt.requests[-1]
    assert last.path == "/api/v2/cmdb/system/global" and "vdom" not in last.query
    policy_reads = requests_to(fgt, "/api/v2/cmdb/firewall/policy")
    assert policy_reads[-1].query.get("vdom") == "root"
    assert all("access_token" not in r.query for r in fgt.requests)


def test_envelope_carries_version_build_serial(fgt: FortigateLab) -> None:
    async def body(c: FortiOSClient) -> tuple[str, int, str]:
        await c.get_cmdb("firewall/address")
        return c.version, c.build, c.serial

    assert with_client(fgt, body) == ("v7.4.5", 2702, "FGT60FTK24000001")


def test_missing_row_is_404_entry_not_found(fgt: FortigateLab) -> None:
    with pytest.raises(FortiOSError) as err:
        with_client(fgt, lambda c: c.get_cmdb("firewall/address", "no-such-address"))
    assert err.value.http_status == 404 and err.value.error_code == -3
    assert "entry not found" in str(err.value) and "(FortiOS error -3)" in str(err.value)
    assert "GET /api/v2/cmdb/firewall/address/no-such-address" in str(err.value)


# -- writes --------------------------------------------------------------------------------


def test_create_update_move_delete(fgt: FortigateLab) -> None:
    name = "web/1 srv"  # a "/" and a space: one URL segment

    async def body(c: FortiOSClient) -> tuple[Any, Any, list[int], list[int]]:
        created = await c.create(
            "firewall/address", {"name": name, "type": "ipmask", "subnet": "198.51.100.10/32"}
        )
        await c.update("firewall/address", name, {"comment": "web server"})
        row = (await c.get_cmdb("firewall/address", name)).results[0]
        await c.move("firewall/policy", 3, before=1)
        moved = [p["policyid"] for p in (await c.get_cmdb("firewall/policy")).results]
        await c.move("firewall/policy", 3, after=2)
        back = [p["policyid"] for p in (await c.get_cmdb("firewall/policy")).results]
        await c.delete("firewall/address", name)
        return created, row, moved, back

    created, row, moved, back = with_client(fgt, body)
    assert created.mkey == name and created.ok
    assert row["comment"] == "web server"
    assert moved == [3, 1, 2] and back == [1, 2, 3]
    assert requests_to(fgt, "/api/v2/cmdb/firewall/address/web%2F1%20srv", "DELETE")
    with pytest.raises(FortiOSError) as err:
        with_client(fgt, lambda c: c.get_cmdb("firewall/address", name))
    assert err.value.http_status == 404


def test_duplicate_create_names_the_fortios_error(fgt: FortigateLab) -> None:
    with pytest.raises(FortiOSError) as err:
        with_client(fgt, lambda c: c.create("firewall/address", {"name": "lan", "type": "ipmask"}))
    assert err.value.error_code == -5 and "duplicate" in err.value.reason
    assert err.value.method == "POST"


def test_refuses_table_wide_delete_and_ambiguous_move(fgt: FortigateLab) -> None:
    before = len(fgt.requests)

    async def body(c: FortiOSClient) -> None:
        with pytest.raises(ValueError, match="mkey is required"):
            await c.delete("firewall/address", "")
        with pytest.raises(ValueError, match="exactly one"):
            await c.move("firewall/policy", 1, before=2, after=3)
        with pytest.raises(ValueError, match="exactly one"):
            await c.move("firewall/policy", 1)

    with_client(fgt, body)
    assert len(fgt.requests) == before  # nothing was sent


def test_transaction_commits_together_and_aborts_on_error(fgt: FortigateLab) -> None:
    async def body(c: FortiOSClient) -> tuple[bool, list[str]]:
        async with c.transaction():
            await c.create("firewall/address", {"name": "tx-a", "type": "ipmask"})
            await c.create("firewall/address", {"name": "tx-b", "type": "ipmask"})
            async with client_of(fgt) as other:  # outside the transaction: not applied yet
                seen_early = "tx-a" in _names((await other.get_cmdb("firewall/address")).results)
        with pytest.raises(RuntimeError, match="boom"):
            async with c.transaction():
                await c.create("firewall/address", {"name": "tx-c", "type": "ipmask"})
                raise RuntimeError("boom")
        return seen_early, _names((await c.get_cmdb("firewall/address")).results)

    seen_early, names = with_client(fgt, body)
    assert not seen_early
    assert {"tx-a", "tx-b"} <= set(names) and "tx-c" not in names
    actions = [r.query.get("action") for r in requests_to(fgt, "/api/v2/cmdb", "POST")]
    assert actions[-4:] == [
        "transaction-start",
        "transaction-commit",
        "transaction-start",
        "transaction-abort",
    ]
    creates = requests_to(fgt, "/api/v2/cmdb/firewall/address", "POST")
    assert all(r.headers.get("x-transaction-id") for r in creates[-3:])


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r["name"]) for r in rows]


# -- backup --------------------------------------------------------------------------------


def test_backup_posts_on_74(fgt: FortigateLab) -> None:
    async def body(c: FortiOSClient) -> bytes:
        await c.get_cmdb("system/global", global_scope=True)
        return await c.backup_config()

    text = with_client(fgt, body)
    assert text.startswith(b"#config-version=")
    calls = requests_to(fgt, "/api/v2/monitor/system/config/backup")
    assert [r.method for r in calls][-1:] == ["POST"]


def test_backup_gets_on_64() -> None:
    with FortigateLab(make_state("v6.4.14", 2093), tokens={CANARY: None}, profile="6.4") as fgt:

        async def body(c: FortiOSClient) -> bytes:
            await c.get_cmdb("system/global", global_scope=True)
            return await c.backup_config()

        text = with_client(fgt, body)
        calls = requests_to(fgt, "/api/v2/monitor/system/config/backup")
        assert text.startswith(b"#config-version=")
        assert [r.method for r in calls] == ["GET"]


def test_save_revision(fgt: FortigateLab) -> None:
    env = with_client(fgt, lambda c: c.save_revision("baluarte run 1"))
    assert env.ok


# -- sessions ------------------------------------------------------------------------------


def test_session_login_76_uses_api_v2_authentication() -> None:
    with FortigateLab(make_state("v7.6.3", 3510), admins={"admin": CANARY}, profile="7.6") as fgt:

        async def body(c: FortiOSClient) -> tuple[Any, Any]:
            rows = (await c.get_cmdb("firewall/policy")).results
            created = await c.create("firewall/address", {"name": "s1", "type": "ipmask"})
            return rows, created

        rows, created = with_client(fgt, body, auth=SessionAuth("admin", CANARY))
        assert len(rows) == 3 and created.ok
        paths = [(r.method, r.path) for r in fgt.requests]
        assert paths[0] == ("POST", "/api/v2/authentication")
        assert ("POST", "/logincheck") not in paths
        assert paths[-1] == ("DELETE", "/api/v2/authentication")  # logged out


def test_session_login_64_falls_back_to_logincheck() -> None:
    with FortigateLab(make_state("v6.4.14", 2093), admins={"admin": CANARY}, profile="6.4") as fgt:
        # A 6.4 build before 6.4.2 has no /api/v2/authentication.
        fgt.faults.add(Fault(match="/api/v2/authentication", kind="status", status=404))

        async def body(c: FortiOSClient) -> Any:
            await c.create("firewall/address", {"name": "s2", "type": "ipmask"})  # needs CSRF
            return (await c.get_cmdb("firewall/address", "s2")).results

        rows = with_client(fgt, body, auth=SessionAuth("admin", CANARY))
        assert rows[0]["name"] == "s2"
        paths = [(r.method, r.path) for r in fgt.requests]
        assert paths[:2] == [("POST", "/api/v2/authentication"), ("POST", "/logincheck")]
        write = requests_to(fgt, "/api/v2/cmdb/firewall/address", "POST")[0]
        assert write.headers.get("x-csrftoken")  # masked in the log, but sent
        assert paths[-1][1] == "/logout"


def test_expired_session_is_renewed_once() -> None:
    with FortigateLab(make_state(), admins={"admin": CANARY}, session_ttl=0.5) as fgt:

        async def body(c: FortiOSClient) -> Any:
            await c.get_cmdb("firewall/policy")
            await asyncio.sleep(0.8)
            return (await c.get_cmdb("firewall/policy")).results

        rows = with_client(fgt, body, auth=SessionAuth("admin", CANARY))
        assert len(rows) == 3
        logins = requests_to(fgt, "/api/v2/authentication", "POST")
        assert len(logins) == 2
        statuses = [r.status for r in requests_to(fgt, "/api/v2/cmdb/firewall/policy")]
        assert statuses == [200, 401, 200]


def test_session_not_renewable_is_an_auth_error() -> None:
    with FortigateLab(make_state(), admins={"admin": CANARY}) as fgt:
        fgt.faults.add(
            Fault(match="/api/v2/cmdb/firewall/policy", kind="status", status=401, times=None)
        )
        with pytest.raises(AuthFailed, match="session expired and could not be renewed"):
            with_client(
                fgt, lambda c: c.get_cmdb("firewall/policy"), auth=SessionAuth("admin", CANARY)
            )
        assert len(requests_to(fgt, "/api/v2/authentication", "POST")) == 2


def test_wrong_password_then_lockout_is_not_retried() -> None:
    with FortigateLab(make_state(), admins={"admin": CANARY}, login_lockout=2) as fgt:
        bad = SessionAuth("admin", "wrong-password")
        for _ in range(2):
            with pytest.raises(FortiOSAuthError, match="wrong username or password"):
                with_client(fgt, lambda c: c.get_cmdb("firewall/policy"), auth=bad)
        before = len(fgt.requests)
        with pytest.raises(FortiOSAuthError, match="429") as err:
            with_client(
                fgt, lambda c: c.get_cmdb("firewall/policy"), auth=SessionAuth("admin", CANARY)
            )
        assert err.value.http_status == 429
        assert len(fgt.requests) - before == 1  # one refused login, no retry


# -- retries and failures ------------------------------------------------------------------


def test_a_500_is_retried_then_succeeds(fgt: FortigateLab) -> None:
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/address", kind="status", status=500, times=1))
    before = len(requests_to(fgt, "/api/v2/cmdb/firewall/address"))

    async def body(c: FortiOSClient) -> tuple[Any, int]:
        env = await c.get_cmdb("firewall/address")
        return env.results, c.request_count

    rows, count = with_client(fgt, body)
    assert "lan" in _names(rows)
    assert count == 2
    statuses = [r.status for r in requests_to(fgt, "/api/v2/cmdb/firewall/address")[before:]]
    assert statuses == [500, 200]


def test_writes_are_not_retried(fgt: FortigateLab) -> None:
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/address", kind="status", status=503, times=1))
    before = len(requests_to(fgt, "/api/v2/cmdb/firewall/address", "POST"))
    with pytest.raises(FortiOSError) as err:
        with_client(fgt, lambda c: c.create("firewall/address", {"name": "nr", "type": "ipmask"}))
    assert err.value.http_status == 503 and "503 Service Unavailable" in str(err.value)
    assert len(requests_to(fgt, "/api/v2/cmdb/firewall/address", "POST")) - before == 1


def test_429_is_retried_at_most_three_times(fgt: FortigateLab) -> None:
    fgt.faults.add(
        Fault(match="/api/v2/cmdb/firewall/policy", kind="status", status=429, times=None)
    )
    before = len(fgt.requests)
    with pytest.raises(FortiOSAuthError, match="429 Too Many Requests") as err:
        with_client(fgt, lambda c: c.get_cmdb("firewall/policy"))
    assert isinstance(err.value, AuthFailed)
    assert len(fgt.requests) - before == 3


def test_dropped_connection_is_retried(fgt: FortigateLab) -> None:
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="drop", times=1))
    rows = with_client(fgt, lambda c: c.get_cmdb("firewall/policy")).results
    assert len(rows) == 3


def test_html_and_malformed_answers_are_bad_answers(fgt: FortigateLab) -> None:
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="malformed", times=None))
    with pytest.raises(BadAnswer, match="not a FortiOS JSON envelope"):
        with_client(fgt, lambda c: c.get_cmdb("firewall/policy"))
    fgt.faults.clear()
    fgt.faults.add(Fault(match="/api/v2/cmdb/firewall/policy", kind="html", status=403, times=None))
    with pytest.raises(FortiOSError, match="403 Forbidden: the API user's profile has no read"):
        with_client(fgt, lambda c: c.get_cmdb("firewall/policy"))


def test_wrong_token_is_a_clear_auth_error(fgt: FortigateLab) -> None:
    with pytest.raises(FortiOSAuthError) as err:
        with_client(fgt, lambda c: c.get_cmdb("firewall/policy"), auth=TokenAuth(OTHER_TOKEN))
    assert err.value.http_status == 401
    assert "401: token refused — wrong or revoked token, or this address is not one of" in str(
        err.value
    )


def test_wrong_ca_is_a_tls_error_whatever_the_environment_says(
    fgt: FortigateLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator's CA in every variable a TLS stack may read: our context must ignore them.
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(var, str(fgt.ca_path))
    with pytest.raises(TlsVerificationFailed, match="TLS certificate verification failed") as err:
        with_client(fgt, lambda c: c.get_cmdb("firewall/policy"), tls=tls_context())
    assert isinstance(err.value, Unreachable)


def test_verify_false_is_allowed_when_asked(fgt: FortigateLab) -> None:
    rows = with_client(
        fgt, lambda c: c.get_cmdb("firewall/policy"), tls=tls_context(verify=False)
    ).results
    assert len(rows) == 3


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        client = FortiOSClient("127.0.0.1", port, auth=TokenAuth(CANARY), tls=tls_context())
        with pytest.raises(Unreachable, match=re.escape("cannot connect to https://127.0.0.1")):

            async def go() -> None:
                async with client:
                    await client.get_cmdb("firewall/policy")

            run(go())


# -- secrets -------------------------------------------------------------------------------


def test_no_secret_in_exceptions_reprs_or_logs(
    fgt: FortigateLab, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    seen: list[str] = []

    def attempt(body: Callable[[FortiOSClient], Awaitable[Any]], **kw: Any) -> None:
        try:
            with_client(fgt, body, **kw)
        except (DeviceError, ValueError) as exc:
            errors.append(exc)

    kinds: list[tuple[Literal["status", "html", "malformed", "drop"], int]] = [
        ("status", 500),
        ("html", 403),
        ("malformed", 200),
        ("drop", 500),
    ]
    for kind, status in kinds:
        fault = Fault(match="/api/v2/cmdb/firewall/policy", kind=kind, status=status, times=None)
        fgt.faults.add(fault)
        attempt(lambda c: c.get_cmdb("firewall/policy"))
        fgt.faults.clear()
    attempt(lambda c: c.get_cmdb("firewall/address", "missing"))
    attempt(lambda c: c.delete("firewall/address", " "))
    attempt(lambda c: c.get_cmdb("firewall/policy"), auth=TokenAuth(CANARY + "x"))

    async def session(c: FortiOSClient) -> None:
        seen.append(repr(c))
        seen.append(repr(c._session))
        key = c._session.headers(write=True)  # the session key and CSRF token of this login
        seen.extend(v.removeprefix("Bearer ") for v in key.values())
        await c.get_cmdb("firewall/address", "missing")

    attempt(session, auth=SessionAuth("admin", CANARY))
    attempt(lambda c: c.get_cmdb("firewall/policy"), auth=SessionAuth("admin", "nope"))
    assert len(errors) == 9
    secrets = [CANARY, *(s for s in seen[2:] if s)]
    assert len(secrets) >= 2  # the canary and the session key at least
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + seen[:2] + [caplog.text]
    texts += [repr(TokenAuth(CANARY)), repr(SessionAuth("admin", CANARY))]
    texts += [str(r.query) + str(r.headers) + str(r.body) for r in fgt.requests]
    for secret in secrets:
        assert not [t for t in texts if secret in t], f"secret leaked: {secret[:4]}…"
