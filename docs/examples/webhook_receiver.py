#!/usr/bin/env python3
"""A driftctl webhook receiver that verifies every signature and prints each event (stdlib only).

    HOOK_KEY=dev-key python3 docs/examples/webhook_receiver.py 127.0.0.1:9999

Answers 204 to a valid delivery, 401 to a bad signature or a stale timestamp (older than 5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

KEY = os.environ["HOOK_KEY"].encode()
TOLERANCE_S = 300


def valid(stamp: str, body: bytes, signature: str) -> bool:
    try:
        fresh = abs(time.time() - int(stamp)) <= TOLERANCE_S
    except ValueError:
        return False
    expected = "v1=" + hmac.new(KEY, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return fresh and hmac.compare_digest(expected, signature)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = valid(
            self.headers.get("X-Driftctl-Timestamp", ""), body, self.headers.get("X-Driftctl-Signature", "")
        )
        if ok:
            event = json.loads(body)
            print(
                f"verified {event['event']}: {event['summary']} (workspace {event['workspace']})", flush=True
            )
        else:
            print("REJECTED: bad signature or stale timestamp", flush=True)
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


if __name__ == "__main__":
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9999").rpartition(":")
    print(f"listening on http://{host}:{port}/", flush=True)
    HTTPServer((host, int(port)), Handler).serve_forever()
