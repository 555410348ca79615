"""A loopback HTTP/1.1 server for CurlHTTPClientTests. Prints its port, then serves:

  POST /echo       200 with a JSON body describing the request (path, headers, body length, the body in base64), a
                   header sent twice (x-twice: a, x-twice: b) and retry-after: 7
  POST /status/N   status N with body "status N"
  POST /slow       waits 30 seconds before answering
  POST /reset      closes the connection without answering
  GET  /connections  the number of distinct client connections seen so far
"""
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
connections = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, data, extra=()):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            count = len(connections)
        self.answer(200, json.dumps({"connections": count}).encode())

    def do_POST(self):
        with lock:
            connections.add(self.client_address)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/echo":
            description = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "length": len(body), "body": base64.b64encode(body).decode()}
            self.answer(200, json.dumps(description).encode(),
                        [("x-twice", "a"), ("x-twice", "b"), ("Retry-After", "7")])
        elif self.path.startswith("/status/"):
            status = int(self.path.rsplit("/", 1)[1])
            self.answer(status, f"status {status}".encode())
        elif self.path == "/slow":
            time.sleep(30)
            self.answer(200, b"{}")
        elif self.path == "/reset":
            self.close_connection = True
            self.connection.close()
        else:
            self.answer(404, b"no such path")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
