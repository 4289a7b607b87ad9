import pytest

from nightshift.ingest.redaction import is_card, is_iban, redact


@pytest.mark.parametrize(
    "text, kind",
    [
        ("write to jane.doe+billing@example.co.uk please", "EMAIL"),
        ("call me on +44 20 7946 0958", "PHONE"),
        ("my number is (212) 555-0187", "PHONE"),
        ("or 415-555-0132 after six", "PHONE"),
        ("card 4111 1111 1111 1111 was charged", "CARD"),
        ("card 5500-0000-0000-0004 was charged", "CARD"),
        ("pay to DE89 3704 0044 0532 0130 00", "IBAN"),
        ("pay to GB82WEST12345698765432", "IBAN"),
    ],
)
def test_each_kind_is_redacted(text, kind):
    result = redact(text)
    assert f"[{kind}]" in result.text
    assert result.counts == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "how can I cancel purchase 113542617735902?",  # a Bitext order number: 15 digits, no card prefix
        "reference 00004587345 and tracking 1Z999AA10123456784",
        "Hadoop 3.4.0 fails on port 8020 at 10:30 on 2024-01-15, see HDFS-12345",
        "card 4111 1111 1111 1112 is not a valid number",  # fails Luhn
        "DE00 1234 5678 9012 3456 78 fails mod 97",
    ],
)
def test_look_alikes_are_left_alone(text):
    assert redact(text).text == text


def test_counts_add_up_over_several_kinds():
    result = redact("a@b.io, c@d.io, +1 415 555 0132, 4012888888881881")
    assert result.counts == {"EMAIL": 2, "PHONE": 1, "CARD": 1}
    assert result.total == 4
    assert "4012888888881881" not in result.text


def test_validators():
    assert is_card("4242 4242 4242 4242") and not is_card("1234 5678 9012 3456")
    assert is_iban("GB82 WEST 1234 5698 7654 32") and not is_iban("GB00WEST12345698765432")
