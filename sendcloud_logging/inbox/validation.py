"""Parse and validate POST bodies with the API's JSON Schema; failures become the API's 400 error objects.

jsonschema is an optional dependency (the ``[inbox]`` extra): the logging handler itself never needs it.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any, Optional

try:
    import jsonschema
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "sendcloud_logging.inbox validates request bodies with jsonschema, which is not installed: "
        "pip install 'sendcloud-logging[inbox]'"
    ) from exc

from .responses import error_object, shorten
from .timestamps import parse_rfc3339


def load_schema() -> dict[str, Any]:
    """The API's JSON Schema shipped beside this module (root = POST body, ``$defs`` = the other shapes)."""
    text = resources.files(__package__ or __name__).joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


SCHEMA = load_schema()
#: The nine body fields, in the API's order: a stored log carries all of them.
FIELDS: tuple[str, ...] = tuple(SCHEMA["$defs"]["createRequest"]["properties"])


def _is_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or parse_rfc3339(instance) is not None


def make_format_checker() -> Any:
    """``jsonschema.FormatChecker()`` with ``date-time`` checked by our own RFC 3339 parser.

    jsonschema checks ``date-time`` only when the optional ``rfc3339-validator`` is installed; ours is
    always there, and it is the parser the store orders records with, so both agree on every value.
    """
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_is_date_time)
    return checker


_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=make_format_checker())


#: JSON nested deeper than this is refused (400): the API's bodies are shallow, and deep nesting would make
#: storing and answering depend on the request thread's remaining stack.
MAX_NESTING = 100


class BodyError(ValueError):
    """The body is not UTF-8 JSON we accept; ``detail`` says why."""


def _reject_constant(name: str) -> Any:
    raise BodyError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyError(f"the number {shorten(text, 40)} is out of range")
    return value


def parse_json(raw: bytes) -> Any:
    """Decode a body as strict UTF-8 JSON (no NaN/Infinity, no overflowing numbers).

    Raises:
        BodyError: with a detail fit for the 400 answer.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"The body is not valid UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except BodyError as exc:
        raise BodyError(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BodyError("The body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python's digit limit
        raise BodyError(f"The body is not valid JSON: {shorten(str(exc), 200)}") from None
    if _depth(value) > MAX_NESTING:
        raise BodyError(f"The body is nested more than {MAX_NESTING} levels deep")
    return value


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed JSON value (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_NESTING:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def json_or_none(raw: Optional[bytes]) -> Any:
    """The parsed body for ``Inbox.posts``, or ``None`` when there is none or it is not JSON."""
    if raw is None:
        return None
    try:
        return parse_json(raw)
    except BodyError:
        return None


def _pointer(path: list[Any]) -> str:
    """``body/<path>``; ``~`` and ``/`` inside keys escaped as in RFC 6901."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "/".join(["body", *parts])


def body_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every schema problem of a POST body as a 400 error object, ordered by where it is.

    Unknown keys give one ``extra_forbidden`` per key, a missing required key ``missing``, anything else
    ``invalid`` with the validator's message as the detail. An empty list means the body is valid.
    """
    problems: list[tuple[list[str], dict[str, Any]]] = []
    for error in _VALIDATOR.iter_errors(body):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for key in sorted(key for key in error.instance if key not in known):
                where = [*path, key]
                problems.append((where, error_object(400, "extra_forbidden", "Extra inputs are not permitted",
                                                     pointer=_pointer(where))))
        elif error.validator == "required" and isinstance(error.instance, dict):
            for key in error.validator_value:
                if key not in error.instance:
                    where = [*path, key]
                    problems.append((where, error_object(400, "missing", f"'{key}' is a required property",
                                                         pointer=_pointer(where))))
        else:
            problems.append((path, error_object(400, "invalid", shorten(error.message), pointer=_pointer(path))))
    problems.sort(key=lambda item: [str(part) for part in item[0]])
    return [problem for _, problem in problems]
