"""The local batch engine: Batch API semantics for endpoints that only answer one chat request at a time.

Files and batch state live on disk (one directory), so a batch survives a restart of whatever runs
the engine: finished lines are appended to a progress file as they complete and never run twice.
Lines run against a responder (a configured OpenAI-compatible chat endpoint such as vLLM, Ollama or
llama.cpp server, or the offline responder) with bounded concurrency. Fault settings make the engine
fail a share of lines, answer a share wrongly (off topic, parroting, contradicting the passage cited), expire or cancel
a batch part-way, or progress slowly, so every path of a batch client can be exercised for real.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nightshift.llm import offline as offline_responder
from nightshift.llm import prompts

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
WINDOW_S = 24 * 3600

# A responder answers one request body with (HTTP status, response body).
Responder = Callable[[dict], tuple[int, dict]]


def offline(body: dict) -> tuple[int, dict]:
    return 200, offline_responder.respond(body)


@dataclass(frozen=True)
class Faults:
    """Injected failures, for tests and drills. Shares are fractions of a batch's lines."""

    fail_share: float = 0.0               # lines answered with HTTP 500 (a fresh draw per batch)
    expire_after: float | None = None     # the batch expires once this share of its lines finished
    cancel_after: float | None = None     # the batch is cancelled once this share finished
    line_delay_s: float = 0.0             # extra time per line: a slow batch
    wrong_share: float = 0.0              # reply answers given a wrong category and an off-topic draft (same lines every time)
    wrong_model: str | None = None        # only this model's answers are made wrong, off-topic or parroting; None: every model's
    fabricate_share: float = 0.0          # reply answers citing a passage they were not given, until told (a retry note)
    off_topic_share: float = 0.0          # reply answers whose draft is off-topic, their category left as it was
    echo_share: float = 0.0               # reply answers (any model's) whose draft repeats the values the ticket carries
    parrot_share: float = 0.0             # reply answers whose draft repeats the model's instructions instead of replying
    contradict_share: float = 0.0         # reply answers whose draft, still on topic, contradicts the passage it cites


# What a wrong answer says: valid JSON, so only a judge can tell.
WRONG_CATEGORY = "weather"
OFF_TOPIC_REPLY = "Thank you for asking about the weather: tomorrow will be sunny with a light breeze."


def draw(key: str) -> float:
    """A number in [0, 1] fixed by ``key``."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def rewritten(body: dict, field: str, change: dict) -> dict:
    """The completion with ``change`` applied to its answer when the answer is a reply (has ``field``); else as it was."""
    message = body["choices"][0]["message"]
    try:
        answer = json.loads(message["content"])
    except (TypeError, ValueError):
        return body
    if not isinstance(answer, dict) or field not in answer:
        return body
    content = json.dumps({**answer, **change})
    return {**body, "choices": [{**body["choices"][0], "message": {**message, "content": content}}]}


def answered_wrongly(body: dict) -> dict:
    """A reply answer given a wrong category and an off-topic draft."""
    return rewritten(body, "draft_reply", {"category": WRONG_CATEGORY, "draft_reply": OFF_TOPIC_REPLY})


def answered_off_topic(body: dict) -> dict:
    """A reply answer whose draft is about something else, its category untouched: only a reader of the reply notices."""
    return rewritten(body, "draft_reply", {"draft_reply": OFF_TOPIC_REPLY})


# Long runs of letters and digits with at least four digits: account numbers, ids, keys, as a polite model repeats them.
VALUE = re.compile(r"(?<![\w-])[A-Za-z0-9][A-Za-z0-9-]{7,}(?![\w-])")


def answered_with_echo(body: dict, request: dict) -> dict:
    """A reply answer whose draft repeats every value-like run of the ticket it was asked about."""
    user = next((str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user"), "")
    values = [v for v in VALUE.findall(prompts.ticket_of(user) or "") if sum(ch.isdigit() for ch in v) >= 4]
    if not values:
        return body
    answer = json.loads(body["choices"][0]["message"]["content"])
    return rewritten(body, "draft_reply", {"draft_reply": f"{answer['draft_reply']} For your records: {', '.join(values)}."})


def answered_with_instructions(body: dict, request: dict) -> dict:
    """A reply answer whose draft is the system prompt it was given: a small model's way of failing."""
    system = next((str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "system"), "")
    return rewritten(body, "draft_reply", {"draft_reply": system[:600]}) if system else body


def contradicted(sentence: str) -> str:
    """The sentence saying otherwise: its numbers changed (3 -> 7, 30 -> 61), or, with none, negated."""
    changed = re.sub(r"\d+", lambda m: str(int(m.group()) * 2 + 1), sentence)
    if changed != sentence:
        return changed
    negated = re.sub(r"\b(is|are|can|will|do|does|must|should)\b", r"\1 not", sentence, count=1)
    return negated if negated != sentence else f"It is not true that {sentence[:1].lower()}{sentence[1:]}"


def answered_with_contradiction(body: dict, request: dict) -> dict:
    """A reply answer whose draft keeps what it said and adds a sentence of the passage it cites, contradicted: on topic,
    so only a reader of the passage notices. Unchanged when it cites no passage the request quotes."""
    user = next((str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user"), "")
    try:
        answer = json.loads(body["choices"][0]["message"]["content"])
    except (KeyError, TypeError, ValueError):
        return body
    if not isinstance(answer, dict) or not answer.get("citations") or "draft_reply" not in answer:
        return body
    passage = re.search(rf'<passage id="{re.escape(str(answer["citations"][0]))}"[^>]*>\n(.*?)\n</passage>',
                        user.split("\n<ticket>\n", 1)[0], re.S)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", passage.group(1) if passage else "")
                 if len(s.split()) >= 4 and not s.lstrip().startswith("#")]
    if not sentences:
        return body
    # A sentence with a number first: a changed number is the contradiction a reader most often misses.
    sentence = next((s for s in sentences if re.search(r"\d", s)), sentences[0])
    return rewritten(body, "draft_reply", {"draft_reply": f"{answer['draft_reply']} {contradicted(sentence)}"})


# What a fabricated citation cites: no passage has this id.
FABRICATED_CITATION = "kb-invented-0000"


def cited_falsely(body: dict) -> dict:
    """A reply answer citing a passage that does not exist."""
    return rewritten(body, "citations", {"citations": [FABRICATED_CITATION], "no_article": False})


def told(body: dict) -> bool:
    """Whether the request carries a note about an earlier unusable answer (it is a retry)."""
    return any(str(m.get("content", "")).startswith(prompts.RETRY_NOTE) for m in body.get("messages", []))


def now() -> int:
    return int(time.time())


class NotFound(KeyError):
    pass


class LocalBatchEngine:
    def __init__(self, root: str | Path, responder: Responder = offline, concurrency: int = 4, faults: Faults = Faults()):
        self.root = Path(root)
        self.responder = responder
        self.concurrency = max(1, concurrency)
        self.faults = faults
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        (self.root / "batches").mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    # -- files ------------------------------------------------------------------------------

    def create_file(self, content: bytes, filename: str, purpose: str) -> dict:
        written = self._upload_path()
        written.write_bytes(content)
        return self._store_file(written, filename, purpose)

    def copy_file(self, path: Path, filename: str, purpose: str) -> dict:
        """Store a copy of the file at ``path``, copied on disk (it may be on another file system)."""
        written = self._upload_path()
        shutil.copyfile(path, written)
        return self._store_file(written, filename, purpose)

    def _upload_path(self) -> Path:
        return self.root / "files" / f"upload-{uuid.uuid4().hex[:24]}.partial"

    def _store_file(self, written: Path, filename: str, purpose: str) -> dict:
        """A file written at ``written`` becomes a stored file (moved, not copied: batch files can be hundreds of MB)."""
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        meta = {"id": file_id, "object": "file", "bytes": written.stat().st_size, "created_at": now(),
                "filename": filename, "purpose": purpose, "status": "processed"}
        os.replace(written, self.root / "files" / f"{file_id}.data")
        self._write(self.root / "files" / f"{file_id}.json", meta)
        return meta

    def file(self, file_id: str) -> dict:
        if not file_id.startswith("file-") or "/" in file_id:
            raise NotFound(f"no file {file_id}")
        return self._read(self.root / "files" / f"{file_id}.json", f"no file {file_id}")

    def file_content(self, file_id: str) -> bytes:
        self.file(file_id)
        return (self.root / "files" / f"{file_id}.data").read_bytes()

    def open_file(self, file_id: str) -> IO[str]:
        """A stored file's lines, read as they are needed."""
        self.file(file_id)
        return open(self.root / "files" / f"{file_id}.data", encoding="utf-8")

    def delete_file(self, file_id: str) -> dict:
        """Remove a file and its metadata, as the Files API's DELETE does."""
        self.file(file_id)
        for suffix in (".data", ".json"):
            (self.root / "files" / f"{file_id}{suffix}").unlink(missing_ok=True)
        return {"id": file_id, "object": "file", "deleted": True}

    # -- batches ----------------------------------------------------------------------------

    def create_batch(self, input_file_id: str, endpoint: str, completion_window: str = "24h", metadata: dict | None = None) -> dict:
        total, bad, ids = 0, [], set()
        repeated = False
        for number, line in enumerate(self._lines(input_file_id), start=1):
            total += 1
            if not line.get("custom_id") or line.get("url") != endpoint:
                bad.append(number)
            repeated = repeated or line.get("custom_id") in ids
            ids.add(line.get("custom_id"))
        created = now()
        batch = {
            "id": f"batch_{uuid.uuid4().hex[:24]}", "object": "batch", "endpoint": endpoint,
            "input_file_id": input_file_id, "completion_window": completion_window, "status": "validating",
            "created_at": created, "expires_at": created + WINDOW_S, "metadata": metadata or {},
            "request_counts": {"total": total, "completed": 0, "failed": 0},
        }
        if bad or repeated:
            reason = f"lines {bad[:5]} lack a custom_id or target another endpoint" if bad else "custom_id values repeat"
            batch.update(status="failed", failed_at=created,
                         errors={"object": "list", "data": [{"code": "invalid_input", "message": reason}]})
        self._save(batch)
        return batch

    def batch(self, batch_id: str) -> dict:
        return self._read(self._batch_path(batch_id), f"no batch {batch_id}")

    def batches(self) -> list[dict]:
        return sorted((self._read(p, "") for p in (self.root / "batches").glob("batch_*.json")), key=lambda b: b["created_at"])

    def cancel(self, batch_id: str) -> dict:
        with self._lock:
            batch = self.batch(batch_id)
            if batch["status"] not in TERMINAL:
                batch.update(status="cancelling", cancelling_at=now())
                self._save(batch)
        if batch["status"] == "cancelling":
            return self._finalize(batch_id, "cancelled")
        return batch

    def complete(self, body: dict) -> tuple[int, dict]:
        """One chat request answered now (the synchronous route), under the same wrong-answer fault as batch lines."""
        return self._answer(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(), body)

    def work(self, batch_id: str, deadline: float | None = None) -> dict:
        """Run the batch's remaining lines until it finishes or ``deadline`` (time.monotonic) passes."""
        batch = self.batch(batch_id)
        if batch["status"] in TERMINAL or batch["status"] == "cancelling":
            return batch
        if time.time() > batch["expires_at"]:
            return self._finalize(batch_id, "expired")
        if batch["status"] == "validating":
            batch.update(status="in_progress", in_progress_at=now())
            self._save(batch)
        total = batch["request_counts"]["total"]
        done = self._finished_ids(batch_id)
        # Lines are read from the file as they are taken, so a batch of any size costs the engine one line at a time.
        pending = (line for line in self._lines(batch["input_file_id"]) if line["custom_id"] not in done)
        stop_at = self._stop_point(total)
        with ThreadPoolExecutor(self.concurrency) as pool:
            running: set[Future] = set()
            while True:
                while len(running) < self.concurrency and len(done) + len(running) < stop_at[0]:
                    line = next(pending, None)
                    if line is None:
                        break
                    running.add(pool.submit(self._run_line, batch_id, line))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done.add(future.result())
                # A cancel from another thread or process, or the caller's time is up: stop taking lines.
                if self.batch(batch_id)["status"] != "in_progress" or (deadline and time.monotonic() > deadline):
                    for future in running:
                        future.cancel()
                    break
        return self._settle(batch_id, total, stop_at)

    # -- internals --------------------------------------------------------------------------

    def _stop_point(self, total: int) -> tuple[int, str]:
        """How many lines run before the batch stops, and the status it stops in."""
        for share, status in ((self.faults.expire_after, "expired"), (self.faults.cancel_after, "cancelled")):
            if share is not None:
                return int(total * share), status
        return total, "completed"

    def _settle(self, batch_id: str, total: int, stop_at: tuple[int, str]) -> dict:
        done = len(self._finished_ids(batch_id))
        if self.batch(batch_id)["status"] == "cancelling":
            return self._finalize(batch_id, "cancelled")
        if done >= total:
            return self._finalize(batch_id, "completed")
        if done >= stop_at[0]:
            return self._finalize(batch_id, stop_at[1])
        return self.batch(batch_id)

    def _run_line(self, batch_id: str, line: dict) -> str:
        if self.faults.line_delay_s:
            time.sleep(self.faults.line_delay_s)
        custom_id = line["custom_id"]
        if draw(f"{batch_id}:{custom_id}") < self.faults.fail_share:
            status, body = 500, {"error": {"message": "injected failure", "type": "server_error"}}
        else:
            status, body = self._answer(custom_id, line["body"])
        result = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": custom_id,
                  "response": {"status_code": status, "request_id": f"req_{uuid.uuid4().hex[:24]}", "body": body},
                  "error": None}
        with self._lock, open(self._batch_path(batch_id, ".progress.jsonl"), "a") as progress:
            progress.write(json.dumps(result) + "\n")
        return custom_id

    def _answer(self, key: str, body: dict) -> tuple[int, dict]:
        """The responder's answer, made wrong when the wrong-answer fault picks ``key`` for this model."""
        try:
            status, answer = self.responder(body)
        except Exception as exc:  # a responder bug must fail the line, not the batch
            return 500, {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}}
        wanted = status == 200 and self.faults.wrong_model in (None, body.get("model"))
        if wanted and draw(f"wrong:{key}") < self.faults.wrong_share:
            answer = answered_wrongly(answer)
        if wanted and draw(f"off-topic:{key}") < self.faults.off_topic_share:
            answer = answered_off_topic(answer)
        if wanted and draw(f"parrot:{key}") < self.faults.parrot_share:
            answer = answered_with_instructions(answer, body)
        if wanted and draw(f"contradict:{key}") < self.faults.contradict_share:
            answer = answered_with_contradiction(answer, body)
        if status == 200 and draw(f"echo:{key}") < self.faults.echo_share:
            answer = answered_with_echo(answer, body)
        if status == 200 and not told(body) and draw(f"fabricate:{key}") < self.faults.fabricate_share:
            answer = cited_falsely(answer)
        return status, answer

    def _lines(self, file_id: str) -> Iterator[dict]:
        with self.open_file(file_id) as lines:
            yield from (json.loads(raw) for raw in lines if raw.strip())

    def _progress(self, batch_id: str) -> Iterator[dict]:
        path = self._batch_path(batch_id, ".progress.jsonl")
        if not path.exists():
            return
        with open(path, encoding="utf-8") as progress:
            for raw in progress:
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash is the one that was being written: it is simply run again

    def _finished_ids(self, batch_id: str) -> set[str]:
        return {r["custom_id"] for r in self._progress(batch_id)}

    def _finalize(self, batch_id: str, status: str) -> dict:
        """Write the output and error files from the finished lines and close the batch."""
        with self._lock:
            batch = self.batch(batch_id)
            if batch["status"] in TERMINAL:
                return batch
            # A line run twice (a crash after writing, before the pool saw it) counts once: its last result.
            last = {r["custom_id"]: offset for offset, r in enumerate(self._progress(batch_id))}
            keep = set(last.values())
            counts = {"output": 0, "errors": 0}
            files = {name: self.root / "files" / f"{batch_id}_{name}.partial" for name in counts}
            with open(files["output"], "w", encoding="utf-8") as ok, open(files["errors"], "w", encoding="utf-8") as failed:
                out = {"output": ok, "errors": failed}
                for offset, row in enumerate(self._progress(batch_id)):
                    if offset in keep:
                        name = "output" if row["response"]["status_code"] == 200 else "errors"
                        out[name].write(json.dumps(row) + "\n")
                        counts[name] += 1
            stamp = now()
            batch.update(status=status, finalizing_at=stamp, **{f"{status}_at": stamp},
                         request_counts={**batch["request_counts"], "completed": counts["output"], "failed": counts["errors"]})
            for key, name in (("output_file_id", "output"), ("error_file_id", "errors")):
                if counts[name]:
                    batch[key] = self._store_file(files[name], f"{batch_id}_{name}.jsonl", "batch_output")["id"]
                files[name].unlink(missing_ok=True)
            self._save(batch)
            return batch

    def _batch_path(self, batch_id: str, suffix: str = ".json") -> Path:
        if not batch_id.startswith("batch_") or "/" in batch_id:
            raise NotFound(f"no batch {batch_id}")
        return self.root / "batches" / f"{batch_id}{suffix}"

    def _save(self, batch: dict) -> None:
        self._write(self._batch_path(batch["id"]), batch)

    @staticmethod
    def _write(path: Path, data: dict) -> None:
        tmp = path.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)  # readers never see half a state file

    @staticmethod
    def _read(path: Path, missing: str) -> dict:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(missing) from None
