"""Write an evidence pack: the files, MANIFEST.sha256, its Ed25519 signature, VERIFY.txt.

Layout (docs/evidence.md): report.pdf, report.html, results.json,
oscal-assessment-results.json, findings.csv, junit.xml, inventory.json, policies/ (+ index.json),
backups/ (+ index.json), chain.json, runs/NNN.json (+ .json.sig, .parts.json),
remediations/NNN-MM.txt, MANIFEST.sha256,
MANIFEST.sha256.sig, signing-key.pub.pem, VERIFY.txt. A folder, or a zip when the output ends
in ``.zip``.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baluarte.errors import InputError
from baluarte.evidence.data import EvidenceData
from baluarte.evidence.gather import STEP_GATHER, Gathered
from baluarte.evidence.keys import fingerprint, public_pem
from baluarte.evidence.remediation_files import remediation_files
from baluarte.evidence.staging import Made, Staging, manifest_text
from baluarte.evidence.tables import findings_csv, junit_xml
from baluarte.evidence.verify_text import verify_txt

__all__ = [
    "MANIFEST",
    "PUBLIC_KEY",
    "SIGNATURE",
    "STEPS",
    "Renderers",
    "default_renderers",
    "manifest_bytes",
    "parts_file",
    "run_file",
    "signature_file",
    "write_pack",
]

MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
PUBLIC_KEY = "signing-key.pub.pem"
STEP_CHAIN = "verifying chain"
STEP_HTML = "rendering report"
STEP_PDF = "rendering PDF"
STEP_WRITE = "writing files"
# What an export does, in order (progress display): the chain and the runs are gather's.
STEPS = (STEP_CHAIN, STEP_GATHER, STEP_HTML, STEP_PDF, STEP_WRITE)


@dataclass(frozen=True)
class Renderers:
    """The human report and OSCAL renderers (``reports.evidence``).

    A renderer left None leaves its file out: only for tests of the rest of the pack while a
    renderer is being written; ``default_renderers`` always gives all three.
    """

    html: Callable[[EvidenceData], str] | None
    pdf: Callable[[str, dict[str, bytes]], bytes] | None  # (HTML, files to embed) → PDF
    oscal: Callable[[EvidenceData], bytes] | None  # the OSCAL file's bytes
    # ``pdf`` in two steps, (HTML → laid-out pages, (pages, files to embed) → PDF): the layout
    # starts as soon as the HTML exists, while the files it embeds are still being made
    pdf_steps: tuple[Callable[[str], Any], Callable[[Any, dict[str, bytes]], bytes]] | None = None


def default_renderers() -> Renderers:
    try:
        from reports.evidence import render_html, render_pdf
        from reports.evidence.oscal import assessment_results_json
        from reports.evidence.pdf import finish_pdf, layout_pdf
    except ImportError as exc:
        raise InputError(
            f"the evidence report renderers are not available: {exc}", code="usage"
        ) from exc
    return Renderers(
        html=render_html,
        pdf=render_pdf,
        oscal=assessment_results_json,
        pdf_steps=(layout_pdf, finish_pdf),
    )


def write_pack(
    gathered: Gathered,
    out: Path,
    key: Ed25519PrivateKey,
    renderers: Renderers,
    on_step: Callable[[str], None] | None = None,
) -> str:
    """Write the pack to ``out`` (a new folder, or ``*.zip``); returns the key's fingerprint.

    ``on_step`` is told each step as it starts (``STEPS``' names after the first two), for a
    progress display.
    """
    step = on_step or (lambda _: None)
    staging = Staging(out)
    try:
        _contents(gathered, renderers, step, staging)
        step(STEP_WRITE)
        staging.put(PUBLIC_KEY, public_pem(key.public_key()))
        name = gathered.redact.text(out.name) if gathered.redact is not None else out.name
        staging.put(
            "VERIFY.txt",
            verify_txt(gathered.data.lang, fingerprint(key.public_key()), name).encode(),
        )
        manifest = manifest_text(staging.digests)
        staging.put(MANIFEST, manifest)
        staging.put(SIGNATURE, key.sign(manifest))
        staging.commit()
    finally:
        staging.discard()
    return fingerprint(key.public_key())


def manifest_bytes(files: dict[str, bytes]) -> bytes:
    """``sha256sum`` format over every file but the manifest and its signature; sorted, LF."""
    return manifest_text(
        {
            name: hashlib.sha256(data).hexdigest()
            for name, data in files.items()
            if name not in (MANIFEST, SIGNATURE)
        }
    )


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _data_json(value: Any) -> bytes:
    """A file of per-finding data (results, OSCAL, record parts): one line, by orjson — tens of
    megabytes for a quarter of nightly runs, several times faster than the json module (and
    ``indent`` would turn off even its C encoder). Any JSON viewer indents it; the small index
    files stay indented."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)


def _contents(
    g: Gathered, renderers: Renderers, step: Callable[[str], None], staging: Staging
) -> None:
    # the tables and OSCAL are made in a fork beside the report, results.json and the parts
    # (forked first: it holds none of the PDF worker's pipes), and written there
    tables = _Forked(lambda: staging.written_elsewhere(_tables(g.data, renderers)))
    worker = None
    try:
        # the PDF's process starts now and imports WeasyPrint while the report is made
        if renderers.html is not None and renderers.pdf is not None:
            worker = _Background(getattr(renderers.pdf, "__module__", ""), "weasyprint")
        _made(g, renderers, step, worker, staging)
        staging.take(tables.result())
    finally:
        tables.close()
        if worker is not None:
            worker.close()


def _tables(data: EvidenceData, renderers: Renderers) -> dict[str, bytes]:
    """The files made of every finding of the period besides results.json and the record
    parts: OSCAL, the CSV and JUnit."""
    files: dict[str, bytes] = {}
    if renderers.oscal is not None:
        files["oscal-assessment-results.json"] = renderers.oscal(data)
    files["findings.csv"] = findings_csv(data).encode()
    files["junit.xml"] = junit_xml(data).encode()
    return files


def _made(
    g: Gathered,
    renderers: Renderers,
    step: Callable[[str], None],
    worker: _Background | None,
    staging: Staging,
) -> None:
    from baluarte.history import drifts, trend
    from baluarte.timezones import RunZone
    from reports.json_report import posture_dict, report_dict

    data = g.data
    zone = RunZone(data.timezone, "inventory" if g.inventory.get("verified") else "default")
    html = None
    if renderers.html is not None:
        step(STEP_HTML)
        html = renderers.html(data)
        staging.put("report.html", html.encode())
    steps = renderers.pdf_steps
    if html is not None and renderers.pdf is not None and worker is not None and steps:
        step(STEP_PDF)
        worker.send(steps[0], html)  # the pages laid out while results.json is made
    points = trend(data.runs)
    results = _data_json(
        {
            "client": data.client,
            "period": {
                "from": data.period_from.isoformat() if data.period_from else None,
                "to": data.period_to.isoformat() if data.period_to else None,
            },
            "redacted": data.redacted,
            # the zone the report shows times in; the timestamps here stay UTC
            "timezone": data.timezone,
            # the client at the period's end: each control as last observed, from any run
            "posture": None if data.posture is None else posture_dict(data.posture, data.trend),
            # Drift and trend of each run are drawn from the period's earlier runs, in one pass
            "runs": [
                report_dict(r, timezone=zone, past=(d, points[: i + 1]))
                for i, (r, d) in enumerate(zip(data.runs, drifts(data.runs), strict=True))
            ],
        }
    )
    pdf: Callable[[], bytes] | None = None
    # the PDF carries results.json, so a PDF filed alone keeps its data
    attached = {"results.json": results}
    if html is not None and renderers.pdf is not None and worker is not None and steps:
        pdf = worker.finish(steps[1], attached)
    elif html is not None and renderers.pdf is not None and worker is not None:
        step(STEP_PDF)
        worker.send(renderers.pdf, html, attached)
        pdf = worker.finish()
    # the other files written while the PDF is drawn
    staging.put("results.json", results)
    staging.put("inventory.json", _json(g.inventory))
    staging.put_all(_policies(data))
    staging.put_all(_backups(g))
    staging.put_all(_chain(g))
    # each change whole, commands included: the report's remediation log cites these files
    staging.put_all({f.path: f.content for f in remediation_files(data)})
    if pdf is not None:
        staging.put("report.pdf", pdf())


_FORK_NICENESS = 10  # below the PDF's process and this one: theirs is the longer path


class _Forked:
    """A job run in a fork of this process, beside the rest of the pack; ``result`` waits for
    its files.

    A fork shares the period's runs as they are in memory (a quarter of nightly runs is a
    hundred thousand findings: handing them to a new interpreter would cost more than the job).
    The child only computes and writes its answer to a pipe: it takes no lock another thread
    may hold (no output, no logging, no store), and leaves by ``os._exit``, running none of this
    process's exit handlers. Where there is no fork, the job runs here.
    """

    def __init__(self, job: Callable[[], Made]) -> None:
        self._pid = 0
        self._done: Made | None = None
        if not hasattr(os, "fork"):
            self._done = job()
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read)
                os.nice(_FORK_NICENESS)
                try:
                    answer = pickle.dumps((True, job()), protocol=pickle.HIGHEST_PROTOCOL)
                    code = 0
                except BaseException as exc:  # the parent raises it; nothing is printed here
                    answer = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                with os.fdopen(write, "wb") as out:
                    out.write(answer)
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> Made:
        if self._done is not None:
            return self._done
        with os.fdopen(self._read, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(self._pid, 0)
        self._pid = 0
        try:
            ok, value = pickle.loads(answer)  # our own fork's answer, over a pipe of our own
        except (pickle.UnpicklingError, EOFError, ValueError):
            ok, value = False, "it ended without an answer"
        if not ok:
            raise RuntimeError(f"making the pack's tables failed: {value}")
        done: Made = value
        self._done = done
        return done

    def close(self) -> None:
        """End the fork if the pack was given up before its answer was read."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            os.close(self._read)
            os.waitpid(self._pid, 0)
            self._pid = 0


class _Background:
    """A renderer run in a process of its own, beside the rest of the pack.

    Laying out the PDF is the export's longest step and needs none of the pack's other files
    but results.json (embedded when the pages are drawn), so it runs beside them. The process
    starts when the pack does and imports the renderer's modules (``warm``: half a second for
    WeasyPrint) while the report is made. ``send`` hands it a step: the first, ``f(*args)``;
    each later one, ``f(result so far, *args)``; ``finish`` returns what gives the last
    result's bytes. A new interpreter (not a fork of this one: the PDF needs none of the
    period's runs, only the HTML) gets each step by name; one that cannot be named (a test's
    closure) makes the whole job run here. The process is ended at exit if the export stops
    before it asks for the bytes.
    """

    def __init__(self, *warm: str) -> None:
        self._worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, *warm],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        atexit.register(self._worker.kill)
        self._here: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None

    def close(self) -> None:
        """End the process (a pack given up, or a job run here instead)."""
        worker = self._worker
        if worker.returncode is None:
            worker.kill()
            worker.communicate()
        atexit.unregister(worker.kill)

    def send(self, render: Callable[..., Any], *args: Any) -> None:
        """The next step of the job: ``render(*args)`` first, then ``render(result, *args)``."""
        job = self._job(render, args)
        if job is None:
            return
        assert self._worker.stdin is not None
        try:
            self._worker.stdin.write(job)
            self._worker.stdin.flush()
        except BrokenPipeError:
            pass  # the process has ended: the result says why

    def _job(self, render: Callable[..., Any], args: tuple[Any, ...]) -> bytes | None:
        """A step as the process reads it; None once the job runs here (a step that cannot
        be named, now or before)."""
        if self._here is not None:
            self._here.append((render, args))
            return None
        try:
            return pickle.dumps((render, args), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError):
            self.close()
            self._here = [(render, args)]
            return None

    def finish(self, *last: Any) -> Callable[[], bytes]:
        """``finish(render, *args)`` sends that last step first; call what this returns for
        the bytes. The last step is handed over by a thread: its arguments (results.json,
        tens of megabytes) wait in the pipe until the pages are laid out, and this process
        meanwhile writes the rest of the pack."""
        job = self._job(last[0], last[1:]) if last else b""
        if self._here is not None:
            value: Any = None
            for i, (render, args) in enumerate(self._here):
                value = render(*args) if i == 0 else render(value, *args)
            done = bytes(value)
            return lambda: done
        worker = self._worker
        stdin = worker.stdin
        assert stdin is not None and job is not None
        worker.stdin = None  # closed by the thread: communicate() must not flush it again

        def hand_over() -> None:
            with contextlib.suppress(BrokenPipeError):  # ended early: the result says why
                stdin.write(job)
            with contextlib.suppress(BrokenPipeError):
                stdin.close()

        sender = threading.Thread(target=hand_over, name="pdf-last-step", daemon=True)
        sender.start()

        def result() -> bytes:
            sender.join()
            out, err = worker.communicate()
            atexit.unregister(worker.kill)
            if worker.returncode != 0:
                why = err.decode("utf-8", "replace").strip().splitlines() or [
                    f"exit {worker.returncode}"
                ]
                raise RuntimeError(f"rendering the PDF failed: {why[-1]}")
            data: bytes = pickle.loads(out)  # our own worker's answer, over a pipe of our own
            return data

        return result


# Imports the modules named in its arguments (absent ones skipped), then runs each step
# (renderer, arguments) read from standard input — the first on its arguments, each later one
# on the result so far — and at the end of its input writes the pickled result. Without the
# cycle collector: the layout's boxes live until the PDF is written, and its passes over them
# freed nothing but were a fifth of the layout time (same peak memory, bench/export.py).
_WORKER = (
    "import gc, importlib, pickle, sys; gc.disable()\n"
    "for name in sys.argv[1:]:\n"
    "    try: importlib.import_module(name)\n"
    "    except ImportError: pass\n"
    "first, result = True, None\n"
    "while True:\n"
    "    try: render, args = pickle.load(sys.stdin.buffer)\n"
    "    except EOFError: break\n"
    "    result = render(*args) if first else render(result, *args)\n"
    "    first = False\n"
    "sys.stdout.buffer.write(pickle.dumps(result))\n"
)


def _policies(data: EvidenceData) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    index = []
    for f in data.files:
        if f.role == "inventory":
            continue  # inventory.json is the scope snapshot, without credential references
        entry: dict[str, Any] = {"role": f.role, "path": f.path, "sha256": f.sha256}
        if f.text is None:
            entry["status"] = "changed or missing: not included"
        else:
            name = PurePosixPath(f.path.replace("\\", "/")).name
            rel = f"policies/{name}"
            if rel in out:
                rel = f"policies/{f.sha256[:12]}-{name}"
            out[rel] = f.text.encode()
            entry.update(status="redacted copy" if data.redacted else "included", file=rel)
        index.append(entry)
    out["policies/index.json"] = _json(index)
    return out


def _backups(g: Gathered) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    index = []
    for b in g.backups:
        entry: dict[str, Any] = {
            "run_id": b.run_id,
            "device": b.device,
            "sha256": b.sha256,
            "recorded_path": b.recorded_path,
            "status": b.status,
        }
        if b.text is not None:
            rel = f"backups/{b.device}/{PurePosixPath(b.recorded_path).name}"
            out[rel] = b.text.encode()
            entry.update(file=rel, note="secrets masked: its hash differs from the recorded one")
        elif b.note is not None:
            entry["note"] = b.note
        index.append(entry)
    out["backups/index.json"] = _json(index)
    return out


def run_file(run_id: int) -> str:
    return f"runs/{run_id:03d}.json"


def parts_file(run_id: int) -> str:
    return f"runs/{run_id:03d}.parts.json"


def signature_file(run_id: int) -> str:
    return f"runs/{run_id:03d}.json.sig"


def _chain(g: Gathered) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    links = []
    for link in g.data.chain:
        record = g.records.get(link.run_id)
        seal = g.seals.get(link.run_id)
        entry: dict[str, Any] = {
            "run_id": link.run_id,
            "started_at": link.started_at.isoformat(),
            "ended_at": link.ended_at.isoformat() if link.ended_at else None,
            "previous_sha256": link.previous_sha256,
            "record_sha256": link.record_sha256,
            "format": seal.format if seal else 1,
            "record": None,
            "parts": None,
            "signature": None,
            "signed_by": seal.signed_by if seal and seal.signature is not None else None,
        }
        if record is not None:
            entry["record"] = run_file(link.run_id)
            out[run_file(link.run_id)] = record
            if seal is not None and seal.signature is not None:
                entry["signature"] = signature_file(link.run_id)
                out[signature_file(link.run_id)] = seal.signature
        else:
            entry["why_no_record"] = g.record_notes.get(link.run_id, "not included")
        parts = g.parts.get(link.run_id)
        if parts is not None:
            entry["parts"] = parts_file(link.run_id)
            out[parts_file(link.run_id)] = _data_json(
                {"run_id": link.run_id, "record": run_file(link.run_id), **parts()}
            )
        links.append(entry)
    period = {
        "from": g.data.period_from.isoformat() if g.data.period_from else None,
        "to": g.data.period_to.isoformat() if g.data.period_to else None,
    }
    doc: dict[str, Any] = {
        "client": g.data.client,
        "period": period,
        "runs": [r.info.id for r in g.data.runs],
        "links": links,
    }
    if g.check is not None:  # what the exporter checked in the store before writing the pack
        doc["store_check"] = {
            "chain_runs": g.check.runs,
            "intact": g.check.ok,
            "signed": len(g.check.signed),
            "unsigned": len(g.check.unsigned),
            "signed_by": sorted(g.check.signers),
        }
    out["chain.json"] = _json(doc)
    return out
