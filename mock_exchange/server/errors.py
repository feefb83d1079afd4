"""The venue's error vocabulary: one exception type plus a constructor per error the mock emits.

Clients match Binance errors by code *and* by message substring (hummingbot looks for
"Unknown order sent", python-binance surfaces ``msg`` verbatim), so every message here is the
venue's exact text (errors.md, or observed replies where errors.md is silent; those are marked).
Handlers never build messages by hand: they call a constructor from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["BinanceError"]  # constructors are module functions, imported as ``errors.mandatory(...)``


class BinanceError(Exception):
    """An error answered as ``{"code": ..., "msg": ...}`` with an HTTP status and extra headers.

    ``retry_at_ms`` (epoch ms) is set on 429/418 answers: REST sends ``Retry-After`` seconds
    (already in ``headers``), the WebSocket API sends ``error.data.retryAfter`` = this value.
    ``data`` is an optional extra object in the body (cancelReplace failures carry one).
    ``json_body`` False means the venue answers with an empty body (unknown paths).
    """

    def __init__(
        self,
        code: int,
        msg: str,
        http_status: int = 400,
        headers: Mapping[str, str] | None = None,
        *,
        retry_at_ms: int | None = None,
        data: dict[str, Any] | None = None,
        json_body: bool = True,
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.headers: dict[str, str] = dict(headers or {})
        self.retry_at_ms = retry_at_ms
        self.data = data
        self.json_body = json_body

    def body(self) -> dict[str, Any]:
        """The JSON error object, code first (the venue's field order)."""
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            out["data"] = self.data
        return out

    def __repr__(self) -> str:
        return f"BinanceError({self.code}, {self.msg!r}, http_status={self.http_status})"


def _retry_headers(retry_after_s: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, retry_after_s))}


# --- 10xx: general server or network issues -----------------------------------------------


def unknown(http_status: int = 500) -> BinanceError:
    return BinanceError(-1000, "An unknown error occurred while processing the request.", http_status)


def not_found() -> BinanceError:
    """Unknown path or method.

    The venue's own answer (seen on a Binance-Cloud clone of the API, 2026) is HTTP 404 with an
    *empty* body; ``json_body`` is False to say so. Servers that prefer a JSON body can send
    ``body()``, which is the generic -1000 object.
    """
    return BinanceError(
        -1000, "An unknown error occurred while processing the request.", 404, json_body=False
    )


def disconnected(http_status: int = 500) -> BinanceError:
    return BinanceError(
        -1001, "Internal error; unable to process your request. Please try again.", http_status
    )


def unauthorized() -> BinanceError:
    return BinanceError(-1002, "You are not authorized to execute this request.", 401)


def too_much_weight(
    limit: int, interval: str, retry_after_s: int, retry_at_ms: int | None = None
) -> BinanceError:
    """429: over the REQUEST_WEIGHT limit; ``interval`` like "1 MINUTE"."""
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per {interval}. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
        _retry_headers(retry_after_s),
        retry_at_ms=retry_at_ms,
    )


def too_many_requests(
    limit: int, interval: str, retry_after_s: int, retry_at_ms: int | None = None
) -> BinanceError:
    """429: over the RAW_REQUESTS limit (message text not documented by the venue; ours)."""
    return BinanceError(
        -1003,
        f"Too many requests; current limit is {limit} requests per {interval}. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
        _retry_headers(retry_after_s),
        retry_at_ms=retry_at_ms,
    )


def ip_banned(until_ms: int, retry_after_s: int) -> BinanceError:
    """418: the IP kept going after 429s; banned until ``until_ms`` (epoch ms)."""
    return BinanceError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        418,
        _retry_headers(retry_after_s),
        retry_at_ms=until_ms,
    )


def timeout(http_status: int = 503) -> BinanceError:
    """-1007: execution status unknown (the order may or may not exist)."""
    return BinanceError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        http_status,
    )


def server_busy(http_status: int = 503) -> BinanceError:
    return BinanceError(
        -1008,
        "Server is currently overloaded with other requests. Please try again in a few minutes.",
        http_status,
    )


def invalid_message(msg: str) -> BinanceError:
    """-1013: rejected by the API before the engine (filter failures: "Filter failure: NAME")."""
    return BinanceError(-1013, msg)


def unknown_order_composition() -> BinanceError:
    return BinanceError(-1014, "Unsupported order combination.")


def too_many_orders(
    limit: int, interval: str, retry_after_s: int, retry_at_ms: int | None = None
) -> BinanceError:
    """429: over an ORDERS limit; ``interval`` like "10 SECOND" or "1 DAY"."""
    return BinanceError(
        -1015,
        f"Too many new orders; current limit is {limit} orders per {interval}.",
        429,
        _retry_headers(retry_after_s),
        retry_at_ms=retry_at_ms,
    )


def service_shutting_down() -> BinanceError:
    return BinanceError(-1016, "This service is no longer available.")


def unsupported_operation() -> BinanceError:
    return BinanceError(-1020, "This operation is not supported.")


def timestamp_outside() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def invalid_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


# --- 11xx: request issues -------------------------------------------------------------------


def illegal_chars(param: str, legal: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{param}'; legal range is '{legal}'.")


def too_many_params() -> BinanceError:
    """-1101 for a key repeated within the query string (or within the body)."""
    return BinanceError(-1101, "Duplicate values for a parameter detected.")


duplicate_values = too_many_params


def too_many_parameters(expected: int, received: int) -> BinanceError:
    return BinanceError(-1101, f"Too many parameters; expected '{expected}' and received '{received}'.")


def mandatory(param: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed.")


def either_or(a: str, b: str) -> BinanceError:
    return BinanceError(-1102, f"Param '{a}' or '{b}' must be sent, but both were empty/null!")


def unknown_param() -> BinanceError:
    return BinanceError(-1103, "An unknown parameter was sent.")


def unread_params(read: int, sent: int) -> BinanceError:
    return BinanceError(
        -1104, f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{sent}'."
    )


def param_empty(param: str) -> BinanceError:
    return BinanceError(-1105, f"Parameter '{param}' was empty.")


def not_required(param: str) -> BinanceError:
    return BinanceError(-1106, f"Parameter '{param}' sent when not required.")


def param_overflow(param: str) -> BinanceError:
    return BinanceError(-1108, f"Parameter '{param}' overflowed.")


def bad_precision(param: str) -> BinanceError:
    return BinanceError(-1111, f"Parameter '{param}' has too much precision.")


def no_depth() -> BinanceError:
    return BinanceError(-1112, "No orders on book for symbol.")


def tif_not_required() -> BinanceError:
    return BinanceError(-1114, "TimeInForce parameter sent when not required.")


def invalid_tif() -> BinanceError:
    return BinanceError(-1115, "Invalid timeInForce.")


def invalid_type() -> BinanceError:
    return BinanceError(-1116, "Invalid orderType.")


def invalid_side() -> BinanceError:
    return BinanceError(-1117, "Invalid side.")


def empty_new_client_order_id() -> BinanceError:
    return BinanceError(-1118, "New client order ID was empty.")


def empty_orig_client_order_id() -> BinanceError:
    return BinanceError(-1119, "Original client order ID was empty.")


def bad_interval() -> BinanceError:
    return BinanceError(-1120, "Invalid interval.")


def bad_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def invalid_symbol_status() -> BinanceError:
    return BinanceError(-1122, "Invalid symbolStatus.")


def listen_key_missing() -> BinanceError:
    return BinanceError(-1125, "This listenKey does not exist.")


def more_than_hours(hours: int = 24) -> BinanceError:
    return BinanceError(-1127, f"More than {hours} hours between startTime and endTime.")


def bad_combo() -> BinanceError:
    return BinanceError(-1128, "Combination of optional parameters invalid.")


def invalid_parameter(param: str) -> BinanceError:
    return BinanceError(-1130, f"Data sent for parameter '{param}' is not valid.")


def bad_recv_window() -> BinanceError:
    """-1131: recvWindow above 60000 (text as observed in client logs, 2019-2023)."""
    return BinanceError(-1131, "'recvWindow' must be less than 60000.")


def bad_strategy_type() -> BinanceError:
    return BinanceError(-1134, "strategyType was less than 1000000.")


def invalid_json(param: str) -> BinanceError:
    return BinanceError(-1135, f"JSON sent for parameter '{param}' is not valid")


def invalid_json_request() -> BinanceError:
    return BinanceError(-1135, "Invalid JSON Request")


def invalid_ticker_type() -> BinanceError:
    return BinanceError(-1139, "Invalid ticker type.")


def invalid_cancel_restrictions() -> BinanceError:
    return BinanceError(-1145, "cancelRestrictions has to be either ONLY_NEW or ONLY_PARTIALLY_FILLED.")


def duplicate_symbols() -> BinanceError:
    return BinanceError(-1151, "Symbol is present multiple times in the list.")


def invalid_time_unit() -> BinanceError:
    return BinanceError(-1194, "Invalid value for time unit; expected either MICROSECOND or MILLISECOND.")


def symbol_status_mismatch() -> BinanceError:
    return BinanceError(-1220, "The symbol's status does not match the requested symbolStatus.")


# --- 20xx: business rejections and key problems ---------------------------------------------


def order_rejected(msg: str) -> BinanceError:
    """-2010 with the engine's message, e.g. "Account has insufficient balance for requested action."."""
    return BinanceError(-2010, msg)


def cancel_rejected(msg: str = "Unknown order sent.") -> BinanceError:
    return BinanceError(-2011, msg)


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def no_such_order() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def bad_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", 401)


def rejected_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def no_trading_window() -> BinanceError:
    return BinanceError(-2016, "No trading window could be found for the symbol. Try ticker/24hrs instead.")


def cancel_replace_partial(data: dict[str, Any] | None = None) -> BinanceError:
    """-2021 with HTTP 409: one of cancel / new order succeeded."""
    return BinanceError(-2021, "Order cancel-replace partially failed.", 409, data=data)


def cancel_replace_failed(data: dict[str, Any] | None = None) -> BinanceError:
    return BinanceError(-2022, "Order cancel-replace failed.", 400, data=data)


def order_archived() -> BinanceError:
    return BinanceError(
        -2026, "Order was canceled or expired with no executed qty over 90 days ago and has been archived."
    )


def subscription_active() -> BinanceError:
    return BinanceError(-2035, "User Data Stream subscription already active.")


def subscription_inactive() -> BinanceError:
    return BinanceError(-2036, "User Data Stream subscription not active.")


def client_order_id_invalid() -> BinanceError:
    return BinanceError(-2039, "Client order ID is not correct for this order ID.")


def max_subscription_ids() -> BinanceError:
    return BinanceError(-2042, "Maximum subscription ID reached for this connection.")
