"""The PyTorch errors beginners meet most, explained in plain words.

A run that ends in one of them (a matrix product whose shapes do not line up, a
broadcast that fails, tensors on two devices, two dtypes where one is needed, an
in-place change of a leaf, a second ``backward()``, ``view`` of non-contiguous memory,
a ``.grad`` that is ``None``, an index out of range, a module given the wrong input
size) gets a short :class:`Explanation`: what went wrong with the shapes, dtypes or
devices taken from the message, what to do, and the lesson section that teaches it.
Any other error gets ``None`` and is shown as it is.

Plain data and regular expressions: no Textual, no torch. The app's result panel and
``tutor run`` both show it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tutor.i18n import N_, _, ngettext
from tutor.sandbox.api import ErrorInfo, RunResult


@dataclass(frozen=True)
class Section:
    """A section of a shipped lesson: its lesson's id and number, and its heading as
    written in the file (``tests/test_explain.py`` checks every one exists)."""

    lesson_id: str
    lesson_order: int
    heading: str

    @property
    def title(self) -> str:
        """The heading without its Markdown code marks."""
        return self.heading.replace("`", "")

    def __str__(self) -> str:
        # The heading is in the catalogue as the lesson's own catalogue translates it
        # (tests/app/test_chinese.py holds the two to the same words).
        return _("lesson {n}, “{title}”").format(n=self.lesson_order, title=_(self.heading).replace("`", ""))


@dataclass(frozen=True)
class Explanation:
    """One error explained: ``kind`` names which of the ten it is, ``title`` says it in
    a line, ``text`` in a few sentences with the values from the message."""

    kind: str
    title: str
    text: str
    section: Section

    def lines(self) -> list[str]:
        """The explanation as the fronts print it, before wrapping."""
        return [_("why: {title}").format(title=self.title), self.text, _("learn more: {section}").format(section=self.section)]


# --- the sections that teach each error ------------------------------------------------

MATMUL = Section("math-matmul", 5, N_("`matmul` and `@`: the general product"))
BROADCASTING = Section("math-matmul", 5, N_("Broadcasting"))
DEVICES = Section("save-load-devices", 12, N_("All operands on one device"))
DTYPE_CHANGE = Section("tensor-creation", 2, N_("Changing the dtype: `.to()`, `.float()`, `.long()`"))
DTYPE_PROMOTION = Section("tensor-creation", 2, N_("Mixing dtypes: type promotion"))
CLASS_TARGETS = Section("losses", 13, N_("Several classes: `CrossEntropyLoss` and `NLLLoss`"))
BINARY_TARGETS = Section("losses", 13, N_("Binary targets: `BCELoss` wants probabilities and float targets"))
INPLACE = Section("autograd", 7, N_("In-place changes and autograd"))
BACKWARD_TWICE = Section("autograd", 7, N_("Calling `backward()` twice"))
LEAVES = Section("autograd", 7, N_("Leaves, non-leaves and `backward()`"))
NON_CONTIGUOUS = Section("reshape-views", 4, N_("Transposes make non-contiguous views"))
INDEXING = Section("join-split-index", 3, N_("Indexing and slicing"))
INPUT_SIZE = Section("init-lazy-buffers", 11, N_("Lazy layers learn their input size on the first call"))

SECTIONS = (MATMUL, BROADCASTING, DEVICES, DTYPE_CHANGE, DTYPE_PROMOTION, CLASS_TARGETS, BINARY_TARGETS, INPLACE,
            BACKWARD_TWICE, LEAVES, NON_CONTIGUOUS, INDEXING, INPUT_SIZE)

#: The ten kinds, in the order the issue lists them.
KINDS = ("matmul-shape", "broadcast", "device", "dtype", "inplace-leaf", "backward-twice", "view-contiguous",
         "grad-none", "index", "module-input")


# --- what the explainer knows about the run ----------------------------------------------


@dataclass(frozen=True)
class Context:
    """Beside the message: the failing source line, and the run's tensors and modules
    by name (a run that fails is still inspected)."""

    line: str = ""
    variables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    modules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def called_module(self) -> tuple[str, Mapping[str, Any] | None] | None:
        """The module the failing line calls (``net(x)``, ``self.fc(x)``), if any."""
        for name, module in self.modules.items():
            if re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", self.line):
                return name, module
        match = re.search(r"\bself\.(\w+)\s*\(", self.line)
        if match and match.group(1) != "forward":
            return f"self.{match.group(1)}", None
        return None

    def tensor(self, name: str) -> Mapping[str, Any] | None:
        var = self.variables.get(name)
        return var if var is not None and "shape" in var else None


def failing_line(traceback: str) -> str:
    """The source line of the innermost frame of a Python traceback ('' if none)."""
    lines = traceback.rstrip().splitlines()
    for i in range(len(lines) - 1, 0, -1):
        if lines[i - 1].lstrip().startswith('File "') and lines[i].startswith("    "):
            return lines[i].strip()
    return ""


# --- words for the values found in messages ----------------------------------------------

_DTYPE_NAMES = {
    "float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32", "short": "int16",
    "byte": "uint8", "char": "int8", "bool": "bool", "bfloat16": "bfloat16", "complexfloat": "complex64",
}


def dtype_text(name: str) -> str:
    """``Long`` as ``Long (int64)``, ``float`` as ``float32``: the name torch prints
    and the one a learner writes."""
    plain = name.strip().lower()
    known = _DTYPE_NAMES.get(plain)
    if known is None or known == plain:
        return name
    return f"{name} ({known})" if name[:1].isupper() else known


def _shape(text: str) -> str:
    """``[1, 1, 28, 28]`` or ``2x3`` as ``(1, 1, 28, 28)`` / ``(2, 3)``."""
    parts = [p for p in re.split(r"[\s,x\[\]()]+", text) if p]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _var_shape(var: Mapping[str, Any]) -> str:
    shape = var.get("shape")
    return _shape(" ".join(str(n) for n in shape)) if isinstance(shape, list) else "?"


def _plural(n: int | str, noun: str) -> str:
    if noun == "dimension":
        return ngettext("{n} dimension", "{n} dimensions", int(n)).format(n=n)
    if noun == "channel":
        return ngettext("{n} channel", "{n} channels", int(n)).format(n=n)
    return f"{n} {noun}{'' if int(n) == 1 else 's'}"


def _module_text(name: str, module: Mapping[str, Any] | None) -> str:
    kind = module.get("type") if module else None
    return f"`{name}` ({kind})" if isinstance(kind, str) else f"`{name}`"


# --- the rules -----------------------------------------------------------------------------

Rule = Callable[[re.Match[str], Context], Explanation | None]
_RULES: list[tuple[re.Pattern[str], Rule]] = []


def _rule(pattern: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES.append((re.compile(pattern, re.DOTALL), fn))
        return fn
    return register


def _linear_in_features(module: Mapping[str, Any] | None) -> int | None:
    if not module or module.get("type") not in ("Linear", "LazyLinear", "Bilinear"):
        return None
    for param in module.get("named_parameters") or []:
        shape = param.get("shape") if isinstance(param, dict) else None
        if isinstance(param, dict) and param.get("name") == "weight" and isinstance(shape, list) and len(shape) == 2:
            return int(shape[1])
    return None


@_rule(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
def _matmul(m: re.Match[str], ctx: Context) -> Explanation:
    rows1, cols1, rows2, cols2 = m.groups()
    called = ctx.called_module()
    if called is not None:
        name, module = called
        inner = _linear_in_features(module)
        if inner is not None and inner == int(rows2):
            text = (_("{module} takes inputs whose last dimension is {rows2} (in_features={rows2}), but this input's "
                      "last dimension is {cols1} (it arrived as {rows1}x{cols1}). Make the layer's in_features "
                      "{cols1}, or fix the input's shape (a missing flatten, or a batch laid out the other way round).").format(module=_module_text(name, module), rows2=rows2, cols1=cols1, rows1=rows1))
        else:
            text = (_("A linear layer inside {module} takes {rows2} input features, but the tensor that reached it "
                      "has {cols1} in its last dimension ({rows1}x{cols1}). The layer before it gives {cols1} "
                      "features: make the two sizes agree.").format(module=_module_text(name, module), rows2=rows2, cols1=cols1, rows1=rows1))
        return Explanation("module-input", _("a layer got {cols1} input features where it takes {rows2}").format(cols1=cols1, rows2=rows2), text,
                           INPUT_SIZE)
    text = (_("A matrix product needs the left matrix's columns to equal the right matrix's rows. Here the "
              "left one is {rows1}x{cols1} ({cols1} columns) and the right one is {rows2}x{cols2} ({rows2} "
              "rows), and {cols1} ≠ {rows2}. Check which side should be transposed (b.T or b.mT) or which "
              "dimension holds the features.").format(rows1=rows1, cols1=cols1, rows2=rows2, cols2=cols2))
    return Explanation("matmul-shape", _("the shapes {rows1}x{cols1} and {rows2}x{cols2} cannot be multiplied").format(rows1=rows1, cols1=cols1, rows2=rows2, cols2=cols2),
                       text, MATMUL)


@_rule(r"size mismatch, got input \((\d+)\), mat \((\d+)x(\d+)\), vec \((\d+)\)")
def _matvec(m: re.Match[str], ctx: Context) -> Explanation:
    rows, cols, vec = m.groups()[1:]
    text = (_("A matrix-vector product needs as many vector entries as the matrix has columns: the matrix is "
              "{rows}x{cols} ({cols} columns) but the vector has {vec} entries. Transpose the matrix or use "
              "the vector the other shape calls for.").format(rows=rows, cols=cols, vec=vec))
    return Explanation("matmul-shape", _("a {rows}x{cols} matrix cannot multiply a vector of {vec}").format(rows=rows, cols=cols, vec=vec), text, MATMUL)


@_rule(r"Expected size for first two dimensions of batch2 tensor to be: \[(\d+), (\d+)\] but got: \[(\d+), (\d+)\]")
def _bmm(m: re.Match[str], ctx: Context) -> Explanation:
    batch, inner, got_batch, got_rows = m.groups()
    text = (_("bmm multiplies two batches of matrices, (b, n, m) @ (b, m, p): the second batch must start "
              "with [{batch}, {inner}] (the same batch size, and {inner} rows to meet the first one's {inner} "
              "columns), but it starts with [{got_batch}, {got_rows}]. Check for a missing transpose "
              "(x.transpose(1, 2)).").format(batch=batch, inner=inner, got_batch=got_batch, got_rows=got_rows))
    return Explanation("matmul-shape", _("the two batches of matrices do not line up for bmm"), text, MATMUL)


@_rule(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)")
def _broadcast(m: re.Match[str], ctx: Context) -> Explanation:
    a, b, dim = m.groups()
    text = (_("An elementwise operation lines the two shapes up from the right. In dimension {dim} one tensor "
              "has size {a} and the other {b}; neither is 1, so neither can be repeated to fit the other. "
              "Print both shapes, then add a size-1 dimension where one should repeat (unsqueeze, or None in "
              "an index), or reduce with keepdim=True.").format(dim=dim, a=a, b=b))
    return Explanation("broadcast", _("sizes {a} and {b} cannot be broadcast in dimension {dim}").format(a=a, b=b, dim=dim), text,
                       BROADCASTING)


@_rule(r"output with shape \[([\d, ]*)\] doesn't match the broadcast shape \[([\d, ]*)\]")
def _broadcast_inplace(m: re.Match[str], ctx: Context) -> Explanation:
    out, wanted = (_shape(g) for g in m.groups())
    text = (_("An in-place operation (+=, mul_, ...) writes its result into the left tensor, of shape {out}, "
              "but the two operands broadcast to {wanted}, which does not fit in it. Write the result to a "
              "new tensor instead (x = x + y), or fix the shapes.").format(out=out, wanted=wanted))
    return Explanation("broadcast", _("a result of shape {wanted} cannot be written into {out}").format(wanted=wanted, out=out), text, BROADCASTING)


@_rule(r"shape mismatch: value tensor of shape \[([\d, ]*)\] cannot be broadcast to indexing result of shape "
       r"\[([\d, ]*)\]")
def _broadcast_assign(m: re.Match[str], ctx: Context) -> Explanation:
    value, target = (_shape(g) for g in m.groups())
    text = (_("An assignment through an index (x[...] = v) needs a value that broadcasts to what the index "
              "selects: the value has shape {value}, the selection {target}.").format(value=value, target=target))
    return Explanation("broadcast", _("a value of shape {value} cannot fill a selection of {target}").format(value=value, target=target), text,
                       BROADCASTING)


def _devices_explained(first: str, second: str) -> Explanation:
    text = (_("One operation got tensors on two devices, {first} and {second}; an operation takes its inputs "
              "from one device. Move everything to the same one: x = x.to(DEVICE) (a tensor's .to returns a "
              "new tensor, so assign it) and model.to(DEVICE) for a module; create new tensors next to the "
              "data (torch.zeros(n, device=x.device)).").format(first=first, second=second))
    return Explanation("device", _("tensors on two devices: {first} and {second}").format(first=first, second=second), text, DEVICES)


@_rule(r"Expected all tensors to be on the same device, but found at least two devices, ([\w:]+) and ([\w:]+)")
def _device_pair(m: re.Match[str], ctx: Context) -> Explanation:
    return _devices_explained(m.group(1), m.group(2))


@_rule(r"Expected all tensors to be on the same device, but got (\w+) is on ([\w:]+), different from other "
       r"tensors on ([\w:]+)")
def _device_argument(m: re.Match[str], ctx: Context) -> Explanation:
    return _devices_explained(m.group(3), m.group(2))


@_rule(r"Tensor on device ([\w:]+) is not on the expected device ([\w:]+)")
def _device_expected(m: re.Match[str], ctx: Context) -> Explanation:
    return _devices_explained(m.group(2), m.group(1))


@_rule(r"Input type \(([\w.]+)\) and weight type \(([\w.]+)\) should be the same")
def _input_weight_type(m: re.Match[str], ctx: Context) -> Explanation:
    given, weight = m.groups()
    on = ["cuda" if ".cuda." in t else "cpu" for t in (given, weight)]
    if on[0] != on[1]:
        return _devices_explained(on[0], on[1])
    kinds = [t.rsplit(".", 1)[-1].removesuffix("Tensor") for t in (given, weight)]
    return _dtypes_explained(kinds[0], kinds[1])


def _dtypes_explained(first: str, second: str) -> Explanation:
    a, b = dtype_text(first), dtype_text(second)
    text = (_("A matrix product, or a layer, needs both operands in one dtype; here they are {a} and {b}. "
              "Convert one of them: integer data with x.float(), float64 NumPy data with x.float() (or "
              "torch.from_numpy(a).float()), a model with model.double() if it must be float64.").format(a=a, b=b))
    return Explanation("dtype", _("two dtypes where one is needed: {a} and {b}").format(a=a, b=b), text, DTYPE_CHANGE)


@_rule(r"mat1 and mat2 must have the same dtype, but got (\w+) and (\w+)")
def _dtype_mat(m: re.Match[str], ctx: Context) -> Explanation:
    return _dtypes_explained(*m.groups())


@_rule(r"expected m1 and m2 to have the same dtype, but got: (\w+) != (\w+)")
def _dtype_m1m2(m: re.Match[str], ctx: Context) -> Explanation:
    return _dtypes_explained(*m.groups())


@_rule(r"expected scalar type (\w+) but found (\w+)")
def _dtype_scalar(m: re.Match[str], ctx: Context) -> Explanation:
    return _dtypes_explained(m.group(2), m.group(1))


@_rule(r"expected target dtype to be Long or Byte, but got (\w+)")
def _dtype_class_target(m: re.Match[str], ctx: Context) -> Explanation:
    got = dtype_text(m.group(1))
    text = (_("cross_entropy and nll_loss take the target as class indices, one integer per sample (Long, "
              "int64), but this target is {got}. Convert it with target.long(), or keep labels as integers "
              "from the start; a float target is only accepted as class probabilities, shaped like the logits.").format(got=got))
    return Explanation("dtype", _("the loss wants integer class indices (Long), not {got}").format(got=got), text, CLASS_TARGETS)


@_rule(r"Found dtype (\w+) but expected (\w+)")
def _dtype_found(m: re.Match[str], ctx: Context) -> Explanation:
    got, wanted = (dtype_text(g) for g in m.groups())
    text = (_("The loss computes with {wanted} but one of its inputs, usually the target, is {got}: labels of "
              "0 and 1 arrive as integers. Convert the target with target.float() (BCELoss, MSELoss and "
              "BCEWithLogitsLoss all want float targets shaped like the predictions).").format(wanted=wanted, got=got))
    return Explanation("dtype", _("a {got} tensor where {wanted} is expected").format(got=got, wanted=wanted), text, BINARY_TARGETS)


@_rule(r"result type (\w+) can't be cast to the desired output type (\w+)")
def _dtype_cast(m: re.Match[str], ctx: Context) -> Explanation:
    result, out = (dtype_text(g) for g in m.groups())
    text = (_("The result is {result}, but it has to be stored in a {out} tensor: an in-place operation into "
              "an integer tensor (x += 0.5 on an int64 x), or an integer target in a loss that computes with "
              "floats. Convert first (x = x.float(), target.float()) or write the result to a new tensor.").format(result=result, out=out))
    return Explanation("dtype", _("a {result} result cannot be stored as {out}").format(result=result, out=out), text, DTYPE_PROMOTION)


@_rule(r"a leaf Variable that requires grad is being used in an in-place operation")
def _inplace_leaf(m: re.Match[str], ctx: Context) -> Explanation:
    text = (_("A tensor you made with requires_grad=True (a leaf, where autograd delivers gradients) was "
              "changed in place: +=, -=, x[...] = or a method ending in _. Autograd refuses, because the leaf "
              "would become the result of an operation. Update weights inside `with torch.no_grad():`, or "
              "build a new tensor (w = w + 1) if the change belongs in the graph."))
    return Explanation("inplace-leaf", _("an in-place change of a leaf that requires grad"), text, INPLACE)


@_rule(r"one of the variables needed for gradient computation has been modified by an inplace operation: "
       r"\[([\w.]+) \[([\d, ]*)\]\].*?is at version (\d+); expected version (\d+)")
def _inplace_saved(m: re.Match[str], ctx: Context) -> Explanation:
    kind, shape, now, was = m.groups()
    text = (_("backward() needs a tensor ({value} of shape {shape_shape}) that was changed in place after the "
              "forward pass used it (its version went from {was} to {now}). Use the out-of-place form (x = x "
              "* 2, torch.relu(x) instead of relu_) or clone() before changing it.").format(value=kind.rsplit('.', 1)[-1], shape_shape=_shape(shape), was=was, now=now))
    return Explanation("inplace-leaf", _("a tensor backward() needs was changed in place"), text, INPLACE)


@_rule(r"Trying to backward through the graph a second time")
def _backward_twice(m: re.Match[str], ctx: Context) -> Explanation:
    text = (_("backward() frees the values the graph saved once it has used them, so a second backward() "
              "through the same graph fails. Recompute the forward pass before every backward (in a training "
              "loop, compute the loss inside the loop), or pass retain_graph=True to the first call if you "
              "truly need two."))
    return Explanation("backward-twice", _("backward() ran twice through the same graph"), text, BACKWARD_TWICE)


@_rule(r"view size is not compatible with input tensor's size and stride")
def _view(m: re.Match[str], ctx: Context) -> Explanation:
    found = re.search(r"([A-Za-z_]\w*)\s*\.view\(", ctx.line)
    var = ctx.tensor(found.group(1)) if found else None
    who = _("`{kind}` (shape {shape})").format(kind=found.group(1), shape=_var_shape(var)) if found and var else _("This tensor")
    text = (_("view never copies, so it can only regroup memory laid out row by row. {who} is not contiguous: "
              "a transpose, permute or slice reordered it. Use .reshape(...), which copies when it must, or "
              ".contiguous().view(...).").format(who=who))
    return Explanation("view-contiguous", _("view() of a tensor that is not contiguous"), text, NON_CONTIGUOUS)


def _grad_none(ctx: Context) -> Explanation | None:
    found = re.search(r"([A-Za-z_][\w.\[\]]*?)\.grad\b", ctx.line)
    if found is None:
        return None
    name = found.group(1)
    var = ctx.tensor(name)
    if var is not None and var.get("requires_grad") is not True:
        why = _("`{name}` does not require grad, so no gradient is ever stored for it: create it with "
                "requires_grad=True.").format(name=name)
    elif var is not None and var.get("is_leaf") is False:
        why = (_("`{name}` is the result of an operation, not a leaf, and only leaves keep .grad: call "
                 "{name}.retain_grad() before backward(), or read the gradient of the leaf it came from.").format(name=name))
    else:
        why = (_("`{name}.grad` stays None until a backward() reaches it: call backward() first (and note that "
                 "zero_grad() sets every .grad back to None).").format(name=name))
    text = _("{why} Only tensors created with requires_grad=True (and parameters) get a .grad.").format(why=why)
    return Explanation("grad-none", _("`{name}.grad` is None").format(name=name), text, LEAVES)


@_rule(r"'NoneType' object has no attribute '\w+'")
def _none_attribute(m: re.Match[str], ctx: Context) -> Explanation | None:
    return _grad_none(ctx)


@_rule(r"unsupported operand type\(s\) for .*'NoneType'")
def _none_operand(m: re.Match[str], ctx: Context) -> Explanation | None:
    return _grad_none(ctx)


@_rule(r"element 0 of tensors does not require grad and does not have a grad_fn")
def _no_graph(m: re.Match[str], ctx: Context) -> Explanation:
    text = (_("backward() was called on a tensor autograd never recorded: nothing it was computed from "
              "requires grad (or it was computed under torch.no_grad(), or from .detach()). Create the "
              "weights with requires_grad=True, or use nn.Parameter, so that .grad gets filled."))
    return Explanation("grad-none", _("backward() of a tensor that has no gradient"), text, LEAVES)


@_rule(r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)")
def _index(m: re.Match[str], ctx: Context) -> Explanation:
    index, dim, size = m.groups()
    last = int(size) - 1
    text = (_("Dimension {dim} has size {size}, so its positions are 0 to {last} (or -{size} to -1 from the "
              "end); {index} is outside. Positions count from 0, and the end of a slice is not included.").format(dim=dim, size=size, last=last, index=index))
    return Explanation("index", _("index {index} is out of range for a dimension of size {size}").format(index=index, size=size), text, INDEXING)


@_rule(r"Target (-?\d+) is out of bounds")
def _target_index(m: re.Match[str], ctx: Context) -> Explanation:
    target = m.group(1)
    text = (_("A class index in the target is {target}, but the logits do not have that many classes: with C "
              "classes the targets run from 0 to C - 1. Check the size of the last layer, and labels that "
              "count from 1.").format(target=target))
    return Explanation("index", _("class index {target} is out of range").format(target=target), text, CLASS_TARGETS)


@_rule(r"index out of range in self")
def _embedding_index(m: re.Match[str], ctx: Context) -> Explanation:
    text = (_("An index is larger than the table it picks from: nn.Embedding(n, d) and index_select accept "
              "positions 0 to n - 1. Check the largest index (x.max()) against the table's size."))
    return Explanation("index", _("an index beyond the end of the table"), text, INDEXING)


@_rule(r"Dimension out of range \(expected to be in range of \[(-?\d+), (-?\d+)\], but got (-?\d+)\)")
def _dim_index(m: re.Match[str], ctx: Context) -> Explanation:
    low, high, got = m.groups()
    ndim = int(high) + 1
    text = (_("The tensor has {count}, so dim can be {low} to {high}; {got} is outside. Print the tensor's "
              "shape: it may have fewer dimensions than you think.").format(count=_plural(ndim, 'dimension'), low=low, high=high, got=got))
    return Explanation("index", _("dim={got} on a tensor with {count}").format(got=got, count=_plural(ndim, 'dimension')), text, INDEXING)


@_rule(r"too many indices for tensor of dimension (\d+)")
def _too_many_indices(m: re.Match[str], ctx: Context) -> Explanation:
    ndim = m.group(1)
    text = (_("The index names more positions than the tensor has dimensions ({ndim}): t[i, j] needs at least "
              "two. Print the tensor's shape.").format(ndim=ndim))
    return Explanation("index", _("too many indices for a {ndim}-D tensor").format(ndim=ndim), text, INDEXING)


@_rule(r"Given groups=\d+, weight of size \[([\d, ]*)\], expected input\[([\d, ]*)\] to have (\d+) channels, "
       r"but got (\d+) channels instead")
def _conv_channels(m: re.Match[str], ctx: Context) -> Explanation:
    weight, given, wanted, got = m.groups()
    called = ctx.called_module()
    who = _module_text(*called) if called else _("The convolution")
    text = (_("{who} takes {wanted} input channels (its weight is {weight_shape}), but the input "
              "{given_shape} has {got} in dimension 1, where (N, C, H, W) keeps the channels. Check the "
              "layer's in_channels, or an image batch laid out channels-last (permute(0, 3, 1, 2)).").format(who=who, wanted=wanted, weight_shape=_shape(weight), given_shape=_shape(given), got=got))
    return Explanation("module-input", _("a layer got {count} where it takes {wanted}").format(count=_plural(got, 'channel'), wanted=wanted), text,
                       INPUT_SIZE)


@_rule(r"Expected (\d)D \(unbatched\) or (\d)D \(batched\) input to (\w+), but got input of size: \[([\d, ]*)\]")
def _conv_rank(m: re.Match[str], ctx: Context) -> Explanation:
    unbatched, batched, op, given = m.groups()
    ndim = len([p for p in given.split(",") if p.strip()])
    text = (_("{op} takes a {unbatched}-D input (one sample) or a {batched}-D batch, but the input "
              "{given_shape} has {count}. Add the missing ones with unsqueeze (x.unsqueeze(0) for a batch of "
              "one, x.unsqueeze(1) for one channel).").format(op=op, unbatched=unbatched, batched=batched, given_shape=_shape(given), count=_plural(ndim, 'dimension')))
    return Explanation("module-input", _("{op} got a {ndim}-D input").format(op=op, ndim=ndim), text, INPUT_SIZE)


@_rule(r"running_mean should contain (\d+) elements not (\d+)")
def _batchnorm(m: re.Match[str], ctx: Context) -> Explanation:
    got, made = m.groups()
    called = ctx.called_module()
    who = _module_text(*called) if called else _("The BatchNorm layer")
    text = (_("{who} was made for {made} features (channels), but the input has {got} in dimension 1. Make "
              "its num_features {got}, or check the layer before it.").format(who=who, made=made, got=got))
    return Explanation("module-input", _("a BatchNorm for {made} features got {got}").format(made=made, got=got), text, INPUT_SIZE)


# --- entry points ----------------------------------------------------------------------------


def explain(error: ErrorInfo | None, *, source_line: str = "", variables: Iterable[Any] = (),
            modules: Iterable[Any] = ()) -> Explanation | None:
    """The explanation of ``error``, or ``None`` for an error not among the ten."""
    if error is None:
        return None
    message = f"{error.message}"
    ctx = Context(
        line=source_line or failing_line(error.traceback),
        variables={v["name"]: v for v in variables if isinstance(v, dict) and isinstance(v.get("name"), str)},
        modules={m["name"]: m for m in modules if isinstance(m, dict) and isinstance(m.get("name"), str)},
    )
    for pattern, rule in _RULES:
        match = pattern.search(message)
        if match is not None:
            found = rule(match, ctx)
            if found is not None:
                return found
    return None


def explain_result(result: RunResult) -> Explanation | None:
    """The explanation of a run that ended in one of the ten errors (else ``None``)."""
    if result.status != "error" or result.error is None or result.missing_package:
        return None
    return explain(result.error, variables=result.variables, modules=result.modules)
