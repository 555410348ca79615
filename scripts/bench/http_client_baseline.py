#!/usr/bin/env python3
"""Baseline client load for scripts/bench-runner: N POSTs of the same body over keep-alive connections from C
threads with http.client.

usage: http_client_baseline.py PORT REQUESTS CONCURRENCY
"""
import http.client
import json
import sys
import threading
import time

port, total, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"model": "bench", "max_tokens": 1024, "system": "s" * 3000,
                   "messages": [{"role": "user", "content": "u" * 2000}]})
per_thread = total // concurrency


def worker():
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(per_thread):
        connection.request("POST", "/v1/messages", body, {"content-type": "application/json"})
        connection.getresponse().read()


threads = [threading.Thread(target=worker) for _ in range(concurrency)]
start = time.perf_counter()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"requests": per_thread * concurrency, "seconds": time.perf_counter() - start}))
