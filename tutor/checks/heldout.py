"""The held-out kind (``heldout_model``, ``heldout_build``, ``heldout_predict``,
``heldout_data``, ``heldout_accuracy``): a trained model judged on points the learner's
process never holds.

The learner's process sends only the trained model's ``state_dict`` (``heldout_model``
names it, after ``expr``). The reference's process, which runs no learner code, also
makes the held-out points with ``heldout_data`` (``inputs`` and ``labels``, under a
seed of their own); that code is left out of the checks the learner's process gets.
Grading then starts a fresh child that holds the learner's code, the ``state_dict`` and
the held-out ``inputs`` only: it builds the model (``heldout_build``), loads the state
and computes ``heldout_predict`` (``model`` and ``inputs`` in scope). The judge, which
alone holds the ``labels``, scores the predictions. A ``forward`` that reads labels
from its process finds none, and an accuracy the learner's code computed counts for
nothing here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tutor.checks.base import CheckKind, Common, Fail, Probe, Sides, Spec, Table, compiles

if TYPE_CHECKING:
    from tutor.values.compare import Difference

#: The held-out data's seed is drawn from the check's seed but is not it: code that
#: replays the check's setup under its seed does not redraw these points.
SEED_SALT = 0x5EED_0F_5EED


def heldout_seed(seed: int) -> int:
    return (seed * 1_000_003 + SEED_SALT) % (2**63 - 1)


@dataclass(frozen=True)
class HeldoutSpec(Spec):
    model: str = ""
    build: str = ""
    predict: str = ""
    data: str = ""
    accuracy: float = 0.0


class Heldout(CheckKind):
    name = "heldout"
    keys = ("heldout_model", "heldout_build", "heldout_predict", "heldout_data", "heldout_accuracy")
    spec_type = HeldoutSpec
    claims_value = True
    #: Never sent to the learner's process: it makes the points the learner must not hold.
    private_fields: ClassVar[tuple[str, ...]] = ("data",)

    def parse(self, table: Table, common: Common, fail: Fail) -> HeldoutSpec | None:
        present = [key for key in self.keys if key in table]
        if not present:
            return None
        missing = [key for key in self.keys if key not in table]
        if missing:
            raise fail(f"check '{common.name}': a held-out check needs {', '.join(missing)} too", missing[0])
        fields: dict[str, str] = {}
        for key, mode in (("heldout_model", "eval"), ("heldout_build", "eval"), ("heldout_predict", "eval"),
                          ("heldout_data", "exec")):
            text = table[key]
            if not isinstance(text, str) or not text.strip():
                raise fail(f"check '{common.name}': '{key}' must be Python code", key)
            problem = compiles(text, mode)
            if problem:
                raise fail(f"check '{common.name}': '{key}' does not compile: {problem}", key)
            fields[key.removeprefix("heldout_")] = text.strip()
        accuracy = table["heldout_accuracy"]
        if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 < accuracy <= 1:
            raise fail(f"check '{common.name}': 'heldout_accuracy' must be a number in (0, 1]", "heldout_accuracy")
        return HeldoutSpec(accuracy=float(accuracy), **fields)

    def collect(self, spec: HeldoutSpec, probe: Probe, state: Any) -> Any:
        import torch

        trained = probe.evaluate(spec.model)
        if isinstance(trained, torch.nn.Module):
            trained = trained.state_dict()
        if not isinstance(trained, dict) or not all(isinstance(v, torch.Tensor) for v in trained.values()):
            raise TypeError(f"{spec.model} must be a trained nn.Module or its state_dict, got {type(trained).__name__}")
        out = {"state": probe.encoder.encode({str(k): v.detach() for k, v in trained.items()})}
        if spec.data:  # the reference's process only: the learner's never gets this code
            import random

            torch.default_generator.manual_seed(heldout_seed(probe.seed))
            random.seed(heldout_seed(probe.seed))
            scope = dict(probe.namespace)
            exec(compile(spec.data, "<held-out data>", "exec"), scope)
            out["inputs"] = probe.encoder.encode(scope["inputs"].detach())
            out["labels"] = probe.encoder.encode(scope["labels"].detach())
        return out

    def judge(self, spec: HeldoutSpec, sides: Sides) -> Difference | None:
        from tutor.checks.outcome import plain
        from tutor.values.compare import Difference
        from tutor.values.encode import BadData, decode

        got, expected = sides.got, sides.expected
        if not isinstance(expected, dict) or "labels" not in expected:
            raise BadData("the reference sent no held-out labels")
        if isinstance(got, dict) and isinstance(got.get("error"), str):
            return Difference("heldout", f"your trained model could not be run on the held-out points: {got['error'][:300]}",
                              "predictions", "an error", {"what": "held-out"})
        if not isinstance(got, dict) or "predictions" not in got:
            return Difference("heldout", "no predictions on the held-out points came back for your trained model",
                              "predictions", "none", {"what": "held-out"})
        labels = plain(decode(expected["labels"], sides.expected_blobs))
        predictions = plain(decode(got["predictions"], sides.got_blobs))
        import torch

        if not isinstance(predictions, torch.Tensor) or predictions.shape != labels.shape:
            shape = tuple(predictions.shape) if isinstance(predictions, torch.Tensor) else type(predictions).__name__
            return Difference("heldout", f"the predictions on {len(labels)} held-out points have shape {shape}, "
                              f"expected {tuple(labels.shape)}", str(tuple(labels.shape)), str(shape),
                              {"what": "held-out"})
        right = (predictions.to(torch.float64) == labels.to(torch.float64)).to(torch.float64).mean().item()
        if math.isnan(right) or right < spec.accuracy:
            return Difference("heldout", f"accuracy {right:.4f} on {len(labels)} held-out points that your code never "
                              f"saw, below {spec.accuracy:g}", f">= {spec.accuracy:g}", f"{right:.4f}",
                              {"what": "held-out"})
        return None


KIND = Heldout()
