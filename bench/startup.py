"""What a `xxgk run` costs before and around its work: imports, Prefect's temporary API,
the run itself, for a run with nothing to do and a run of one document.

    uv run python bench/startup.py [--repeat 3] [--no-prefect-runs]

Every figure is the median wall time of `--repeat` fresh processes (no Prefect server
configured: PREFECT_API_URL unset, a fresh PREFECT_HOME). "local" is the default
without a server (the run in the CLI's process, recorded in the `runs` view); "prefect"
is `--prefect` (a flow run on Prefect's temporary API, what every run did before).
The machine's load average is printed with the figures: other work on its cores
stretches all of them alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE = ROOT / "tests" / "fixtures" / "seed" / "000_88a088b4017afa2e.txt"


def timed(cmd: list[str], env: dict, repeat: int, before=None) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + system, the command and its
    child processes) of `cmd` over `repeat` runs (`before()` runs untimed before each). CPU
    time hardly moves with the machine's load; wall time does."""
    walls, cpus = [], []
    for _ in range(repeat):
        if before:
            before()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return statistics.median(walls), statistics.median(cpus)


def api_start(env: dict, repeat: int) -> tuple[float, float]:
    code = ("import time; t = time.perf_counter(); from prefect.server.api.server import SubprocessASGIServer; "
            "s = SubprocessASGIServer(); s.start(timeout=120); print(time.perf_counter() - t); s.stop()")
    out = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(out), float("nan")  # (the server's CPU is not this process's child's)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-prefect-runs", action="store_true", help="Skip the (slow) runs through Prefect's API.")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="xxgk-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp / "prefect-home")
    inbox = tmp / "in"
    inbox.mkdir()
    shutil.copy(ONE, inbox / ONE.name)
    py, cli = sys.executable, [sys.executable, "-m", "flows.cli"]
    rows: list[tuple[str, tuple[float, float]]] = []
    try:
        rows.append(("python itself", timed([py, "-c", "pass"], env, args.repeat)))
        rows.append(("import flows.cli (every command)", timed([py, "-c", "import flows.cli"], env, args.repeat)))
        rows.append(("import flows.work (a local run's imports)", timed([py, "-c", "import flows.work"], env,
                                                                         args.repeat)))
        rows.append(("import flows.run (Prefect and the flows)", timed([py, "-c", "import flows.run"], env,
                                                                        args.repeat)))
        rows.append(("Prefect temporary API start (in its process)", api_start(env, args.repeat)))
        modes = [("local", [])] + ([] if args.no_prefect_runs else [("prefect", ["--prefect"])])
        for mode, flag in modes:
            wh = tmp / f"wh-{mode}"

            def fresh(wh: Path = wh) -> None:
                shutil.rmtree(wh, ignore_errors=True)

            rows.append((f"run of one document ({mode})",
                         timed(cli + ["run", str(inbox), "-w", str(wh), *flag], env, args.repeat, before=fresh)))
            rows.append((f"run with nothing to do ({mode})",
                         timed(cli + ["run", str(inbox), "-w", str(wh), *flag], env, args.repeat)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; median of {args.repeat}")
    print(f"  {'':50} {'wall':>8} {'CPU':>8}")
    for name, (wall, cpu) in rows:
        print(f"  {name:50} {wall:6.2f} s {cpu:6.2f} s")


if __name__ == "__main__":
    main()
