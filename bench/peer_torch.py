"""PyTorch side of `npm run bench:peer` (a benchmark fixture, never a dependency of trigger-lab).

Times the same training step as bench/lib-train-step.ts on the same architectures (domain/models):
a batch of random 32x32x3 images, training-mode forward, cross-entropy, backward and SGD
(momentum 0.9, weight decay 5e-4); and inference-mode forward. One thread, best of the given
repetitions after one warm-up. Needs only Debian's python3-torch. Prints one JSON line.

    python3 bench/peer_torch.py --models small-cnn,vgg-narrow@0.25,resnet20 [--batch 128] [--reps 5] [--threads 1]
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
VGG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def scaled(channels, width):
    # Halves round up, as JavaScript's Math.round does in domain/models/blocks.ts (Python's round goes to even).
    return max(1, math.floor(channels * width + 0.5))


class Vgg(nn.Module):
    """Conv3x3 + BN + ReLU per entry, 2x2 max pool at 'M', global average pool, one linear layer."""

    def __init__(self, config, width, classes=10):
        super().__init__()
        layers, c = [], 3
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                out = scaled(item, width)
                layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
                c = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class SmallCnn(nn.Module):
    """Two stages of two Conv3x3 (with bias) + ReLU and a 2x2 max pool, then flatten and one linear layer."""

    def __init__(self, width=1.0, classes=10):
        super().__init__()
        layers, c = [], 3
        for stage in ([32, 32], [64, 64]):
            for f in stage:
                out = scaled(f, width)
                layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(inplace=True)]
                c = out
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c * 8 * 8, classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    """Basic-block ResNet: a 3x3 stem, stages of blocks (stride 2 at each later stage's first block), 1x1 projection shortcuts."""

    def __init__(self, blocks, channels, width, classes=10):
        super().__init__()
        ch = [scaled(c, width) for c in channels]
        self.stem = nn.Sequential(nn.Conv2d(3, ch[0], 3, 1, 1, bias=False), nn.BatchNorm2d(ch[0]), nn.ReLU(inplace=True))
        layers, cin = [], ch[0]
        for s, count in enumerate(blocks):
            for b in range(count):
                layers.append(Block(cin, ch[s], 2 if s > 0 and b == 0 else 1))
                cin = ch[s]
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1))


ARCHS = {
    "small-cnn": (1.0, lambda w: SmallCnn(w)),
    "vgg-narrow": (0.25, lambda w: Vgg(VGG11, w)),
    "vgg11-bn": (1.0, lambda w: Vgg(VGG11, w)),
    "vgg19-bn": (1.0, lambda w: Vgg(VGG19, w)),
    "resnet20": (1.0, lambda w: ResNet([3, 3, 3], [16, 32, 64], w)),
    "resnet18": (1.0, lambda w: ResNet([2, 2, 2, 2], [64, 128, 256, 512], w)),
}


def build(spec):
    arch, _, width = spec.partition("@")
    if arch not in ARCHS:
        sys.exit(f"error: unknown model '{arch}' (known: {', '.join(ARCHS)})")
    default, make = ARCHS[arch]
    return make(float(width) if width else default)


def best_of(reps, f):
    f()  # warm-up: allocator, oneDNN primitive creation
    wall = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        wall = min(wall, time.perf_counter() - t0)
    return wall


def measure(spec, batch, reps):
    torch.manual_seed(0)
    model = build(spec)
    x = torch.rand(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()

    def forward():
        model.eval()
        with torch.no_grad():
            model(x).sum().item()

    fwd = best_of(reps, forward)
    trn = best_of(reps, step)
    return {"arch": spec, "batch": batch, "reps": reps, "forwardImgPerS": round(batch / fwd, 1), "trainImgPerS": round(batch / trn, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="small-cnn,vgg-narrow,resnet20")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.batch < 1 or a.reps < 1 or a.threads < 1:
        sys.exit("error: --batch, --reps and --threads must be positive integers")
    torch.set_num_threads(a.threads)
    rows = [measure(spec, a.batch, a.reps) for spec in a.models.split(",")]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "models": rows}))


if __name__ == "__main__":
    main()
