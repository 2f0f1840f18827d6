#!/usr/bin/env python3
"""A stub of the EC2 instance metadata service (IMDSv2) for tests and benchmarks.

Serves a metadata document (DESIGN.md section 4: a JSON object mirroring /latest/) over
HTTP/1.1 with keep-alive, refuses IMDSv1 (GET without a token -> 401), and injects
scripted faults. The document and the fault script are re-read whenever their files
change, so a test can make IMDS lag, recover or break while a client runs.

usage: stub_imds.py --document FILE [--faults FILE] [--listen HOST:PORT]
                    [--port-file FILE] [--log FILE]

Fault script (JSON):
  {"latency_ms": 1,
   "rules": [{"path": "REGEX", "method": "GET", "after": 0, "count": 2,
              "kind": "status|delay|close|close_mid_body|truncated_chunked|oversized|value",
              "status": 503, "seconds": 0.5, "body": "text"}]}
A rule matches requests whose path matches REGEX (re.search) and method (if given); it
skips its first `after` matches and then applies to `count` matches (null: forever).
The log file gets one JSON line per request: method, path, status, fault.
"""
import argparse, json, os, re, secrets, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Reloading:
    """A JSON file re-read when its mtime or size changes."""

    def __init__(self, path, default):
        self.path, self.default, self.stamp, self.value = path, default, None, default

    def get(self):
        if not self.path:
            return self.default
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self.default
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self.stamp:
            with open(self.path, "rb") as f:
                data = f.read()
            try:
                self.value = json.loads(data)
                self.stamp = stamp
            except ValueError:
                pass  # half-written by the test; keep the previous version
        return self.value


class State:
    def __init__(self, args):
        self.document = Reloading(args.document, {})
        self.faults = Reloading(args.faults, {})
        self.fault_stamp = None
        self.counters = {}
        self.tokens = set()
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def rule_for(self, method, path):
        script = self.faults.get()
        with LOCK:
            if self.faults.stamp != self.fault_stamp:
                self.fault_stamp, self.counters = self.faults.stamp, {}
            for index, rule in enumerate(script.get("rules", [])):
                if rule.get("method") and rule["method"] != method:
                    continue
                if not re.search(rule.get("path", ""), path):
                    continue
                seen = self.counters.get(index, 0)
                self.counters[index] = seen + 1
                after, count = rule.get("after", 0), rule.get("count")
                if seen < after or (count is not None and seen >= after + count):
                    continue
                return rule
        return None

    def record(self, method, path, status, fault):
        if self.log:
            with LOCK:
                self.log.write(json.dumps({"method": method, "path": path, "status": status, "fault": fault}) + "\n")


def lookup(document, path):
    """(kind, body) for a /latest/ path: listing of a directory, a leaf's body, or None."""
    node = document
    parts = [p for p in path.split("/") if p]
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        if not node:
            return None
        return "\n".join(k + "/" if isinstance(v, dict) else k for k, v in sorted(node.items()))
    if isinstance(node, list):
        return "\n".join(node)
    return node


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or every keep-alive request stalls ~40 ms

    def log_message(self, *args):
        pass

    def send_text(self, status, body, fault=None):
        data = body.encode()
        # Logged before answering, so a client that exits on the answer never races the log.
        self.server.state.record(self.command, self.path, status, fault)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        self.handle_request()

    def do_GET(self):
        self.handle_request()

    def handle_request(self):
        state = self.server.state
        script = state.faults.get()
        latency = script.get("latency_ms", 0)
        if latency:
            time.sleep(latency / 1000.0)
        rule = state.rule_for(self.command, self.path)
        kind = rule.get("kind") if rule else None
        if kind == "delay":
            time.sleep(rule.get("seconds", 1))
        elif kind == "status":
            return self.send_text(rule.get("status", 503), "fault\n", kind)
        elif kind == "close":
            state.record(self.command, self.path, 0, kind)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif kind == "close_mid_body":
            state.record(self.command, self.path, 200, kind)
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"10.0.0.1\n10.0.")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif kind == "truncated_chunked":
            state.record(self.command, self.path, 200, kind)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\n10.0.\r\n")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif kind == "oversized":
            return self.send_text(200, "9" * (1024 * 1024), kind)

        if self.command == "PUT":
            if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.send_text(400, "bad token request\n")
            token = secrets.token_hex(24)
            with LOCK:
                state.tokens.add(token)
            return self.send_text(200, token)
        token = self.headers.get("X-aws-ec2-metadata-token")
        with LOCK:
            valid = token in state.tokens
        if not valid:
            return self.send_text(401, "IMDSv2 token required\n")
        if not self.path.startswith("/latest/"):
            return self.send_text(404, "not found\n")
        if kind == "value":
            return self.send_text(200, rule.get("body", ""), kind)
        body = lookup(state.document.get(), self.path[len("/latest/"):])
        if body is None:
            return self.send_text(404, "not found\n")
        # Chunked for listings, Content-Length for leaves: both framings stay exercised.
        if self.path.endswith("/"):
            data = body.encode()
            state.record(self.command, self.path, 200, None)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 64):
                piece = data[i:i + 64]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_text(200, body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--document", required=True)
    ap.add_argument("--faults")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        request_queue_size = 128

    server = Server((host, int(port)), Handler)
    server.state = State(args)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
