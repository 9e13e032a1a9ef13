"""Cold start and memory of each function's release binary, beside a Python
handler that does the same start-up work with boto3, in the same run.

A minimal fake Lambda runtime API serves one event per process start. For
each run it records the time from process start to the first request to the
runtime API (init) and to the first response (init plus one request against
DynamoDB Local), and the process's peak resident memory (VmHWM) after
answering. Prints a Markdown table of medians, with each function's zipped
arm64 artifact from ARTIFACTS_DIR/<name>/bootstrap.zip when it exists, and
the ratio of the Python baseline's start-up to the slowest Rust one.

Each function gets EVENTS_DIR/<name>.json, else the first <name>-*.json
(such as realtime_connect-unknown-ticket.json), else a bare HTTP event.
The status column is the reply's statusCode; for a stream function, the
number of records it reported as failed.

usage: coldstart.py RUNS EVENTS_DIR NAME=COMMAND...  (the baseline last)
"""

import glob
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = open(os.environ.get("COLDSTART_LOG", os.devnull), "ab")
PREFIX = "/2018-06-01/runtime/invocation/"


class Runtime(ThreadingHTTPServer):
    daemon_threads = True

    def arm(self, event):
        self.event = event
        self.served = False
        self.first_next = None
        self.answered = threading.Event()
        self.answer_at = None
        self.status = None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        runtime = self.server
        if not self.path.endswith("/next"):
            self.send_error(404)
            return
        if runtime.served:
            # The process asks for its second event: it is about to be killed.
            time.sleep(1)
            return
        runtime.served = True
        runtime.first_next = time.perf_counter()
        body = runtime.event.encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 10_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        runtime = self.server
        length = int(self.headers.get("Content-Length", 0))
        payload = self.rfile.read(length)
        if self.path.startswith(PREFIX) and self.path.endswith("/response"):
            runtime.answer_at = time.perf_counter()
            runtime.status = status_of(payload)
        elif self.path.endswith("/error"):
            runtime.answer_at = time.perf_counter()
            runtime.status = "error"
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if self.path.endswith("/response") or self.path.endswith("/error"):
            runtime.answered.set()


def status_of(payload):
    try:
        reply = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(reply, dict):
        return None
    if "statusCode" in reply:
        return reply["statusCode"]
    if "batchItemFailures" in reply:
        return f"{len(reply['batchItemFailures'])} failed records"
    return None


def event_for(events_dir, name):
    exact = os.path.join(events_dir, f"{name}.json")
    variants = sorted(glob.glob(os.path.join(events_dir, f"{name}-*.json")))
    chosen = exact if os.path.exists(exact) else (variants[0] if variants else None)
    return open(chosen).read() if chosen else json.dumps({"rawPath": "/"})


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(command, event, env):
    # A runtime API of its own per start: a killed process's last request
    # must not reach the next one's.
    runtime = Runtime(("127.0.0.1", 0), Handler)
    runtime.arm(event)
    # A short poll interval: shutdown() waits for the next poll.
    threading.Thread(target=runtime.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime.server_address[1]}")
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=LOG)
    try:
        deadline = started + 30
        while not runtime.answered.wait(0.01):
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode} before answering")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{command[0]} did not answer within 30 s")
        rss = peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        runtime.shutdown()
        runtime.server_close()
    return (runtime.first_next - started) * 1000, (runtime.answer_at - started) * 1000, rss, runtime.status


def main():
    runs, events_dir, targets = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    env = dict(os.environ)
    env.update(
        AWS_LAMBDA_FUNCTION_NAME="bench",
        AWS_DEFAULT_REGION=os.environ.get("AWS_REGION", "us-east-1"),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_LEVEL="warn",
    )
    print(f"\n### Cold start: median of {runs} process starts with a fake runtime API\n")
    print(
        "| function | start to first runtime request (ms) | start to first response (ms) "
        "| peak RSS (MiB) | zipped arm64 artifact (MB) | status |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    artifacts = os.environ.get("ARTIFACTS_DIR", "")
    inits = []
    for target in targets:
        name, command = target.split("=", 1)
        event = event_for(events_dir, name)
        samples = [measure(command.split(), event, env) for _ in range(runs)]
        init = statistics.median(s[0] for s in samples)
        first = statistics.median(s[1] for s in samples)
        rss = max(s[2] for s in samples) / 1024
        status = samples[-1][3]
        artifact = os.path.join(artifacts, name, "bootstrap.zip")
        size = f"{os.path.getsize(artifact) / 1e6:.2f}" if artifacts and os.path.exists(artifact) else "n/a"
        print(f"| {name} | {init:.1f} | {first:.1f} | {rss:.1f} | {size} | {status} |")
        inits.append((name, init))
    (baseline, baseline_init), rust = inits[-1], inits[:-1]
    slowest, slowest_init = max(rust, key=lambda pair: pair[1])
    print(
        f"\nStart-up to the first runtime request: {baseline} takes {baseline_init / slowest_init:.0f}× "
        f"as long as the slowest Rust function ({slowest}, {slowest_init:.1f} ms)."
    )


if __name__ == "__main__":
    main()
