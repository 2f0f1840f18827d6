#!/usr/bin/env python3
"""A stub of the EC2 instance metadata service (IMDSv2) for tests and benchmarks.

Serves a metadata document (docs/design.md: a JSON object mirroring /latest/, served under
/latest/ and every dated version EC2 lists at /) the way
EC2's IMDS does: every response carries `Connection: close` and the server closes the
connection after it, so each request is its own TCP connection; the headers are EC2's
(`Server: EC2ws`, `Content-Type: text/plain`, `Accept-Ranges: none`, `Last-Modified`,
`X-Aws-Ec2-Metadata-Token-Ttl-Seconds` on token and token-authenticated answers); a
missing path gets EC2's HTML "404 - Not Found" page. IMDSv1 is refused (GET without a
token -> 401). At most --max-connections connections are served at once, as EC2 limits
simultaneous connections per instance (AWS publishes no number; 8 is ours): one more is
closed at once, which a client sees as a reset. `--keep-alive` is the old, kinder mode
(HTTP/1.1 keep-alive, no cap), kept only for the HTTP client's own keep-alive tests.
The document and the fault script are re-read whenever their files change, so a test
can make IMDS lag, recover or break while a client runs.

usage: stub_imds.py --document FILE [--faults FILE] [--listen HOST:PORT]
                    [--port-file FILE] [--log FILE] [--keep-alive]
                    [--max-connections N]

Fault script (JSON):
  {"latency_ms": 1,
   "rules": [{"path": "REGEX", "method": "GET", "after": 0, "count": 2,
              "kind": "status|delay|close|close_mid_body|truncated_chunked|oversized|value",
              "status": 503, "seconds": 0.5, "body": "text"}]}
One asyncio thread serves every connection (HTTP/1.1 parsed by hand).
A rule matches requests whose path matches REGEX (re.search) and method (if given); it
skips its first `after` matches and then applies to `count` matches (null: forever).
The log file gets one JSON line per request: method, path, status, fault.
"""
import argparse, asyncio, email.utils, json, os, re, secrets, socket, threading, time

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
        self.tokens = {}  # token -> expiry (time.monotonic())
        self.keep_alive = args.keep_alive
        self.max_connections = args.max_connections
        self.open_connections = 0
        self.refused = 0
        self.started = email.utils.formatdate(time.time(), usegmt=True)
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

    def record(self, method, path, status, fault, issued=None, family=None):
        """One log line per request; a token answer also logs the token it issued, so a
        test can look for that very value where it must not be (caches, logs). `family`
        says which endpoint (IPv4 or IPv6) the request came to."""
        if self.log:
            entry = {"method": method, "path": path, "status": status, "fault": fault}
            if family:
                entry["family"] = family
            if issued:
                entry["issued-token"] = issued
            with LOCK:
                self.log.write(json.dumps(entry) + "\n")

    def token_ttl(self, token):
        """Seconds the token has left, or None when it is unknown or expired."""
        expiry = self.tokens.get(token)
        if expiry is None:
            return None
        left = int(expiry - time.monotonic())
        return left if left > 0 else None


# EC2's answer for a path that does not exist (an empty list, an unknown key).
NOT_FOUND = """<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>
"""


# The dated API versions EC2 lists at /, the newest last (a subset: the ones clients ask
# for, cloud-init's among them).
VERSIONS = ["1.0", "2007-01-19", "2009-04-04", "2011-01-01", "2016-09-02", "2018-09-24", "2021-03-23"]


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


class Connection:
    """One client connection: HTTP/1.1 requests parsed by hand (http.server costs ~0.4 ms
    of GIL time per request, which made the stub, not the client, the bottleneck of the
    IMDS benchmark). EC2-like: one request, one response, then the server closes."""

    def __init__(self, state, reader, writer):
        self.state, self.reader, self.writer = state, reader, writer
        sockname = writer.get_extra_info("sockname")
        self.family = "ipv6" if sockname is not None and len(sockname) == 4 else "ipv4"

    def record(self, *args, **kwargs):
        self.state.record(*args, family=self.family, **kwargs)

    async def serve(self):
        state = self.state
        if not state.keep_alive and state.open_connections >= state.max_connections:
            state.refused += 1
            self.record("-", "-", 0, "connection-limit")
            sock = self.writer.get_extra_info("socket")
            if sock is not None:  # RST, as a refusing server would
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.writer.close()
            return
        state.open_connections += 1
        try:
            while True:
                try:
                    head = await self.reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, path, _ = parts
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await self.reader.readexactly(length)
                if not await self.respond(method, path, headers):
                    return
                if headers.get("connection", "").lower() == "close" or not state.keep_alive:
                    return
        finally:
            state.open_connections -= 1
            self.writer.close()

    def head(self, status, content_type, framing, ttl):
        """EC2's response headers (captured from instances: Server EC2ws, Connection close)."""
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Status")
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        if ttl is not None:
            lines.append("X-Aws-Ec2-Metadata-Token-Ttl-Seconds: %d" % ttl)
        lines += ["Content-Type: %s" % content_type, "Accept-Ranges: none", "Last-Modified: %s" % self.state.started,
                  framing, "Date: %s" % email.utils.formatdate(time.time(), usegmt=True), "Server: EC2ws"]
        lines.append("Connection: keep-alive" if self.state.keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send(self, status, body, fault=None, chunked=False, method="GET", path="", ttl=None, issued=None):
        self.record(method, path, status, fault, issued)
        if status == 404 and body is None:
            body, content_type = NOT_FOUND, "text/html"
        else:
            content_type = "text/plain"
        data = body.encode() if isinstance(body, str) else body
        if chunked:
            out = [self.head(status, content_type, "Transfer-Encoding: chunked", ttl)]
            for i in range(0, len(data), 64):
                piece = data[i:i + 64]
                out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
            out.append(b"0\r\n\r\n")
            self.writer.write(b"".join(out))
        else:
            self.writer.write(self.head(status, content_type, "Content-Length: %d" % len(data), ttl) + data)
        await self.writer.drain()

    async def respond(self, method, path, headers):
        """Answers one request; False closes the connection."""
        state = self.state
        script = state.faults.get()
        latency = script.get("latency_ms", 0)
        if latency:
            await asyncio.sleep(latency / 1000.0)
        rule = state.rule_for(method, path)
        kind = rule.get("kind") if rule else None
        reply = lambda status, body, **kw: self.send(status, body, method=method, path=path, **kw)
        if kind == "delay":
            await asyncio.sleep(rule.get("seconds", 1))
        elif kind == "status":
            await reply(rule.get("status", 503), "fault\n", fault=kind)
            return True
        elif kind == "close":
            self.record(method, path, 0, kind)
            return False
        elif kind == "close_mid_body":
            self.record(method, path, 200, kind)
            self.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n10.0.0.1\n10.0.")
            await self.writer.drain()
            return False
        elif kind == "truncated_chunked":
            self.record(method, path, 200, kind)
            self.writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n10.0.\r\n")
            await self.writer.drain()
            return False
        elif kind == "oversized":
            await reply(200, "9" * (1024 * 1024), fault=kind)
            return True

        if method == "PUT":
            if path != "/latest/api/token" or not headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                await reply(400, "bad token request\n")
                return True
            try:
                ttl = int(headers["x-aws-ec2-metadata-token-ttl-seconds"])
            except ValueError:
                ttl = -1
            if not 1 <= ttl <= 21600:  # EC2 answers 400 outside 1..21600
                await reply(400, "bad token TTL\n")
                return True
            token = secrets.token_hex(24)
            state.tokens[token] = time.monotonic() + ttl
            await reply(200, token, ttl=ttl, issued=token)
            return True
        if method != "GET":
            await reply(400, "unsupported method\n")
            return True
        ttl = state.token_ttl(headers.get("x-aws-ec2-metadata-token"))
        if ttl is None:
            await reply(401, "IMDSv2 token required\n")  # IMDSv1 refused, or the token expired
            return True
        if path == "/":  # the API versions, as EC2 lists them
            await reply(200, "\n".join(VERSIONS + ["latest"]), ttl=ttl)
            return True
        version, _, rest = path[1:].partition("/")
        if version != "latest" and version not in VERSIONS:
            await reply(404, None, ttl=ttl)
            return True
        if kind == "value":
            await reply(200, rule.get("body", ""), fault=kind, ttl=ttl)
            return True
        # Every dated version serves the same tree as /latest/ (cloud-init reads
        # /2021-03-23/ and older); a missing user-data is EC2's 404, as for any key.
        body = lookup(state.document.get(), rest)
        if body is None:
            await reply(404, None, ttl=ttl)
            return True
        # EC2 frames with Content-Length; the keep-alive mode keeps chunked listings so the
        # client's chunked decoding stays exercised.
        await reply(200, body, chunked=state.keep_alive and path.endswith("/"), ttl=ttl)
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--document", required=True)
    ap.add_argument("--faults")
    ap.add_argument("--listen", action="append", help="HOST:PORT, repeatable (EC2 serves 169.254.169.254 and [fd00:ec2::254])")
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--keep-alive", action="store_true", help="HTTP/1.1 keep-alive, no connection cap (kinder than EC2)")
    ap.add_argument("--max-connections", type=int, default=8, help="connections served at once (EC2-like mode)")
    args = ap.parse_args()
    listens = args.listen or ["127.0.0.1:0"]
    state = State(args)

    async def serve():
        servers = []
        for listen in listens:
            host, _, port = listen.rpartition(":")
            server = await asyncio.start_server(lambda r, w: Connection(state, r, w).serve(), host.strip("[]"), int(port),
                                                backlog=128, limit=64 * 1024)
            for sock in server.sockets:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            servers.append(server)
        bound = servers[0].sockets[0].getsockname()[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % bound)
            os.rename(tmp, args.port_file)
        await asyncio.gather(*(server.serve_forever() for server in servers))

    asyncio.run(serve())


if __name__ == "__main__":
    main()
