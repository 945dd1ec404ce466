"""The curriculum's topic keys: the only keys a lesson may declare in ``topics``.

Kept in code (not read from ``CURRICULUM.md``) because the package ships without it; the
coverage tests compare the shipped lessons with this table.
"""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "tensor-attributes": "what a tensor carries",
    "tensor-creation": "creating tensors",
    "tensor-join-split": "joining and splitting",
    "tensor-indexing": "selecting values",
    "tensor-reshape": "shape changes and memory",
    "tensor-inplace-copy": "in-place, clone, detach",
    "tensor-math": "arithmetic and broadcasting",
    "matmul-family": "matrix products",
    "norms": "norms and normalisation",
    "softmax": "softmax and log-softmax",
    "autograd-basics": "backward and gradients",
    "autograd-grad": "torch.autograd.grad",
    "linear-regression": "linear regression by hand",
    "logistic-regression": "logistic regression",
    "module-basics": "nn.Module",
    "custom-blocks": "custom blocks",
    "custom-layers": "custom layers",
    "parameters": "reading parameters",
    "init": "initialisation",
    "lazy-init": "lazy layers",
    "buffers": "buffers",
    "save-load": "serialisation",
    "devices": "CPU and GPU",
    "losses": "loss functions",
    "optimizers": "optimizers",
    "lr-schedulers": "learning-rate schedules",
    "datasets": "Dataset types",
    "dataloader": "DataLoader",
    "image-folders": "image folder datasets",
    "normalize-transform": "Normalize and denormalise",
    "sequences-packing": "variable-length sequences",
    "from-scratch": "layers by hand",
    "clipping": "clipping",
    "augmentation": "batch augmentation",
    "training-logs": "watching training",
    "pytorch-map": "the map of PyTorch",
}
