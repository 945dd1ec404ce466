"""The sandbox: a warm server that forks a locked-down child per run (see README.md).

The front imports only ``api`` and ``client``; the server and its children import torch.
"""
