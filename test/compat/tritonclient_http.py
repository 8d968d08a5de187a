#!/usr/bin/env python3
"""Wire-compatibility check: the stock Triton Python HTTP client against a
running MaaS server that serves the demo repository (models `mlp`, `identity`).

    PYTHONPATH=.pyenv-compat/site python3 test/compat/tritonclient_http.py http://127.0.0.1:8000

We did not write tritonclient, so every call here exercises the wire format as
real users send it (binary tensor extension by default, JSON on request).
Each check runs on its own; the last line is "N passed, M failed" and the exit
code is 1 when anything failed (2 on bad usage).
"""
import sys
import traceback

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

MLP_FEATURES = 784
MLP_CLASSES = 10
IDENTITY_WIDTH = 16
# The engine computes in float32; a softmax row may drift from 1 by a few ulps.
SUM_TOLERANCE = 1e-5
ASYNC_REQUESTS = 16


def host_port(url):
    # tritonclient wants "host:port", without a scheme.
    for prefix in ("http://", "https://"):
        if url.startswith(prefix):
            url = url[len(prefix):]
    return url.rstrip("/")


def mlp_batch(rows, seed):
    return np.random.default_rng(seed).random((rows, MLP_FEATURES), dtype=np.float32)


def mlp_input(batch, binary_data=True):
    tensor = httpclient.InferInput("input", list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch, binary_data=binary_data)
    return tensor


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_probabilities(probs, rows):
    expect(probs.dtype == np.float32, f"probabilities dtype {probs.dtype}, want float32")
    expect(probs.shape == (rows, MLP_CLASSES), f"probabilities shape {probs.shape}, want {(rows, MLP_CLASSES)}")
    expect(np.all(np.isfinite(probs)) and np.all(probs >= 0), "probabilities must be finite and >= 0")
    sums = probs.sum(axis=1, dtype=np.float64)
    expect(np.allclose(sums, 1.0, atol=SUM_TOLERANCE), f"rows must sum to 1, got {sums}")


class Checks:
    def __init__(self, client):
        self.client = client
        self.passed = 0
        self.failed = 0

    def run(self, name, fn):
        try:
            fn(self.client)
        except Exception as err:  # one failing check must not hide the others
            self.failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}")
            traceback.print_exc(limit=3, file=sys.stdout)
        else:
            self.passed += 1
            print(f"ok   {name}")


def check_health(client):
    expect(client.is_server_live(), "is_server_live() is False")
    expect(client.is_server_ready(), "is_server_ready() is False")
    expect(client.is_model_ready("mlp"), "is_model_ready('mlp') is False")
    expect(client.is_model_ready("identity"), "is_model_ready('identity') is False")


def check_server_metadata(client):
    meta = client.get_server_metadata()
    expect(isinstance(meta.get("name"), str) and meta["name"], f"server name missing: {meta}")
    expect(isinstance(meta.get("version"), str), f"server version missing: {meta}")
    extensions = meta.get("extensions")
    expect(isinstance(extensions, list), f"extensions must be a list: {meta}")
    # We serve binary tensors, so we must say so (clients may look before using it).
    expect("binary_tensor_data" in extensions, f"'binary_tensor_data' not in extensions {extensions}")


def check_model_metadata(client):
    meta = client.get_model_metadata("mlp")
    expect(meta.get("name") == "mlp", f"name {meta.get('name')!r}")
    expect(isinstance(meta.get("platform"), str), "platform must be a string")
    versions = meta.get("versions", [])
    expect(all(isinstance(v, str) for v in versions), f"versions must be strings: {versions}")
    (inp,) = meta["inputs"]
    (out,) = meta["outputs"]
    expect(inp == {"name": "input", "datatype": "FP32", "shape": [-1, MLP_FEATURES]}, f"input {inp}")
    expect(out == {"name": "probabilities", "datatype": "FP32", "shape": [-1, MLP_CLASSES]}, f"output {out}")


def check_model_config(client):
    config = client.get_model_config("mlp")
    # Triton returns the config object itself (older servers wrapped it in "config").
    config = config.get("config", config)
    expect(config.get("name") == "mlp", f"config name {config.get('name')!r}")
    expect(int(config.get("max_batch_size", 0)) >= 1, f"max_batch_size {config.get('max_batch_size')!r}")
    expect("dynamic_batching" in config, "mlp config must carry dynamic_batching")


def check_infer_binary(client):
    batch = mlp_batch(4, seed=1)
    # Client defaults: binary input blob, binary_data_output=true (no outputs listed).
    result = client.infer("mlp", [mlp_input(batch)])
    output = result.get_output("probabilities")
    expect(output is not None, "no 'probabilities' output")
    expect("data" not in output, "output was JSON but the client asked for binary")
    expect(output.get("parameters", {}).get("binary_data_size") == 4 * MLP_CLASSES * 4,
           f"binary_data_size {output.get('parameters')}")
    probs = result.as_numpy("probabilities")
    expect_probabilities(probs, 4)
    again = client.infer("mlp", [mlp_input(batch)]).as_numpy("probabilities")
    expect(np.array_equal(np.argmax(probs, axis=1), np.argmax(again, axis=1)), "argmax differs between two calls")


def check_infer_json(client):
    batch = mlp_batch(3, seed=2)
    outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=False)]
    result = client.infer("mlp", [mlp_input(batch, binary_data=False)], outputs=outputs, request_id="json-1")
    response = result.get_response()
    expect(response.get("model_name") == "mlp", f"model_name {response.get('model_name')!r}")
    expect(response.get("id") == "json-1", f"id not echoed: {response.get('id')!r}")
    output = result.get_output("probabilities")
    expect(isinstance(output.get("data"), list), "output must carry JSON 'data'")
    expect(output.get("datatype") == "FP32", f"datatype {output.get('datatype')!r}")
    probs = result.as_numpy("probabilities")
    expect_probabilities(probs, 3)
    binary = client.infer("mlp", [mlp_input(batch)]).as_numpy("probabilities")
    expect(np.array_equal(np.argmax(probs, axis=1), np.argmax(binary, axis=1)), "JSON and binary argmax differ")
    expect(np.allclose(probs, binary, atol=1e-6), "JSON and binary results differ")


def identity_roundtrip(client, binary_data):
    data = np.random.default_rng(3).standard_normal((5, IDENTITY_WIDTH)).astype(np.float32)
    data[0, :4] = [0.1, -0.0, 3.4028235e38, 1.1754944e-38]  # values a lossy float path would change
    tensor = httpclient.InferInput("input", list(data.shape), "FP32")
    tensor.set_data_from_numpy(data, binary_data=binary_data)
    outputs = [httpclient.InferRequestedOutput("output", binary_data=binary_data)]
    got = client.infer("identity", [tensor], outputs=outputs).as_numpy("output")
    expect(got.dtype == np.float32 and got.shape == data.shape, f"got {got.dtype} {got.shape}")
    expect(np.array_equal(got, data), f"identity changed the data (binary_data={binary_data})")


def check_identity_binary(client):
    identity_roundtrip(client, binary_data=True)


def check_identity_json(client):
    identity_roundtrip(client, binary_data=False)


def check_async_infer(client):
    rows = mlp_batch(ASYNC_REQUESTS, seed=4)
    reference = client.infer("mlp", [mlp_input(rows)]).as_numpy("probabilities")
    pending = [
        client.async_infer("mlp", [mlp_input(rows[i:i + 1])], request_id=f"async-{i}")
        for i in range(ASYNC_REQUESTS)
    ]
    for i, request in enumerate(pending):
        result = request.get_result(timeout=30)
        expect(result.get_response().get("id") == f"async-{i}", f"request {i}: id {result.get_response().get('id')!r}")
        probs = result.as_numpy("probabilities")
        expect_probabilities(probs, 1)
        # Whatever batch the server formed, each caller gets its own row back.
        expect(np.allclose(probs[0], reference[i], atol=1e-5), f"request {i}: result is not its own row")


def check_statistics(client):
    stats = client.get_inference_statistics("mlp")
    model_stats = stats.get("model_stats")
    expect(isinstance(model_stats, list) and model_stats, f"model_stats missing: {stats}")
    entry = next((s for s in model_stats if s.get("name") == "mlp"), None)
    expect(entry is not None, f"no stats entry for mlp: {model_stats}")
    expect(int(entry.get("inference_count", 0)) > 0, f"inference_count {entry.get('inference_count')!r}")
    success = entry.get("inference_stats", {}).get("success", {})
    expect(int(success.get("count", 0)) > 0, f"inference_stats.success {success}")


def check_unknown_model(client):
    for call in (lambda: client.get_model_metadata("no_such_model"),
                 lambda: client.infer("no_such_model", [mlp_input(mlp_batch(1, seed=5))])):
        try:
            call()
        except InferenceServerException as err:
            expect(err.status() == "404", f"status {err.status()!r}, want '404' ({err.message()})")
            expect(err.message(), "error message is empty")
        else:
            raise AssertionError("unknown model did not raise InferenceServerException")


def check_bad_shape(client):
    wrong = np.zeros((1, MLP_FEATURES - 1), dtype=np.float32)
    tensor = httpclient.InferInput("input", list(wrong.shape), "FP32")
    tensor.set_data_from_numpy(wrong)
    try:
        client.infer("mlp", [tensor])
    except InferenceServerException as err:
        expect(err.status() == "400", f"status {err.status()!r}, want '400' ({err.message()})")
        # Any 400 would pass above (e.g. a model that failed to load); make sure it is the shape.
        expect("shape" in err.message().lower(), f"400 does not name the shape: {err.message()}")
    else:
        raise AssertionError("a [1,783] input to mlp did not raise InferenceServerException")


CHECKS = [
    ("server and model health", check_health),
    ("get_server_metadata", check_server_metadata),
    ("get_model_metadata('mlp')", check_model_metadata),
    ("get_model_config('mlp')", check_model_config),
    ("infer mlp, binary in/out (client default)", check_infer_binary),
    ("infer mlp, JSON in/out (binary_data=False)", check_infer_json),
    ("infer identity, binary, exact", check_identity_binary),
    ("infer identity, JSON, exact", check_identity_json),
    (f"async_infer x{ASYNC_REQUESTS} on mlp", check_async_infer),
    ("get_inference_statistics('mlp')", check_statistics),
    ("unknown model -> 404", check_unknown_model),
    ("wrong input shape -> 400", check_bad_shape),
]


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} http://HOST:PORT", file=sys.stderr)
        return 2
    client = httpclient.InferenceServerClient(
        host_port(argv[1]), concurrency=ASYNC_REQUESTS, connection_timeout=10.0, network_timeout=30.0)
    checks = Checks(client)
    try:
        for name, fn in CHECKS:
            checks.run(name, fn)
    finally:
        client.close()
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
