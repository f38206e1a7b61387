"""The gateway through the real `openai` Python client: models, completions (streamed and not,
echo, logprobs), chat, embeddings equal to `cartridge embed`'s, and error shapes."""
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import urllib.parse
import urllib.request

import openai
import pytest


def _models(client):
    """The models listed, by id and by exact name (the runner passes the cartridges' names)."""
    listed = client.models.list().data
    return {**{model.model_extra["name"]: model for model in listed}, **{model.id: model for model in listed}}


def test_models_lists_every_distinct_cartridge(client, completion_model, embedding_model):
    models = _models(client)
    assert completion_model in models and embedding_model in models
    for model in models.values():
        assert model.object == "model"
        assert model.owned_by
        extra = model.model_extra or {}
        assert extra["digest"].startswith("sha256:") and len(extra["digest"]) == 71
        assert "license" in extra
    assert "completions" in models[completion_model].model_extra["capabilities"]
    assert "embeddings" in models[embedding_model].model_extra["capabilities"]
    assert client.models.retrieve(completion_model).id == completion_model


def test_completion_whole_and_streamed_agree(client, completion_model):
    whole = client.completions.create(model=completion_model, prompt="Once upon a time", max_tokens=16, temperature=0)
    assert whole.object == "text_completion"
    assert len(whole.choices) == 1
    text = whole.choices[0].text
    assert isinstance(text, str) and text
    assert whole.choices[0].finish_reason in ("length", "stop")
    assert 1 <= whole.usage.completion_tokens <= 16
    assert whole.usage.prompt_tokens >= 1
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    pieces = []
    finish = None
    usage = None
    stream = client.completions.create(
        model=completion_model, prompt="Once upon a time", max_tokens=16, temperature=0, stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.text)
            finish = choice.finish_reason or finish
    assert "".join(pieces) == text, "greedy decoding: streamed text equals the whole answer"
    assert finish == whole.choices[0].finish_reason
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens


def test_completion_with_a_seed_is_reproducible(client, completion_model):
    first = client.completions.create(model=completion_model, prompt="The dog", max_tokens=12, temperature=0.8, seed=7)
    second = client.completions.create(model=completion_model, prompt="The dog", max_tokens=12, temperature=0.8, seed=7)
    assert first.choices[0].text == second.choices[0].text


def test_completion_echo_and_stop(client, completion_model):
    echoed = client.completions.create(model=completion_model, prompt="Once upon a time", max_tokens=8, temperature=0, echo=True)
    plain = client.completions.create(model=completion_model, prompt="Once upon a time", max_tokens=8, temperature=0)
    assert echoed.choices[0].text == "Once upon a time" + plain.choices[0].text
    batch = client.completions.create(model=completion_model, prompt=["Once", "The cat"], max_tokens=4, temperature=0)
    assert [choice.index for choice in batch.choices] == [0, 1]


def test_completion_logprobs_with_echo(client, completion_model):
    models = _models(client)
    assert "logprobs" in models[completion_model].model_extra["capabilities"]
    plain = client.completions.create(model=completion_model, prompt="Once upon", max_tokens=6, temperature=0)
    answer = client.completions.create(model=completion_model, prompt="Once upon", max_tokens=6, temperature=0, logprobs=3, echo=True)
    logprobs = answer.choices[0].logprobs
    assert len(logprobs.tokens) == len(logprobs.token_logprobs) == len(logprobs.top_logprobs) == len(logprobs.text_offset)
    generated = answer.usage.completion_tokens
    assert len(logprobs.tokens) == answer.usage.prompt_tokens + generated, "every prompt position, then every generated token"
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
    assert all(value <= 0 for value in logprobs.token_logprobs[1:])
    assert all(1 <= len(top) <= 3 for top in logprobs.top_logprobs[1:])
    assert answer.choices[0].text == "".join(logprobs.tokens)
    assert "".join(logprobs.tokens[-generated:]) == plain.choices[0].text
    assert logprobs.text_offset == sorted(logprobs.text_offset)
    # Greedy: each generated token is the most likely one at its position.
    for token, top in zip(logprobs.tokens[-generated:], logprobs.top_logprobs[-generated:]):
        assert max(top, key=top.get) == token
    # Streamed, the same tokens and log-probabilities.
    streamed = []
    for chunk in client.completions.create(model=completion_model, prompt="Once upon", max_tokens=6, temperature=0, logprobs=3, stream=True):
        for choice in chunk.choices:
            if choice.logprobs is not None:
                streamed.extend(zip(choice.logprobs.tokens, choice.logprobs.token_logprobs))
    assert [token for token, _ in streamed] == logprobs.tokens[-generated:]
    assert [value for _, value in streamed] == pytest.approx(logprobs.token_logprobs[-generated:], abs=1e-5)


def test_chat_on_a_model_without_a_chat_template_is_refused(client, completion_model):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=completion_model, messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    assert raised.value.body["param"] == "model"
    assert "chat template" in raised.value.message


@pytest.fixture(scope="session")
def chat_model():
    model = os.environ.get("GATEWAY_CHAT_MODEL")
    if not model:
        pytest.skip("no chat cartridge: scripts/fetch-chat-model.sh could not fetch SmolLM2-135M-Instruct (see the Swift runner)")
    return model


def test_chat_completion_whole_streamed_and_with_logprobs(client, chat_model):
    models = _models(client)
    assert "chat" in models[chat_model].model_extra["capabilities"]
    messages = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is the capital of France?"}]
    whole = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=12, temperature=0)
    assert whole.object == "chat.completion"
    assert whole.choices[0].message.role == "assistant"
    text = whole.choices[0].message.content
    assert "Paris" in text, text
    assert whole.usage.prompt_tokens > 10 and 1 <= whole.usage.completion_tokens <= 12
    pieces = []
    roles = []
    for chunk in client.chat.completions.create(model=chat_model, messages=messages, max_tokens=12, temperature=0, stream=True):
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            if choice.delta.role:
                roles.append(choice.delta.role)
            if choice.delta.content:
                pieces.append(choice.delta.content)
    assert roles == ["assistant"]
    assert "".join(pieces) == text
    scored = client.chat.completions.create(model=chat_model, messages=messages, max_tokens=12, temperature=0, logprobs=True, top_logprobs=2)
    content = scored.choices[0].logprobs.content
    assert "".join(entry.token for entry in content) == text
    assert all(entry.logprob <= 0 and 1 <= len(entry.top_logprobs) <= 2 for entry in content)
    assert all(entry.top_logprobs[0].token == entry.token for entry in content), "greedy: the chosen token is the most likely"
    other = client.chat.completions.create(
        model=chat_model, max_completion_tokens=8, temperature=0,
        messages=messages + [{"role": "assistant", "content": text}, {"role": "user", "content": "And of Italy?"}])
    assert other.choices[0].message.content


def _slug(name):
    return re.sub(r"[^A-Za-z0-9._]+", "-", name).strip("-")


def test_model_ids_are_slugs_and_names_route(client, base_url, completion_model, chat_model):
    listed = client.models.list().data
    assert all(" " not in model.id for model in listed), [model.id for model in listed]
    chat = next(model for model in listed if model.model_extra["name"] == chat_model)
    assert " " in chat_model, "the SmolLM2 GGUF's general.name has spaces"
    assert chat.id == _slug(chat_model)
    assert client.models.retrieve(chat.id).id == chat.id
    assert client.models.retrieve(chat.id.lower()).id == chat.id
    with urllib.request.urlopen(base_url + "/v1/models/" + urllib.parse.quote(chat_model), timeout=10) as reply:
        assert json.load(reply)["id"] == chat.id
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    answers = [
        client.chat.completions.create(model=name, messages=messages, max_tokens=6, temperature=0)
        for name in (chat.id, chat_model, chat.id.lower())
    ]
    assert all(answer.model == chat.id for answer in answers), "answers name the model by its id"
    assert len({answer.choices[0].message.content for answer in answers}) == 1
    streamed = list(client.chat.completions.create(model=chat_model, messages=messages, max_tokens=3, temperature=0, stream=True))
    assert all(chunk.model == chat.id for chunk in streamed)
    completion = client.completions.create(model=chat.id.upper(), prompt="The capital of France is", max_tokens=3, temperature=0)
    assert completion.model == chat.id
    # The plain names of the other cartridges are their own ids.
    assert client.models.retrieve(completion_model).id == _slug(completion_model)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model=chat.id + "-x", prompt="x", max_tokens=1)


def test_embedding_usage_counts_tokens(client, embedding_model):
    card = _models(client)[embedding_model]
    context = card.model_extra["context_length"]
    # all-MiniLM-L6-v2's WordPiece: [CLS] a cat [SEP] = 4, [CLS] the cat sat on the mat . [SEP] = 9.
    short = client.embeddings.create(model=embedding_model, input=["a cat", "The cat sat on the mat."])
    assert short.usage.prompt_tokens == 13 and short.usage.total_tokens == 13
    assert short.model == card.id
    long = "word " * (context + 50)
    capped = client.embeddings.create(model=embedding_model, input=[long, "a cat"])
    assert capped.usage.prompt_tokens == context + 4, "each input counts at most the model's context length"


def _cli_vectors(bin_dir, sentences):
    output = subprocess.run(
        [os.path.join(bin_dir, "cartridge"), "embed", "--vectors", "--connect", os.environ["GATEWAY_EMBEDDING_CONNECT"], *sentences],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return [[float(value) for value in line.split()] for line in output.strip().splitlines()]


def _float32(values):
    return list(struct.unpack("<%df" % len(values), struct.pack("<%df" % len(values), *values)))


def test_embeddings_equal_the_cli(client, embedding_model, bin_dir):
    sentences = ["The cat sat on the mat.", "Stock markets fell sharply.", "A dog is on a rug!"]
    expected = _cli_vectors(bin_dir, sentences)
    floats = client.embeddings.create(model=embedding_model, input=sentences, encoding_format="float")
    assert [item.index for item in floats.data] == [0, 1, 2]
    # The openai client asks for base64 by default and decodes it itself.
    default = client.embeddings.create(model=embedding_model, input=sentences)
    for got, via_base64, want in zip(floats.data, default.data, expected):
        assert len(got.embedding) == len(want)
        assert got.embedding == pytest.approx(want, abs=1e-5)  # the CLI prints 6 digits
        assert _float32(via_base64.embedding) == _float32(got.embedding), "the same float32 values either way"
    single = client.embeddings.create(model=embedding_model, input=sentences[0], encoding_format="float")
    assert single.data[0].embedding == floats.data[0].embedding


def test_raw_base64_embedding_is_little_endian_float32(base_url, embedding_model):
    request = urllib.request.Request(
        base_url + "/v1/embeddings", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"model": embedding_model, "input": "hello", "encoding_format": "base64"}).encode())
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = json.load(reply)
    raw = base64.b64decode(body["data"][0]["embedding"])
    vector = struct.unpack("<%df" % (len(raw) // 4), raw)
    norm = sum(value * value for value in vector) ** 0.5
    assert abs(norm - 1) < 1e-3, "vectors are L2-normalised"


def test_error_shapes(client, completion_model, embedding_model, base_url):
    with pytest.raises(openai.NotFoundError) as raised:
        client.completions.create(model="no-such-model", prompt="x", max_tokens=1)
    assert raised.value.code == "model_not_found"
    assert raised.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as raised:
        client.completions.create(model=completion_model, prompt="x", max_tokens=0)
    assert raised.value.body["param"] == "max_tokens"
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=completion_model, prompt="x", temperature=5)
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(model=completion_model, input="x")
    assert raised.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=completion_model, messages=[{"role": "wizard", "content": "x"}])
    assert raised.value.body["param"] == "messages[0].role"
    with pytest.raises(openai.APIStatusError) as raised:
        client.embeddings.create(model=embedding_model, input=["x" * 1000] * 6000)
    assert raised.value.status_code == 413
    for body in (b"{", b"[]", b'{"model": 3}'):
        request = urllib.request.Request(base_url + "/v1/completions", data=body, method="POST", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(request, timeout=10)
        assert failure.value.code == 400
        assert json.load(failure.value)["error"]["type"] == "invalid_request_error"


def test_curl_streams_server_sent_events(base_url, completion_model):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed (apt-get install curl)")
    body = json.dumps({"model": completion_model, "prompt": "Once upon a time", "max_tokens": 10, "temperature": 0, "stream": True})
    result = subprocess.run(
        [curl, "-N", "-sS", "--fail-with-body", "-H", "Content-Type: application/json", "-d", body, base_url + "/v1/completions", "-D", "-"],
        capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    head, _, events = result.stdout.decode().partition("\r\n\r\n")
    assert "content-type: text/event-stream" in head.lower()
    lines = [line for line in events.split("\n") if line]
    assert all(line.startswith("data: ") for line in lines), lines
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("length", "stop")
