#!/usr/bin/env python3
"""Wire-compatibility check: the stock Triton Python gRPC client (and the
service stubs NVIDIA ships compiled inside it) against a running MaaS server
that serves the demo repository (models `mlp`, `identity`, and the
decoupled `counter`).

    PYTHONPATH=.pyenv-compat/site python3 test/compat/tritonclient_grpc.py \
        127.0.0.1:8001 http://127.0.0.1:8000 MAX_MESSAGE_BYTES

The HTTP address is the same server's: gRPC answers are compared with the
HTTP front end's on the same inputs. MAX_MESSAGE_BYTES is the server's body
limit (a message above it must be refused, and the server keep serving).
The last line is "N passed, M failed"; the exit code is 1 when anything failed.
"""
import queue
import sys
import traceback

import grpc
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

MLP_FEATURES = 784
MLP_CLASSES = 10
IDENTITY_WIDTH = 16
ASYNC_REQUESTS = 16
STREAM_REQUESTS = 24
TIMEOUT_S = 30


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_status(call, status, needle=None):
    """call() must raise InferenceServerException with this gRPC status."""
    try:
        call()
    except InferenceServerException as err:
        expect(err.status() == f"StatusCode.{status}", f"status {err.status()!r}, want {status} ({err.message()})")
        if needle:
            expect(needle in err.message().lower(), f"message does not name {needle!r}: {err.message()}")
        return err
    raise AssertionError(f"expected {status}, the call succeeded")


def mlp_batch(rows, seed):
    return np.random.default_rng(seed).random((rows, MLP_FEATURES), dtype=np.float32)


def infer_input(name, data, datatype="FP32"):
    tensor = grpcclient.InferInput(name, list(data.shape), datatype)
    tensor.set_data_from_numpy(data)
    return tensor


class Ctx:
    def __init__(self, grpc_url, http_url, max_message_bytes):
        self.grpc_url = grpc_url
        self.client = grpcclient.InferenceServerClient(grpc_url)
        self.http = httpclient.InferenceServerClient(http_url.split("://", 1)[-1])
        self.channel = grpc.insecure_channel(grpc_url, options=[("grpc.max_send_message_length", -1)])
        self.stub = service_pb2_grpc.GRPCInferenceServiceStub(self.channel)
        self.max_message_bytes = max_message_bytes

    def close(self):
        self.client.close()
        self.http.close()
        self.channel.close()


def check_health(ctx):
    c = ctx.client
    expect(c.is_server_live(), "is_server_live() is False")
    expect(c.is_server_ready(), "is_server_ready() is False")
    expect(c.is_model_ready("mlp"), "is_model_ready('mlp') is False")
    expect(c.is_model_ready("identity", "1"), "is_model_ready('identity', '1') is False")
    expect_status(lambda: c.is_model_ready("no_such_model"), "NOT_FOUND")
    # grpc.health.v1.Health/Check, by hand: an empty request; SERVING is field 1 = 1.
    check = ctx.channel.unary_unary("/grpc.health.v1.Health/Check")
    expect(check(b"", timeout=TIMEOUT_S) == b"\x08\x01", "health Check is not SERVING")


def check_server_metadata(ctx):
    meta = ctx.client.get_server_metadata(as_json=True)
    expect(meta.get("name") == "maas", f"name {meta.get('name')!r}")
    expect(isinstance(meta.get("version"), str), f"version {meta}")
    expect(meta.get("extensions") == ctx.http.get_server_metadata()["extensions"], "extensions differ from HTTP's")


def check_model_metadata(ctx):
    meta = ctx.client.get_model_metadata("mlp")  # the protobuf message itself
    expect(meta.name == "mlp" and list(meta.versions) == ["1"], f"name/versions {meta.name} {meta.versions}")
    (inp,) = meta.inputs
    (out,) = meta.outputs
    expect((inp.name, inp.datatype, list(inp.shape)) == ("input", "FP32", [-1, MLP_FEATURES]), f"input {inp}")
    expect((out.name, out.datatype, list(out.shape)) == ("probabilities", "FP32", [-1, MLP_CLASSES]), f"output {out}")
    expect_status(lambda: ctx.client.get_model_metadata("no_such_model"), "NOT_FOUND")


def check_model_config(ctx):
    config = ctx.client.get_model_config("mlp").config
    expect(config.name == "mlp" and config.max_batch_size == 32, f"config {config}")
    expect(list(config.dynamic_batching.preferred_batch_size) == [8, 16, 32], f"dynamic_batching {config}")
    expect(config.input[0].name == "input" and config.input[0].data_type == 11, f"input {config.input}")  # TYPE_FP32
    expect(config.instance_group[0].kind == 2, f"instance_group {config.instance_group}")  # KIND_CPU


def check_infer_matches_http(ctx):
    batch = mlp_batch(4, seed=1)
    result = ctx.client.infer("mlp", [infer_input("input", batch)], request_id="grpc-1")
    response = result.get_response()
    expect(response.id == "grpc-1" and response.model_name == "mlp", f"id/model {response.id} {response.model_name}")
    expect(len(response.raw_output_contents) == 1, "the answer must use raw_output_contents")
    probs = result.as_numpy("probabilities")
    expect(probs.shape == (4, MLP_CLASSES) and probs.dtype == np.float32, f"got {probs.dtype} {probs.shape}")
    tensor = httpclient.InferInput("input", list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch)
    over_http = ctx.http.infer("mlp", [tensor]).as_numpy("probabilities")
    expect(np.array_equal(probs, over_http), "gRPC and HTTP answers differ on the same input")


def check_identity_exact(ctx):
    data = np.random.default_rng(3).standard_normal((5, IDENTITY_WIDTH)).astype(np.float32)
    data[0, :4] = [0.1, -0.0, 3.4028235e38, 1.1754944e-38]
    outputs = [grpcclient.InferRequestedOutput("output")]
    got = ctx.client.infer("identity", [infer_input("input", data)], outputs=outputs).as_numpy("output")
    expect(got.dtype == np.float32 and np.array_equal(got, data), "identity changed the data")


def typed_request(data, model="identity"):
    request = service_pb2.ModelInferRequest(model_name=model, id="typed")
    tensor = request.inputs.add(name="input", datatype="FP32", shape=list(data.shape))
    tensor.contents.fp32_contents.extend(data.flatten().tolist())
    return request


def check_typed_contents(ctx):
    data = np.arange(2 * IDENTITY_WIDTH, dtype=np.float32).reshape(2, IDENTITY_WIDTH) / 7
    response = ctx.stub.ModelInfer(typed_request(data), timeout=TIMEOUT_S)
    expect(response.id == "typed" and len(response.raw_output_contents) == 1, f"response {response}")
    got = np.frombuffer(response.raw_output_contents[0], dtype=np.float32).reshape(list(response.outputs[0].shape))
    expect(np.array_equal(got, data), "typed contents did not round-trip")


def expect_rpc_error(call, code, needle=None):
    try:
        call()
    except grpc.RpcError as err:
        expect(err.code() == code, f"code {err.code()}, want {code} ({err.details()})")
        if needle:
            expect(needle in (err.details() or "").lower(), f"details do not name {needle!r}: {err.details()}")
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def check_bad_requests(ctx):
    c = ctx.client
    row = mlp_batch(1, seed=5)
    expect_status(lambda: c.infer("no_such_model", [infer_input("input", row)]), "NOT_FOUND")
    expect_status(lambda: c.infer("mlp", [infer_input("input", row[:, :-1])]), "INVALID_ARGUMENT", "shape")
    expect_status(lambda: c.infer("mlp", [infer_input("input", row.astype(np.float64), "FP64")]), "INVALID_ARGUMENT",
                  "datatype")
    expect_status(lambda: c.infer("mlp", [infer_input("wrong_name", row)]), "INVALID_ARGUMENT")
    # Raw and typed contents mixed in one request.
    mixed = typed_request(np.zeros((1, IDENTITY_WIDTH), dtype=np.float32))
    mixed.raw_input_contents.append(np.zeros(IDENTITY_WIDTH, dtype=np.float32).tobytes())
    expect_rpc_error(lambda: ctx.stub.ModelInfer(mixed, timeout=TIMEOUT_S), grpc.StatusCode.INVALID_ARGUMENT, "mixed")
    # Raw bytes that do not match the shape.
    short = service_pb2.ModelInferRequest(model_name="identity")
    short.inputs.add(name="input", datatype="FP32", shape=[1, IDENTITY_WIDTH])
    short.raw_input_contents.append(b"\0" * 10)
    expect_rpc_error(lambda: ctx.stub.ModelInfer(short, timeout=TIMEOUT_S), grpc.StatusCode.INVALID_ARGUMENT, "bytes")
    # Bytes that are not a protobuf message at all.
    garbage = ctx.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
    expect_rpc_error(lambda: garbage(b"\xff\xff\xff\xff\x0f\x0a", timeout=TIMEOUT_S), grpc.StatusCode.INVALID_ARGUMENT,
                     "protobuf")
    expect(c.is_server_ready(), "the server stopped being ready after bad requests")


def check_oversized_message(ctx):
    rows = ctx.max_message_bytes // (MLP_FEATURES * 4) + 1
    big = service_pb2.ModelInferRequest(model_name="mlp")
    big.inputs.add(name="input", datatype="FP32", shape=[rows, MLP_FEATURES])
    big.raw_input_contents.append(b"\0" * (rows * MLP_FEATURES * 4))
    expect_rpc_error(lambda: ctx.stub.ModelInfer(big, timeout=TIMEOUT_S), grpc.StatusCode.RESOURCE_EXHAUSTED)
    # Just under the limit is served (here: refused by the model's max_batch_size, not by size).
    rows = (ctx.max_message_bytes - 4096) // (MLP_FEATURES * 4)
    fits = service_pb2.ModelInferRequest(model_name="mlp")
    fits.inputs.add(name="input", datatype="FP32", shape=[rows, MLP_FEATURES])
    fits.raw_input_contents.append(b"\0" * (rows * MLP_FEATURES * 4))
    expect_rpc_error(lambda: ctx.stub.ModelInfer(fits, timeout=TIMEOUT_S), grpc.StatusCode.INVALID_ARGUMENT,
                     "max_batch_size")
    expect(ctx.client.infer("mlp", [infer_input("input", mlp_batch(1, 6))]) is not None, "not serving after")


def check_async_infer(ctx):
    rows = mlp_batch(ASYNC_REQUESTS, seed=4)
    reference = ctx.client.infer("mlp", [infer_input("input", rows)]).as_numpy("probabilities")
    answers = queue.Queue()
    for i in range(ASYNC_REQUESTS):
        ctx.client.async_infer("mlp", [infer_input("input", rows[i:i + 1])],
                               callback=lambda result, error, i=i: answers.put((i, result, error)),
                               request_id=f"async-{i}")
    for _ in range(ASYNC_REQUESTS):
        i, result, error = answers.get(timeout=TIMEOUT_S)
        expect(error is None, f"request {i}: {error}")
        expect(result.get_response().id == f"async-{i}", f"request {i}: id {result.get_response().id}")
        expect(np.allclose(result.as_numpy("probabilities")[0], reference[i], atol=1e-5), f"request {i}: wrong row")


def check_stream(ctx):
    rows = mlp_batch(STREAM_REQUESTS, seed=7)
    reference = ctx.client.infer("mlp", [infer_input("input", rows)]).as_numpy("probabilities")
    answers = queue.Queue()
    client = grpcclient.InferenceServerClient(ctx.grpc_url)
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    try:
        for i in range(STREAM_REQUESTS):
            if i == 5:  # a failing request in the middle: an error answer, the stream stays open
                client.async_stream_infer("no_such_model", [infer_input("input", rows[:1])], request_id="bad")
            client.async_stream_infer("mlp", [infer_input("input", rows[i:i + 1])], request_id=f"s-{i}")
        seen = set()
        errors = []
        for _ in range(STREAM_REQUESTS + 1):
            result, error = answers.get(timeout=TIMEOUT_S)
            if error is not None:
                errors.append(error)
                continue
            response = result.get_response()
            i = int(response.id.split("-")[1])
            expect(response.parameters["triton_final_response"].bool_param, f"{response.id}: not final")
            expect(np.allclose(result.as_numpy("probabilities")[0], reference[i], atol=1e-5), f"{response.id} wrong")
            seen.add(i)
        expect(seen == set(range(STREAM_REQUESTS)), f"answers for {sorted(seen)}")
        expect(len(errors) == 1 and "no_such_model" in errors[0].message(), f"errors {errors}")
    finally:
        client.stop_stream()
        client.close()


def check_stream_disconnect(ctx):
    # A client that goes away with requests in flight: the server drops them and keeps serving.
    client = grpcclient.InferenceServerClient(ctx.grpc_url)
    client.start_stream(callback=lambda result, error: None)
    batch = mlp_batch(32, seed=8)
    for i in range(64):
        client.async_stream_infer("mlp", [infer_input("input", batch)], request_id=f"gone-{i}")
    client.stop_stream(cancel_requests=True)
    client.close()
    expect(ctx.client.is_server_ready(), "not ready after a client left mid-stream")
    probs = ctx.client.infer("mlp", [infer_input("input", mlp_batch(2, 9))]).as_numpy("probabilities")
    expect(probs.shape == (2, MLP_CLASSES), "not serving after a client left mid-stream")


def check_decoupled_stream(ctx):
    # The decoupled demo model answers 1..n on the stream, the final flag on the last only;
    # unary infer refuses it as Triton does.
    n = 4
    answers = queue.Queue()
    client = grpcclient.InferenceServerClient(ctx.grpc_url)
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    try:
        count = infer_input("n", np.array([n], dtype=np.int32), "INT32")
        client.async_stream_infer("counter", [count], request_id="count")
        got = []
        for _ in range(n):
            result, error = answers.get(timeout=TIMEOUT_S)
            expect(error is None, f"stream error {error}")
            response = result.get_response()
            expect(response.id == "count", f"id {response.id}")
            got.append((int(result.as_numpy("count")[0]), response.parameters["triton_final_response"].bool_param))
        expect(got == [(k, k == n) for k in range(1, n + 1)], f"answers {got}")
        expect(answers.empty(), "an answer after the final one")
    finally:
        client.stop_stream()
        client.close()
    count = infer_input("n", np.array([2], dtype=np.int32), "INT32")
    expect_status(lambda: ctx.client.infer("counter", [count]), "UNIMPLEMENTED", "decoupled")


def check_statistics_and_index(ctx):
    stats = ctx.client.get_inference_statistics("mlp")
    (entry,) = [s for s in stats.model_stats if s.name == "mlp"]
    expect(entry.inference_count > 0 and entry.inference_stats.success.count > 0, f"stats {entry}")
    index = ctx.client.get_model_repository_index()
    states = {(m.name, m.state) for m in index.models}
    expect(("mlp", "READY") in states and ("identity", "READY") in states, f"index {states}")
    expect_status(lambda: ctx.client.load_model("mlp"), "FAILED_PRECONDITION", "explicit")


CHECKS = [
    ("health, model readiness, grpc.health.v1", check_health),
    ("get_server_metadata", check_server_metadata),
    ("get_model_metadata", check_model_metadata),
    ("get_model_config", check_model_config),
    ("infer mlp (raw) == HTTP's answer", check_infer_matches_http),
    ("infer identity, exact", check_identity_exact),
    ("typed contents (fp32_contents)", check_typed_contents),
    ("bad requests -> status codes", check_bad_requests),
    ("oversized message -> RESOURCE_EXHAUSTED", check_oversized_message),
    (f"async_infer x{ASYNC_REQUESTS}", check_async_infer),
    (f"stream x{STREAM_REQUESTS} with an error inside", check_stream),
    ("client leaves mid-stream", check_stream_disconnect),
    ("decoupled counter: n stream answers, unary refused", check_decoupled_stream),
    ("statistics, repository index, load refused", check_statistics_and_index),
]


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} HOST:GRPC_PORT http://HOST:HTTP_PORT MAX_MESSAGE_BYTES", file=sys.stderr)
        return 2
    ctx = Ctx(argv[1], argv[2], int(argv[3]))
    passed = failed = 0
    try:
        for name, fn in CHECKS:
            try:
                fn(ctx)
            except Exception as err:  # one failing check must not hide the others
                failed += 1
                print(f"FAIL {name}: {type(err).__name__}: {err}")
                traceback.print_exc(limit=3, file=sys.stdout)
            else:
                passed += 1
                print(f"ok   {name}")
    finally:
        ctx.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
