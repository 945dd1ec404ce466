"""Every frame and field a child sends is hostile: learner code can find the run's nonce
and the result pipe in its own process and write any report it likes. A report that
breaks a bound or a type must end *that run* as a clear error; the server, the client's
reader thread and `tutor run`'s output must survive, and the next run must work."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from sandbox_helpers import assert_recovered

from tutor import present
from tutor.commands import run as run_command
from tutor.sandbox.api import ErrorInfo, RunRequest, RunResult
from tutor.sandbox.client import SandboxClient, _Pending, result_from_json
from tutor.sandbox.protocol import MAGIC, FrameDecoder, ProtocolError, encode
from tutor.sandbox.report import Malformed, report_fields
from tutor.sandbox.sanitize import clean, clean_text

# Learner code that finds what the runner holds in memory (the job with its nonce, and
# the result pipe), writes a report of its own choosing and exits 0 before the runner
# can send the real one: the strongest forgery a child can make.
FORGE = r'''
import json, os, sys
frame = sys._getframe()
while frame is not None and not ("job" in frame.f_locals and "result_fd" in frame.f_locals):
    frame = frame.f_back
job, fd = frame.f_locals["job"], frame.f_locals["result_fd"]
nonce = job.nonce

def send(body):
    data = b"TUT1" + len(body).to_bytes(4, "big") + body
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os._exit(0)

def report(**fields):
    send(json.dumps({"nonce": nonce, "status": "ok", "error": None, **fields}).encode())
'''


def forged(sandbox: SandboxClient, attack: str, timeout: float = 20.0) -> RunResult:
    return sandbox.run(RunRequest(code=FORGE + attack, filename="evil.py", timeout=timeout))


def assert_malformed(result: RunResult, *phrases: str) -> None:
    assert result.status == "error", (result.status, result.error)
    assert result.error is not None and result.error.type == "ProtocolError", result.error
    assert "malformed result" in result.error.message
    for phrase in phrases:
        assert phrase in result.error.message, result.error.message


pytestmark = pytest.mark.slow


# --- the frame itself -------------------------------------------------------------------


def test_the_forgery_itself_works_so_the_attacks_below_mean_something(sandbox: SandboxClient) -> None:
    result = forged(sandbox, "report(variables=[{'name': 'forged', 'type': 'int', 'value': 1, 'preview': '1'}])")
    assert result.status == "ok" and [v["name"] for v in result.variables] == ["forged"]
    assert_recovered(sandbox)


@pytest.mark.parametrize("depth", [100_000, 900, 300])
def test_a_header_nested_deeper_than_the_bound_ends_its_run_only(sandbox: SandboxClient, depth: int) -> None:
    attack = (f"send(b'{{\"nonce\":\"' + nonce.encode() + b'\",\"status\":\"ok\",\"data\":{{\"x\":'"
              f" + b'[' * {depth} + b']' * {depth} + b'}}}}')")
    assert_malformed(forged(sandbox, attack), "nested")
    assert_recovered(sandbox)


def test_a_request_nested_too_deeply_is_refused_before_it_is_sent(sandbox: SandboxClient) -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    result = sandbox.run(RunRequest(task="tutor.sandbox.tasks:echo", params={"deep": deep}))
    assert result.status == "error" and result.error is not None and result.error.type == "RequestError"
    assert_recovered(sandbox)


def test_values_past_the_request_s_result_cap_end_that_run_only(sandbox: SandboxClient) -> None:
    """A grading run's values are capped per request (the judge gets every exercise's
    values at once): past the cap the run fails as too large, the next run is fine."""
    attack = "report(data={'x': 'a' * (3 << 20)})"
    result = sandbox.run(RunRequest(code=FORGE + attack, filename="evil.py", timeout=20.0, max_result_bytes=1 << 20))
    assert result.status == "error" and result.error is not None, result.error
    assert result.error.type == "ResultTooLarge" and "1 MiB" in result.error.message, result.error
    assert_recovered(sandbox)


def test_blobs_past_the_frame_bound_are_refused_before_they_are_sent(sandbox: SandboxClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Five exercises of 440 MB each once made one 2.2 GB request: the server dropped its
    front and every student graded beside lost their runs. The sender refuses instead."""
    from tutor.sandbox import protocol

    monkeypatch.setattr(protocol, "MAX_BLOBS_TOTAL", 1 << 20)
    result = sandbox.run(RunRequest(task="tutor.sandbox.tasks:echo", blobs={"a": b"x" * (1 << 20), "b": b"y"}))
    assert result.status == "error" and result.error is not None and result.error.type == "RequestError"
    assert "more than 1 MiB" in result.error.message
    monkeypatch.undo()
    assert_recovered(sandbox)


def test_a_header_past_the_size_bound_ends_its_run_only(sandbox: SandboxClient) -> None:
    attack = "report(data={'x': 'a' * (25 << 20)})"
    assert_malformed(forged(sandbox, attack), "too large")
    assert_recovered(sandbox)


def test_a_result_that_grows_past_the_wire_once_escaped_ends_its_run_only(sandbox: SandboxClient) -> None:
    """Raw UTF-8 in the child's header (2 bytes a character) comes out as 6-byte JSON
    escapes in the server's answer, with 1 MB of non-ASCII output on top."""
    attack = ("print('é' * 500_000)\n"
              "send(json.dumps({'nonce': nonce, 'status': 'ok', 'data': {'x': 'é' * (11 << 20)}},"
              " ensure_ascii=False).encode())")
    result = forged(sandbox, attack)
    assert_malformed(result, "too large")
    assert result.stdout.startswith("éé")
    assert_recovered(sandbox)


# --- fields of the wrong type -------------------------------------------------------------


WRONG_FIELDS = {
    "variables": ("report(variables=5)", "variables is not a list"),
    "variable-item": ("report(variables=[5])", "variables[0] is not an object"),
    "variable-shape": ("report(variables=[{'name': 't', 'shape': 'big'}])", "variables[0].shape"),
    "variable-name": ("report(variables=[{'name': ['x'], 'type': 'int', 'value': 1}])", "variables[0].name"),
    "isolation-number": ("report(isolation=5)", "isolation is not a list"),
    "isolation-text": ("report(isolation='seccomp')", "isolation is not a list"),
    "isolation-items": ("report(isolation=[1, 2])", "isolation[0]"),
    "error-text": ("report(error='boom')", "error is not an object"),
    "error-type": ("report(error={'type': 5, 'message': 'x'})", "error.type"),
    "truncated": ("report(truncated='yes')", "truncated"),
    "missing-package": ("report(missing_package=['torchvision'])", "missing_package"),
    "data": ("report(data=[1, 2])", "data is not an object"),
    "status": ("report(status='pass')", "unknown status"),
    "module-parameters": ("report(modules=[{'name': 'net', 'parameters': 'lots'}])", "modules[0].parameters"),
    "module-named-parameters": ("report(modules=[{'name': 'net', 'named_parameters': 7}])", "named_parameters"),
    "optimizer-groups": ("report(optimizers=[{'name': 'o', 'param_groups': 'x'}])", "param_groups"),
    "schedule-steps": ("report(schedules=[{'name': 's', 'steps': [[1, 'x']]}])", "schedules[0].steps[0][1]"),
    "series-values": ("report(series=[{'name': 's', 'values': ['abc']}])", "series[0].values[0]"),
}


@pytest.mark.parametrize("name", list(WRONG_FIELDS))
def test_a_field_of_the_wrong_type_ends_its_run_as_an_error(sandbox: SandboxClient, name: str) -> None:
    attack, phrase = WRONG_FIELDS[name]
    assert_malformed(forged(sandbox, attack), phrase)
    assert_recovered(sandbox)


def test_unknown_fields_of_a_forged_report_are_dropped(sandbox: SandboxClient) -> None:
    result = forged(sandbox, "report(resources={'cpu_s': 'lots'}, duration_ms='x', device=['gpu'], extra=1)")
    assert result.status == "ok"
    assert isinstance(result.resources["cpu_s"], float) and isinstance(result.duration_ms, float)
    assert result.device == "cpu"
    assert_recovered(sandbox)


# --- text that cannot be shown --------------------------------------------------------------


def test_lone_surrogates_reach_the_front_replaced(sandbox: SandboxClient) -> None:
    code = "globals()['name\\udc80'] = '\\ud800 value'\nprint('out')\nraise ValueError('bad \\udfff message')\n"
    result = sandbox.run(RunRequest(code=code, filename="evil.py"))
    assert result.status == "error" and result.error is not None
    assert result.error.message == "bad \ufffd message"
    names = [v["name"] for v in result.variables]
    assert "name\ufffd" in names
    json.dumps(result.to_json("evil.py"), ensure_ascii=False).encode("utf-8")  # a report file can hold it
    assert_recovered(sandbox)


def test_lone_surrogates_in_a_forged_report_are_replaced_everywhere(sandbox: SandboxClient) -> None:
    attack = ("send(b'{\"nonce\":\"' + nonce.encode() + b'\",\"status\":\"error\",\"error\":{\"type\":\"E\\\\udc80\","
              "\"message\":\"\\\\ud800\",\"traceback\":\"\"},\"variables\":[{\"name\":\"\\\\udfff\",\"type\":\"int\","
              "\"value\":\"\\\\udc00\",\"preview\":\"\\\\udc01\"}],\"data\":{\"\\\\udc02\":\"\\\\udc03\"}}')")
    result = forged(sandbox, attack)
    assert result.status == "error" and result.error is not None
    text = json.dumps(result.to_json("x.py"), ensure_ascii=False) + json.dumps(result.data, ensure_ascii=False)
    text.encode("utf-8")
    assert "\ufffd" in result.error.type and result.error.message == "\ufffd"
    assert result.variables[0]["name"] == "\ufffd" and result.data == {"\ufffd": "\ufffd"}
    assert_recovered(sandbox)


@pytest.mark.parametrize(("raw", "shown"), [
    ("a\udc80b", "a\ufffdb"),
    ("\ud83d\ude00", "\ufffd\ufffd"),  # a surrogate pair is two lone surrogates in a str
    ("\x1b[31m\udfff\x1b[0m", "\ufffd"),
])
def test_clean_text_replaces_surrogates(raw: str, shown: str) -> None:
    assert clean_text(raw) == shown
    assert clean({raw: [raw]}) == {shown: [shown]}
    shown.encode("utf-8")


# --- the front reads anything without an exception --------------------------------------


def _garbage(rng: random.Random, depth: int = 0) -> object:
    choices = [None, True, 0, -1, 2**70, 1.5, float("nan"), float("inf"), "", "lots", "\udc80", "\x1b[2J"]
    if depth < 3:
        choices += [[_garbage(rng, depth + 1) for _ in range(rng.randrange(4))],
                    {k: _garbage(rng, depth + 1) for k in rng.sample(KEYS, rng.randrange(len(KEYS)))}]
    return rng.choice(choices)


KEYS = ["name", "type", "shape", "dtype", "device", "requires_grad", "grad_fn", "grad", "values", "value",
        "preview", "parameters", "named_parameters", "param_groups", "steps", "lr", "params", "length"]


@pytest.mark.parametrize("seed", range(40))
def test_tutor_run_and_the_panel_rows_format_forged_inspection_data(seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    """What `tutor run` and the app's result panel build from a result, on garbage:
    inspection lists of anything. Surrogates are replaced before rendering, as the
    server does."""
    rng = random.Random(seed)
    fields = {name: [_garbage(rng) for _ in range(rng.randrange(1, 5))]
              for name in ("variables", "modules", "optimizers", "schedules", "series")}
    result = RunResult(status="ok", **clean(fields))
    present.tensor_rows(result.variables)
    present.value_rows(result.variables)
    for module in result.modules:
        if isinstance(module, dict):  # as the panel reads them
            present.module_heading(module)
            present.parameter_table(module)
    present.optimizer_lines(result.optimizers)
    for schedule in result.schedules:
        present.lr_table(schedule)
        present.lr_series(schedule)
    run_command.render(Path("forged.py"), result)
    capsys.readouterr()


def test_the_rows_of_a_forged_module_and_schedule_read_as_question_marks() -> None:
    forged = {"name": "net", "type": "Linear", "parameters": "lots", "named_parameters": 7}
    assert (present.module_heading(forged), present.parameter_table(forged)) == ("net: Linear (? params)", ([], ""))
    assert present.shape_text(5) == "5" and present.shape_text(None) == "-"
    headers, rows = present.lr_table({"steps": [[1, ["x"]], "junk", [2, [0.5]]]})
    assert rows == [("1", "x"), ("2", "0.5")]
    assert present.lr_series({"steps": [[1, ["x"]], [2, [0.5]], [3, [float("inf")]]]}) == [([2.0], [0.5])]
    assert present.optimizer_lines([{"name": "o", "type": "SGD", "param_groups": ["x", {"lr": "fast"}]}]) == \
        ["o: SGD  group 0: lr=fast"]


def test_tutor_run_renders_a_path_with_undecodable_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    run_command.render(Path("bad\udcff.py"), RunResult(status="ok", stdout="x\n"))
    assert "bad\ufffd.py" in capsys.readouterr().out


# --- the client: one bad answer fails one run, never the reader ---------------------------


@pytest.mark.parametrize("seed", range(40))
def test_result_from_json_reads_any_json_without_an_exception(seed: int) -> None:
    rng = random.Random(seed)
    data = {key: _garbage(rng) for key in ("status", "stdout", "error", "duration_ms", "device", "isolation",
                                             "resources", "variables", "modules", "data", "truncated",
                                             "missing_package")}
    result = result_from_json(data)
    assert result.status in ("ok", "error", "timeout", "killed")
    assert isinstance(result.stdout, str) and isinstance(result.duration_ms, float)
    assert all(isinstance(v, dict) for v in result.variables)
    assert result.error is None or isinstance(result.error, ErrorInfo)
    result_from_json(_garbage(rng))


def test_an_answer_with_fields_of_the_wrong_type_is_read_by_type_and_the_reader_goes_on() -> None:
    client = SandboxClient(device="cpu")
    good, bad = _Pending(None), _Pending(None)  # type: ignore[arg-type]
    client._pending.update({1: bad, 2: good})
    client._dispatch({"op": "result", "id": 1, "result": {"status": "ok", "variables": 5, "error": 7}}, {})
    client._dispatch({"op": "result", "id": [2], "result": {}}, {})  # an id that is no run's
    client._dispatch({"op": "result", "id": 2, "result": {"status": "ok", "stdout": "4\n"}}, {})
    assert bad.done.is_set() and bad.result is not None and bad.result.variables == [] and bad.result.error is None
    assert good.done.is_set() and good.result is not None and good.result.stdout == "4\n"


# --- the wire format ------------------------------------------------------------------------


def test_the_decoder_refuses_deep_nesting_without_a_recursion_error() -> None:
    header = b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ProtocolError, match="nested"):
        FrameDecoder().feed(MAGIC + len(header).to_bytes(4, "big") + header)
    shallow = b'{"x":' + b"[" * 20 + b"]" * 20 + b"}"
    with pytest.raises(ProtocolError, match="nested more than 10"):
        FrameDecoder(max_depth=10).feed(MAGIC + len(shallow).to_bytes(4, "big") + shallow)
    with pytest.raises(ProtocolError, match="too large"):
        FrameDecoder(max_header=10).feed(MAGIC + len(shallow).to_bytes(4, "big") + shallow)


def test_encoding_refuses_what_the_peer_would_refuse() -> None:
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ProtocolError, match="nested"):
        encode({"x": deep})
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ProtocolError, match="nested"):
        encode({"x": deep})


def test_report_fields_keep_an_honest_report_as_it_is() -> None:
    honest = {
        "status": "error", "error": {"type": "ValueError", "message": "m", "traceback": "t", "line": 3},
        "isolation": ["seccomp"], "truncated": False, "missing_package": None,
        "variables": [{"name": "t", "type": "Tensor", "shape": [2], "dtype": "float32", "device": "cpu",
                       "requires_grad": False, "is_leaf": True, "grad_fn": None, "grad": None,
                       "values": [1.0, "nan"], "preview": "tensor([1., nan])"}],
        "modules": [{"name": "m", "type": "Linear", "parameters": 3, "trainable": 3,
                     "named_parameters": [{"name": "weight", "shape": [1, 2], "requires_grad": True}],
                     "buffers": [], "preview": "Linear()"}],
        "optimizers": [{"name": "o", "type": "SGD", "param_groups": [{"lr": 0.1, "params": 2}]}],
        "schedules": [{"name": "s", "type": "StepLR", "steps": [[1, [0.1]]]}],
        "series": [{"name": "losses", "values": [1.0, 0.5, "inf"]}],
        "data": {"anything": [1, {"x": None}]},
    }
    assert report_fields(honest) == honest
    with pytest.raises(Malformed, match="error.line"):
        report_fields({**honest, "error": {**honest["error"], "line": True}})


def test_a_surrogate_in_a_header_survives_the_wire_as_data() -> None:
    (frame,) = FrameDecoder().feed(encode({"m": "\udc80"}))
    assert frame.header == {"m": "\udc80"}
    assert clean(frame.header) == {"m": "\ufffd"}
    io.StringIO().write(clean_text(frame.header["m"]))
