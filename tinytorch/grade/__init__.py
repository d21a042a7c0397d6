"""The grader of the course modules: a student's file against tinytorch.data, on hidden generated cases.

A module's grading is a list of `Check`s. A check generates its cases from a seeded NumPy generator, smallest
first, and runs each one on the student's code and on the reference; it returns None when they agree, else what
differs. The first case that fails is the smallest failing example reported, with the check's hint.

Each check runs in a child process with a time limit, so a student's endless loop, crash or `sys.exit` costs that
check and nothing else; a part still raising NotImplementedError reports "not implemented yet", and any other
exception is named with the line of the student's file it came from, never as a traceback.
"""
from __future__ import annotations

import importlib.util
import io
import json
import multiprocessing
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class Check:
    """One graded behaviour: `run(student, case)` -> None (agrees with the reference) or what differs."""

    name: str
    hint: str  # the concept, shown when the check fails
    cases: Callable[[np.random.Generator], list]  # the cases to try, smallest first
    run: Callable[[object, dict], "str | None"]
    points: int = 1


@dataclass
class Result:
    check: Check
    status: str  # passed, failed, not implemented, error, timeout, import error
    detail: str = ""

    @property
    def score(self) -> int:
        return self.check.points if self.status == "passed" else 0


def checks_of(module: str) -> list[Check]:
    """The checks of course module `module`, e.g. '08_dataloader'."""
    from . import dataloader08

    known = {"08_dataloader": dataloader08.CHECKS}
    if module not in known:
        raise ValueError(f"no grader for module {module!r}; graded modules: {', '.join(known)}")
    return known[module]


def grade(module: str, path, timeout: float = 10.0, seed: int = 0) -> list[Result]:
    """Run every check of `module` on the student's file `path`, each in its own process limited to `timeout` s."""
    path, checks = str(Path(path).resolve()), checks_of(module)
    status, detail = in_child(module, None, path, seed, timeout)  # first, does the file load at all?
    if status != "passed":
        if status == "timeout":
            detail = f"your file did not finish loading within {timeout:g} s: does code outside the functions run forever?"
        return [Result(check, "import error", detail) for check in checks]
    return [Result(check, *in_child(module, index, path, seed, timeout)) for index, check in enumerate(checks)]


def in_child(module: str, index: int | None, path: str, seed: int, timeout: float) -> tuple[str, str]:
    """(status, detail) of check `index` (None: only load the file) run in a child process, killed after `timeout` s."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=run_check, args=(module, index, path, seed, sender), daemon=True)
    child.start()
    sender.close()
    deadline, trying = time.monotonic() + timeout, None
    try:
        while receiver.poll(max(0.0, deadline - time.monotonic())):
            status, detail = receiver.recv()
            if status != "trying":
                break
            trying = detail  # the child is about to run this case
        else:
            status, detail = "timeout", f"no answer within {timeout:g} s: an endless loop, or far too slow?"
            if trying:
                detail = f"smallest failing example: {trying}\n{detail}"
    except EOFError:
        status, detail = "error", f"the check's process ended without an answer (exit code {child.exitcode}): " \
                                  "does your code call sys.exit() or crash Python?"
    child.kill()
    child.join()
    return status, detail


def run_check(module: str, index: int | None, path: str, seed: int, sender) -> None:
    """In the child process: load the student's file, try the check's cases in order (saying which, as it goes),
    send (status, detail)."""
    sys.stdout = sys.stderr = io.StringIO()  # what the student's code prints stays out of the report
    try:
        student = load(path)
    except BaseException as error:  # a syntax error or an exception at import: nothing to grade
        sender.send(("import error", f"your file does not load: {describe(error, path)}"))
        return
    if index is None:
        sender.send(("passed", ""))
        return
    check, case = checks_of(module)[index], None
    try:
        for case in check.cases(np.random.default_rng([seed, zlib.crc32(check.name.encode())])):  # per check
            sender.send(("trying", show(case)))
            problem = check.run(student, case)
            if problem:
                sender.send(("failed", f"smallest failing example: {show(case)}\n{problem}"))
                return
        sender.send(("passed", ""))
    except NotImplementedError as error:
        sender.send(("not implemented", str(error) or where(error, path)))
    except BaseException as error:  # the student's code raised: name it, with the case it raised on
        sender.send(("error", f"smallest failing example: {show(case)}\nraised {describe(error, path)}"))


def load(path: str):
    """Import the student's file as a module (its `if __name__ == "__main__":` cells do not run)."""
    spec = importlib.util.spec_from_file_location("student_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def where(error: BaseException, path: str) -> str:
    """The function and line of the student's file where `error` was raised, or '' when it did not come from there."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == path]
    return f"in {frames[-1].name}, line {frames[-1].lineno}" if frames else ""


def describe(error: BaseException, path: str) -> str:
    if isinstance(error, SyntaxError) and error.lineno:
        return f"SyntaxError: {error.msg} (line {error.lineno})"
    text = f"{type(error).__name__}: {error}".rstrip(": ")
    text, location = (text if len(text) <= 300 else text[:297] + "..."), where(error, path)
    return f"{text} ({location})" if location else text


def show(case) -> str:
    return ", ".join(f"{key}={value}" for key, value in case.items()) if isinstance(case, dict) else repr(case)


def report(results: list[Result], path, module: str) -> str:
    """The text report: one ✅/❌ line per check, the hint and the smallest failing example under each ❌, the score."""
    lines = [f"Grading {path} (module {module}) against tinytorch.data: {len(results)} checks"]
    if results and results[0].status == "import error":
        lines.append(f"❌ {results[0].detail}")
    for result in results:
        if result.status == "passed":
            lines.append(f"✅ {result.check.name}")
        elif result.status == "import error":
            lines.append(f"❌ {result.check.name}: not graded, the file does not load")
        elif result.status == "not implemented":
            lines.append(f"❌ {result.check.name}: not implemented yet ({result.detail})")
        else:
            lines.append(f"❌ {result.check.name}")
            lines.append(f"   hint: {result.check.hint}")
            lines += [f"   {line}" for line in result.detail.splitlines()]
    score, total = sum(r.score for r in results), sum(r.check.points for r in results)
    lines.append(f"Score: {score}/{total}" + (" — full marks!" if score == total else ""))
    return "\n".join(lines)


def gradescope(results: list[Result], seconds: float) -> dict:
    """Gradescope's autograder results.json: the score, and per test its name, score, max_score and output."""
    tests = []
    for number, result in enumerate(results, start=1):
        output = "" if result.status == "passed" else (
            f"not implemented yet ({result.detail})" if result.status == "not implemented"
            else f"hint: {result.check.hint}\n{result.detail}")
        tests.append({"name": result.check.name, "number": str(number), "score": result.score,
                      "max_score": result.check.points, "status": "passed" if result.status == "passed" else "failed",
                      "output": output})
    return {"score": sum(r.score for r in results), "execution_time": round(seconds, 2), "tests": tests}


def write_gradescope(results: list[Result], seconds: float, file) -> None:
    Path(file).write_text(json.dumps(gradescope(results, seconds), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

