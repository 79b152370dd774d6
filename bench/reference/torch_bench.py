"""PyTorch side of `deno task bench`: one measurement of one workload per process.

The workloads match memdil's bench: the reference MLP (Linear [BN] ReLU blocks, features = K,
linear classifier), cross-entropy, SGD with momentum 0.9 and weight decay 5e-4, one optimizer
step per batch (docs/reference.md describes the reference's models and losses); ResNet-18
(torchvision-style BasicBlock, ImageNet stem, 32x32 inputs). The process runs one warm-up step,
then times STEPS steps, and prints one JSON object: seconds per step, the thread count torch used,
and the process's peak resident memory (ru_maxrss).

Usage:
  python3 bench/reference/torch_bench.py --probe
  python3 bench/reference/torch_bench.py --workload a|b|c --steps N [--threads N] [--device cpu|cuda]
"""
import argparse
import json
import resource
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
    "a": dict(build=lambda: mlp(2048, 9, 2, True), batch=16, classes=2),
    "b": dict(build=lambda: mlp(256, 4, 2, False), batch=128, classes=2),
    "c": dict(build=lambda: resnet18(10), batch=128, classes=10),
}


def peak_rss_bytes() -> int:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def measure(key: str, steps: int, device: str) -> dict:
    spec = WORKLOADS[key]
    torch.manual_seed(0)
    model = spec["build"]().to(device)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(spec["batch"], 3, 32, 32, device=device)
    y = torch.randint(0, spec["classes"], (spec["batch"],), device=device)

    def run(count: int) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(count):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - started) / count

    run(1)  # warm-up: first allocations, kernel selection
    seconds_per_step = run(steps)
    return {"workload": key, "device": device, "batch": spec["batch"], "steps": steps,
            "seconds_per_step": seconds_per_step, "threads": torch.get_num_threads(),
            "peak_rss_bytes": peak_rss_bytes(),
            "device_name": torch.cuda.get_device_name() if device == "cuda" else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", action="store_true",
                        help="print torch's version, default thread count, CUDA availability and the "
                             "CPU model")
    parser.add_argument("--workload", choices=sorted(WORKLOADS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps after one warm-up")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    if args.probe:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                          "cuda": torch.cuda.is_available(), "cpu_model": cpu_model()}))
        return
    if args.workload is None:
        parser.error("--workload is required (or --probe)")
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("CUDA is not available to this PyTorch")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(json.dumps(measure(args.workload, args.steps, args.device)), flush=True)


if __name__ == "__main__":
    main()
