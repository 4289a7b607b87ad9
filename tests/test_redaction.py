import pytest

from nightshift.ingest.redaction import is_card, is_iban, redact

# Per kind: text a support desk really receives, and the one placeholder it must come out with.
POSITIVE = [
    ("write to jane.doe+billing@example.co.uk please", "EMAIL"),
    ("call me on +44 20 7946 0958", "PHONE"),
    ("my number is (212) 555-0187", "PHONE"),
    ("or 415-555-0132 after six", "PHONE"),
    ("my number +1 415-555-2671 ext. 23, evenings", "PHONE"),      # the extension goes with it
    ("call me at 0049-30-1234567 please", "PHONE"),                # 00 international prefix with dashes
    ("from France: 0033 1 42 68 53 00", "PHONE"),
    ("UK landline 020 7946 0958", "PHONE"),
    ("call 4155552671 tonight", "PHONE"),                          # a bare run, but after a phone word
    ("URGENT: nobody can log in. Call me on +1 415 555 0132.", "PHONE"),  # a full stop ends the sentence, not the number
    ("Phone: +44 20 7946 0958; after six", "PHONE"),
    ("card 4111 1111 1111 1111 was charged", "CARD"),
    ("card 5500-0000-0000-0004 was charged", "CARD"),
    ("pay to DE89 3704 0044 0532 0130 00", "IBAN"),
    ("pay to GB82WEST12345698765432", "IBAN"),
    ("My SSN is 123-45-6789", "SSN"),
    ("SIN 123 456 782 for the tax form", "SIN"),
    ("NHS number 123 456 7881", "NHS"),  # not a valid US number, so not taken for one
    ("numéro de sécu 2 95 10 99 126 111 93", "NIR"),
    ("DNI 54362315K", "DNI"),
    ("NIE X2482300W", "DNI"),
    ("codice fiscale RCCMNL83S18D969H", "CODICE_FISCALE"),
    ("CPF 390.533.447-05", "CPF"),
    ("aadhaar 2341 2341 2346", "AADHAAR"),
    ("NI number AB 12 34 56 C", "NINO"),
    ("it connects from 192.168.1.20 every night", "IP"),
    ("blocked from 2001:db8::8a2e:370:7334", "IP"),
    ("router mac 00:1A:2B:3C:4D:5E", "MAC"),
    ("my key is sk-abcdefghijklmnopqrstuvwx12", "SECRET"),
    ("AWS key AKIAIOSFODNN7EXAMPLE leaked", "SECRET"),
    ("login failed, password: hunter2!", "SECRET"),
]

# Look-alikes: order, tracking and invoice numbers, amounts, versions, times, and numbers failing their checksum.
NEGATIVE = [
    "how can I cancel purchase 113542617735902?",  # a Bitext order number: 15 digits, no card prefix
    "reference 00004587345 and tracking 1Z999AA10123456784",
    "Hadoop 3.4.0 fails on port 8020 at 10:30 on 2024-01-15, see HDFS-12345",
    "card 4111 1111 1111 1112 is not a valid number",  # fails Luhn
    "DE00 1234 5678 9012 3456 78 fails mod 97",
    "order #4155552671 arrived broken",  # a bare digit run is not a phone without a phone word
    "order 123456789 total 1,234.56",
    "amount $1,299.00 charged twice",
    "refund of 49.99 EUR for order 8837261",
    "I was charged 3 times: 12.50, 12.50 and 12.50",
    "invoice 2024-0001-3344 is wrong",
    "SKU 123-456-789 is out of stock",  # SIN-shaped, fails Luhn
    "SSN-shaped 000-12-3456 is never issued",
    "windows version 10.0.19045.2006",
    "upgrade from v1.2.3.4 to 1.2.4",
    "bump snappy-java to 1.1.8.2",
    "Hadoop 3.3.9-3.4.1 features",  # a version range a short German number would match
    "see 20220407.091529-1274.pom",
    "at 12:30:45 the job failed",
    "my password is not working",
    "ticket INC0012345 escalated",
    "call 911 now",
]


@pytest.mark.parametrize("text, kind", POSITIVE)
def test_each_kind_is_redacted(text, kind):
    result = redact(text)
    assert result.counts == {kind: 1}, result.text
    assert f"[{kind}]" in result.text


@pytest.mark.parametrize("text", NEGATIVE)
def test_look_alikes_are_left_alone(text):
    assert redact(text).text == text


def test_a_secret_keeps_its_label_and_a_phone_loses_its_extension():
    assert redact("password: hunter2!").text == "password: [SECRET]"
    assert redact("my number +1 415-555-2671 ext. 23, evenings").text == "my number [PHONE], evenings"


def test_counts_add_up_over_several_kinds():
    result = redact("a@b.io, c@d.io, +1 415 555 0132, 4012888888881881")
    assert result.counts == {"EMAIL": 2, "PHONE": 1, "CARD": 1}
    assert result.total == 4
    assert "4012888888881881" not in result.text


def test_validators():
    assert is_card("4242 4242 4242 4242") and not is_card("1234 5678 9012 3456")
    assert is_iban("GB82 WEST 1234 5698 7654 32") and not is_iban("GB00WEST12345698765432")


def test_national_phone_formats_follow_the_configured_regions():
    text = "Festnetz 030 12345678 ab 9 Uhr"
    assert redact(text).counts == {"PHONE": 1}                                   # DE is among the defaults
    assert redact(text, phone_regions=("US",)).text == text                      # a US-only desk does not read it as a phone
    assert redact("ruf an: +49 30 12345678", phone_regions=("US",)).counts == {"PHONE": 1}  # international numbers always are
