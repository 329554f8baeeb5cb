"""The request shapes a client sends, without a server: for checking that the sync and async
clients send the same requests (everything else the client does is tested against the real API)."""

from __future__ import annotations

import json

import httpx

from obfbroker.client import AsyncObfBrokerClient, ObfBrokerClient


class Recorder:
    """A transport that records each request and answers ``answers`` in turn (the last one again
    and again)."""

    def __init__(self, *answers: dict) -> None:
        self.answers, self.requests = list(answers), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])

    def sync(self) -> ObfBrokerClient:
        return ObfBrokerClient("https://broker.example.com", "obf_live_k",
                               transport=httpx.MockTransport(self))

    def asynchronous(self) -> AsyncObfBrokerClient:
        return AsyncObfBrokerClient("https://broker.example.com", "obf_live_k",
                                    transport=httpx.MockTransport(self))

    def body(self, index: int = -1) -> dict:
        return json.loads(self.requests[index].content)
