"""``snapshot_record``: what is taken from a record on the caller's thread, cheaply and without side effects."""

from __future__ import annotations

import copy
import gc
import io
import sys
import types
import weakref
from collections.abc import Iterator
from typing import Any, ClassVar, Optional

import pytest
import requests

from sendcloud_logging._capture import (
    CHAIN_DEPTH,
    FILES_BODY,
    STREAMED_REQUEST,
    UNREAD_RESPONSE,
    HTTPParts,
    Snapshot,
    Unreadable,
    capture_record,
    exception_type_name,
    snapshot_record,
)

from .conftest import URL, Trap, make_record, make_response


def prepared(**kwargs: Any) -> requests.PreparedRequest:
    kwargs.setdefault("method", "POST")
    kwargs.setdefault("url", URL)
    return requests.Request(**kwargs).prepare()


def http_error(response: requests.Response) -> requests.HTTPError:
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        return exc
    raise AssertionError("raise_for_status() did not raise")


class ExplodingRaw:
    """The raw stream of an unread streamed response: reading it would be network I/O."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the raw stream was touched: {name}")


class DjangoLikeRequest:
    method = "GET"
    path = "/admin/"
    headers: ClassVar[dict[str, str]] = {"Host": "django.example"}
    body = b"x"


def test_plain_record() -> None:
    record = make_record("Order %s failed", 42)
    snap = snapshot_record(record)
    assert snap == Snapshot(
        message="Order 42 failed",
        created=record.created,
        exception_type=None,
        exception_text=None,
        request=None,
        response=None,
        fields={},
        integration_id=None,
    )


def test_message_argument_wins() -> None:
    assert snapshot_record(make_record("raw %s", 1), "formatted by the handler").message == "formatted by the handler"


def test_broken_message_args_fall_back_to_template_and_arguments() -> None:
    record = make_record("needs two %s %s", 1)
    assert snapshot_record(record).message == "needs two %s %s (arguments: (1,))"


def test_unprintable_message() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert snapshot_record(make_record(Bad())).message == "<unprintable log message>"


def test_fields_are_the_api_fields_given_by_name() -> None:
    record = make_record(
        base_url="https://shop.example",
        full_url=URL,
        method="post",
        response_code="404",
        exception_type="shop.errors.Gone",
        created_at="2026-11-28T05:00:00+00:00",
        order_id=42,
        user_id=7,
        exception="not an extra field",
        protected=True,
        integration_id=99,
    )
    snap = snapshot_record(record)
    assert snap.fields == {
        "base_url": "https://shop.example",
        "full_url": URL,
        "method": "post",
        "response_code": "404",
        "exception_type": "shop.errors.Gone",
        "created_at": "2026-11-28T05:00:00+00:00",
    }
    assert snap.integration_id == 99
    assert snap.exception_type == "shop.errors.Gone"


def test_none_fields_are_absent() -> None:
    assert snapshot_record(make_record(base_url=None, method=None)).fields == {}


def test_prepared_request_is_copied() -> None:
    request = prepared(json={"order_note": {"note": "Shipped"}}, headers={"X-Shop": "1"})
    snap = snapshot_record(make_record(request=request))
    parts = snap.request
    assert parts is not None
    assert parts.method == "POST"
    assert parts.url == URL
    assert type(parts.headers) is tuple  # an immutable copy of requests' (name, value) pairs
    assert dict(parts.headers) == {"X-Shop": "1", "Content-Length": "35", "Content-Type": "application/json"}
    assert parts.body is request.body  # immutable bytes: kept by reference
    request.headers["X-Shop"] = "changed later"
    assert dict(parts.headers)["X-Shop"] == "1"


@pytest.mark.parametrize(
    "body",
    [
        (chunk for chunk in [b"a", b"b"]),
        io.BytesIO(b"file contents"),
        iter([b"x"]),
    ],
    ids=["generator", "file", "iterator"],
)
def test_streamed_prepared_body_is_described_not_read(body: Any) -> None:
    request = prepared(data=body)
    parts = snapshot_record(make_record(request=request)).request
    assert parts is not None
    assert parts.body == STREAMED_REQUEST
    assert isinstance(parts.body, Unreadable)
    if isinstance(body, io.BytesIO):
        assert body.tell() == 0


def test_unprepared_request_json() -> None:
    payload: dict[str, Any] = {"order_note": {"note": "Shipped"}}
    request = requests.Request("put", URL, json=payload, headers={"Accept": "application/json"})
    parts = snapshot_record(make_record(request=request)).request
    assert parts == HTTPParts(method="put", url=URL, headers={"Accept": "application/json"}, body=payload)
    assert parts.body is not payload  # a copy: the caller may change the dict after logging
    payload["later"] = True
    assert "later" not in parts.body


def test_unprepared_request_form_pairs_files_and_streams() -> None:
    pairs = requests.Request("POST", URL, data=[("tag", "a"), ("tag", "b"), ("q", "1")])
    assert snapshot_record(make_record(request=pairs)).request.body == {"tag": ["a", "b"], "q": "1"}  # type: ignore[union-attr]
    form = requests.Request("POST", URL, data={"q": "1"})
    assert snapshot_record(make_record(request=form)).request.body == {"q": "1"}  # type: ignore[union-attr]
    files = requests.Request("POST", URL, data={"q": "1"}, files={"f": io.BytesIO(b"x")})
    assert snapshot_record(make_record(request=files)).request.body == FILES_BODY  # type: ignore[union-attr]
    stream = io.BytesIO(b"data")
    streamed = requests.Request("POST", URL, data=stream)
    assert snapshot_record(make_record(request=streamed)).request.body == STREAMED_REQUEST  # type: ignore[union-attr]
    assert stream.tell() == 0
    text = requests.Request("POST", URL, data="a=1")
    assert snapshot_record(make_record(request=text)).request.body == "a=1"  # type: ignore[union-attr]


def test_response_is_copied() -> None:
    response = make_response(
        headers={"Content-Type": "text/plain; charset=latin-1"}, body=b"caf\xe9", encoding="latin-1"
    )
    parts = snapshot_record(make_record(response=response)).response
    assert parts == HTTPParts(
        url=URL,
        status=404,
        headers=(("Content-Type", "text/plain; charset=latin-1"),),
        body=b"caf\xe9",
        encoding="latin-1",
    )
    response.headers["Content-Type"] = "changed"
    assert parts.headers == (("Content-Type", "text/plain; charset=latin-1"),)


def test_unread_streamed_response_is_not_read() -> None:
    response = make_response(body=False)
    response.raw = ExplodingRaw()
    response._content_consumed = False  # type: ignore[attr-defined]
    parts = snapshot_record(make_record(response=response)).response
    assert parts is not None
    assert parts.body == UNREAD_RESPONSE
    assert response._content is False  # type: ignore[comparison-overlap]  # still unread


def test_response_without_body() -> None:
    parts = snapshot_record(make_record(response=make_response(body=None))).response
    assert parts is not None and parts.body is None


def test_request_comes_from_the_response() -> None:
    request = prepared(method="GET")
    snap = snapshot_record(make_record(response=make_response(request=request)))
    assert snap.request is not None and snap.request.method == "GET"


def test_explicit_request_beats_the_responses() -> None:
    snap = snapshot_record(make_record(request={"method": "DELETE"}, response=make_response(request=prepared())))
    assert snap.request is not None and snap.request.method == "DELETE"


def test_dict_request_and_response() -> None:
    headers = {"Accept": "application/json"}
    body = {"a": 1}
    record = make_record(
        request={"headers": headers, "payload": body, "method": "post", "url": URL},
        response={"headers": "Content-Type: text/plain", "body": "gone", "status": "410", "url": URL + "?x"},
    )
    snap = snapshot_record(record)
    assert snap.request == HTTPParts(method="post", url=URL, headers=headers, body=body)
    assert snap.request.headers is not headers and snap.request.body is not body
    assert snap.response == HTTPParts(url=URL + "?x", status=410, headers="Content-Type: text/plain", body="gone")


def test_dict_response_status_code_and_header_pairs() -> None:
    snap = snapshot_record(
        make_record(response={"status_code": 502, "headers": [("Via", "a"), ("Via", "b")], "body": b""})
    )
    assert snap.response == HTTPParts(status=502, headers={"Via": ["a", "b"]}, body=b"")


@pytest.mark.parametrize("status", [True, "abc", 4.5, None, "٤٠٤"])
def test_dict_response_bad_status(status: Any) -> None:
    snap = snapshot_record(make_record(response={"status": status, "body": "x"}))
    assert snap.response is not None and snap.response.status is None


def test_dict_without_known_keys_is_not_a_request() -> None:
    snap = snapshot_record(make_record(request={"user": "x"}, response={}))
    assert snap.request is None and snap.response is None


@pytest.mark.parametrize(
    "factory",
    [Trap, DjangoLikeRequest, object, lambda: 42, lambda: "GET /", lambda: b"raw", lambda: ["a"]],
    ids=["exploding", "django-like", "object", "int", "str", "bytes", "list"],
)
def test_foreign_objects_are_ignored(factory: Any) -> None:
    obj = factory()
    snap = snapshot_record(make_record(request=obj, response=obj))
    assert snap.request is None and snap.response is None


def test_foreign_request_does_not_hide_the_exceptions() -> None:
    exc = http_error(make_response(request=prepared()))
    snap = snapshot_record(make_record(request=DjangoLikeRequest(), exc_info=(type(exc), exc, None)))
    assert snap.request is not None and snap.request.method == "POST"


def test_exception_whose_attributes_raise() -> None:
    class HttpxLike(Exception):
        @property
        def request(self) -> Any:
            raise RuntimeError("The .request property has not been set.")

        @property
        def response(self) -> Any:
            raise RuntimeError("no response")

    exc = HttpxLike("boom")
    snap = snapshot_record(make_record(exc_info=(HttpxLike, exc, None)))
    assert snap.request is None and snap.response is None
    assert snap.exception_text == "boom"


def test_http_error_from_raise_for_status() -> None:
    response = make_response(request=prepared(json={"a": 1}))
    try:
        response.raise_for_status()
    except requests.HTTPError:
        record = make_record(exc_info=sys.exc_info())
    snap = snapshot_record(record)
    assert snap.exception_type == "requests.exceptions.HTTPError"
    assert snap.exception_text is not None and snap.exception_text.startswith("404 Client Error")
    assert snap.request is not None and snap.request.body == b'{"a": 1}'
    assert snap.response is not None and snap.response.status == 404


def test_extra_wins_over_the_exception() -> None:
    exc = http_error(make_response(request=prepared()))
    snap = snapshot_record(
        make_record(
            exc_info=(type(exc), exc, exc.__traceback__),
            request={"method": "GET", "url": "https://other.example/"},
            response={"status": 500},
            exception_type="shop.Custom",
        )
    )
    assert snap.request is not None and snap.request.method == "GET"
    assert snap.response is not None and snap.response.status == 500
    assert snap.exception_type == "shop.Custom"


def test_exception_type_given_as_a_class() -> None:
    snap = snapshot_record(make_record(exception_type=requests.exceptions.SSLError))
    assert snap.exception_type == "requests.exceptions.SSLError"


def raise_from_cause() -> BaseException:
    inner = http_error(make_response(request=prepared(method="PATCH")))
    try:
        raise RuntimeError("sync failed") from inner
    except RuntimeError as exc:
        return exc


def raise_in_context() -> BaseException:
    try:
        raise http_error(make_response(status=503, request=prepared(method="GET")))
    except requests.HTTPError:
        try:
            raise KeyError("while handling")  # the implicit __context__ is the point
        except KeyError as exc:
            return exc


def test_chain_cause() -> None:
    exc = raise_from_cause()
    snap = snapshot_record(make_record(exc_info=(type(exc), exc, exc.__traceback__)))
    assert snap.exception_type == "RuntimeError"
    assert snap.exception_text == "sync failed"
    assert snap.request is not None and snap.request.method == "PATCH"
    assert snap.response is not None and snap.response.status == 404


def test_chain_context() -> None:
    exc = raise_in_context()
    assert exc.__cause__ is None and exc.__context__ is not None
    snap = snapshot_record(make_record(exc_info=(type(exc), exc, exc.__traceback__)))
    assert snap.exception_type == "KeyError"
    assert snap.request is not None and snap.request.method == "GET"
    assert snap.response is not None and snap.response.status == 503


def test_chain_cycle_terminates() -> None:
    first, second = ValueError("a"), TypeError("b")
    first.__context__ = second
    second.__context__ = first
    second.__cause__ = second
    snap = snapshot_record(make_record(exc_info=(ValueError, first, None)))
    assert snap.request is None and snap.exception_type == "ValueError"


def test_chain_depth_is_bounded() -> None:
    deep: BaseException = http_error(make_response(request=prepared()))
    for n in range(CHAIN_DEPTH):
        wrapper = RuntimeError(n)
        wrapper.__cause__ = deep
        deep = wrapper
    snap = snapshot_record(make_record(exc_info=(RuntimeError, deep, None)))
    assert snap.request is None and snap.response is None
    shallower = deep.__cause__
    assert shallower is not None
    snap = snapshot_record(make_record(exc_info=(RuntimeError, shallower, None)))
    assert snap.response is not None


def test_request_exception_without_request_or_response() -> None:
    exc = requests.exceptions.SSLError("certificate verify failed")
    snap = snapshot_record(make_record(exc_info=(type(exc), exc, None)))
    assert snap.exception_type == "requests.exceptions.SSLError"
    assert snap.request is None and snap.response is None


def test_exc_info_variants() -> None:
    assert snapshot_record(make_record(exc_info=(None, None, None))).exception_type is None
    assert snapshot_record(make_record(exc_info=True)).exception_type is None
    only_type = snapshot_record(make_record(exc_info=(ConnectionError, None, None)))
    assert (only_type.exception_type, only_type.exception_text) == ("ConnectionError", None)
    instance = snapshot_record(make_record(exc_info=ValueError("bad")))
    assert (instance.exception_type, instance.exception_text) == ("ValueError", "bad")


def test_unprintable_exception_text() -> None:
    class Loud(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    snap = snapshot_record(make_record(exc_info=(Loud, Loud(), None)))
    assert snap.exception_text is not None and "Loud" in snap.exception_text


class SyncFailed(Exception):
    pass


def test_traceback_and_exception_are_not_kept() -> None:
    try:
        try:
            raise http_error(make_response(request=prepared()))
        except requests.HTTPError as inner:
            raise SyncFailed("sync failed") from inner
    except SyncFailed as caught:
        exc = caught
    ref = weakref.ref(exc)
    record = make_record(exc_info=(type(exc), exc, exc.__traceback__))
    snap = snapshot_record(record)
    del exc, record
    gc.collect()
    assert ref() is None
    assert snap.request is not None  # what was needed survived as copies


def test_record_and_extra_objects_are_not_mutated() -> None:
    request = prepared(json={"a": 1}, headers={"X": "1"})
    response_dict = {"headers": {"A": "b"}, "body": {"k": [1, 2]}, "status": 500}
    exc = http_error(make_response(request=request))
    record = make_record(
        "msg %s",
        1,
        exc_info=(type(exc), exc, exc.__traceback__),
        request=request,
        response=response_dict,
        base_url="https://x",
    )
    before = dict(record.__dict__)
    deep_before = copy.deepcopy(response_dict)
    headers_before = dict(request.headers)
    snapshot_record(record)
    assert record.__dict__ == before
    assert "message" not in record.__dict__
    assert response_dict == deep_before
    assert dict(request.headers) == headers_before


def test_capture_copies_now_and_builds_the_snapshot_later() -> None:
    request = prepared(json={"order_note": {"note": "Shipped"}}, headers={"X-Shop": "1"})
    response = make_response(request=request, headers={"Content-Type": "application/json", "X-Id": "a"})
    record = make_record(request=request, response=response)
    expected = snapshot_record(record)
    capture = capture_record(record)
    request.headers["X-Shop"] = "changed later"
    request.url = "https://elsewhere.example/"
    response.headers["X-Id"] = "changed later"
    response.status_code = 200
    response._content = b"changed later"
    snap = capture.snapshot()
    assert snap == expected
    assert snap.request is not None and dict(snap.request.headers) == {  # type: ignore[arg-type]
        "X-Shop": "1", "Content-Length": "35", "Content-Type": "application/json"
    }
    assert snap.response is not None and dict(snap.response.headers) == {  # type: ignore[arg-type]
        "Content-Type": "application/json", "X-Id": "a"
    }
    assert capture.snapshot() == snap  # the capture is immutable: every snapshot of it is the same


def test_capture_keeps_no_exception_or_traceback() -> None:
    exc = http_error(make_response(request=prepared()))
    ref = weakref.ref(exc)
    capture = capture_record(make_record(exc_info=(type(exc), exc, exc.__traceback__)))
    del exc
    gc.collect()
    assert ref() is None
    snap = capture.snapshot()
    assert snap.exception_type == "requests.exceptions.HTTPError"
    assert snap.request is not None and snap.request.method == "POST"
    assert snap.response is not None and snap.response.status == 404


def test_requests_objects_with_headers_of_another_type() -> None:
    request = prepared(headers={"X-Shop": "1"})
    request.headers = {"X-Shop": "1"}  # type: ignore[assignment]  # replaced by the caller with a plain dict
    response = make_response()
    response.headers = "Content-Type: text/plain"  # type: ignore[assignment]
    snap = snapshot_record(make_record(request=request, response=response))
    assert snap.request is not None and snap.request.headers == {"X-Shop": "1"}
    assert snap.response is not None and snap.response.headers == "Content-Type: text/plain"


@pytest.fixture
def fake_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """``fakepkg`` with a private ``fakepkg._impl`` and a public ``fakepkg.sub`` with a private ``fakepkg.sub._x``."""
    modules = {name: types.ModuleType(name) for name in ("fakepkg", "fakepkg._impl", "fakepkg.sub", "fakepkg.sub._x")}
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    yield modules["fakepkg"]


def define(module: str, name: str) -> type:
    return type(name, (Exception,), {"__module__": module, "__qualname__": name})


def test_exception_type_builtins_and_requests() -> None:
    assert exception_type_name(ValueError) == "ValueError"
    assert exception_type_name(ConnectionRefusedError) == "ConnectionRefusedError"
    assert exception_type_name(requests.exceptions.SSLError) == "requests.exceptions.SSLError"
    assert exception_type_name(requests.exceptions.ConnectTimeout) == "requests.exceptions.ConnectTimeout"
    assert exception_type_name(requests.HTTPError) == "requests.exceptions.HTTPError"


def test_exception_type_private_module_exported(fake_package: types.ModuleType) -> None:
    connect_error = define("fakepkg._impl", "ConnectError")
    sys.modules["fakepkg._impl"].ConnectError = connect_error  # type: ignore[attr-defined]
    fake_package.ConnectError = connect_error  # type: ignore[attr-defined]
    assert exception_type_name(connect_error) == "fakepkg.ConnectError"


def test_exception_type_private_module_not_exported(fake_package: types.ModuleType) -> None:
    hidden = define("fakepkg._impl", "Hidden")
    fake_package.Hidden = define("fakepkg._impl", "Hidden")  # type: ignore[attr-defined]  # same name, other class
    assert exception_type_name(hidden) == "fakepkg._impl.Hidden"


def test_exception_type_longest_public_prefix_first(fake_package: types.ModuleType) -> None:
    err = define("fakepkg.sub._x", "Err")
    sys.modules["fakepkg.sub"].Err = err  # type: ignore[attr-defined]
    fake_package.Err = err  # type: ignore[attr-defined]
    assert exception_type_name(err) == "fakepkg.sub.Err"
    only_top = define("fakepkg.sub._x", "OnlyTop")
    fake_package.OnlyTop = only_top  # type: ignore[attr-defined]
    assert exception_type_name(only_top) == "fakepkg.OnlyTop"


def test_exception_type_module_with_raising_getattr(fake_package: types.ModuleType) -> None:
    def boom(name: str) -> Any:
        raise RuntimeError(name)

    fake_package.__getattr__ = boom  # type: ignore[method-assign]
    assert exception_type_name(define("fakepkg._impl", "Lazy")) == "fakepkg._impl.Lazy"


def test_exception_type_other_names() -> None:
    assert exception_type_name(define("_private.mod", "Err")) == "_private.mod.Err"
    assert exception_type_name(define("__main__", "Err")) == "__main__.Err"
    assert exception_type_name(define("shop.errors", "Gone")) == "shop.errors.Gone"
    nested = type("Inner", (Exception,), {"__module__": "shop._errors", "__qualname__": "Outer.Inner"})
    assert exception_type_name(nested) == "shop._errors.Outer.Inner"


def test_exception_type_names_keep_no_class_alive() -> None:
    err = define("fakepkg._impl", "Transient")  # a class made at run time, as some libraries do
    ref = weakref.ref(err)
    assert exception_type_name(err) == exception_type_name(err) == "fakepkg._impl.Transient"
    del err
    gc.collect()
    assert ref() is None


def test_unhashable_exception_type() -> None:
    class Meta(type):
        __hash__ = None  # type: ignore[assignment]

    unhashable = Meta("Odd", (Exception,), {"__module__": "shop.errors"})
    assert exception_type_name(unhashable) == "shop.errors.Odd"


def test_the_registry_tries_dicts_last_and_ignores_an_adapter_that_raises() -> None:
    from sendcloud_logging._capture.adapters import REQUEST_ADAPTERS, RESPONSE_ADAPTERS, dispatch, mapping

    assert REQUEST_ADAPTERS[-1] is mapping.request_parts and RESPONSE_ADAPTERS[-1] is mapping.response_parts

    def raises(obj: Any) -> Optional[HTTPParts]:
        raise RuntimeError("a client library's object behaved oddly")

    def knows(obj: Any) -> Optional[HTTPParts]:
        return HTTPParts(method="GET")

    assert dispatch((knows,), object()) == HTTPParts(method="GET")
    assert dispatch((raises, knows), object()) is None  # the odd object is ignored, not half-described
    assert dispatch((knows,), None) is None
