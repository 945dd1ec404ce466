"""The artifact kind (``artifact = "ckpt.pt"``, ``keys``, ``format``): a file the solution
wrote in its working directory, read back in the judge (``torch.load`` with
``weights_only=True``, JSON or text) and compared with the reference's file."""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table, strings_list

if TYPE_CHECKING:
    from tutor.values.compare import Difference

FORMATS = ("torch", "json", "text")
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".tar")
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ArtifactSpec(Spec):
    path: str = ""
    keys: tuple[str, ...] = ()
    format: str = "torch"


class Artifact(CheckKind):
    name = "artifact"
    keys = ("artifact", "keys", "format")
    spec_type = ArtifactSpec
    claims_value = True

    def parse(self, table: Table, common: Common, fail: Fail) -> ArtifactSpec | None:
        path = table.get("artifact")
        where = f"check '{common.name}'"
        if path is None:
            for key in ("keys", "format"):
                if key in table:
                    raise fail(f"{where}: '{key}' belongs to an 'artifact' check", key)
            return None
        if not isinstance(path, str) or not path.strip() or PurePosixPath(path).is_absolute() \
                or ".." in PurePosixPath(path).parts:
            raise fail(f"{where}: 'artifact' must be a relative file name inside the run's directory, such as \"ckpt.pt\"",
                       "artifact")
        keys = table.get("keys", [])
        if not strings_list(keys):
            raise fail(f"{where}: 'keys' must be a list of strings", "keys")
        pure = PurePosixPath(path)
        default = "torch" if pure.suffix in TORCH_SUFFIXES else "json" if pure.suffix == ".json" else "text"
        fmt = table.get("format", default)
        if fmt not in FORMATS:
            raise fail(f"{where}: 'format' must be one of {', '.join(FORMATS)}", "format")
        if keys and fmt == "text":
            raise fail(f"{where}: 'keys' need a torch or json artifact", "keys")
        return ArtifactSpec(path, tuple(keys), str(fmt))

    def prepare(self, spec: ArtifactSpec, probe: Probe) -> None:
        # Every seed runs the file again in the same directory: a file an earlier seed
        # wrote must not count for this one.
        try:
            os.unlink(spec.path)
        except OSError:
            pass

    def collect(self, spec: ArtifactSpec, probe: Probe, state: Any) -> Any:
        try:
            fd = os.open(spec.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            return {"missing": exc.strerror or str(exc)}
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return {"missing": "not a regular file"}
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return {"too_large": True}
        return {"blob": probe.encoder.add_blob(raw)}

    def judge(self, spec: ArtifactSpec, sides: Sides) -> Difference | None:
        from tutor.values.compare import Difference, compare_values
        from tutor.values.encode import BadData, Tagged

        what = spec.path
        expected = _load(spec, sides.expected, sides.expected_blobs)
        if isinstance(expected, Difference):
            raise BadData(f"the reference's {what}: {expected.message}")
        got = _load(spec, sides.got, sides.got_blobs)
        if isinstance(got, Difference):
            return got
        if not spec.keys:
            return compare_values(expected, got, what, set(), sides.rtol, sides.atol)
        if not (isinstance(got, Tagged) and got.kind == "dict"):
            return Difference(what, f"{what}: expected a dict with keys {list(spec.keys)}, got {_kind(got)}",
                              str(list(spec.keys)), _kind(got), {"what": what})
        assert isinstance(expected, Tagged)
        missing = [k for k in spec.keys if k not in got.value]
        if missing:
            return Difference(what, f"{what} has no key {', '.join(map(repr, missing))} (it has: {', '.join(map(repr, got.value))})",
                              str(list(spec.keys)), str(list(got.value)), {"what": what})
        for key in spec.keys:
            if key not in expected.value:
                raise BadData(f"the reference's {what} has no key {key!r}")
            diff = compare_values(expected.value[key], got.value[key], f"{what}[{key!r}]", set(), sides.rtol, sides.atol)
            if diff:
                return diff
        return None


def _load(spec: ArtifactSpec, data: Any, blobs: dict[str, bytes]) -> Any:
    """The file's content, decoded for comparison, or a :class:`Difference` saying why not."""
    from tutor.values.compare import Difference
    from tutor.values.encode import BadData, Encoder, decode

    what = spec.path
    if not isinstance(data, dict):
        raise BadData("malformed artifact data")
    if "missing" in data:
        return Difference(what, f"{what} was not written in the run's directory ({str(data['missing'])[:100]})",
                          f"a file {what}", "no file", {"what": what})
    if data.get("too_large"):
        return Difference(what, f"{what} is larger than {MAX_BYTES // (1024 * 1024)} MB", "a small file", "too large", {"what": what})
    key = data.get("blob")
    raw = blobs.get(key) if isinstance(key, str) else None
    if raw is None or len(raw) > MAX_BYTES:
        raise BadData("artifact bytes missing")
    try:
        if spec.format == "torch":
            import torch

            content = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
        elif spec.format == "json":
            content = json.loads(raw.decode("utf-8"))
        else:
            content = raw.decode("utf-8", "replace")
    except Exception as exc:  # noqa: BLE001 - a learner's file may hold anything
        how = "torch.load(weights_only=True)" if spec.format == "torch" else spec.format
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return Difference(what, f"{what} could not be read with {how}: {type(exc).__name__}: {first}",
                          "a readable file", "unreadable", {"what": what})
    encoder = Encoder("a")
    return decode(encoder.encode(content), encoder.blobs)


def _kind(value: Any) -> str:
    from tutor.values.compare import with_article

    return with_article(value)


KIND = Artifact()
