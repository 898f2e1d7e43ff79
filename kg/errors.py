"""The errors a client can cause, each with its HTTP status. Mapped to responses in one place (``kg.app``)."""

from __future__ import annotations


class KgError(Exception):
    """An expected failure: its message is safe to show to a client."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(KgError):
    status = 400
    title = "Bad Request"


class QuerySyntaxError(BadRequest):
    """The SPARQL parser's message, with its position."""


class Forbidden(KgError):
    status = 403
    title = "Forbidden"


class NotFound(KgError):
    status = 404
    title = "Not Found"


class NotAcceptable(KgError):
    status = 406
    title = "Not Acceptable"


class PayloadTooLarge(KgError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(KgError):
    status = 415
    title = "Unsupported Media Type"


class InvalidParameter(KgError):
    status = 422
    title = "Unprocessable Content"


class ResultTooLarge(KgError):
    status = 422
    title = "Unprocessable Content"


class QueryTimeout(KgError):
    status = 503
    title = "Service Unavailable"


class BackendUnavailable(KgError):
    status = 503
    title = "Service Unavailable"
