"""PyTorch counterpart of bench/gpu_profile.ts on one device: the cost of one tiny kernel, the
paper MLP's layer product (batch 16, width 2048) and a 4096-square product, and the paper MLP's
step split into forward, forward + backward and the whole step. Each figure is the median of 3
loops of queued work closed by one synchronisation, after a warm-up. Prints one JSON object.

Usage: python3 bench/reference/torch_profile.py [--device cuda|cpu] [--steps 20]
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

from torch_bench import mlp


def time_loop(reps, body, sync):
    def loop():
        sync()
        started = time.perf_counter()
        for _ in range(reps):
            body()
        sync()
        return (time.perf_counter() - started) * 1000 / reps
    loop()
    return statistics.median(loop() for _ in range(3))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    device, steps = args.device, args.steps
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    small = torch.ones(16, device=device)
    x = torch.randn(16, 2048, device=device)
    w = torch.randn(2048, 2048, device=device)
    big = torch.randn(4096, 4096, device=device)
    report = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "dispatch_us": time_loop(steps * 50, lambda: small + small, sync) * 1000,
        "matmul_16x2048x2048_ms": time_loop(steps * 10, lambda: x @ w, sync),
        "matmul_4096_ms": time_loop(max(steps // 4, 2), lambda: big @ big, sync),
    }
    report["matmul_4096_gflops"] = 2 * 4096 ** 3 / (report["matmul_4096_ms"] * 1e6)
    torch.manual_seed(0)
    model = mlp(2048, 9, 2, True).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    inputs = torch.randn(16, 3, 32, 32, device=device)
    labels = torch.randint(0, 2, (16,), device=device)

    def forward():
        with torch.no_grad():
            model(inputs)

    def backward():
        model.zero_grad(set_to_none=True)
        loss_fn(model(inputs), labels).backward()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(inputs), labels).backward()
        optimizer.step()

    report["paper_mlp"] = {
        "forward_ms": time_loop(steps, forward, sync),
        "forward_backward_ms": time_loop(steps, backward, sync),
        "step_ms": time_loop(steps, step, sync),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
