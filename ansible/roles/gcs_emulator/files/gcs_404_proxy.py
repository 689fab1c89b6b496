#!/usr/bin/env python3
"""Reverse proxy in front of fake-gcs-server that makes its 404s look like real GCS.

Airflow's GCS log handler reads an object before appending to it and treats a failure as "no log
yet" only when the error says "No such object" (the text real GCS sends). fake-gcs-server answers
404 with a plain "Not Found", so without this the handler refuses to upload anything. Everything
else is passed through unchanged. Test bed only: the product talks to real GCS.
"""
import http.client
import http.server
import json
import os
import sys
import urllib.parse

BACKEND_PORT = int(os.environ.get("GCS_BACKEND_PORT", "4444"))
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


def object_name(path: str) -> str:
    """bucket/object from a JSON API path, for the error text."""
    parts = urllib.parse.urlsplit(path).path.split("/")
    if "b" in parts:
        rest = parts[parts.index("b") + 1:]
        if len(rest) >= 3 and rest[1] == "o":
            return f"{rest[0]}/{urllib.parse.unquote('/'.join(rest[2:]))}"
        return rest[0] if rest else ""
    return urllib.parse.urlsplit(path).path


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection("127.0.0.1", BACKEND_PORT, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            status = resp.status
            resp_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            conn.close()
        if status == 404:
            message = f"No such object: {object_name(self.path)}"
            payload = json.dumps({"error": {"code": 404, "message": message,
                                            "errors": [{"message": message, "domain": "global",
                                                        "reason": "notFound"}]}}).encode()
            resp_headers = [(k, v) for k, v in resp_headers if k.lower() != "content-type"]
            resp_headers.append(("Content-Type", "application/json; charset=UTF-8"))
        self.send_response(status)
        for key, value in resp_headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def log_message(self, fmt: str, *args) -> None:  # one line per request on stderr (journald)
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main() -> None:
    port = int(os.environ.get("GCS_PROXY_PORT", "4443"))
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Proxy)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
