"""Rewrites DIR/model.safetensors with its floating-point tensors in bf16: the form a
hypernetwork checkpoint is committed in (the loader accepts any float dtype).
Usage: bf16_checkpoint.py DIR"""
import sys

import torch
from safetensors.torch import load_file, save_file

path = sys.argv[1] + "/model.safetensors"
tensors = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in load_file(path).items()}
save_file(tensors, path, metadata={"format": "pt"})
print("bf16 parameters:", sum(v.numel() for v in tensors.values()))
