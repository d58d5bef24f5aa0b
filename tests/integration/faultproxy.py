"""An HTTP proxy in front of a real server that the tests can make fail on purpose:
'pass' forwards, 'refuse' closes the listening socket (connection refused), 'hang' accepts
and never answers, 'error' answers 503. It counts requests by path."""
import collections
import http.client
import http.server
import socket
import threading
import time


class FaultProxy:
    def __init__(self, target_port, port):
        self.target_port = target_port
        self.port = port
        self.mode = "pass"
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.server = None
        self.hanging = []
        self._listen()

    def _listen(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _forward(self):
                with proxy.lock:
                    proxy.counts[self.path.split("?")[0]] += 1
                if proxy.mode == "hang":
                    proxy.hanging.append(self.connection)
                    while proxy.mode == "hang":
                        time.sleep(0.05)
                    return
                if proxy.mode == "error":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=10)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length",
                                         "keep-alive"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode):
        if mode == "refuse":
            self.mode = "refuse"
            if self.server:
                self.server.shutdown()
                self.server.server_close()
                self.server = None
            return
        if self.server is None:
            self.mode = "pass"
            self._listen()
        self.mode = mode
        if mode != "hang":
            for c in self.hanging:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.hanging = []

    def count(self, path):
        with self.lock:
            return self.counts[path]

    def stop(self):
        self.mode = "pass"
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
