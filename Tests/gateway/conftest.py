"""Fixtures for the gateway tests that use the real `openai` Python package as the client.

The tests run against a gateway (`cartridge serve`) over real `cartridged` processes, started by
the Swift runner Tests/CartridgeGatewayTests/OpenAIClientTests.swift, which passes:

  GATEWAY_BASE_URL            http://127.0.0.1:PORT (no /v1)
  GATEWAY_COMPLETION_MODEL    id of the generative model
  GATEWAY_EMBEDDING_MODEL     id of the embedding model
  GATEWAY_CHAT_MODEL          id of the chat model (SmolLM2 GGUF), when its file is present
  GATEWAY_EMBEDDING_CONNECT   unix:/path of the embedding daemon (for `cartridge embed`)
  CARTRIDGE_BIN_DIR           build directory holding cartridge and cartridged
  GATEWAY_COMPLETION_DAEMON   JSON list: cartridged arguments serving the generative model

Run by hand: start daemons and `cartridge serve`, export the variables, `python3 -m pytest Tests/gateway`.
"""
import json
import os
import time
import urllib.request

import pytest


def _require(name):
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set (run through the Swift runner OpenAIClientTests or export it)")
    return value


@pytest.fixture(scope="session")
def base_url():
    url = _require("GATEWAY_BASE_URL")
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as reply:
                if json.load(reply).get("cartridges", 0) >= int(os.environ.get("GATEWAY_CARTRIDGES", "2")):
                    return url
        except Exception:
            pass
        if time.time() > deadline:
            pytest.fail(f"the gateway at {url} did not report all its cartridges within 30 s")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def client(base_url):
    import openai

    return openai.OpenAI(base_url=base_url + "/v1", api_key="not-needed", max_retries=0, timeout=60)


@pytest.fixture(scope="session")
def completion_model():
    return _require("GATEWAY_COMPLETION_MODEL")


@pytest.fixture(scope="session")
def embedding_model():
    return _require("GATEWAY_EMBEDDING_MODEL")


@pytest.fixture(scope="session")
def bin_dir():
    return _require("CARTRIDGE_BIN_DIR")
