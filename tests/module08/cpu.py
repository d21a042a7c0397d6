"""The CPU time of one grading run per seeded mistake of tests/test_module08_faults.py, as a teacher runs it
(`python -m tinytorch.grade 08_dataloader FILE`): user + system seconds of the grader and of the submission's
interpreters, from wait4. Prints each and the median; the issue's budget is 3 s per submission.

Run from the checkout: `python tests/module08/cpu.py`.
"""
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_module08_faults as faults


def cpu_seconds(path: Path) -> float:
    process = subprocess.Popen([sys.executable, "-m", "tinytorch.grade", "08_dataloader", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def main():
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (replacements, _, _) in faults.FAULTS.items():
            seconds.append(cpu_seconds(faults.faulty(name, replacements, Path(folder))))
            print(f"{seconds[-1]:5.2f} s  {name}", flush=True)
    print(f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s of CPU per grading run "
          f"({len(seconds)} seeded mistakes)")


if __name__ == "__main__":
    main()
