"""ScriptedModelServer: a real OpenAI-compatible chat server on 127.0.0.1 whose phrasing a test or a bench chooses,
so each failure a weak model makes can be made on purpose, over HTTP, through LangChain's ChatOpenAI.

    with ScriptedModelServer(script="mixed") as server:     # server.url -> OPENAI_BASE_URL
        ...
    server.script = "deny"                                  # every answer from now on denies the product

Scripts (each reads the shop's computed answer from the prompt's <answer> block, as a model would):
- "faithful": the answer, reworded around its facts ("Good question! ...");
- "deny": "No, we don't have that product.";
- "other_product": the answer with its first product title swapped for another title in <sources> (or the
  first title in `other_titles`);
- "wrong_figure": the answer with its first number changed;
- "another_field": the answer with its first number replaced by a number from <sources> that it does not use;
- "wrong_brand": the answer with "made by Acme" (or `other_brand`) added;
- "yes_flip": "Yes! " before the answer and its "not"s removed;
- "loop": the first sentence repeated until the token budget;
- "markup": the answer wrapped in <source> tags;
- "drop_product": the answer without the product's name;
- "mixed": one of the above per question, chosen by a hash of the question (half are "faithful").
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SCRIPTS = ("faithful", "deny", "other_product", "wrong_figure", "another_field", "wrong_brand", "yes_flip", "loop",
           "markup", "drop_product")
_NUMBER = re.compile(r"(?<![\w\[])\d+(?:\.\d+)?(?![\w\]])")


def _block(text: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
    return match.group(1).strip() if match else ""


def _titles(sources: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\[\d+\] (.+?) \(product ", sources, re.M)]


def phrase(script: str, question: str, answer: str, sources: str, other_titles: tuple[str, ...] = ("Orbit One",),
           other_brand: str = "Acme") -> str:
    """What the scripted model says for one prompt."""
    if script == "mixed":
        digest = int(hashlib.sha256(question.encode()).hexdigest(), 16)
        script = "faithful" if digest % 2 == 0 else SCRIPTS[1 + (digest // 2) % (len(SCRIPTS) - 1)]
    titles = _titles(sources)
    if script == "faithful":
        return f"Good question! {answer}"
    if script == "deny":
        return "No, we don't have that product in our store."
    if script == "other_product":
        others = [t for t in [*titles[1:], *other_titles] if t not in answer]
        target = next((t for t in titles if t in answer), None)
        return answer.replace(target, others[0]) if target and others else f"Try the {other_titles[0]}. {answer}"
    if script == "wrong_figure":
        return _NUMBER.sub(lambda m: str(int(float(m.group(0))) + 7), answer, count=1) if _NUMBER.search(answer) \
            else f"{answer} It ships in 3 days."
    if script == "another_field":
        used = set(_NUMBER.findall(answer))
        spare = [n for n in _NUMBER.findall(sources) if n not in used]
        replacement = spare[0] if spare else "42"
        return _NUMBER.sub(replacement, answer, count=1) if _NUMBER.search(answer) else f"{answer} ({replacement})"
    if script == "wrong_brand":
        return f"{answer} It is made by {other_brand}."
    if script == "yes_flip":
        return "Yes! " + re.sub(r"\b(?:not|no|don't|cannot)\b ?", "", answer)
    if script == "loop":
        first = re.split(r"(?<=[.!?])\s+", answer)[0]
        return " ".join([first] * 6)
    if script == "markup":
        return f"<source>{answer}</source>"
    if script == "drop_product":
        for title in titles:
            answer = answer.replace(f"the {title}", "it").replace(f"The {title}", "It").replace(title, "it")
        return answer
    raise ValueError(f"unknown script {script!r}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        owner = self.server.owner
        owner.requests += 1
        messages = body.get("messages") or [{}]
        prompt = str(messages[-1].get("content", ""))  # the shopper's turn: the system message only names the blocks
        text = phrase(owner.script, _block(prompt, "question"), _block(prompt, "answer"), _block(prompt, "sources"),
                      owner.other_titles)
        if owner.delay_s:
            time.sleep(owner.delay_s)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in re.findall(r"\S+\s*", text):
                self._event({"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
            self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self.wfile.write(b"data: [DONE]\n\n")
            return
        payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _event(self, data: dict[str, Any]) -> None:
        data = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted", **data}
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedModelServer


class ScriptedModelServer:
    def __init__(self, script: str = "faithful", other_titles: tuple[str, ...] = ("Orbit One",), delay_s: float = 0.0):
        if script not in (*SCRIPTS, "mixed"):
            raise ValueError(f"script {script!r} is not one of {SCRIPTS} or 'mixed'")
        self.script, self.other_titles, self.delay_s = script, other_titles, delay_s
        self.requests = 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._server: _Server | None = None

    def __enter__(self) -> ScriptedModelServer:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, name="ScriptedModelServer", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
