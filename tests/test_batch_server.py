"""The real openai client against `nightshift batch-server` on loopback: the Files and Batches protocol."""

import json
import time

import openai
import pytest

from nightshift.llm import offline, prompts
from nightshift.llm.batch_files import parse_results, request_json, split
from nightshift.llm.engine import TERMINAL, Faults, LocalBatchEngine
from nightshift.llm.server import BatchServer

TOKEN = "test-token"


@pytest.fixture
def engine(tmp_path):
    return LocalBatchEngine(tmp_path / "provider")


@pytest.fixture
def client(engine):
    with BatchServer(engine, port=0, token=TOKEN).running() as server:
        yield openai.OpenAI(base_url=server.base_url, api_key=TOKEN, max_retries=0)


def lines(n, prefix="t"):
    return [request_json(f"{prefix}{i}", json.dumps(prompts.reply_request("gpt-4.1-mini", f"Ticket {i}: my invoice is wrong.", "billing")))
            for i in range(n)]


def jsonl(lines):
    return "".join(line + "\n" for line in lines).encode()


def submit(client, n=20):
    upload = client.files.create(file=("in.jsonl", jsonl(lines(n))), purpose="batch")
    return client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h",
                                 metadata={"day": "2026-11-01"})


def wait(client, batch_id, timeout=20):
    deadline = time.monotonic() + timeout
    while (batch := client.batches.retrieve(batch_id)).status not in TERMINAL:
        assert time.monotonic() < deadline, f"batch still {batch.status}"
        time.sleep(0.05)
    return batch


def results(client, batch):
    read = lambda file_id: client.files.content(file_id).content if file_id else None  # noqa: E731
    return parse_results(read(batch.output_file_id), read(batch.error_file_id))


def test_a_clean_batch_answers_every_line_with_usage(client):
    batch = submit(client)
    assert batch.status == "validating" and batch.metadata == {"day": "2026-11-01"}
    done = wait(client, batch.id)
    assert done.status == "completed" and done.error_file_id is None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (20, 20, 0)
    got = results(client, done)
    assert set(got) == {f"t{i}" for i in range(20)} and all(r.ok for r in got.values())
    assert all(r.usage.input_tokens > 100 and r.usage.output_tokens > 10 for r in got.values())
    assert client.files.retrieve(done.output_file_id).purpose == "batch_output"
    assert client.batches.list().data[0].id == batch.id


def test_failed_lines_go_to_the_error_file(client, engine):
    engine.faults = Faults(fail_share=0.3)
    done = wait(client, submit(client).id)
    got = results(client, done)
    failed = [r for r in got.values() if not r.ok]
    assert done.status == "completed" and len(got) == 20
    assert done.request_counts.failed == len(failed) > 0 and done.error_file_id
    assert all(r.error == "HTTP 500: injected failure" and r.usage.input_tokens == 0 for r in failed)


def test_an_expired_batch_returns_the_lines_it_finished(client, engine):
    engine.faults = Faults(expire_after=0.5)
    done = wait(client, submit(client).id)
    assert done.status == "expired" and done.expired_at
    assert done.request_counts.completed == 10 and len(results(client, done)) == 10


def test_cancel_stops_a_slow_batch_and_keeps_what_finished(client, engine):
    engine.faults = Faults(line_delay_s=0.05)
    batch = submit(client, n=40)
    time.sleep(0.3)
    cancelled = client.batches.cancel(batch.id)
    assert cancelled.status in ("cancelling", "cancelled")
    done = wait(client, batch.id)
    assert done.status == "cancelled" and 0 < done.request_counts.completed < 40
    assert len(results(client, done)) == done.request_counts.completed


def test_bad_input_fails_the_batch_with_a_reason(client):
    content = jsonl(line.replace("/v1/chat/completions", "/v1/embeddings") for line in lines(2))
    upload = client.files.create(file=("in.jsonl", content), purpose="batch")
    batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "failed" and "another endpoint" in batch.errors.data[0].message


def test_token_unknown_ids_and_purpose_are_checked(client, engine):
    with BatchServer(engine, port=0, token=TOKEN).running() as server, pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0).batches.list()
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.files.content("../../etc/passwd")
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("x.jsonl", b"{}\n"), purpose="assistants")


def test_chat_completions_answer_synchronously(client):
    body = prompts.reply_request("gpt-4.1", "My account was hacked.", "security")
    reply = client.chat.completions.create(**body)
    assert reply.model == offline.NAME and reply.usage.prompt_tokens > 100  # the stand-in names itself, not gpt-4.1
    assert '"category": "security"' in reply.choices[0].message.content


def test_the_engine_resumes_a_batch_without_rerunning_finished_lines(tmp_path):
    calls = []

    def counting(body):
        calls.append(body)
        return 200, {"choices": [{"message": {"content": "{}"}}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

    first = LocalBatchEngine(tmp_path, counting, concurrency=1, faults=Faults(line_delay_s=0.02))
    upload = first.create_file(jsonl(lines(30)), "in.jsonl", "batch")
    batch = first.create_batch(upload["id"], "/v1/chat/completions")
    assert first.work(batch["id"], deadline=time.monotonic() + 0.2)["status"] == "in_progress"
    ran = len(calls)
    assert 0 < ran < 30
    again = LocalBatchEngine(tmp_path, counting)  # a restarted process over the same directory
    assert again.work(batch["id"])["status"] == "completed"
    assert len(calls) == 30 and again.batch(batch["id"])["request_counts"]["completed"] == 30


def test_input_is_split_into_files_at_the_line_and_byte_limits(tmp_path):
    many = lines(7)
    parts = [(path.read_bytes(), count) for path, count in split(many, tmp_path, max_lines=3)]
    assert [(len(content.splitlines()), count) for content, count in parts] == [(3, 3), (3, 3), (1, 1)]
    assert b"".join(content for content, _ in parts) == jsonl(many)  # every line once, in order
    assert [json.loads(line)["custom_id"] for line in parts[2][0].splitlines()] == ["t6"]
    size = len(jsonl(many[:1]))
    assert [count for _, count in split(many, tmp_path / "b", max_bytes=2 * size + 10)] == [2, 2, 2, 1]
    with pytest.raises(ValueError, match="alone is"):
        list(split(many, tmp_path, max_bytes=10))
