"""Signing in and out of the dashboard: passwords, throttling, sessions, CSRF tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from baluarte.service import accounts, audit
from baluarte.service.app import SESSION_COOKIE, create_app
from tests.service._web import PASSWORD, Dashboard, TestClient, build, csrf_of, log_in


@pytest.fixture
def dash(tmp_path: Path) -> Iterator[Dashboard]:
    d = build(tmp_path / "svc")
    yield d
    d.service.close()


@pytest.fixture
def web(dash: Dashboard) -> Iterator[TestClient]:
    with TestClient(create_app(dash.service, secure_cookies=False)) as client:
        yield client


def _actions(dash: Dashboard) -> list[tuple[str, str | None]]:
    return [(e.action, e.user_name) for e in audit.recent(dash.service.db)]


def test_pages_need_a_login_and_the_right_password_opens_them(web: TestClient, dash: Dashboard):
    page = web.get("/clients/acme", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/clients/acme"

    token = csrf_of(web.get("/login?next=/clients/acme").text)
    signed = web.post(
        "/login",
        data={"csrf_token": token, "name": "ana", "password": PASSWORD, "next": "/clients/acme"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/clients/acme"
    page = web.get("/clients/acme")
    assert page.status_code == 200 and "Acme S.L." in page.text
    # the session cookie holds a name and a token, never the password
    assert PASSWORD not in web.cookies.get(SESSION_COOKIE, "")
    [entry] = [e for e in audit.recent(dash.service.db) if e.action == "login"]
    assert entry.user_name == "ana" and entry.address == "testclient"
    # a logged-in visitor of the login form is sent on
    assert web.get("/login", follow_redirects=False).headers["location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    web: TestClient, dash: Dashboard
):
    wrong = log_in(web, "ana", "not the password at all")
    assert wrong.status_code == 401
    assert "Nombre o contraseña incorrectos." in wrong.text
    unknown = log_in(web, "nobody", "not the password at all")
    assert unknown.status_code == 401
    assert unknown.text.replace("nobody", "ana") == wrong.text  # same page, whoever was typed
    assert web.get("/", follow_redirects=False).status_code == 303  # not signed in
    assert ("login_failed", "ana") in _actions(dash)


def test_sign_ins_are_throttled_after_repeated_failures_even_with_the_right_password(
    web: TestClient, dash: Dashboard
):
    for _ in range(accounts.MAX_FAILURES_PER_USER):
        assert log_in(web, "tom", "wrong wrong wrong").status_code == 401
    throttled = log_in(web, "tom")  # the right password, too late
    assert throttled.status_code == 429
    assert "Demasiados intentos fallidos" in throttled.text
    assert web.get("/", follow_redirects=False).status_code == 303
    assert ("login_throttled", "tom") in _actions(dash)
    # another account from elsewhere is not affected by tom's refusals
    assert log_in(web, "ana").status_code == 303


def test_a_form_without_the_session_token_or_with_another_is_refused(
    web: TestClient, dash: Dashboard
):
    # the login form itself: no token, no sign-in
    refused = web.post("/login", data={"name": "tom", "password": PASSWORD})
    assert refused.status_code == 403 and "Formulario caducado" in refused.text
    assert log_in(web, "tom").status_code == 303
    token = csrf_of(web.get("/clients/acme").text)
    for data in ({"target": ""}, {"target": "", "csrf_token": "x" * len(token)}):
        answer = web.post("/clients/acme/checks", data=data, follow_redirects=False)
        assert answer.status_code == 403
    assert dash.service.checks.recent() == []  # nothing was started
    assert web.post("/logout", data={}).status_code == 403
    assert web.get("/", follow_redirects=False).status_code == 200  # still signed in
    # a token of another session is another token
    with TestClient(create_app(dash.service, secure_cookies=False)) as other:
        log_in(other, "ana")
        theirs = csrf_of(other.get("/").text)
    assert theirs != token
    stolen = web.post("/clients/acme/checks", data={"target": "", "csrf_token": theirs})
    assert stolen.status_code == 403
    assert dash.service.checks.recent() == []


def test_logging_out_ends_the_session(web: TestClient, dash: Dashboard):
    log_in(web, "tom")
    token = csrf_of(web.get("/").text)
    out = web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert web.get("/", follow_redirects=False).status_code == 303
    assert ("logout", "tom") in _actions(dash)


def test_a_removed_account_loses_its_open_session_at_once(web: TestClient, dash: Dashboard):
    log_in(web, "tom")
    assert web.get("/", follow_redirects=False).status_code == 200
    accounts.remove_user(dash.service.db, "tom", by="ana")
    gone = web.get("/clients/acme", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


def test_after_login_only_a_path_of_this_site_is_followed(web: TestClient):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        web.cookies.clear()  # a new visitor each time
        token = csrf_of(web.get("/login").text)
        answer = web.post(
            "/login",
            data={"csrf_token": token, "name": "ana", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/", target


def test_the_session_cookie_is_secure_http_only_and_same_site(dash: Dashboard):
    with TestClient(create_app(dash.service), base_url="https://testserver") as web:
        answer = log_in(web, "ana")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("secure", "httponly", "samesite=lax"):
        assert flag in cookie.lower(), cookie


def test_language_follows_the_query_then_the_session(web: TestClient):
    assert 'lang="es"' in web.get("/login").text  # the configured default
    english = web.get("/login?lang=en").text
    assert 'lang="en"' in english and "Sign in" in english
    assert "Sign in" in web.get("/login").text  # kept in the session
    token = csrf_of(english)
    switched = web.post(
        "/lang", data={"csrf_token": token, "lang": "es", "next": "/login"}, follow_redirects=False
    )
    assert switched.headers["location"] == "/login"
    assert "Iniciar sesión" in web.get("/login").text
    # the switch is a form too: without the token it is refused
    assert web.post("/lang", data={"lang": "en"}).status_code == 403
    assert "Iniciar sesión" in web.get("/login").text
