"""Per kind: identifiers a support desk sees (each must be gone, under the right placeholder) and their look-alikes
(which must survive). The generated cases at the end were not tuned against: valid numbers drawn at random."""

import random

import phonenumbers
import pytest
from schwifty import IBAN
from stdnum import luhn
from stdnum.de import idnr
from stdnum.gb import utr

from nightshift.ingest.redaction import B58, BECH32, PHONE_REGIONS, is_eip55, keccak256, redact

POSITIVE = {
    "SECRET": [
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("AWS Secret Access Key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("our key sk_live_4eC39HqLyjWDarjtT1zdp7dc leaked", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("restricted rk_live_51H8aZ2eZvKYlo2C0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 key",
         "rk_live_51H8aZ2eZvKYlo2C0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
        ("maps key AIzaSyA-1234567890abcdefghijklmnopqrstu in the app", "AIzaSyA-1234567890abcdefghijklmnopqrstu"),
        ("token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", "github_pat_11ABCDEFG0123456789"),
        ("ghp_1234567890abcdefghijklmnopqrstuvwxyzAB is mine", "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"),
        ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn"),
        ("my password is Summer2024!", "Summer2024!"),
        ("Mein Passwort: Geheim123", "Geheim123"),
        ("mot de passe : soleil2024", "soleil2024"),
        ("contraseña: perro1234", "perro1234"),
        ("senha: gato9876", "gato9876"),
        ("wachtwoord: fiets2020", "fiets2020"),
        ("password: hunter2", "hunter2"),
        ("login with pwd=s3cr3t", "s3cr3t"),
        ("ftp://admin:Tr0ub4dor@ftp.example.com/files", "Tr0ub4dor"),
        ("the blob zQ8vK3nP2xR7tY1wL5mB9cF4hJ6gD0sA is random", "zQ8vK3nP2xR7tY1wL5mB9cF4hJ6gD0sA"),
    ],
    "SSN": [
        ("SSN 123 45 6789", "123 45 6789"),
        ("SSN 123.45.6789", "123.45.6789"),
        ("my ssn is 123456789", "123456789"),
        ("social security number: 536904399", "536904399"),
    ],
    "ITIN": [("ITIN 912-70-1234 for the return", "912-70-1234"), ("my ITIN is 912701234", "912701234")],
    "TAX_ID": [
        ("Steuer-ID 36574261809", "36574261809"),
        ("meine Steuer-Identifikationsnummer: 36 574 261 809", "36 574 261 809"),
        ("my UTR is 1955839661", "1955839661"),
        ("UTR: 19558 39661", "19558 39661"),
    ],
    "CARD": [
        ("card 4111.1111.1111.1111 charged", "4111.1111.1111.1111"),
        ("maestro 6759 6498 2643 8453", "6759 6498 2643 8453"),
        ("unionpay 6212345678901265", "6212345678901265"),
        ("mastercard 2223 0031 2200 3222", "2223 0031 2200 3222"),
    ],
    "IBAN": [
        ("pay to de89 3704 0044 0532 0130 00", "de89 3704 0044 0532 0130 00"),
        ("IBAN DE89-3704-0044-0532-0130-00", "DE89-3704-0044-0532-0130-00"),
        ("iban: gb82west12345698765432", "gb82west12345698765432"),
    ],
    "BANK_ACCOUNT": [
        ("sort code 12-34-56, account 12345678", "12345678"),
        ("sort code 12-34-56, account 12345678", "12-34-56"),
        ("my account number 87654321 and sort code 40-11-62", "87654321"),
    ],
    "EMAIL": [
        ("write to john at example dot com", "example"),
        ("john [at] example [dot] com", "john"),
        ("jane(at)example.org please", "jane"),
        ("mail {at} example {dot} co {dot} uk", "mail"),
        ("an jürgen@müller.de schreiben", "jürgen"),
    ],
    "PHONE": [
        ("llámame al 612 345 678", "612 345 678"),
        ("oficina 91 123 45 67", "91 123 45 67"),
        ("chiamami al 333 123 4567", "333 123 4567"),
        ("ufficio 06 1234 5678", "06 1234 5678"),
        ("bel me op 06 12345678", "06 12345678"),
        ("Tel. 044 668 18 00", "044 668 18 00"),
        ("ring 22 22 22 22 in Oslo", "22 22 22 22"),
        ("call 416-555-0199 in Toronto", "416-555-0199"),
    ],
    "MAC": [
        ("switch port shows 0011.22aa.4455", "0011.22aa.4455"),
        ("MAC 0011.2233.4455 on the switch", "0011.2233.4455"),
        ("mac address 001A2B3C4D5E", "001A2B3C4D5E"),
    ],
    "WALLET": [
        ("send it to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        ("p2sh 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        ("segwit bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        ("to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        ("my ETH wallet 0x52908400098527886e0f7030069857d2e4169ee7", "0x52908400098527886e0f7030069857d2e4169ee7"),
    ],
    "DRIVING_LICENCE": [
        ("licence MORGA753116SM9IJ", "MORGA753116SM9IJ"),
        ("driving licence number: SMITH 610129 J99AB", "SMITH 610129 J99AB"),
    ],
}

NEGATIVE = [
    "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 fixed it",
    "request 123e4567-e89b-12d3-a456-426614174000 failed",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "class org.apache.hadoop.hdfs.server.namenode.FSNamesystem threw",
    "see TestDFSStripedOutputStreamWithFailure and ITestS3AHugeFilesSSECDiskBlock",
    "CMakeFiles/cmTC_2b9ff.dir/build.make:106 failed",
    "order 123456789 arrived",                   # 9 digits, no SSN word
    "tracking 36574261809 is late",              # a valid Steuer-ID shape, no tax word
    "invoice 1955839661 paid",                   # a valid UTR shape, no tax word
    "version 0011.2233.4455 released",           # Cisco MAC shape, digits only, no MAC word
    "hash 001a2b3c4d5e in the log",              # 12 hex, no MAC word
    "block 0x52908400098527886e0f7030069857d2e4169ee7 in lower case",  # no wallet word, no checksum case
    "my password is not working",
    "the password is incorrect",
    "I forgot my password, reset it",
    "meet at the office at noon",
    "I bought it at amazon.com",
    "ordered on 2024-01-15 at 10:30",
    "between 15.01.2024 and 20.01.2024",
    "order 612-345-679 is missing",              # dash-joined, no trunk prefix: an order, not a Spanish phone
    "took 131072 519 ms",
    "amount 1.234.567,89 EUR",
    "Spark 3.5.1 on Hadoop 3.3.6 with Java 17.0.9",
    "percentage 2.467837994986207% of blocks",
    "card ending 1111",
    "account balance 12345678 pence",            # 8 digits after "account" but no bank word
    "the PIN is 4 digits long",
]


CASES = [(kind, text, secret) for kind, rows in POSITIVE.items() for text, secret in rows]


@pytest.mark.parametrize("kind, text, secret", CASES, ids=[f"{k}:{t[:30]}" for k, t, _ in CASES])
def test_each_identifier_is_gone_under_its_placeholder(kind, text, secret):
    result = redact(text)
    assert secret not in result.text, result.text
    assert f"[{kind}]" in result.text, result.text


@pytest.mark.parametrize("text", NEGATIVE)
def test_look_alikes_survive(text):
    assert redact(text).text == text


def test_placeholders_and_counts():
    assert redact("sort code 12-34-56, account 12345678").text == "sort code [BANK_ACCOUNT], account [BANK_ACCOUNT]"
    assert redact("my password is Summer2024! ok").text == "my password is [SECRET] ok"
    assert redact("SSN 123 45 6789").text == "SSN [SSN]"  # not a phone: an id word precedes it
    assert redact("NHS number 943 476 5919").counts == {"NHS": 1}


def test_eip55_needs_keccak_not_sha3():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert is_eip55("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert not is_eip55("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")  # one letter's case flipped


# Valid numbers drawn at random (fixed seed), in the ways people write them.
rng = random.Random(20261110)


def luhn_number(prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def spaced(number: str, sep: str) -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def generated_cards():
    prefixes = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15), ("37", 15), ("6011", 16),
                ("65", 16), ("50", 16), ("56", 16), ("58", 19), ("63", 16), ("67", 18), ("62", 16), ("62", 19), ("35", 16)]
    for prefix, length in prefixes:
        number = luhn_number(prefix, length)
        yield f"please refund card {spaced(number, rng.choice([' ', '-', '.', '']))} today", number


def generated_ssns():
    for _ in range(15):
        area, group, serial = rng.choice([n for n in range(1, 900) if n != 666]), rng.randint(1, 99), rng.randint(1, 9999)
        sep = rng.choice(["-", " ", "."])
        yield f"my SSN is {area:03d}{sep}{group:02d}{sep}{serial:04d}", f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"
        yield f"social security {area:03d}{group:02d}{serial:04d} thanks", f"{area:03d}{group:02d}{serial:04d}"


def generated_tax_ids():
    for _ in range(10):
        while True:
            body = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(9))
            for check in "0123456789":
                if idnr.is_valid(body + check):
                    yield f"Steuer-ID {body + check}", body + check
                    break
            else:
                continue
            break
        body = "".join(rng.choice("0123456789") for _ in range(9))
        number = utr.calc_check_digit(body) + body
        yield f"UTR {number[:5]} {number[5:]}", f"{number[:5]} {number[5:]}"


def generated_ibans():
    for country, bank, length in [("DE", "37040044", 10), ("DE", "50010517", 10), ("AT", "19043", 11),
                                  ("NL", "ABNA", 10), ("BE", "539", 7), ("CH", "00762", 12)]:
        account = "".join(rng.choice("0123456789") for _ in range(length))
        code = IBAN.generate(country, bank_code=bank, account_code=account).compact
        written = rng.choice([code.lower(), "-".join(code[i:i + 4] for i in range(0, len(code), 4)), code])
        yield f"my IBAN is {written}", written


def generated_phones():
    for region in PHONE_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            yield f"[{region}] please call me on {national} tomorrow", national
            intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            yield f"[{region}] please call me on {intl} tomorrow", intl


def base58check(payload: bytes) -> str:
    import hashlib
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def bech32_address(data: list[int]) -> str:
    def polymod(values):
        chk = 1
        for v in values:
            top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ v
            for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
                chk ^= g if (top >> i) & 1 else 0
        return chk
    values = [3, 3, 0, 2, 3] + data
    mod = polymod(values + [0] * 6) ^ 1
    return "bc1" + "".join(BECH32[d] for d in data + [(mod >> 5 * (5 - i)) & 31 for i in range(6)])


def eip55(hex40: str) -> str:
    hashed = keccak256(hex40.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(h, 16) >= 8 else c for c, h in zip(hex40, hashed))


def generated_wallets():
    for version in (0, 5, 0, 5):
        address = base58check(bytes([version]) + rng.randbytes(20))
        yield f"send to {address} please", address
    for _ in range(3):
        address = bech32_address([0] + [rng.randrange(32) for _ in range(32)])
        yield f"send to {address} please", address
    for _ in range(3):
        address = eip55(rng.randbytes(20).hex())
        yield f"my address {address}", address


def generated_licences():
    for _ in range(8):
        surname = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(2, 5))).ljust(5, "9")
        month = rng.randint(1, 12) + rng.choice([0, 50])
        number = (f"{surname}{rng.randint(0, 9)}{month:02d}{rng.randint(1, 28):02d}{rng.randint(0, 9)}"
                  f"{rng.choice('ABCDEFGHJKLMNPRSTW')}{rng.choice('ABCDEFGHJKLMNPRSTW9')}9"
                  f"{rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}{rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}")
        yield f"licence {number}", number


GENERATED = [("CARD", t, s) for t, s in generated_cards()] + [("SSN", t, s) for t, s in generated_ssns()] \
    + [("TAX_ID", t, s) for t, s in generated_tax_ids()] + [("IBAN", t, s) for t, s in generated_ibans()] \
    + [("PHONE", t, s) for t, s in generated_phones()] + [("WALLET", t, s) for t, s in generated_wallets()] \
    + [("DRIVING_LICENCE", t, s) for t, s in generated_licences()]


@pytest.mark.parametrize("kind, text, secret", GENERATED, ids=[f"{k}:{t[:40]}" for k, t, _ in GENERATED])
def test_generated_identifiers(kind, text, secret):
    result = redact(text)
    assert secret not in result.text, result.text
    assert f"[{kind}]" in result.text, (result.text, dict(result.counts))


def test_quarantined_raw_text_is_redacted_unless_kept():
    from datetime import date

    from nightshift.ingest.files import RawFile, RawRecord
    from nightshift.ingest.rules import Rules, normalize_day

    raw = 'x,"call me on +44 20 7946 0958, card 4111 1111 1111 1111"'
    record = RawRecord(line=2, fields=None, error="malformed row: unclosed quote", raw=raw)

    def quarantined(rules: Rules) -> str:
        batch = normalize_day([RawFile("d/a.csv", ["text"], [record])], date(2026, 11, 10), {"text": "text"}, rules)
        return batch.quarantine[0]["raw"]

    assert quarantined(Rules()) == 'x,"call me on [PHONE], card [CARD]"'
    assert quarantined(Rules(keep_quarantine_raw=True)) == raw


def test_keeping_raw_quarantined_text_is_a_setting(home, monkeypatch):
    from nightshift.app.settings import resources_for

    assert resources_for(home, "")["landing"].keep_quarantine_raw is False
    monkeypatch.setenv("NIGHTSHIFT_QUARANTINE_RAW", "keep")
    assert resources_for(home, "")["landing"].keep_quarantine_raw is True
