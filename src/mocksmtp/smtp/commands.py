"""The commands of RFC 5321 itself: EHLO, HELO, MAIL, RCPT, RSET, NOOP, QUIT, VRFY, HELP.

Each ``cmd_*`` takes the session and the command's argument (the line after the verb and a
space), as the extensions' commands do (:mod:`.auth`, :mod:`.chunking`, :mod:`.data`,
:mod:`.starttls`). MAIL and RCPT take the usual ``<local@domain>`` by one pattern and anything
else by the full parse of :mod:`.address`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .address import SIMPLE_FROM, SIMPLE_TO, PathError, parse_path_argument, validate_path
from .numbers import fits_in
from .replies import REPLY

if TYPE_CHECKING:
    from .session_io import SessionIO

__all__ = [
    "cmd_ehlo",
    "cmd_helo",
    "cmd_help",
    "cmd_mail",
    "cmd_noop",
    "cmd_not_implemented",
    "cmd_quit",
    "cmd_rcpt",
    "cmd_rset",
    "cmd_vrfy",
]


def cmd_ehlo(proto: SessionIO, arg: bytes) -> None:
    name = arg.strip()
    if not name or _has_control(name) is not None:
        proto.reply(REPLY.EHLO_SYNTAX)
        return
    if proto.ctx.faults.armed and proto.fault(
        "helo", (name.decode("utf-8", "replace"),), lambda: _ehlo_accept(proto, name)
    ):
        return
    _ehlo_accept(proto, name)


def _ehlo_accept(proto: SessionIO, name: bytes) -> None:
    proto.session.helo = name.decode("utf-8", "replace")
    proto.session.esmtp = True
    if proto.envelope.mail_from is not None:  # (no call for the usual fresh envelope)
        proto.reset_transaction()
    proto.send(proto.ctx.ehlo_reply(proto.session))


def cmd_helo(proto: SessionIO, arg: bytes) -> None:
    name = arg.strip()
    if not name or _has_control(name) is not None:
        proto.reply(REPLY.HELO_SYNTAX)
        return
    if proto.ctx.faults.armed and proto.fault(
        "helo", (name.decode("utf-8", "replace"),), lambda: _helo_accept(proto, name)
    ):
        return
    _helo_accept(proto, name)


def _helo_accept(proto: SessionIO, name: bytes) -> None:
    proto.session.helo = name.decode("utf-8", "replace")
    proto.session.esmtp = False
    if proto.envelope.mail_from is not None:  # (no call for the usual fresh envelope)
        proto.reset_transaction()
    proto.send(proto.ctx.helo_reply)


def cmd_mail(proto: SessionIO, arg: bytes) -> None:
    if proto.session.helo is None:
        proto.reply(REPLY.NEED_HELO)
        return
    if proto.envelope.mail_from is not None:
        proto.reply(REPLY.NESTED_MAIL)
        return
    if proto.ctx.options.require_auth and proto.session.auth_user is None:
        proto.reply(REPLY.AUTH_REQUIRED)
        return
    params: list[str] = []
    smtputf8 = False
    simple = SIMPLE_FROM.fullmatch(arg)
    if simple is not None:  # <local@domain> and no parameters: nothing more to check
        address = simple[1].decode("ascii")
    else:
        try:
            path, params = parse_path_argument(arg, b"FROM:", REPLY.MAIL_SYNTAX)
            smtputf8 = _check_mail_params(proto, params)
            address = validate_path(path, utf8=smtputf8, bad=REPLY.BAD_SENDER, allow_empty=True)
        except PathError as e:
            proto.reply(e.reply)
            return
    if proto.ctx.faults.armed and proto.fault(
        "mail", (address,), lambda: _mail_accept(proto, address, params, smtputf8)
    ):
        return
    _mail_accept(proto, address, params, smtputf8)


def _mail_accept(proto: SessionIO, address: str, params: list[str], smtputf8: bool) -> None:
    env = proto.envelope
    env.mail_from = address
    env.mail_options = params
    env.smtputf8 = smtputf8
    env.binarymime = bool(params) and any(p.upper() == "BODY=BINARYMIME" for p in params)
    proto.send(REPLY.SENDER_OK.line)


def _check_mail_params(proto: SessionIO, params: list[str]) -> bool:
    """Validate MAIL parameters; return whether SMTPUTF8 was given."""
    if not params:
        return False
    if not proto.session.esmtp:
        raise PathError(REPLY.UNKNOWN_PARAMETER)
    smtputf8 = False
    max_size = proto.ctx.options.max_message_size
    for param in params:
        key, has_value, value = param.partition("=")
        key = key.upper()
        if key == "SIZE":
            if not value.isdigit() or not value.isascii():
                raise PathError(REPLY.BAD_PARAMETER_VALUE)
            if max_size and not fits_in(value, max_size):
                raise PathError(REPLY.MESSAGE_TOO_BIG)
        elif key == "BODY":
            if value.upper() not in ("7BIT", "8BITMIME", "BINARYMIME"):
                raise PathError(REPLY.BAD_PARAMETER_VALUE)
        elif key == "SMTPUTF8":
            if has_value:
                raise PathError(REPLY.BAD_PARAMETER_VALUE)
            smtputf8 = True
        else:
            raise PathError(REPLY.UNKNOWN_PARAMETER)
    return smtputf8


def cmd_rcpt(proto: SessionIO, arg: bytes) -> None:
    env = proto.envelope
    if env.mail_from is None:
        proto.reply(REPLY.NEED_MAIL)
        return
    simple = SIMPLE_TO.fullmatch(arg)
    if simple is not None:
        address = simple[1].decode("ascii")
    else:
        try:
            path, params = parse_path_argument(arg, b"TO:", REPLY.RCPT_SYNTAX)
            if params:
                raise PathError(REPLY.UNKNOWN_PARAMETER)
            address = validate_path(path, utf8=env.smtputf8, bad=REPLY.BAD_RECIPIENT, allow_postmaster=True)
        except PathError as e:
            proto.reply(e.reply)
            return
    if len(env.rcpt_tos) >= proto.ctx.options.max_recipients:
        proto.reply(REPLY.TOO_MANY_RECIPIENTS)
        return
    if proto.ctx.faults.armed and proto.fault("rcpt", (address,), lambda: _rcpt_accept(proto, address)):
        return
    _rcpt_accept(proto, address)


def _rcpt_accept(proto: SessionIO, address: str) -> None:
    proto.envelope.rcpt_tos.append(address)
    proto.send(REPLY.RECIPIENT_OK.line)


def cmd_rset(proto: SessionIO, arg: bytes) -> None:
    if arg.strip():
        proto.reply(REPLY.NO_ARGUMENTS)
        return
    proto.reset_transaction()
    proto.send(REPLY.OK.line)


def cmd_noop(proto: SessionIO, arg: bytes) -> None:
    proto.send(REPLY.OK.line)


def cmd_quit(proto: SessionIO, arg: bytes) -> None:
    if arg.strip():
        proto.reply(REPLY.NO_ARGUMENTS)
        return
    proto.close_with(REPLY.BYE)


def cmd_vrfy(proto: SessionIO, arg: bytes) -> None:
    if not arg.strip():
        proto.reply(REPLY.VRFY_SYNTAX)
    else:
        proto.send(REPLY.CANNOT_VRFY.line)


def cmd_help(proto: SessionIO, arg: bytes) -> None:
    proto.send(REPLY.HELP.line)


def cmd_not_implemented(proto: SessionIO, arg: bytes) -> None:
    proto.reply(REPLY.NOT_IMPLEMENTED)


_has_control = re.compile(rb"[\x00-\x1f\x7f]").search
"""Whether a HELO/EHLO name holds a control octet (a match, else ``None``): a CR or tab must
never reach ``Message.helo``, which later layers may put in a header or a page. (A compiled
pattern's own method: no Python call per HELO.)"""
