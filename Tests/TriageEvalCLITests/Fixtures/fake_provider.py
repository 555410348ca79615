#!/usr/bin/env python3
"""A scriptable fake model API on 127.0.0.1 for triage-eval's tests: speaks Anthropic's /v1/messages and
OpenAI's /v1/chat/completions.

usage: fake_provider.py SCRIPT.json LOG.jsonl
Prints the port it listens on as the first line of standard output.

SCRIPT.json: {"default": BEHAVIOUR, "incidents": {"inc-…": [BEHAVIOUR, BEHAVIOUR, …]}}
Calls for an incident take its behaviours in order (the last one repeats); other calls take "default".
A BEHAVIOUR is an object:
  status        HTTP status (default 200)
  text          the reply text (default: a valid decision for the incident, no actions, confidence 0.9)
  choices       reply texts, one picked by the SHA-256 of the user message ("{incident}" becomes the incident's
                id): a deterministic answer that varies by message, whatever order the calls come in
  stop_reason   "end_turn" / "max_tokens" (written as OpenAI's "stop" / "length" on that API)
  delay         seconds to wait before answering
  retry_after   a retry-after header value
  error_code    the error code in an error body (e.g. "context_length_exceeded")
  malformed     true: a 200 whose body is not JSON
  reset         true: close the connection without answering
  echo_headers  true: the error body (and, with status 200, the reply text) quotes every request header, as
                some proxies do, the API key among them; "masked" quotes it as a proxy that masks the key's
                prefix would ("sk-***" and the rest)
Every request is appended to LOG.jsonl: path, model, incident_id, whether an API key header came, the time.
"""
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

script = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
lock = threading.Lock()
calls = {}


def behaviour(incident):
    with lock:
        plan = script.get("incidents", {}).get(incident)
        index = calls.get(incident, 0)
        calls[incident] = index + 1
    if not plan:
        return dict(script.get("default", {}))
    return dict(plan[min(index, len(plan) - 1)])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        user = body["messages"][-1]["content"]
        try:
            incident = json.loads(user).get("incident_id", "?")
        except ValueError:
            incident = "?"
        with lock, open(log_path, "a") as log:
            log.write(json.dumps({
                "path": self.path, "model": body.get("model"), "incident_id": incident, "time": time.time(),
                "api_key": bool(self.headers.get("x-api-key") or self.headers.get("authorization")),
                "anthropic_version": self.headers.get("anthropic-version"),
                "max_tokens": body.get("max_tokens"), "response_format": body.get("response_format"),
            }) + "\n")
        plan = behaviour(incident)
        time.sleep(plan.get("delay", 0))
        if plan.get("reset"):
            self.close_connection = True
            self.connection.close()
            return
        status = plan.get("status", 200)
        echoed = None
        if plan.get("echo_headers"):
            headers = dict(self.headers.items())
            if plan.get("echo_headers") == "masked":
                headers = {name: value.replace("sk-", "sk-***", 1) for name, value in headers.items()}
            echoed = json.dumps(headers)
        if status != 200:
            message = f"scripted {status}" + (f"; request headers: {echoed}" if echoed else "")
            payload = {"error": {"type": "error", "code": plan.get("error_code", "error"), "message": message}}
            if echoed:
                payload["request_headers"] = echoed
            self.answer(status, json.dumps(payload).encode(), plan.get("retry_after"))
            return
        if plan.get("malformed"):
            self.answer(200, b"<html>not json</html>", None)
            return
        text = plan.get("text", json.dumps({"incident_id": incident, "actions": [], "confidence": 0.9,
                                             "needs_human": False}))
        if plan.get("choices"):
            choices = plan["choices"]
            pick = int.from_bytes(hashlib.sha256(user.encode()).digest()[:8], "big") % len(choices)
            text = choices[pick].replace("{incident}", incident)
        if echoed:
            text = f"your headers were {echoed}"
        stop = plan.get("stop_reason", "end_turn")
        if self.path == "/v1/messages":
            payload = {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"],
                       "content": [{"type": "text", "text": text}], "stop_reason": stop,
                       "usage": {"input_tokens": len(user) // 4, "output_tokens": len(text) // 4}}
        elif self.path == "/v1/chat/completions":
            payload = {"id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"],
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "length" if stop == "max_tokens" else "stop"}],
                       "usage": {"prompt_tokens": len(user) // 4, "completion_tokens": len(text) // 4}}
        else:
            self.answer(404, b'{"error": {"message": "no such route"}}', None)
            return
        self.answer(200, json.dumps(payload).encode(), None)

    def answer(self, status, data, retry_after):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if retry_after is not None:
            self.send_header("retry-after", str(retry_after))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
