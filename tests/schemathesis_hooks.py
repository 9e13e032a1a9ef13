"""Schemathesis hooks for the local stack.

`cargo lambda watch` cannot carry a request whose body or headers are not
UTF-8 into a Lambda event: it answers such requests with its own 500 before
any function runs (API Gateway would pass the body base64-encoded, and the
function answers 400; shared/src/http.rs tests that in-process). Those cases
say nothing about the functions, so they are skipped here.
"""

import schemathesis


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
    return case
