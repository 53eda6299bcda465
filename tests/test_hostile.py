"""Hostile extras never break the caller or the worker: the log still goes out, valid, with what can be shown.

``FUZZ_EXAMPLES`` sets how many examples the property test runs (default 200, for ``make test``); a long
run: ``FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_hostile.py -k property``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendcloud_logging._capture import EXTRA_FIELDS, capture_record
from sendcloud_logging._payload import payload_from_record
from sendcloud_logging._payload.limits import DEFAULT_MAX_PAYLOAD_BYTES, SUMMARY_ROOM, json_size
from sendcloud_logging.errors import MissingBaseURLError
from sendcloud_logging.inbox import Inbox

from .conftest import SHOP, AppLogger, Trap, Unprintable, assert_valid_body, make_record

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))


class UnprintableKey(Unprintable):
    def __hash__(self) -> int:
        return 1


class BadMapping(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("no items")

    def __len__(self) -> int:
        raise RuntimeError("no len")


def recursive_dict() -> dict[str, Any]:
    value: dict[str, Any] = {"a": 1}
    value["self"] = value
    value["again"] = value  # two ways back: a naive walk would be exponential
    return value


def recursive_list() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    value.append(value)
    return value


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def generator() -> Iterator[int]:
    yield 1
    raise AssertionError("the generator was consumed")


def hostile_values() -> dict[str, Callable[[], Any]]:
    return {
        "unprintable": Unprintable,
        "unprintable keys": lambda: {UnprintableKey(): 1, (1, "a"): 2, None: 3, 1.5: 4, frozenset({1}): 5},
        "trap": Trap,
        "bad mapping": lambda: BadMapping(a=1),
        "recursive dict": recursive_dict,
        "recursive list": recursive_list,
        "10,000 levels": lambda: nested(10_000),
        "non-UTF-8 bytes": lambda: b"\xff\xfe\xc3\x28 caf\xe9 \x00",
        "lone surrogates": lambda: "a\ud800b\udfff",
        "NaN and infinities": lambda: {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "list": [math.nan]},
        "huge ints": lambda: {"big": 10**4000, "huger": 1 << 200_000, "neg": -(10**30)},
        "generator": generator,
        "50 MB string": lambda: "x" * 50_000_000,
        "50 MB bytes": lambda: b"y" * 50_000_000,
        "a million items": lambda: list(range(1_000_000)),
        "tuples and sets": lambda: ((1, (2, 3)), {4, "5", (6, 7)}, frozenset({8})),
        "mixed": lambda: [Unprintable(), Trap(), b"\xff", {1: {2: {3: math.inf}}}, generator()],
    }


HOSTILE = hostile_values()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_values_everywhere_give_a_valid_payload(name: str) -> None:
    value = HOSTILE[name]()
    extra = {
        "request": {"headers": {"X": value, "Y": "y"}, "payload": value, "method": value, "url": value},
        "response": {"headers": value, "body": value, "status_code": value},
        **{field: value for field in EXTRA_FIELDS if field != "base_url"},
    }
    record = make_record("msg %s", **extra)
    record.args = (value,)  # set afterwards: LogRecord() itself calls isinstance() on a single argument
    start = time.perf_counter()
    result = payload_from_record(record, base_url=SHOP)
    assert time.perf_counter() - start < 30.0  # a guard against walks that explode, not a speed target
    assert_valid_body(result)
    assert json_size(result) <= DEFAULT_MAX_PAYLOAD_BYTES - SUMMARY_ROOM
    assert result["base_url"] == SHOP


def test_what_can_be_shown_is_shown() -> None:
    record = make_record(request={"payload": {
        "ok": "kept", "nan": math.nan, "big": 10**30, "set": {2, 1}, "tuple": (1, 2), 3: "int key",
        "bad": Unprintable(), "gen": generator(), "deep": nested(100),
    }})
    got = payload_from_record(record, base_url=SHOP)["request"]["payload"]
    assert got["ok"] == "kept" and got["nan"] == "NaN" and got["big"] == str(10**30)
    assert got["set"] == [1, 2] and got["tuple"] == [1, 2] and got["3"] == "int key"
    assert got["bad"] == "<Unprintable instance at " + got["bad"].split(" at ")[1]
    assert got["gen"].startswith("<generator object generator")
    assert "<nested too deep>" in json.dumps(got["deep"])


@pytest.mark.parametrize("code", [10**30, 1000, "99999", "0" * 5000, -1])
def test_response_codes_beyond_three_digits_are_left_out(code: Any) -> None:
    record = make_record(response_code=code)
    assert "response_code" not in payload_from_record(record, base_url=SHOP)


def test_emit_is_cheap_and_harmless_on_the_callers_thread(app_logger: AppLogger, inbox: Inbox) -> None:
    log, handler = app_logger(summary_window=0, rate_limit_per_minute=None)  # no summaries, no pacing here
    gen = generator()
    values = {name: make() for name, make in HOSTILE.items() if name != "generator"}
    before = {name: id(value) for name, value in values.items()}
    took = {}
    for name, value in values.items():
        start = time.perf_counter()
        log.error("hostile %s", name, extra={"request": {"payload": value, "headers": {"X": value}}, "response": value})
        took[name] = time.perf_counter() - start
    log.error("generator", extra={"request": {"payload": gen}})
    # A hang guard against walks that explode (each call takes microseconds); that nothing is encoded or
    # walked on the caller's thread is shown by identity in the test below.
    assert max(took.values()) < 2.5, took
    assert handler.flush(30)
    assert next(gen) == 1  # never iterated by the library
    assert {name: id(value) for name, value in values.items()} == before
    stats = handler.stats()
    assert stats["sent"] == len(values) + 1 and stats["dropped"] == {}
    assert inbox.count() == len(values) + 1  # every POST body was valid: the inbox fixture checks at teardown
    log.error("an ordinary error after all that")
    assert handler.flush(10) and inbox.count() == len(values) + 2


def test_the_callers_thread_keeps_values_by_reference_and_copies_one_level() -> None:
    """What emit does on the caller's thread (``capture_record``): it encodes nothing and walks nothing."""
    for value in ("x" * 50_000_000, b"y" * 50_000_000):
        capture = capture_record(make_record(request={"payload": value, "headers": {"X": value}}, response={"body": value}))
        assert capture.request is not None and capture.response is not None
        assert capture.request.body is value  # the caller's own object: not encoded, not copied
        assert isinstance(capture.request.headers, dict) and capture.request.headers["X"] is value
        assert capture.response.body is value
    inner = [0]
    items = [inner, *range(1_000_000)]
    capture = capture_record(make_record(request={"payload": items}))
    assert capture.request is not None
    body = capture.request.body
    assert body == items and body is not items  # one shallow copy: what the caller changes later does not show
    assert body[0] is inner  # and no deeper: nothing below the first level was copied or walked


RUNS = {"examples": 0}


@pytest.fixture(autouse=True, scope="module")
def _report_runs() -> Iterator[None]:
    yield
    if RUNS["examples"]:
        print(f"\nhostile extras property: {RUNS['examples']} examples checked")  # shown with -s, for the record


#: Secrets planted in the generated values; none of the distinctive parts may reach a payload. Those found by
#: their values end in the marker, so that any cut keeping the marker keeps enough of the token to be found.
PLANTED = [
    "password=pw-PLANTED-1&x=1", '{"token": "tok-PLANTED-2"}', "https://u:PLANTED-3@shop.example/?apikey=k", "\ud800",
    "shp" + "at_0123456789abcdefPLANTED", "Bearer abcdefghPLANTED", "eyJhbGciOi.eyJzdWIiOi.PLANTED",
    "-----BEGIN PRIVATE KEY-----\nPLANTED\n-----END PRIVATE KEY-----", "gh" + "p_0123456789abcdefghijPLANTED",
]
#: Values found by their check digits or shape; they cannot hold the marker, so they are looked for whole.
NOT_SENT = [" 4111 1111 1111 1111 ", " NL91ABNA0417164300 ", " jan.jansen@example.com ", " Basic dTpQTEFOVEVE "]
ODD_MAKERS: list[Callable[[], Any]] = [  # not Trap: hypothesis itself cannot hold one (it is tested above)
    Unprintable, recursive_dict, recursive_list, generator, lambda: nested(50), lambda: BadMapping(a=1)
]
ODD_OBJECTS = st.sampled_from(ODD_MAKERS).map(lambda make: make())
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**60, max_value=2**70)
    | st.builds(lambda: 10**5000)  # repr() of it fails: no st.just
    | st.floats()
    | st.text()
    | st.binary()
    | st.sampled_from(PLANTED)
    | st.sampled_from(NOT_SENT)
    | ODD_OBJECTS
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.frozensets(st.integers() | st.text(max_size=4), max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers() | st.none() | st.tuples(st.integers()), children, max_size=4)
    ),
    max_leaves=15,
)
HEADERS = VALUES | st.dictionaries(st.sampled_from(["Content-Type", "Authorization", "X-Token"]), VALUES, max_size=3)
EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "request": st.fixed_dictionaries({}, optional={"headers": HEADERS, "payload": VALUES, "url": VALUES}) | VALUES,
        "response": st.fixed_dictionaries({}, optional={"headers": HEADERS, "body": VALUES, "status_code": VALUES}) | VALUES,
        **{name: VALUES for name in EXTRA_FIELDS},
    },
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(extra=EXTRAS, message=VALUES, args=st.lists(VALUES, max_size=2), max_body=st.sampled_from([1024, 4096, 65536]))
def test_property_any_extras_give_a_valid_bounded_payload(
    extra: dict[str, Any], message: Any, args: list[Any], max_body: int
) -> None:
    from sendcloud_logging._payload import PayloadPolicy

    policy = PayloadPolicy(max_body_bytes=max_body, max_payload_bytes=16 * 1024)
    record = make_record(message, **extra)
    record.args = tuple(args)  # set afterwards, as above: a single mapping stays an argument
    try:
        result = payload_from_record(record, policy=policy)
    except MissingBaseURLError:
        result = payload_from_record(record, policy=policy, base_url=SHOP)
    assert_valid_body(result)
    assert json_size(result) <= 16 * 1024 - SUMMARY_ROOM
    text = json.dumps(result, ensure_ascii=False)
    assert "PLANTED" not in text  # the planted secrets never get through
    for secret in NOT_SENT:
        assert secret.strip() not in text
    RUNS["examples"] += 1

