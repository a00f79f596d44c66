"""Request bodies: Twilio's form encoding, read with a size limit.

Studio's API takes ``application/x-www-form-urlencoded`` bodies with PascalCase keys;
array parameters repeat their key (``TestUsers=a&TestUsers=b``) and JSON parameters
(``Definition``, ``Parameters``) travel as JSON text inside a field. ``multipart/form-data``
is accepted as well (plain fields only). Bodies larger than :data:`MAX_BODY_BYTES` answer
413; other body types answer 415.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request

from callboard.api.errors import ApiError, bad_request

__all__ = ["MAX_BODY_BYTES", "Form", "read_form"]

# A flow definition may be up to 5 MiB of JSON (callboard.flow.model.MAX_DEFINITION_BYTES);
# form encoding can grow JSON text up to three times. 16 MiB leaves room for that.
MAX_BODY_BYTES = 16 * 1024 * 1024


class Form:
    """A parsed form: every value of every key, in order."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            if "\x00" in value or "\x00" in key:  # no database column can store it
                raise bad_request(f"Parameter {key[:60]!r} contains a NUL character")
            self._values.setdefault(key, []).append(value)

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def keys(self) -> list[str]:
        return list(self._values)

    def get(self, key: str) -> str | None:
        """The last value given for ``key`` (None when absent)."""
        values = self._values.get(key)
        return values[-1] if values else None

    def get_all(self, key: str) -> list[str]:
        return list(self._values.get(key, []))

    def required(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise bad_request(f"Missing required parameter {key} in the post body")
        return value

    def enum(self, key: str, allowed: tuple[str, ...], *, required: bool) -> str | None:
        value = self.required(key) if required else self.get(key)
        if value is None:
            return None
        if value not in allowed:
            choices = ", ".join(allowed)
            raise bad_request(f"Invalid parameter {key}: {value!r} is not one of {choices}")
        return value

    def json(self, key: str, *, required: bool) -> tuple[bool, Any]:
        """``(present, decoded value)`` of a JSON-text parameter."""
        text = self.required(key) if required else self.get(key)
        if text is None:
            return False, None
        try:
            value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
            if "\\u" in text:  # a lone surrogate ("\\ud800") decodes to text nothing stores
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            return True, value
        except UnicodeEncodeError:
            raise bad_request(
                f"Invalid parameter {key}: a string holds half of a UTF-16 surrogate pair "
                '(such as "\\ud800") on its own'
            ) from None
        except json.JSONDecodeError as exc:
            raise bad_request(
                f"Invalid parameter {key}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno})"
            ) from None
        except ValueError as exc:  # NaN / Infinity
            raise bad_request(f"Invalid parameter {key}: {exc}") from None
        except RecursionError:
            raise bad_request(f"Invalid parameter {key}: JSON nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError:
            raise bad_request("Invalid Content-Length header") from None
        if declared > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body too large: the limit is {limit} bytes", 20413)


def _decode_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        # Not strictly form encoding, but tolerate raw UTF-8 from hand-written clients.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("The request body is not UTF-8 form data") from None
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise bad_request("The request body has percent-encoded bytes that are not UTF-8") from None
    except ValueError as exc:
        raise bad_request(f"The request body is not valid form data: {exc}") from None


async def read_form(request: Request, limit: int = MAX_BODY_BYTES) -> Form:
    """Parse the request's form body (see the module docstring)."""
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        body = await _read_body(request, limit)
        return await _multipart(request, body)
    if media not in ("", "application/x-www-form-urlencoded"):
        raise ApiError(
            415,
            f"Unsupported Content-Type {media!r}: send application/x-www-form-urlencoded",
            20415,
        )
    body = await _read_body(request, limit)
    return Form(_decode_pairs(body))


async def _multipart(request: Request, body: bytes) -> Form:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    clone = Request(request.scope, replay)
    try:
        data = await clone.form(max_files=0, max_fields=10000)
    except Exception as exc:  # python-multipart raises several types on bad input
        raise bad_request(f"The request body is not valid multipart form data: {exc}") from None
    pairs: list[tuple[str, str]] = []
    for key, value in data.multi_items():
        if isinstance(value, UploadFile):
            raise bad_request(f"Parameter {key}: file uploads are not accepted")
        pairs.append((key, value))
    return Form(pairs)
