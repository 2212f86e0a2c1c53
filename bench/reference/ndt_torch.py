"""PyTorch reference for blend's NDT training step (bench/training.ts runs it).

The same architecture, shapes and objective as lib/models/ndt.ts with BLEND's setup: the
held-in spikes (masked: 25% of bins zeroed) scaled by sqrt(width), zero-padded over the
forward bins, a linear embedding to 128, learned positions, 4 pre-norm layers with
2-head local attention (8 bins back, 4 forward) and a 128-wide feed-forward layer,
dropout 0.2 (attention 0.1), a final norm and a linear log-rate readout; masked Poisson
NLL; AdamW (lr 1e-3, weight decay 5e-5) with gradient-norm clipping at 200. Written for
this benchmark from the description in RESEARCH.md, not copied from any project.

Prints one JSON object: {"msPerStep": median, "steps": [...], "threads": n, "torch": version}.
"""

import argparse
import json
import math
import time

import torch
from torch import nn


class Layer(nn.Module):
    def __init__(self, width, heads, feed_forward, dropout, attention_dropout):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.output = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.ff1 = nn.Linear(width, feed_forward)
        self.ff2 = nn.Linear(feed_forward, width)
        self.dropout = nn.Dropout(dropout)
        self.attention_dropout = nn.Dropout(attention_dropout)

    def forward(self, x, mask):
        batch, time_, width = x.shape
        head_width = width // self.heads
        q, k, v = self.qkv(self.norm1(x)).split(width, dim=-1)
        split = lambda t: t.view(batch, time_, self.heads, head_width).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(head_width) + mask
        weights = self.attention_dropout(scores.softmax(-1))
        attended = (weights @ v).transpose(1, 2).reshape(batch, time_, width)
        x = x + self.dropout(self.output(attended))
        h = self.dropout(torch.relu(self.ff1(self.norm2(x))))
        return x + self.dropout(self.ff2(h))


class NDT(nn.Module):
    def __init__(self, heldin, heldout, bins, forward, width=128, layers=4, heads=2,
                 feed_forward=128, back=8, ahead=4, dropout=0.2, attention_dropout=0.1):
        super().__init__()
        self.heldin, self.forward_bins = heldin, forward
        length = bins + forward
        self.embedding = nn.Linear(heldin, width)
        self.position = nn.Parameter(torch.randn(length, width) * 0.02)
        self.layers = nn.ModuleList(
            [Layer(width, heads, feed_forward, dropout, attention_dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.readout = nn.Linear(width, heldin + heldout)
        self.dropout = nn.Dropout(dropout)
        i = torch.arange(length)
        allowed = (i[None, :] >= i[:, None] - back) & (i[None, :] <= i[:, None] + ahead)
        self.register_buffer("mask", torch.where(allowed, 0.0, -1e9))

    def forward(self, heldin):
        x = heldin * math.sqrt(self.heldin)
        x = nn.functional.pad(x, (0, 0, 0, self.forward_bins))
        x = self.dropout(self.embedding(x) + self.position)
        for layer in self.layers:
            x = layer(x, self.mask)
        return self.readout(self.norm(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--bins", type=int, default=140)
    parser.add_argument("--forward", type=int, default=40)
    parser.add_argument("--heldin", type=int, default=137)
    parser.add_argument("--heldout", type=int, default=45)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = NDT(args.heldin, args.heldout, args.bins, args.forward).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-5)
    length, width = args.bins + args.forward, args.heldin + args.heldout
    spikes = torch.poisson(torch.full((args.batch, args.bins, args.heldin), 0.06)).to(device)
    targets = torch.poisson(torch.full((args.batch, length, width), 0.06)).to(device)
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        # 25% of bins masked: zeroed in the input, scored in the loss with every held-out
        # neuron and forward bin.
        masked_bins = torch.rand(args.batch, args.bins, device=device) < 0.25
        inputs = spikes.masked_fill(masked_bins[..., None], 0.0)
        weights = torch.ones(args.batch, length, width, device=device)
        weights[:, : args.bins, : args.heldin] = masked_bins[..., None].float()
        log_rates = model(inputs)
        loss = ((log_rates.exp() - targets * log_rates) * weights).sum() / weights.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 200.0)
        optimizer.step()
        float(loss)  # wait for the step to finish (CUDA runs asynchronously)
        if step >= args.warmup:
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(json.dumps({
        "msPerStep": times[len(times) // 2],
        "steps": times,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": str(device),
    }))


if __name__ == "__main__":
    main()
