"""The grader of the course modules: a student's file against tinytorch.data, on hidden generated cases.

A module's grading is a list of `Check`s, each about one concept. A check generates its cases from the grader's
seed, smallest first; for each it computes the expected answer here, with tinytorch.data, then asks the student's
code (through `submit(op, **inputs)`) and compares. The first case that differs is reported with the check's hint.

The student's code never runs in this process: `sandbox.Sandbox` runs it in an interpreter of its own that cannot
import tinytorch, holds no object of the grader and learns neither the seed nor where the results go; inputs and
answers cross as plain data (JSON and .npy, never pickle). A check whose prerequisites failed is not run: it says
"fix <prerequisite> first". The verdict, the report and results.json are made here alone, after the submission's
processes have all been killed. The notebook's self-checks are these checks, on their first few cases.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .harness import describe, load, wire  # noqa: F401  (load is public: the milestones import a student's file)
from .sandbox import Sandbox, SubmissionError, error_status

STATIC_FLAGS = {"importlib": "imports importlib", "__import__": "calls __import__", "_getframe": "uses sys._getframe",
                "inspect": "uses inspect", "gc": "uses gc", "ctypes": "uses ctypes", "subprocess": "uses subprocess",
                "fork": "calls os.fork", "_exit": "calls os._exit", "setsid": "calls os.setsid",
                "kill": "calls os.kill", "posix_spawn": "calls os.posix_spawn",
                "multiprocessing": "uses multiprocessing", "signal": "uses signal", "eval": "calls eval",
                "exec": "calls exec", "compile": "calls compile", "modules": "uses sys.modules",
                "harness": "names the grader's harness", "wire": "names the grader's wire",
                **{name: f"reaches into the interpreter's internals ({name})" for name in (
                    "__globals__", "__closure__", "cell_contents", "__code__", "__defaults__", "__subclasses__",
                    "__builtins__", "f_back", "f_globals", "f_locals", "tb_frame", "gi_frame", "__getattribute__",
                    "attrgetter", "methodcaller", "vars")}}
ACCESSORS = ("getattr", "setattr", "delattr")  # with a name the static scan cannot read, they could reach anything
ANSWER = "**Your answer to question "
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")  # cell magics whose body is Python


@dataclass
class Check:
    """One graded concept: `run(case)` is a generator that yields requests to the student's code, receives the
    answers, and returns None (the student's code agrees with the reference) or what differs. `part` is the
    module's part it grades (the notebook's self-check cell of that part runs it); `needs` names the checks that
    must pass before this one means anything."""

    name: str
    hint: str  # the concept, shown when the check fails
    cases: Callable[[np.random.Generator], list]  # the cases to try, smallest first
    run: Callable[[dict], Generator]
    part: str = ""
    needs: tuple = ()
    points: int = 1


@dataclass
class Result:
    check: Check
    status: str  # passed, failed, error, timeout, crashed, refused, not implemented, blocked, import error
    detail: str = ""

    @property
    def score(self) -> int:
        return self.check.points if self.status == "passed" else 0


@dataclass
class Submission:
    """A student's file as the grader reads it: the code to run, where each line came from, Part 7's answers."""

    path: Path
    code: str
    cells: list = field(default_factory=list)  # (first line in `code`, cell number) of each code cell of a notebook
    answers: dict = field(default_factory=dict)  # question number -> the student's answer

    @classmethod
    def read(cls, path) -> Submission:
        """A .py file (jupytext's percent format), or an .ipynb notebook whose code cells are joined in order."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix != ".ipynb":
            return cls(path, text, answers=answers_in(markdown_cells_of_percent(text)))
        try:
            notebook = json.loads(text)
            cells = [(cell["cell_type"], "".join(cell["source"]) if isinstance(cell["source"], list)
                      else cell["source"]) for cell in notebook["cells"]]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a Jupyter notebook ({error})") from None
        code, starts = [], []
        for number, (kind, source) in enumerate(cells, start=1):
            if kind == "code":
                starts.append((sum(part.count("\n") + 2 for part in code) + 1, number))
                code.append(python_of_cell(source))
        return cls(path, "\n\n".join(code) + "\n", starts,
                   answers_in([source for kind, source in cells if kind == "markdown"]))

    def where(self, raised: dict) -> str:
        """'in <function>, line <n>' of the student's file (cell and line in a notebook), or ''."""
        line, function = raised.get("line"), raised.get("function")
        if line is None:
            return ""
        place = f"line {line}"
        if self.cells:
            first, number = max((start for start in self.cells if start[0] <= line), default=(1, 1))
            place = f"cell {number}, line {line - first + 1}"
        return f"in {function}, {place}" if function and function != "<module>" else place


def python_of_cell(source: str) -> str:
    """A notebook code cell as Python, line for line: IPython's `%` and `!` lines commented out, and the whole cell
    when a cell magic (`%%bash`, `%%writefile`...) makes it another language; `%%time`-like magics keep their
    Python body."""
    lines = source.splitlines()
    magic = lines[0].strip()[2:].split(" ")[0] if lines and lines[0].lstrip().startswith("%%") else None
    if magic is not None and magic not in PYTHON_CELL_MAGICS:
        return "\n".join("# " + line for line in lines)
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line for line in lines)


def markdown_cells_of_percent(text: str) -> list[str]:
    """The markdown cells of a jupytext percent-format file, without their '# ' prefixes."""
    cells, current = [], None
    for line in text.splitlines():
        if line.startswith("# %%"):
            current = [] if "[markdown]" in line else None
            if current is not None:
                cells.append(current)
        elif current is not None:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return ["\n".join(cell).strip() for cell in cells]


def answers_in(markdown: list[str]) -> dict:
    """{question number: answer text} from the cells that start with '**Your answer to question N:**'."""
    answers = {}
    for cell in markdown:
        if cell.startswith(ANSWER):
            number, _, rest = cell[len(ANSWER):].partition(":**")
            if number.strip().isdigit():
                answers[int(number)] = rest.strip()
    return answers


def flags_of(code: str) -> list[str]:
    """For the teacher to look at: lines of the student's code that use what a submission has no reason to use."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        found += [(node.lineno, STATIC_FLAGS[name]) for name in names_in(node) if name in STATIC_FLAGS]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACCESSORS \
                and len(node.args) >= 2 and not (isinstance(node.args[1], ast.Constant) and isinstance(
                    node.args[1].value, str) and not node.args[1].value.startswith("__")):
            found.append((node.lineno, f"calls {node.func.id} with a computed or special name"))
    return [f"line {line}: {what}" for line, what in sorted(set(found))]


def names_in(node) -> list[str]:
    """The names an AST node imports or uses (for an import, the top-level module)."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [(node.module or "").split(".")[0]] + [alias.name for alias in node.names]
    return [node.attr] if isinstance(node, ast.Attribute) else [node.id] if isinstance(node, ast.Name) else []


@dataclass
class Grading:
    """A grading run: a result per check, what the submission printed, the static scan, Part 7's answers."""

    module: str
    path: Path
    results: list
    printed: str = ""
    printed_size: int = 0
    flags: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return sum(result.score for result in self.results)

    @property
    def total(self) -> int:
        return sum(result.check.points for result in self.results)


def modules() -> dict:
    """{module: (its harness's operations module, its checks)}."""
    from . import dataloader08

    return {"08_dataloader": ("dataloader08", dataloader08.CHECKS)}


def checks_of(module: str) -> list[Check]:
    """The checks of course module `module`, e.g. '08_dataloader'."""
    known = modules()
    if module not in known:
        raise ValueError(f"no grader for module {module!r}; graded modules: {', '.join(known)}")
    return known[module][1]


def grade(module: str, path, timeout: float = 10.0, seed: int = 0, only=None) -> Grading:
    """Grade the student's file `path` (.py or .ipynb): every check of `module` (or those named in `only`, whose
    prerequisites then count as passed), each allowed `timeout` seconds for all its cases."""
    start = time.perf_counter()
    checks, ops = [check for check in checks_of(module) if only is None or check.name in only], modules()[module][0]
    try:
        submission = Submission.read(path)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return Grading(module, Path(path), [Result(check, "import error", f"cannot read {path}: {error}")
                                            for check in checks])
    with Sandbox(submission.code, ops, submission.where) as sandbox:
        results, causes = {}, {}
        loaded = sandbox.start(time.monotonic() + timeout)
        if not loaded["loaded"]:
            problem = load_problem(loaded["raised"], submission) if "raised" in loaded else loaded["failure"].detail
            if loaded.get("failure") and loaded["failure"].status == "timeout":
                problem = f"your file did not finish loading within {timeout:g} s: does code outside the functions " \
                          "run forever?"
            results = {check.name: Result(check, "import error", problem) for check in checks}
        for check in checks:
            if check.name in results:
                continue
            failed = [causes.get(need, need) for need in check.needs
                      if need in results and results[need].status != "passed"]
            if failed:  # named by the first check that really failed, not by one that was itself blocked
                results[check.name] = Result(check, "blocked", f"fix “{failed[0]}” first")
                causes[check.name] = failed[0]
                continue
            deadline = time.monotonic() + timeout  # for all the check's cases
            results[check.name] = run_check(check, lambda requests, deadline=deadline: sandbox.ask(requests, deadline),
                                            cases_seed(seed, submission.code))
        sandbox.stop()
        printed, size = sandbox.printed()
    flags = flags_of(submission.code) + ([sandbox.warning] if sandbox.warning else [])
    return Grading(module, Path(path), [results[check.name] for check in checks], printed, size, flags,
                   submission.answers, time.perf_counter() - start)


def cases_seed(seed: int, code: str) -> int:
    """The seed of a grading's cases: the grader's seed mixed with the submission's code. Cases that a submission
    printed (and so showed its author) are those of that file only: a file with answers to them built in is another
    file, graded on other cases."""
    return int.from_bytes(hashlib.sha256(f"{seed}\n{code}".encode()).digest()[:8], "big")


def load_problem(raised: dict, submission: Submission) -> str:
    location = submission.where(raised)
    text = f"{raised['type']}: {raised['message']}".rstrip(": ")
    return f"your file does not load: {text}" + (f" ({location})" if location else "")


def run_check(check: Check, ask, seed: int, limit: int | None = None) -> Result:
    """Run the check on its cases (the first `limit` of them); the first case in order that fails is the smallest
    failing example. The cases advance together: each round, `ask(requests)` sends every running case's next
    request at once (one pipelined exchange, not one per case) and returns, in order, each answer or the
    SubmissionError the student's code gave instead (None for a request never answered, after a timeout or a
    crash). A case whose answer cannot be read as expected fails with what it got."""
    cases = check.cases(np.random.default_rng([seed, zlib.crc32(check.name.encode())]))[:limit]
    runs, outcomes, pending = [check.run(case) for case in cases], [None] * len(cases), {}

    def advance(index, answer):
        try:
            pending[index] = runs[index].send(answer)
        except StopIteration as done:
            outcomes[index] = ("failed", done.value) if done.value else ("passed", "")
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:  # an answer of another shape
            outcomes[index] = ("failed", f"your code's answer could not be read as expected ({type(error).__name__}: "
                                         f"{error})")

    for index in range(len(cases)):
        advance(index, None)
    while pending:
        first_failed = min((i for i, outcome in enumerate(outcomes) if outcome and outcome[0] != "passed"),
                           default=None)
        for index in [i for i in pending if first_failed is not None and i > first_failed]:
            del pending[index]  # a larger case cannot be the smallest failing example any more
        order = sorted(pending)
        for index, answer in zip(order, ask([pending.pop(index) for index in order])):
            if isinstance(answer, SubmissionError):
                outcomes[index] = (answer.status, answer.detail)
            elif answer is not None:
                advance(index, answer)
    for case, outcome in zip(cases, outcomes):
        if outcome is None or outcome[0] == "passed":
            continue
        if outcome[0] == "not implemented":
            return Result(check, "not implemented", outcome[1])
        return Result(check, outcome[0], f"smallest failing example: {show(case)}\n{outcome[1]}")
    return Result(check, "passed")


def show(case) -> str:
    return ", ".join(f"{key}={value}" for key, value in case.items()) if isinstance(case, dict) else repr(case)


# ---- what the student and the teacher read ---------------------------------------------------------------------------

def check_lines(result: Result) -> list[str]:
    if result.status == "passed":
        return [f"✅ {result.check.name}"]
    if result.status == "import error":
        return [f"❌ {result.check.name}: not graded, the file does not load"]
    if result.status == "not implemented":
        return [f"❌ {result.check.name}: not implemented yet ({result.detail})"]
    if result.status == "blocked":
        return [f"❌ {result.check.name}: {result.detail}"]
    return [f"❌ {result.check.name}", f"   hint: {result.check.hint}",
            *(f"   {line}" for line in result.detail.splitlines())]


def printed_block(grading: Grading) -> list[str]:
    """What the submission printed, labelled and set apart (every line behind '│ '), cut to a bounded length."""
    if not grading.printed_size:
        return []
    cut = "" if grading.printed_size <= len(grading.printed.encode()) else f", the first {len(grading.printed)} " \
                                                                           "characters shown"
    return [f"---- what your file printed while being graded ({grading.printed_size} bytes{cut}) ----",
            *(f"│ {line}" for line in grading.printed.splitlines()), "---- end of what your file printed ----"]


def report(grading: Grading) -> str:
    """The text report: what the submission printed (set apart), one ✅/❌ line per check with the hint and the
    smallest failing example under each ❌, the static scan's flags, and the score last."""
    results = grading.results
    lines = printed_block(grading) + [f"Grading {grading.path} (module {grading.module}) against tinytorch.data: "
                                      f"{len(results)} checks"]
    if results and results[0].status == "import error":
        lines.append(f"❌ {results[0].detail}")
    for result in results:
        lines += check_lines(result)
    if grading.answers:
        answered = [str(number) for number, text in sorted(grading.answers.items()) if text]
        lines.append(f"📝 Part 7: {len(answered)} of {len(grading.answers)} questions answered "
                     f"({', '.join(answered) or 'none yet'}); your teacher reads the answers")
    lines += [f"⚠ for your teacher: {flag}" for flag in grading.flags]
    full = " — full marks!" if grading.score == grading.total else ""
    lines.append(f"Score: {grading.score}/{grading.total}{full}")
    return "\n".join(lines)


def gradescope(grading: Grading) -> dict:
    """Gradescope's autograder results.json: per check its name, score, max_score, status and output; Part 7's
    answers as tests worth 0 points (graded by hand); the static scan and the submission's output in `output`."""
    tests = []
    for number, result in enumerate(grading.results, start=1):
        tests.append({"name": result.check.name, "number": str(number), "score": result.score,
                      "max_score": result.check.points, "status": "passed" if result.status == "passed" else "failed",
                      "output": "\n".join(check_lines(result)[1:]) if result.status in
                      {"failed", "error", "timeout", "crashed", "refused"} else "\n".join(check_lines(result))[2:]})
    for question, answer in sorted(grading.answers.items()):
        tests.append({"name": f"Part 7, question {question} (graded by hand)", "number": f"7.{question}", "score": 0,
                      "max_score": 0, "output": answer or "(no answer)"})
    output = [f"Flagged for the teacher: {flag}" for flag in grading.flags] + printed_block(grading)
    return {"score": grading.score, "execution_time": round(grading.seconds, 2), "output": "\n".join(output),
            "tests": tests}


def write_results(grading: Grading, file) -> None:
    """Write Gradescope's results.json of `grading` atomically."""
    write_json(file, gradescope(grading))


def write_json(file, data) -> None:
    """Write `data` as JSON to `file` atomically: a temporary file beside it, then a rename."""
    file = Path(file)
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, file)


# ---- the notebook's self-checks --------------------------------------------------------------------------------

def self_check(part: str, namespace: dict, module: str = "08_dataloader", cases: int = 3) -> list[Result]:
    """Run the grader's checks of `part` on the first `cases` cases, on the code in `namespace` (the notebook's
    globals()), and print a ✅/❌ line per check: the same checks as the grader, so the two cannot disagree."""
    ops = __import__(f"{__name__}.harness.{modules()[module][0]}", fromlist=["OPS"]).OPS
    student = Namespace(namespace)

    def answer(op, inputs):
        try:
            return wire.decode(wire.encode(ops[op](student, **wire.decode(wire.encode(inputs)))))  # on copies
        except Exception as error:
            raised = describe(error, None)
            location = f" ({raised['function']}, line {raised['line']})" if raised["line"] else ""
            return SubmissionError(error_status(raised), raised["message"] if error_status(raised) == "not implemented"
                                   else f"raised {raised['type']}: {raised['message']}{location}")

    results = [run_check(check, lambda requests: [answer(*request) for request in requests], seed=0, limit=cases)
               for check in checks_of(module) if check.part == part]
    for result in results:
        if result.status == "not implemented":
            print(f"⏳ {result.check.name}: not implemented yet ({result.detail})")
        else:
            print("\n".join(check_lines(result)))
    return results


class Namespace:
    """The notebook's globals seen as a module: reading and setting attributes reads and sets its names."""

    def __init__(self, names: dict):
        object.__setattr__(self, "names", names)

    def __getattr__(self, name):
        try:
            return self.names[name]
        except KeyError:
            raise AttributeError(f"your notebook defines no {name}: run the cell that defines it") from None

    def __setattr__(self, name, value):
        self.names[name] = value

    def __dir__(self):
        return list(self.names)
