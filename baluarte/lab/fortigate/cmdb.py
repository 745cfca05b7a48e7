"""``/api/v2/cmdb/…``: reads, writes and transactions on the configuration tree.

Routes (segments after ``/api/v2/cmdb``, each percent-decoded after splitting the raw path, so
``%2F`` inside a name stays in its segment): ``<path>/<name>`` (a table or a singleton),
``<path>/<name>/<mkey>`` (one row), ``<path>/<name>/<mkey>/<child>[/<child-mkey>]`` (a child
table of a row, read-only), and the root (``?action=transaction-…``, ``?action=schema``).
VDOMs: ``vdom=`` (default: the management VDOM), ``vdom=a,b`` / ``vdom=*`` / ``global=1`` →
a list of envelopes, one per VDOM (``global=1`` on a global node: a one-element list).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from baluarte.lab.fortigate import access, query
from baluarte.lab.fortigate.auth import Principal
from baluarte.lab.fortigate.envelope import UNSET, cmdb_envelope, cmdb_error
from baluarte.lab.fortigate.profiles import Profile
from baluarte.lab.fortigate.schema import NodeSchema
from baluarte.lab.fortigate.state import Cmdb, LabState, present_secret
from baluarte.lab.fortigate.transactions import Transaction, Transactions
from baluarte.lab.fortigate.wire import Reply, Request, json_reply
from baluarte.lab.fortigate.writes import WriteFailure, WriteOp, apply, find_row, references_to

__all__ = ["CmdbApi"]

_READ_DENIED, _WRITE_DENIED = -14, -37


class CmdbApi:
    def __init__(self, state: LabState, profile: Profile, transactions: Transactions) -> None:
        self.state = state
        self.profile = profile
        self.transactions = transactions

    def handle(self, req: Request, who: Principal, segs: list[str]) -> Reply:
        if len(segs) < 2:
            return self._root(req, who)
        path, name = segs[0], segs[1]
        node = f"{path}/{name}"
        schema = self.state.cmdb.schema(node)
        if schema is None:
            vdom = req.param("vdom") or self.state.management_vdom
            return cmdb_error(self.state, req.method, 404, None, path=path, name=name, vdom=vdom)
        vdoms = self._vdoms(req, schema)
        if isinstance(vdoms, Reply):
            return vdoms
        first = vdoms[0]
        denied = [v for v in vdoms if schema.scope == "vdom" and who.vdoms and v not in who.vdoms]
        if denied:
            return self._error(req, 403, _READ_DENIED, path, name, denied[0])
        if req.method == "GET":
            answers = [self._get(req, who, schema, segs, v) for v in vdoms]
            if len(answers) == 1 and not self._listed(req):
                return json_reply(answers[0], answers[0]["http_status"])
            return json_reply(answers, 200)
        if len(vdoms) != 1:
            return self._error(req, 400, None, path, name, first)
        return self._write(req, who, schema, segs, vdoms[0])

    # -- VDOM selection -------------------------------------------------------------------------

    def _listed(self, req: Request) -> bool:
        wanted = req.param("vdom") or ""
        return req.param("global") == "1" or wanted == "*" or "," in wanted

    def _vdoms(self, req: Request, schema: NodeSchema | None) -> list[str] | Reply:
        names = self.state.vdom_names
        wanted = req.param("vdom")
        if req.param("global") == "1" and (schema is None or schema.scope == "global"):
            return [self.state.management_vdom]
        if req.param("global") == "1" or wanted == "*":
            return names
        if not wanted:
            return [self.state.management_vdom]
        chosen = [v for v in wanted.split(",") if v]
        unknown = [v for v in chosen if v not in names]
        if unknown:
            return cmdb_error(self.state, req.method, 404, -3, path="", name="", vdom=unknown[0])
        return chosen

    # -- reads ----------------------------------------------------------------------------------

    def _get(
        self, req: Request, who: Principal, schema: NodeSchema, segs: list[str], vdom: str
    ) -> dict[str, Any]:
        path, name = segs[0], segs[1]
        cmdb = self._cmdb_for(req, who)
        action = req.param("action")
        if action == "schema":
            return self._envelope(req, path, name, vdom, results=_schema(schema, path, name))
        if action == "default":
            return self._envelope(req, path, name, vdom, results=dict(schema.defaults))
        if action == "revision":
            return self._envelope(req, path, name, vdom, results={"revision": self.state.revision})
        profile = access.profile_row(self.state.cmdb, who.accprofile)
        if not access.node_readable(schema, profile):
            return self._envelope(req, path, name, vdom, status=403, error=_READ_DENIED)
        stored = cmdb.results(schema.path, vdom, schema)
        if not schema.table:
            if len(segs) > 2:
                return self._envelope(req, path, name, vdom, status=404, error=-3)
            shown = self._present(cmdb, schema, stored, profile, req, vdom)
            return self._envelope(req, path, name, vdom, results=shown)
        if len(segs) > 2:
            return self._get_row(req, cmdb, schema, segs, vdom, profile)
        return self._get_table(req, cmdb, schema, stored, vdom, profile)

    def _get_table(
        self,
        req: Request,
        cmdb: Cmdb,
        schema: NodeSchema,
        rows: list[dict[str, Any]],
        vdom: str,
        profile: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        path, name = schema.path.split("/", 1)
        try:
            filters = query.parse_filters(req.query.get("filter", []))
            key, pattern = req.param("key"), req.param("pattern")
            if key and pattern is not None:
                filters.append([query.Condition(key, "==", pattern)])
            matched = [row for row in rows if query.matches(row, filters)]
            start = req.param("start")
            page = query.page(matched, start, req.param("count"))
        except query.QueryError:
            return self._envelope(req, path, name, vdom, status=400)
        shown = [self._present(cmdb, schema, row, profile, req, vdom) for row in page]
        counts = None
        if self.profile.table_counts:
            counts = {"size": len(rows), "matched_count": len(matched)}
            counts["next_idx"] = int(start or 0) + len(page) - 1
        return self._envelope(req, path, name, vdom, results=shown, counts=counts)

    def _get_row(
        self,
        req: Request,
        cmdb: Cmdb,
        schema: NodeSchema,
        segs: list[str],
        vdom: str,
        profile: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        path, name = segs[0], segs[1]
        rows = cmdb.results(schema.path, vdom, schema)
        index = find_row(rows, schema, segs[2])
        if index is None:
            return self._envelope(req, path, name, vdom, status=404, error=-3)
        row = self._present(cmdb, schema, rows[index], profile, req, vdom)
        if len(segs) == 3:
            return self._envelope(req, path, name, vdom, results=[row])
        child = row.get(segs[3])
        if not isinstance(child, list):
            return self._envelope(req, path, name, vdom, status=404, error=-3)
        if len(segs) == 4:
            return self._envelope(req, path, name, vdom, results=child)
        found = [c for c in child if isinstance(c, dict) and str(c.get("q_origin_key")) == segs[4]]
        if not found:
            return self._envelope(req, path, name, vdom, status=404, error=-3)
        return self._envelope(req, path, name, vdom, results=found)

    def _present(
        self,
        cmdb: Cmdb,
        schema: NodeSchema,
        obj: Mapping[str, Any],
        profile: Mapping[str, Any] | None,
        req: Request,
        vdom: str,
    ) -> dict[str, Any]:
        """One row or singleton as a reader sees it: permitted fields, fresh ``ENC`` secrets."""
        shown = access.visible(schema, _masked(schema, copy.deepcopy(dict(obj))), profile)
        if req.param("datasource") in ("1", "true"):
            _add_datasources(cmdb, schema, shown, vdom)
        if req.param("with_meta") in ("1", "true") and schema.table:
            key = str(obj.get(schema.mkey or "name"))
            shown.update(
                q_ref=len(references_to(cmdb, schema.path, vdom, key)),
                q_static=False,
                q_no_rename=False,
                q_no_edit=False,
            )
        return query.pick_fields(shown, req.param("format"))

    # -- writes ---------------------------------------------------------------------------------

    def _write(
        self, req: Request, who: Principal, schema: NodeSchema, segs: list[str], vdom: str
    ) -> Reply:
        path, name = segs[0], segs[1]
        op = self._op(req, schema, segs, vdom)
        if isinstance(op, Reply):
            return op
        profile = access.profile_row(self.state.cmdb, who.accprofile)
        groups = {schema.group, *(schema.field_group(key) for key in op.data)}
        if not all(access.can_write(profile, group) for group in groups):
            return self._error(req, 403, _WRITE_DENIED, path, name, vdom)
        tx = self._transaction(req, who)
        if isinstance(tx, Reply):
            return tx
        old = self.state.revision
        try:
            if tx is not None:
                result = self.transactions.record(tx, op)
            else:
                result = apply(self.state.cmdb, op)
                if result.changed:
                    self.state.bump()
        except WriteFailure as failure:
            return self._error(req, failure.status, failure.error, path, name, vdom)
        body = cmdb_envelope(
            self.state, req.method, path=path, name=name, vdom=vdom,
            mkey=result.mkey if schema.table else UNSET, changed=result.changed, old_revision=old,
        )  # fmt: skip
        return json_reply(body)

    def _op(self, req: Request, schema: NodeSchema, segs: list[str], vdom: str) -> WriteOp | Reply:
        path, name = segs[0], segs[1]
        mkey = segs[2] if len(segs) > 2 else None
        if len(segs) > 3:
            return self._error(req, 405, None, path, name, vdom)
        try:
            data = req.json()
        except ValueError:
            return self._error(req, 400, None, path, name, vdom)
        data = data if data is not None else {}
        if not isinstance(data, dict):
            return self._error(req, 500, -651, path, name, vdom)
        action = req.param("action")
        node = schema.path
        if req.method == "POST":
            if action == "clone":
                return WriteOp("clone", node, vdom, mkey, data, nkey=req.param("nkey"))
            if mkey is not None or not schema.table:
                return self._error(req, 405, None, path, name, vdom)
            return WriteOp("create", node, vdom, None, data)
        if req.method == "PUT":
            if action == "move":
                before, after = req.param("before"), req.param("after")
                return WriteOp("move", node, vdom, mkey, before=before, after=after)
            if schema.table and mkey is None:
                return self._error(req, 405, None, path, name, vdom)
            return WriteOp("update", node, vdom, mkey, data)
        if req.method == "DELETE":
            if mkey is None:
                return self._error(req, 405, None, path, name, vdom)
            return WriteOp("delete", node, vdom, mkey)
        return self._error(req, 405, None, path, name, vdom)

    # -- transactions ---------------------------------------------------------------------------

    def _transaction(self, req: Request, who: Principal) -> Transaction | Reply | None:
        raw = req.header("x-transaction-id")
        if raw is None:
            return None
        tx = self.transactions.get(_int(raw), who.key)
        if tx is None:
            return self._error(req, 404, -3, "", "", self.state.management_vdom)
        return tx

    def _cmdb_for(self, req: Request, who: Principal) -> Cmdb:
        tx = self._transaction(req, who)
        return tx.shadow if isinstance(tx, Transaction) else self.state.cmdb

    def _root(self, req: Request, who: Principal) -> Reply:
        action = req.param("action") or ""
        vdom = req.param("vdom") or self.state.management_vdom
        if action == "schema" and req.method == "GET":
            return json_reply(self._envelope(req, "", "", vdom, results=self._all_schemas()))
        if not action.startswith("transaction-"):
            return self._error(req, 404, None, "", "", vdom)
        try:
            body = req.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        if action == "transaction-start" and req.method == "POST":
            try:
                timeout = float(body.get("timeout", 60))
                tx = self.transactions.start(who.key, timeout)
            except (TypeError, ValueError):
                return self._error(req, 400, None, "", "", vdom)
            except WriteFailure as failure:
                return self._error(req, failure.status, failure.error, "", "", vdom)
            results = {"transaction-id": tx.id}
            return json_reply(self._envelope(req, "", "", vdom, results=results, changed=False))
        if action == "transaction-list" and req.method == "GET":
            listing = [
                {"transaction-id": tx.id, "timeout": tx.timeout, "count": len(tx.ops)}
                for tx in self.transactions.listing(who.key)
            ]
            return json_reply(self._envelope(req, "", "", vdom, results=listing))
        raw = (
            req.header("x-transaction-id")
            or body.get("transaction_id")
            or req.param("transaction_id")
        )
        found = self.transactions.get(_int(raw), who.key)
        if found is None:
            return self._error(req, 404, -3, "", "", vdom)
        tx = found
        if action == "transaction-show" and req.method == "GET":
            return json_reply(self._envelope(req, "", "", vdom, results=self.transactions.show(tx)))
        if action == "transaction-abort" and req.method == "POST":
            self.transactions.abort(tx)
            return json_reply(self._envelope(req, "", "", vdom, changed=False))
        if action == "transaction-commit" and req.method == "POST":
            old = self.state.revision
            try:
                changed = self.transactions.commit(tx)
            except WriteFailure as failure:
                return self._error(req, failure.status, failure.error, "", "", vdom)
            return json_reply(self._envelope(req, "", "", vdom, changed=changed, old=old))
        return self._error(req, 400, None, "", "", vdom)

    def _all_schemas(self) -> list[dict[str, Any]]:
        cmdb = self.state.cmdb
        paths = dict.fromkeys([*cmdb.global_, *(p for n in cmdb.vdoms.values() for p in n)])
        from baluarte.lab.fortigate.nodes import REGISTRY

        paths.update(dict.fromkeys(REGISTRY))
        out = []
        for full in paths:
            schema = cmdb.schema(full)
            if schema is not None:
                path, name = full.split("/", 1)
                out.append(_schema(schema, path, name))
        return out

    # -- envelopes ------------------------------------------------------------------------------

    def _envelope(
        self,
        req: Request,
        path: str,
        name: str,
        vdom: str,
        *,
        results: Any = UNSET,
        status: int = 200,
        error: int | None = None,
        counts: dict[str, int] | None = None,
        changed: bool | None = None,
        old: str | None = None,
    ) -> dict[str, Any]:
        return cmdb_envelope(
            self.state, req.method, path=path, name=name, vdom=vdom, results=results,
            status=status, error=error, counts=counts, changed=changed, old_revision=old,
        )  # fmt: skip

    def _error(
        self, req: Request, status: int, error: int | None, path: str, name: str, vdom: str
    ) -> Reply:
        return cmdb_error(self.state, req.method, status, error, path=path, name=name, vdom=vdom)


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def _masked(schema: NodeSchema, obj: Any) -> Any:
    """Secrets replaced by a fresh ``ENC …`` at every depth."""
    if isinstance(obj, dict):
        return {
            key: present_secret()
            if (schema.is_secret(key) and value not in ("", None))
            or (isinstance(value, str) and value.startswith("ENC "))
            else _masked(schema, value)
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [_masked(schema, item) for item in obj]
    return obj


def _add_datasources(cmdb: Cmdb, schema: NodeSchema, row: dict[str, Any], vdom: str) -> None:
    for key, spec in schema.members.items():
        for member in row.get(key) or []:
            if not isinstance(member, dict):
                continue
            name = str(member.get(spec.key))
            found = next(
                (t for t in spec.targets if name in (cmdb.names(t, vdom) or ())), spec.targets[0]
            )
            member["datasource"] = found.split("#")[0].replace("/", ".")


def _schema(schema: NodeSchema, path: str, name: str) -> dict[str, Any]:
    """``?action=schema``: what fortiosapi needs (``mkey``) and a little more."""
    children: dict[str, Any] = {}
    for field in sorted(schema.fields):
        entry: dict[str, Any] = {"name": field, "category": "unitary", "type": "string"}
        if field in schema.enums:
            entry.update(type="option", options=[{"name": v} for v in sorted(schema.enums[field])])
        elif field in schema.multi:
            entry.update(type="option", multiple_values=True,
                         options=[{"name": v} for v in sorted(schema.multi[field])])  # fmt: skip
        elif field in schema.ints:
            low, high = schema.ints[field]
            entry.update(type="integer", min_value=low, max_value=high)
        elif field in schema.members or field in schema.children:
            entry.update(category="table", type="")
        elif schema.is_secret(field):
            entry.update(type="password")
        children[field] = entry
    out: dict[str, Any] = {
        "name": name,
        "category": schema.category,
        "help": f"Configure {path.replace('.', ' ')} {name}.",
        "path": path,
        "q_path": path,
        "q_name": name,
        "children": children,
    }
    if schema.table:
        out.update(mkey=schema.mkey, mkey_type=schema.mkey_type)
    return out
