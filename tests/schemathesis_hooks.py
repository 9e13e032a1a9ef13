"""Schemathesis hooks for the local stack.

`cargo lambda watch` cannot carry a request whose body or headers are not
UTF-8 into a Lambda event: it answers such requests with its own 500 before
any function runs (API Gateway would pass the body base64-encoded, and the
function answers 400; shared/src/http.rs tests that in-process). Those cases
say nothing about the functions, so they are skipped here.

A generated group id or login is random, so every group operation would
only ever meet its 404 (a group one is not in, a login no user holds).
scripts/schemathesis.sh makes the caller's groups and a peer, and a well
formed group id or member becomes one of them: the operations then answer
what a member and an admin get. Only values that are already valid are
replaced, so what makes a negative case invalid reaches the API as it was.
"""

import os
import re

import schemathesis

GROUP_ID = re.compile(r"[0-9a-f]{32}")
IDENTIFIER = re.compile(r"[A-Za-z0-9._+@-]{3,128}")


def _is_utf8(value):
    if isinstance(value, (bytes, bytearray)):
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@schemathesis.hook
def filter_case(context, case):
    if not _is_utf8(case.body):
        return False
    # HTTP clients send header text as Latin-1: anything past ASCII would
    # reach the emulator as bytes that are not UTF-8.
    return all(str(value).isascii() for value in (case.headers or {}).values())


@schemathesis.hook
def map_case(context, case):
    # A valid `wait` of 2 to 20 seconds becomes 1: it would hold the run for
    # seconds at a time and checks nothing that 1 does not (an invalid one
    # stays as it is, to be refused).
    body = case.body
    if isinstance(body, dict):
        wait = body.get("wait")
        if isinstance(wait, int) and not isinstance(wait, bool) and 1 < wait <= 20:
            body["wait"] = 1
        _into_groups(case.operation.path, body)
    return case


def _well_formed(pattern, value):
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _into_groups(path, body):
    """Names the caller's group (a group of their own to leave, for
    leave_group) and the peer, in place of well-formed random ones."""
    group = os.environ.get("SCHEMATHESIS_LEAVING" if path == "/leave_group" else "SCHEMATHESIS_GROUP")
    peer = os.environ.get("SCHEMATHESIS_PEER")
    if group and _well_formed(GROUP_ID, body.get("group")):
        body["group"] = group
    if peer and _well_formed(IDENTIFIER, body.get("member")):
        body["member"] = peer
    members = body.get("members")
    if peer and isinstance(members, list):
        body["members"] = [peer if _well_formed(IDENTIFIER, member) else member for member in members]
