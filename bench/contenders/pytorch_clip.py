"""PyTorch as a benchmark contender (Debian's python3-torch, CPU, every core).

openai/CLIP's ViT and text transformer re-created at the model directory's shape (read from its
config.json) with random weights: speed does not depend on the weights' values. Images: PIL + torchvision's
CLIP transform (Resize(R, bicubic), CenterCrop, ToTensor, Normalize) from the files, then the vision tower.
Prompts: token ids prepared by the caller, padded to 77 as `clip.tokenize` does, then the text tower.

Usage: python3 pytorch_clip.py '<job json>' (see bench/jobs.ts); prints one line `BENCH_RESULT {json}`.
"""
import json
import os
import re
import statistics
import sys
import time

import torch
from torch import nn
from PIL import Image
from torchvision import transforms

RESULT_MARK = "BENCH_RESULT "
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """Pre-LN residual attention block, as in openai/CLIP."""

    def __init__(self, width, heads, mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * 4), QuickGELU(), nn.Linear(width * 4, width))
        self.ln_2 = nn.LayerNorm(width)
        self.mask = mask

    def forward(self, x):  # x: [seq, batch, width]
        mask = None if self.mask is None else self.mask[: x.shape[0], : x.shape[0]]
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Vision(nn.Module):
    def __init__(self, res, patch, width, layers, heads, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width) * width**-0.5)
        self.positional_embedding = nn.Parameter(torch.randn((res // patch) ** 2 + 1, width) * width**-0.5)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, dim) * width**-0.5)

    def forward(self, x):  # [B, 3, R, R] -> [B, dim]
        x = self.conv1(x).flatten(2).permute(0, 2, 1)  # [B, grid², W]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        x = self.blocks(x.permute(1, 0, 2)).permute(1, 0, 2)  # [B, T, W]
        return self.ln_post(x[:, 0, :]) @ self.proj


class Text(nn.Module):
    def __init__(self, vocab, context, width, layers, heads, dim):
        super().__init__()
        mask = torch.full((context, context), float("-inf")).triu(1)
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.Sequential(*[Block(width, heads, mask) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, dim) * width**-0.5)

    def forward(self, ids):  # [B, S] int64 -> [B, dim]
        x = self.token_embedding(ids) + self.positional_embedding[: ids.shape[1]]
        x = self.ln_final(self.blocks(x.permute(1, 0, 2)).permute(1, 0, 2))  # [B, S, W]
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection


def peak_rss():
    with open("/proc/self/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def blas():
    """The BLAS library this process mapped (Debian's python3-torch uses the system's libblas.so.3)."""
    with open("/proc/self/maps") as f:
        maps = f.read()
    for name in ("openblas", "mkl", "blis", "atlas"):
        if name in maps:
            return {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS", "atlas": "ATLAS"}[name]
    return "reference BLAS"


def timing(samples):
    return {"samples": samples, "median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def measure(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return timing(samples)


def main():
    job = json.loads(sys.argv[1])
    threads = os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open(os.path.join(job["model"], "config.json")) as f:
        c = json.load(f)
    tc, vc, dim = c["text_config"], c["vision_config"], c["projection_dim"]
    label = f"PyTorch {torch.__version__.split('+')[0]} (CPU, openai/CLIP architecture, random weights)"
    start = time.perf_counter()
    result = {"label": label, "threads": threads}
    with torch.inference_mode():
        if job["task"] in ("images", "memory"):
            res = vc["image_size"]
            model = Vision(res, vc["patch_size"], vc["hidden_size"], vc["num_hidden_layers"],
                           vc["num_attention_heads"], dim).eval()
            result["loadSeconds"] = time.perf_counter() - start
            if job["task"] == "memory":
                model(torch.full((1, 3, res, res), 0.5))
                result.update(items=1, peakRss=peak_rss())
            else:
                transform = transforms.Compose([
                    transforms.Resize(res, interpolation=transforms.InterpolationMode.BICUBIC),
                    transforms.CenterCrop(res),
                    lambda image: image.convert("RGB"),
                    transforms.ToTensor(),
                    transforms.Normalize(MEAN, STD),
                ])
                files, batch = job["files"], job["batch"]

                def run():
                    for i in range(0, len(files), batch):
                        x = torch.stack([transform(Image.open(f)) for f in files[i:i + batch]])
                        model(x)

                result.update(items=len(files), timing=measure(run, job["warmup"], job["reps"]))
        else:  # text: ids padded to 77, batches of job["batch"]
            model = Text(tc["vocab_size"], tc["max_position_embeddings"], tc["hidden_size"],
                         tc["num_hidden_layers"], tc["num_attention_heads"], dim).eval()
            result["loadSeconds"] = time.perf_counter() - start
            ids = torch.tensor(job["ids"], dtype=torch.int64)  # [prompts, 77]
            batch = job["batch"]

            def run():
                for i in range(0, ids.shape[0], batch):
                    model(ids[i:i + batch])

            model(ids[:batch])  # warm-up: one batch
            result.update(items=ids.shape[0], timing=measure(run, 0, job["reps"]))
            result["label"] = label + ", padding to 77"
    result["peakRss"] = peak_rss()
    result["note"] = f"{blas()} matmuls, {threads} threads"
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
