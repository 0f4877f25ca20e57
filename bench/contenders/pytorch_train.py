"""PyTorch as a training contender (Debian's python3-torch, CPU): openai/CLIP's architecture re-created
(ViT image tower, causal text transformer, symmetric InfoNCE) with torch.optim.AdamW, stepping on the batch
the benchmark wrote to disk, driven in turns by bench/train.ts over stdin/stdout with the protocol of
bench/train_child.ts:

    python3 pytorch_train.py '<TrainJob json>'
    -> TRAIN_READY {json}        (after the warm-up steps)
    <- run N  -> TRAIN_DONE {"seconds": [...], "cpuSeconds": s, "loss": x}
    <- end    -> TRAIN_END {"peakRss": bytes}

Threads: the job's count for torch (OpenMP) and OpenBLAS, idle OpenMP threads sleeping (OMP_WAIT_POLICY=PASSIVE).
The modules and parameter names follow openai/CLIP's model.py (its state_dict keys come out the same).
Captions are cut to the batch's longest (as clipkit's trainers do): the text tower slices its positional
embedding and causal mask to that length, which computes what the full-length model would at those
positions. Weight decay applies to the same weights as clipkit's AdamW (not layer norms, biases,
embeddings or the logit scale); the logit scale is clamped to [0, ln 100] after each step.
"""
import json
import math
import os
import re
import sys
import time
from collections import OrderedDict

JOB = json.loads(sys.argv[1])
# OpenBLAS (when it is the BLAS Debian's torch links) starts its own threads; keep them to the job's count.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(JOB["threads"]))
os.environ.setdefault("OMP_NUM_THREADS", str(JOB["threads"]))
# Idle OpenMP threads sleep instead of spinning: with GNU OpenMP's default (active) waiting, torch's
# spinning threads starve OpenBLAS's on a machine with few cores, and a step took 4-15x longer here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn  # noqa: E402

MARKS = {"ready": "TRAIN_READY ", "done": "TRAIN_DONE ", "end": "TRAIN_END "}
NO_DECAY = re.compile(r"(^|\.)ln_\w+\.|bias$|embedding|logit_scale")


class LayerNorm(nn.LayerNorm):
    """openai/CLIP's LayerNorm: computed in float32 whatever the input type."""

    def forward(self, x):
        return super().forward(x.type(torch.float32)).type(x.dtype)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model, n_head, attn_mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(d_model, d_model * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(d_model * 4, d_model)),
        ]))
        self.ln_2 = LayerNorm(d_model)
        self.attn_mask = attn_mask

    def forward(self, x):  # [L, B, W]
        mask = None if self.attn_mask is None else self.attn_mask[: x.shape[0], : x.shape[0]]
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, attn_mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, attn_mask) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, input_resolution, patch_size, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((input_resolution // patch_size) ** 2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):  # [B, 3, R, R] -> [B, D]
        x = self.conv1(x)  # [B, W, g, g]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [B, g², W]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)  # [B, T, W]
        x = self.ln_pre(x)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)  # [B, T, W]
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.context_length = a["context_length"]
        self.visual = VisionTransformer(a["image_resolution"], a["vision_patch_size"], a["vision_width"],
                                        a["vision_layers"], a["vision_heads"], a["embed_dim"])
        mask = torch.empty(self.context_length, self.context_length).fill_(float("-inf")).triu_(1)
        self.transformer = Transformer(a["transformer_width"], a["transformer_layers"], a["transformer_heads"], mask)
        self.token_embedding = nn.Embedding(a["vocab_size"], a["transformer_width"])
        self.positional_embedding = nn.Parameter(torch.empty(self.context_length, a["transformer_width"]))
        self.ln_final = LayerNorm(a["transformer_width"])
        self.text_projection = nn.Parameter(torch.empty(a["transformer_width"], a["embed_dim"]))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.initialize_parameters(a)

    def initialize_parameters(self, a):
        """openai/CLIP's initialisation (speed does not depend on it; the loss stays finite)."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        width, layers = a["transformer_width"], a["transformer_layers"]
        proj_std = (width ** -0.5) * ((2 * layers) ** -0.5)
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=width ** -0.5)

    def encode_image(self, pixels):
        return self.visual(pixels)

    def encode_text(self, ids):  # [B, L] int64, L <= context_length -> [B, D]
        x = self.token_embedding(ids) + self.positional_embedding[: ids.shape[1]]  # [B, L, W]
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection

    def loss(self, pixels, ids):
        img = self.encode_image(pixels)
        txt = self.encode_text(ids)
        img = img / img.norm(dim=1, keepdim=True)
        txt = txt / txt.norm(dim=1, keepdim=True)
        logits = self.logit_scale.exp() * img @ txt.t()  # [B, B]
        labels = torch.arange(logits.shape[0])
        ce = nn.functional.cross_entropy
        return (ce(logits, labels) + ce(logits.t(), labels)) / 2


def peak_rss():
    with open("/proc/self/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def blas():
    """The BLAS library this process mapped (Debian's torch calls the system's libblas.so.3)."""
    with open("/proc/self/maps") as f:
        maps = f.read()
    for key, name in (("openblas", "OpenBLAS"), ("mkl", "MKL"), ("blis", "BLIS"), ("atlas", "ATLAS")):
        if key in maps:
            return name
    return "Debian's reference BLAS (slow: apt-get install libopenblas0-pthread)" if "libblas" in maps else "no BLAS"


def say(mark, value):
    print(MARKS[mark] + json.dumps(value), flush=True)


def main():
    job, a = JOB, JOB["architecture"]
    torch.set_num_threads(job["threads"])
    torch.manual_seed(job["seed"])
    start = time.perf_counter()
    batch, side, length = job["batch"], a["image_resolution"], job["textLength"]
    with open(job["pixelsFile"], "rb") as f:
        pixels = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(batch, 3, side, side)
    with open(job["idsFile"], "rb") as f:
        ids = torch.frombuffer(bytearray(f.read()), dtype=torch.int32).reshape(batch, length).long()
    model = CLIP(a).train()
    named = list(model.named_parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for n, p in named if not NO_DECAY.search(n)], "weight_decay": job["weightDecay"]},
            {"params": [p for n, p in named if NO_DECAY.search(n)], "weight_decay": 0.0},
        ],
        lr=job["lr"], betas=tuple(job["betas"]), eps=job["eps"],
    )
    max_scale = math.log(100)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(pixels, ids)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, max_scale)
        return loss.item()

    load_seconds = time.perf_counter() - start
    warmup_seconds = 0.0
    for _ in range(job["warmup"]):
        t0 = time.perf_counter()
        step()
        warmup_seconds = time.perf_counter() - t0
    say("ready", {
        "label": f"PyTorch {torch.__version__.split('+')[0]} (CPU, {blas().split(' (')[0]}), torch.optim.AdamW",
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "note": f"{blas()} matmuls, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}",
        "loadSeconds": load_seconds,
        "warmupSeconds": warmup_seconds,
    })
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "run":
            seconds, loss = [], 0.0
            cpu0 = time.process_time()
            for _ in range(int(parts[1])):
                t0 = time.perf_counter()
                loss = step()
                seconds.append(time.perf_counter() - t0)
            say("done", {"seconds": seconds, "cpuSeconds": time.process_time() - cpu0, "loss": loss})
        elif parts[0] == "end":
            break
    say("end", {"peakRss": peak_rss()})


if __name__ == "__main__":
    main()
