"""PyTorch CPU side of `npm run bench`: trains the workloads it is given on the same MNIST
batches and times the core kernels, with 1 and 2 threads, and prints one JSON object.

Input (stdin, JSON): batch, count, dataPath (float32 images then int32 labels), seconds,
warmup, threads, workloads [{id, input, torch}], kernels [{name, kind, ...}].
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def shaped(x, layout):
    if layout == 'image':
        return x.view(-1, 1, 28, 28)
    if layout == 'rows':
        return x.view(-1, 28, 28)
    return x


def time_loop(step, seconds, warmup, min_steps=3):
    for _ in range(warmup):
        step()
    n = 0
    t0 = time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - t0
        if n >= min_steps and elapsed >= seconds:
            return n, elapsed


def train(spec, batches, cfg):
    scope = {'torch': torch, 'nn': nn, 'F': F}
    exec(spec['torch'], scope)
    model = scope['model']
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs = [shaped(x, spec['input']) for x, _ in batches]
    ys = [y for _, y in batches]
    i = [0]

    def step():
        k = i[0] % len(xs)
        i[0] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[k]), ys[k])
        loss.backward()
        opt.step()
        return loss

    n, elapsed = time_loop(step, cfg['seconds'], cfg['warmup'])
    return n * cfg['batch'] / elapsed


def kernel(spec, cfg):
    if spec['kind'] == 'matmul':
        n = spec['n']
        a, b = torch.rand(n, n), torch.rand(n, n)
        flops = 2 * n ** 3
        fn = lambda: torch.mm(a, b)
    else:
        x, w = torch.rand(*spec['x']), torch.rand(*spec['w'])
        y = F.conv2d(x, w, padding=spec['padding'])
        flops = 2 * y.numel() * w.shape[1] * w.shape[2] * w.shape[3]
        fn = lambda: F.conv2d(x, w, padding=spec['padding'])
    with torch.no_grad():
        n, elapsed = time_loop(fn, cfg['seconds'] / 2, 1)
    return flops * n / elapsed / 1e9


def main():
    cfg = json.load(sys.stdin)
    raw = np.fromfile(cfg['dataPath'], dtype=np.uint8)
    n = cfg['batch'] * cfg['count']
    images = torch.from_numpy(raw[: n * 784 * 4].view(np.float32).copy())
    labels = torch.from_numpy(raw[n * 784 * 4 :].view(np.int32).astype(np.int64))
    batches = [
        (images[k * cfg['batch'] * 784 : (k + 1) * cfg['batch'] * 784].view(cfg['batch'], 784), labels[k * cfg['batch'] : (k + 1) * cfg['batch']])
        for k in range(cfg['count'])
    ]
    result = {'version': torch.__version__, 'workloads': {}, 'kernels': {}}
    for threads in cfg['threads']:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        for spec in cfg['workloads']:
            rate = train(spec, batches, cfg)
            best = result['workloads'].get(spec['id'])
            if best is None or rate > best['samplesPerSec']:
                result['workloads'][spec['id']] = {'samplesPerSec': rate, 'threads': threads}
        for spec in cfg['kernels']:
            g = kernel(spec, cfg)
            best = result['kernels'].get(spec['name'])
            if best is None or g > best['gflops']:
                result['kernels'][spec['name']] = {'gflops': g, 'threads': threads}
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
