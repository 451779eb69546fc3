"""Sampling profiles of the stack while a measure runs (py-spy), summarised as text.

For each process, py-spy writes collapsed stacks ("frame;frame;frame count"); the summary
lists the frames that most samples passed through (cumulative) and those that most samples
stopped in (self), so a reader sees where the time of a request goes.
"""

import collections
import subprocess
from pathlib import Path

# Frames that mark "inside a request" or "inside a task": the summary starts there, so that
# idle loops and pool threads do not drown the picture.
ROOTS = ("WSGIHandler.__call__", "trace_task")


def start(pyspy: str, pids: list[int], out: Path, seconds: float) -> list[subprocess.Popen]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                pyspy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "200",
                "--nonblocking",
                # Only threads holding the GIL: where the Python CPU time goes.
                "--gil",
                "--format",
                "raw",
                "--output",
                str(out / f"{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def summarise(folder: Path, *, top: int = 40) -> str:
    cumulative: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            start = next(
                (i for i, f in enumerate(frames) if any(root in f for root in ROOTS)), None
            )
            if start is None:
                continue
            frames = frames[start:]
            samples = int(count)
            total += samples
            for frame in set(frames):
                cumulative[frame] += samples
            own[frames[-1]] += samples
    if not total:
        return "no samples inside requests or tasks\n"
    lines = [f"{total} samples inside requests or tasks", "", "cumulative:"]
    lines += [f"{n / total:6.1%}  {frame}" for frame, n in cumulative.most_common(top)]
    lines += ["", "self:"]
    lines += [f"{n / total:6.1%}  {frame}" for frame, n in own.most_common(top // 2)]
    return "\n".join(lines) + "\n"
