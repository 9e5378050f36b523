"""R-USE-02: a line's answer does not depend on how it is read. `lines.Reader` reads the documented
form of an activity line by a regular expression and every other line by `lines.read_line`
(orjson and the checks); the same line gets the same Activity or the same Rejection (line, code,
field, message) both ways."""
from __future__ import annotations

import random
from datetime import date, timedelta

import orjson

from server.domain.usage.lines import Activity, Reader, read_line
from server.schema.node import decode_id, to_global_id

TODAY = date(2026, 12, 7)


def decode_org(global_id: str) -> int | None:
    found = decode_id(global_id, "Customer")
    return found if found is not None and found < 1000 else None   # 1000 and above: no such customer


GOOD = {"org": [to_global_id("Customer", 7), to_global_id("Customer", 42)], "day": [str(TODAY), "2026-11-30"],
        "service": ["MEETINGS", "CALLING"], "user": ["k1", "u7x3"], "events": [0, 3], "minutes": [0, 95]}


def _values(rng: random.Random) -> dict:
    values = {
        "org": rng.choice([to_global_id("Customer", 7), to_global_id("Customer", 999), to_global_id("Customer", 1000),
                           to_global_id("Partner", 7), "", "Q3VzdG9tZXI6Nw==", "not an id"]),
        "day": rng.choice([str(TODAY), str(TODAY - timedelta(days=1)), str(TODAY + timedelta(days=1)),
                           str(TODAY - timedelta(days=400)), str(TODAY - timedelta(days=401)), "2026-02-30",
                           "2026-1-07", "20261207xx", "2026-12-07T00"]),
        "service": rng.choice(["MEETINGS", "CALLING", "MESSAGING", "FAX", "meetings", "DEVICES"]),
        "user": rng.choice(["k1", "u7x3", "x" * 64, "x" * 65, "", " ", "a b", "ann@x.example", "ok!#$%&'()*+,-./:;<=>?[]^_`{|}~",
                            "é", "tab\t", 'q"uote', "back\\slash"]),
        "events": rng.choice([0, 1, 3, 2**31 - 1, 2**31, -1, 1.5, 3.0, True, None, "3", 9999999999, 10**12]),
        "minutes": rng.choice([0, 95, 2**31 - 1, 2**31, -5, 2.0, False, "0"]),
    }
    return {k: rng.choice(GOOD[k]) if rng.random() < 0.8 else v for k, v in values.items()}


def _line(rng: random.Random) -> bytes:
    values = _values(rng)
    keys = list(values)
    shape = rng.random()
    if shape < 0.1:
        keys.remove(rng.choice(keys))                       # a field missing
    elif shape < 0.15:
        rng.shuffle(keys)                                   # another order: orjson's way
    elif shape < 0.2:
        values["assignedLicenses"] = 3
        keys.append("assignedLicenses")
    text = orjson.dumps({k: values[k] for k in keys})
    if rng.random() < 0.3:
        text = text.replace(b'":', b'": ').replace(b',"', b', "')   # json.dumps's separators
    if rng.random() < 0.1:
        text = rng.choice([b" ", b"\t", b""]) + text + rng.choice([b"\r", b" ", b"  \t"])
    if rng.random() < 0.05:
        text = text[:rng.randrange(len(text))]              # cut short: not JSON
    return text


def test_r_use_02_the_fast_reader_answers_each_line_as_the_full_reader_does():
    rng = random.Random(23)
    reader = Reader(TODAY, decode_org)
    fast = 0
    for number in range(1, 20_001):
        raw = _line(rng)
        if not raw.strip():
            assert reader.read(raw, number) is None
            continue
        expected = read_line(raw, number, TODAY, decode_org)
        assert reader.read(raw, number) == expected, raw
        fast += isinstance(expected, Activity)
    assert fast > 500          # the generator reaches accepted lines, read the fast way


def test_r_use_02_a_blank_line_is_skipped_by_the_reader():
    reader = Reader(TODAY, decode_org)
    assert reader.read(b"", 1) is None and reader.read(b"  \r", 2) is None


def test_r_use_02_a_count_above_the_largest_stored_one_is_refused_naming_it():
    """Counts are stored as 32-bit integers: 2**31 - 1 is kept, 2**31 is INVALID_USAGE naming the
    field, by both readers (not an error of the store later). Kills `lines.MAX_COUNT` moved (2**31 - 1
    -> 2**31 + 1, a survivor of `make mutate`)."""
    reader = Reader(TODAY, decode_org)
    org = to_global_id("Customer", 7)
    for field in ("events", "minutes"):
        for value, number in ((2**31 - 1, 1), (2**31, 2)):
            counts = {"events": 3, "minutes": 95, field: value}
            raw = orjson.dumps({"org": org, "day": str(TODAY), "service": "MEETINGS", "user": "k1", **counts})
            expected = (Activity(1, 7, TODAY, "MEETINGS", "k1", counts["events"], counts["minutes"]) if number == 1
                        else ("INVALID_USAGE", field, f"`{field}` must be at most 2147483647."))
            for answer in (reader.read(raw, number), read_line(raw, number, TODAY, decode_org)):
                assert (answer if number == 1 else (answer.code, answer.field, answer.message)) == expected
