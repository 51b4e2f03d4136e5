import torch, collections, time
from train_step import make_path
from roofline import MatmulReplay, roofline
from longaqa.allocator import keep_freed_memory
keep_freed_memory()
_, model, s = make_path("fp32", 48, 80, torch.device("cpu"), [])
s()
rep = MatmulReplay(s, torch.device("cpu"))
groups = collections.defaultdict(lambda: [0, 0.0, 0])
for func, args, kwargs in rep.calls:
    a, b = (args[1], args[2]) if func is torch.ops.aten.addmm.default else (args[0], args[1])
    fl = 2 * a.shape[:-1].numel() * a.shape[-1] * b.shape[-1]
    func(*args, **kwargs)
    best = 1e9
    for _ in range(3):
        t = time.perf_counter(); func(*args, **kwargs); best = min(best, time.perf_counter() - t)
    key = (func.__name__, tuple(a.shape), a.stride(), tuple(b.shape), b.stride())
    g = groups[key]; g[0] += 1; g[1] += best; g[2] += fl
print(roofline(torch.device("cpu"), [(3264,1024,1024),(2048,2048,2048)]))
tot = 0
for k, (n, t, fl) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
    tot += t
    print(f"{t*1e3:8.1f} ms n={n:2d} {fl/t/1e9:5.0f} GF/s {k}")
print("total", tot, "flop", rep.flop/1e9)
