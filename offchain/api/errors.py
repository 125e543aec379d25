"""API errors: one JSON shape, `{"code": ..., "message": ...}`, with stable snake_case codes.

The API's own codes are below; an order or cancel the engine refuses answers with the engine's
rejection code (`insufficient_balance`, `bad_tick`, `price_out_of_band`, `not_continuous`, ...,
see docs/engine.md) and HTTP 400, or 404 for the `unknown_*` codes.
"""

from __future__ import annotations

import logging
import uuid

from pydantic import BaseModel

log = logging.getLogger("offchain.api.app")

# code -> HTTP status
API_CODES = {
    "bad_request": 422,  # the body or a parameter does not parse (names the field)
    "unauthenticated": 401,  # a private read without a read session (see auth.py)
    "bad_signature": 401,  # the signature does not decode or was not made by the account
    "expired": 401,  # the signed request's expiry has passed
    "expiry_too_far": 400,  # a signed request may be valid for at most a day
    "nonce_reused": 409,  # this account already used this nonce
    "not_owner": 403,  # the order or the proof belongs to another account
    "rate_limited": 429,  # too many requests from this IP or account; see Retry-After
    "unknown_market": 404,
    "unknown_order": 404,
    "unknown_account": 404,
    "no_proof": 404,  # no attested epoch yet, or the account is not in it
    "not_found": 404,
    "body_too_large": 413,  # the body is larger than 64 KiB (checked before it is read)
    "method_not_allowed": 405,
    "internal": 500,
}


class ErrorBody(BaseModel):
    """Every error response."""

    code: str
    message: str


class ApiError(Exception):
    """Raised by a route; the app turns it into an `ErrorBody` response."""

    def __init__(self, code: str, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or status_for(code)
        self.headers = headers


def status_for(code: str) -> int:
    """Return the HTTP status of a code (an engine rejection: 400, or 404 for `unknown_*`)."""
    if code in API_CODES:
        return API_CODES[code]
    return 404 if code.startswith("unknown_") else 400


def responses(*codes: str) -> dict:
    """OpenAPI `responses=` for a route that can answer with these codes."""
    out: dict[int, dict] = {}
    for code in codes:
        status = status_for(code)
        entry = out.setdefault(status, {"model": ErrorBody, "description": ""})
        entry["description"] = ", ".join(filter(None, [entry["description"], code]))
    return out


def error_response(code: str, message: str, status: int, headers: dict | None = None):
    """The JSON response of an error."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def install_handlers(app, telemetry) -> None:
    """Answer every error as an `ErrorBody`: API refusals, validation, routing (404/405), crashes."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    counted = {"bad_signature", "expired", "expiry_too_far", "nonce_reused", "rate_limited", "bad_request"}
    counted |= {"not_owner", "no_proof", "unauthenticated"}

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if exc.code in counted:
            telemetry.inc("breakwater_api_refusals_total", exc.code)
        return error_response(exc.code, exc.message, exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        from offchain.api.messages import invalid

        first = exc.errors()[0] if exc.errors() else {}
        telemetry.inc("breakwater_api_refusals_total", "bad_request")
        return error_response("bad_request", invalid(first), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette lists the methods of the first route that matched the path only
            allowed = set()
            for route in app.routes:
                regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
                if regex is not None and methods and regex.match(request.url.path):
                    allowed |= methods
            headers = {"Allow": ", ".join(sorted(allowed))}
        return error_response(code, str(exc.detail), exc.status_code, headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        return internal_error(request.method, request.url.path, exc)


def internal_error(method: str, path: str, exc: BaseException | None = None):
    """A 500 that tells the client nothing of the failure but a request id; the log has the detail
    (the traceback, under the same id)."""
    request_id = uuid.uuid4().hex[:16]
    log.error("unhandled error on %s %s (request id %s)", method, path, request_id, exc_info=exc or True)
    from fastapi.responses import JSONResponse

    return JSONResponse(
        {
            "code": "internal",
            "message": f"the exchange could not answer this request (an internal error, request id "
            f"{request_id}); quote the id to the operator",
            "request_id": request_id,
        },
        status_code=500,
        headers={"X-Request-ID": request_id},
    )
