"""How long ``import salesstd`` takes, as a multiple of ``import numpy`` in the same run.

Usage:
    PYTHONPATH=src python benchmarks/bench_import.py            # 21 interpreters each
    PYTHONPATH=src python benchmarks/bench_import.py --check 4  # exit 1 above 4x numpy

Each sample is one fresh interpreter that times its own ``import <module>`` with
``time.perf_counter`` (interpreter start-up is not counted). The two imports alternate
(numpy, salesstd, salesstd, numpy, ...) so drift on the shared machine hits both alike; one
untimed warm-up of each first compiles any stale bytecode. The figure is the ratio of the
medians. ``import salesstd`` includes importing numpy, so the ratio is at least 1.

The children get this interpreter's ``sys.path`` as ``PYTHONPATH``; when salesstd is not
importable from it, the repository's ``src/`` is tried (as in ``bench_foundation.py``).
Progress goes to stderr, the markdown report to stdout; ``--top`` lists the packages that
take longest under ``python -X importtime`` and the salesstd modules that import them: the
candidates for a lazy import.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def child_env() -> dict[str, str]:
    """This interpreter's path for the children, with ``src/`` when salesstd is not on it."""
    paths = [p for p in sys.path if p]
    if importlib.util.find_spec("salesstd") is None:
        paths.insert(0, str(SRC))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done


def import_seconds(module: str, env: dict[str, str]) -> float:
    """Seconds one fresh interpreter spends in ``import <module>``."""
    return float(run(["-c", TIMER.format(module=module)], env).stdout.strip())


def by_package(env: dict[str, str]) -> list[tuple[float, str, str]]:
    """Where ``import salesstd`` spends its time, per top-level package (``-X importtime``).

    Returns (self ms summed over the package's modules, package, the salesstd modules that
    import it directly), slowest first. importtime lists a module after everything it
    imported, indented one step deeper, so a line's importer is the next line one step
    shallower.
    """
    err = run(["-X", "importtime", "-c", "import salesstd"], env).stderr
    rows: list[tuple[int, float, str]] = []  # depth, self ms, name
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            rows.append((depth, int(parts[0]) / 1000, name.strip()))
    spent: dict[str, float] = {}
    importers: dict[str, set[str]] = {}
    for i, (depth, ms, name) in enumerate(rows):
        package = name.split(".", maxsplit=1)[0]
        spent[package] = spent.get(package, 0.0) + ms
        importer = next((n for d, _, n in rows[i + 1 :] if d == depth - 1), "")
        if package != "salesstd" and importer.startswith("salesstd"):
            importers.setdefault(package, set()).add(importer)
    table = [(ms, pkg, ", ".join(sorted(importers.get(pkg, ())))) for pkg, ms in spent.items()]
    return sorted(table, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="interpreters per module")
    parser.add_argument(
        "--check", type=float, default=None, help="exit 1 if salesstd / numpy exceeds this"
    )
    parser.add_argument("--top", type=int, default=10, help="slowest packages to list (0: none)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    env = child_env()
    where = run(["-c", "import salesstd; print(salesstd.__file__)"], env).stdout.strip()
    modules = ("numpy", "salesstd")
    for module in modules:  # warm-up: bytecode compiled, caches filled
        import_seconds(module, env)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for i in range(args.runs):
        for module in modules if i % 2 == 0 else modules[::-1]:
            samples[module].append(import_seconds(module, env))
        print(f"\r{i + 1}/{args.runs} rounds", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    median = {m: statistics.median(s) for m, s in samples.items()}
    ratio = median["salesstd"] / median["numpy"]
    print(f"# import time, {args.runs} fresh interpreters each, interleaved\n")
    print(f"python {sys.version.split()[0]}; salesstd from {where}\n")
    print("| import | median ms | quartiles ms | x numpy |")
    print("|---|---:|---:|---:|")
    for module in modules:
        q1, _, q3 = statistics.quantiles(samples[module], n=4)
        print(
            f"| {module} | {median[module] * 1e3:.1f} | {q1 * 1e3:.1f} - {q3 * 1e3:.1f} "
            f"| {median[module] / median['numpy']:.2f} |"
        )
    target = "" if args.check is None else f" (target <= {args.check:g})"
    verdict = "" if args.check is None else (" PASS" if ratio <= args.check else " FAIL")
    print(f"\nsalesstd / numpy = {ratio:.2f}{target}{verdict}")
    if args.top > 0:
        print("\nwhere `import salesstd` spends its time (-X importtime, one run):\n")
        print("| self ms | package | imported directly by |")
        print("|---:|---|---|")
        for ms, package, importer in by_package(env)[: args.top]:
            print(f"| {ms:.1f} | `{package}` | {importer} |")
    if args.json is not None:
        figures = {"runs": args.runs, "seconds": samples, "median": median, "ratio": ratio}
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.check is not None and ratio > args.check:
        print(
            f"import salesstd takes {ratio:.2f}x import numpy; allowed {args.check:g}x",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
