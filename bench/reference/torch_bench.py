"""PyTorch reference timings for `deno task bench` (docs/reference.md, models and losses).

Same workloads as memdil's bench: the reference MLP (Linear [BN] ReLU blocks, features = K,
linear classifier), cross-entropy, SGD with momentum 0.9 and weight decay, one optimizer step per
batch; ResNet-18 (torchvision-style BasicBlock, CIFAR-sized 32x32 inputs). Each workload runs one
warm-up step, then REPETITIONS timed runs of a fixed number of steps; the median seconds per step
is printed as one JSON object per line.

Usage: python3 bench/reference/torch_bench.py [--device cpu|cuda] [--workloads a,b,c] [--quick]
"""
import argparse
import json
import statistics
import sys
import time

import torch
from torch import nn


def mlp(width: int, depth: int, classes: int, use_bn: bool) -> nn.Module:
    layers = []
    widths = [3072] + [width] * (depth - 1) + [classes]
    for i in range(depth):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if use_bn:
            layers.append(nn.BatchNorm1d(widths[i + 1]))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(classes, classes))
    return nn.Sequential(nn.Flatten(), *layers)


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or inplanes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


def resnet18(classes: int) -> nn.Module:
    """torchvision's ResNet-18 with the ImageNet stem (7x7 stride 2 + max-pool)."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    inplanes = 64
    for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)]
        inplanes = planes
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


WORKLOADS = {
    "a": dict(name="paper MLP", build=lambda: mlp(2048, 9, 2, True), batch=16, classes=2, steps=20),
    "b": dict(name="small MLP", build=lambda: mlp(256, 4, 2, False), batch=128, classes=2,
              steps=50),
    "c": dict(name="ResNet-18", build=lambda: resnet18(10), batch=128, classes=10, steps=3),
}

QUICK_STEPS = {"a": 2, "b": 3, "c": 1}


def time_workload(key: str, device: str, repetitions: int) -> dict:
    spec = WORKLOADS[key]
    torch.manual_seed(0)
    model = spec["build"]().to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(spec["batch"], 3, 32, 32, device=device)
    y = torch.randint(0, spec["classes"], (spec["batch"],), device=device)

    def run(steps: int) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - started) / steps

    run(1)  # warm-up
    per_step = statistics.median(run(spec["steps"]) for _ in range(repetitions))
    return {"workload": key, "name": spec["name"], "device": device, "batch": spec["batch"],
            "steps": spec["steps"], "seconds_per_step": per_step,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "device_name": torch.cuda.get_device_name() if device == "cuda" else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--workloads", default="a,b,c")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short repetition (tests)")
    args = parser.parse_args()
    if args.quick:
        args.repetitions = 1
        for key, steps in QUICK_STEPS.items():
            WORKLOADS[key]["steps"] = steps
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("CUDA is not available to this PyTorch")
    for key in args.workloads.split(","):
        print(json.dumps(time_workload(key, args.device, args.repetitions)), flush=True)


if __name__ == "__main__":
    main()
