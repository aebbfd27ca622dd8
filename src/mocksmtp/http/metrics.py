"""``GET /metrics``: the SMTP counters and the store's size in Prometheus' text format."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import WebContext

__all__ = ["prometheus"]


_METRICS = (
    ("messages", "counter", "mocksmtp_messages_total", "Messages accepted (250 after data)."),
    ("bytes", "counter", "mocksmtp_message_bytes_total", "Octets of the messages accepted."),
    ("connections", "counter", "mocksmtp_connections_total", "SMTP connections accepted."),
    ("active_connections", "gauge", "mocksmtp_connections_active", "SMTP connections open now."),
    ("rejected_commands", "counter", "mocksmtp_rejected_commands_total", "Commands answered 4xx or 5xx."),
    ("rejected_messages", "counter", "mocksmtp_rejected_messages_total", "Messages refused after data."),
    ("errors", "counter", "mocksmtp_errors_total", "Internal errors (a store that failed, ...)."),
    ("auth_failures", "counter", "mocksmtp_auth_failures_total", "AUTH attempts refused."),
    ("tls_handshakes", "counter", "mocksmtp_tls_handshakes_total", "TLS handshakes completed."),
)


def prometheus(ctx: WebContext) -> str:
    """The SMTP counters and the store's size in Prometheus' text format."""
    stats = ctx.stats()
    lines = []
    for key, kind, name, text in _METRICS:
        if key in stats:
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {stats[key]}"]
    lines += [
        "# HELP mocksmtp_store_messages Messages kept in the store.",
        "# TYPE mocksmtp_store_messages gauge",
        f"mocksmtp_store_messages {ctx.store.count()}",
    ]
    return "\n".join(lines) + "\n"
