"""The independent leak detector: identifiers it must find (redaction's known misses included), text it must leave alone,
and the privacy checks reporting what only it saw as missed_by_redaction."""

import csv
import time
from collections import Counter
from pathlib import Path

import pytest

from nightshift.checks import privacy
from nightshift.safety.leaks import Scanner, findings, mask, scan_all

POSITIVES = [
    # secrets redaction is known to miss
    ("my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc please", "SECRET", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("use github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijKLMNOPQRSTUVWX01 to clone",
     "SECRET", "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijKLMNOPQRSTUVWX01"),
    ("password: hunter2isbad", "SECRET", "hunter2isbad"),
    ("My password is Tr0ub4dor&3 if you need it", "SECRET", "Tr0ub4dor&3"),
    ("AKIAIOSFODNN7EXAMPLE", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "SECRET", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("connect with ftp://backup:Xk9!pass@files.example.net/daily", "SECRET", None),
    # national ids with separators redaction does not expect
    ("SSN 123 45 6789", "SSN", "123 45 6789"),
    ("ssn 123.45.6789", "SSN", "123.45.6789"),
    ("SSN 123-45-6789", "SSN", "123-45-6789"),
    ("my social security number is 536221234", "SSN", "536221234"),
    # cards
    ("card 4111.1111.1111.1111 expires soon", "CARD", "4111.1111.1111.1111"),
    ("card 4111 1111 1111 1111 12 25", "CARD", "4111 1111 1111 1111"),
    ("5555555555554444", "CARD", "5555555555554444"),
    ("amex 3782-822463-10005", "CARD", "3782-822463-10005"),
    # IBANs, any case, any spacing
    ("iban de89 3704 0044 0532 0130 00 thanks", "IBAN", "de89 3704 0044 0532 0130 00"),
    ("IBAN: GB82WEST12345698765432", "IBAN", "GB82WEST12345698765432"),
    ("pay FR14 2004 1010 0505 0001 3M02 606", "IBAN", "FR14 2004 1010 0505 0001 3M02 606"),
    # emails, written or spelled out
    ("write to john at example dot com", "EMAIL", "john at example dot com"),
    ("mail jane.doe+orders@example.co.uk today", "EMAIL", "jane.doe+orders@example.co.uk"),
    ("j.smith (at) mailbox (dot) org", "EMAIL", "j.smith (at) mailbox (dot) org"),
    # phones
    ("call +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
    ("call 0049-30-1234567", "PHONE", "0049-30-1234567"),
    ("call me at (415) 555-2671", "PHONE", "(415) 555-2671"),
    ("my number is 020 7946 0958", "PHONE", "020 7946 0958"),
    # network
    ("logged in from 8.8.8.8 yesterday", "IP", "8.8.8.8"),
    ("client 2001:4860:4860::8888 refused", "IP", "2001:4860:4860::8888"),
    ("mac 00:1A:2B:3C:4D:5E", "MAC", "00:1A:2B:3C:4D:5E"),
]

NEGATIVES = [
    "[EMAIL] [PHONE] [CARD] [IBAN] [SECRET] [SSN] [IP] [MAC] [CODICE_FISCALE]",
    "Your reply to [EMAIL] about card [CARD] and IBAN [IBAN] was sent; call [PHONE].",
    "order #123456789 arrived, order 1234567890 did not",
    "tracking number 1Z999AA10123456784",
    "version 3.3.1.2 released; upgrade to 2.10.1; bump jackson-databind to 2.9.10.3",
    "I paid $1,234.56 (or 1.234,56 EUR) on 2024-01-02 at 12:30:45",
    "2024-01-02 12:30:45,123 INFO namenode started in 1600000000000 ms",
    "uuid 123e4567-e89b-12d3-a456-426614174000 in the log",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b broke it",
    "S3 Extended Request ID: JImfJY9hCl/QvninqT9aO+jrkmyRpRcceAg7t1lO936RfOg7izIom76RtpH+5rLqvmBFRx/++g8=; Proxy: null",
    "see https://github.com/apache/hadoop/blob/4d21655d04d1b488fe37e908d75f833c1aa66b01/BUILDING.txt#L350",
    "from 192.168.1.20 and 10.0.0.1 (private addresses)",
    "Look at the dot com boom",
    "Password: forgotten it, please reset",
    "What do I do if my PIN was blocked?",
    "password = ProviderUtils.locatePassword(CREDENTIAL_PASSWORD_ENV_VAR, conf)",
    "TestDFSStripedOutputStreamWithFailure050 failed",
    "application_1600000000000_0001 and blk_1073741825_1001 len=134217728",
    "{{Order Number}} for {{Customer Name}}",
    "",
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES, ids=[p[0][:40] for p in POSITIVES])
def test_finds_the_identifier(text, kind, value):
    found = findings(text)
    assert [f.kind for f in found] == [kind], found
    (f,) = found
    if value is not None:
        assert text[f.start:f.end] == value
    assert f.value_masked == mask(text[f.start:f.end])


@pytest.mark.parametrize("text", NEGATIVES, ids=[n[:40] for n in NEGATIVES])
def test_leaves_ordinary_text_alone(text):
    assert findings(text) == []


def test_a_finding_never_carries_the_raw_value():
    text = "card 4111 1111 1111 1111, ssn 123-45-6789, key sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    for f in findings(text):
        raw = text[f.start:f.end]
        assert raw not in repr(f) and f.value_masked[:2] == raw[:2] and f.value_masked[-2:] == raw[-2:]
        assert set(f.value_masked[2:-2]) == {"*"}
    assert mask("123456") == "******"


def test_scan_all_scans_each_distinct_paragraph_once_and_keeps_offsets():
    instructions = "You are a support agent. Answer in JSON.\n\nHelp centre: refunds take 5-7 days."
    texts = {f"t{i}": f"{instructions}\n\nTicket: my order {i} is late" for i in range(500)}
    texts["leaky"] = f"{instructions}\n\nTicket: card 4111 1111 1111 1111 please refund"
    scanner = Scanner()
    found = scan_all(texts, scanner)
    assert len(scanner.cache) == 2 + 501
    assert all(found[k] == [] for k in texts if k != "leaky")
    (f,) = found["leaky"]
    assert texts["leaky"][f.start:f.end] == "4111 1111 1111 1111" and f.kind == "CARD"


def leaky_requests() -> dict[str, str]:
    return {
        "clean": "Please help, my parcel never arrived.",
        "both": "Reach me at jane.doe@example.com please.",  # any redactor finds this one
        "only_independent": "my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    }


def test_a_leak_redaction_left_is_reported_as_missed_by_redaction(monkeypatch):
    """Simulate a redactor that saw nothing: what the independent detector finds is missed_by_redaction, and fails the check."""
    monkeypatch.setattr(privacy, "scan", lambda texts: {k: Counter() for k in texts})
    monkeypatch.setattr(privacy, "redact", lambda text: type("R", (), {"text": text})())
    passed, figures = privacy.pii_figures(leaky_requests(), "requests")
    assert not passed
    assert figures["redaction_findings"] == figures["redaction_with_pii"] == 0
    assert figures["with_pii"] == figures["independent_with_pii"] == 2 and figures["independent_findings"] == 2
    assert figures["missed_by_redaction"] == figures["missed_by_redaction_texts"] == 2
    assert "only_independent: SECRET sk" in figures["missed_examples"] and "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in str(figures)
    assert figures["examples"] == "both, only_independent"


def test_what_redaction_also_finds_is_not_counted_as_missed():
    texts = leaky_requests()
    passed, figures = privacy.pii_figures({k: texts[k] for k in ("clean", "both")}, "requests")
    assert not passed and figures["with_pii"] == 1 and figures["found_email"] == 1
    assert figures["independent_email"] == 1 and figures["missed_by_redaction"] == 0 and figures["missed_examples"] == "none"


def test_missed_by_redaction_looks_at_the_spot_not_the_text(monkeypatch):
    """A text where redaction found something (the email) still reports the identifier it left in place (the SSN)."""
    text = "Reach me at jane.doe@example.com, SSN 123.45.6789"
    monkeypatch.setattr(privacy, "scan", lambda texts: {k: Counter({"EMAIL": t.count("@")}) for k, t in texts.items()})
    monkeypatch.setattr(privacy, "redact", lambda t: type("R", (), {"text": t.replace("jane.doe@example.com", "[EMAIL]")})())
    passed, figures = privacy.pii_figures({"t": text}, "requests")
    assert not passed and figures["with_pii"] == figures["redaction_with_pii"] == figures["independent_with_pii"] == 1
    assert figures["independent_findings"] == 2 and figures["missed_by_redaction"] == 1
    assert figures["missed_examples"] == "t: SSN 12*******89"


def test_a_clean_day_passes():
    passed, figures = privacy.pii_figures({"a": "My order 12345 is late.", "b": "Refund of $20 on 2024-01-02?"}, "requests")
    assert passed and figures["with_pii"] == figures["independent_findings"] == figures["missed_by_redaction"] == 0


DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_texts(source: str) -> list[str]:
    csv.field_size_limit(10**8)
    if source == "banking77":
        return [r["text"] for r in csv.DictReader((DATA / "banking77/train.csv").open(encoding="utf-8"))]
    if source == "bitext":
        path = DATA / "bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"
        return [r["instruction"] for r in csv.DictReader(path.open(encoding="utf-8"))]
    return [f"{r['Summary']}\n{r['Description']}" for r in csv.DictReader((DATA / "gitbugs/hadoop_bugs.csv").open(encoding="utf-8"))]


# Share of texts with any finding: customer messages have none; Hadoop bug reports have real committers' addresses,
# public IPs in logs, credentials in URLs, and a few random request ids the entropy rule cannot tell from keys (measured 1.8%).
@pytest.mark.parametrize(("source", "most"), [("banking77", 0.001), ("bitext", 0.001), ("gitbugs", 0.03)])
def test_false_findings_on_shared_data_stay_rare(source, most):
    if not DATA.is_dir():
        pytest.skip("../shared/data is absent")
    texts = shared_texts(source)
    started = time.perf_counter()
    hits = sum(1 for t in texts if findings(t))
    per_text = (time.perf_counter() - started) / len(texts)
    assert hits / len(texts) <= most, (source, hits)
    assert per_text < 0.05  # seconds; measured 0.1 ms (banking77) to 3 ms (gitbugs)
