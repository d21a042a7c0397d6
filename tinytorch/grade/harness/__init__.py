"""The grader's side inside the submission's interpreter: load the student's file, answer requests with plain data.

The grading process starts `python -I -S run.py` in a temporary folder holding only this package, the student's
code (`submission.py`) and NumPy, so `tinytorch` cannot be imported there. Each request names an operation of the
module's harness (e.g. `dataloader08.OPS["collate"]`) and carries its inputs; the reply is what the student's code
returned, or the exception it raised with the line of the student's file. The reply is only an answer: the
grading process computed the expected one beforehand and decides.

Before the student's file runs, an audit hook (which Python cannot remove) refuses what a submission has no
reason to do: import tinytorch or this harness (which also leaves sys.modules), open the grader's files (or another
process's in /proc), write or change anything in the grading folder, start, signal or connect to other processes,
load C libraries (ctypes). What the submission could still reach in its own interpreter (the harness's objects,
through frames or closures) only changes its own answers, which the grading process checks against its own
reference, and what the harness observes there (README's course section lists it).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback

SUBMISSION = "submission.py"
REFUSED_EVENTS = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system", "os.kill",
                  "os.killpg", "signal.pthread_kill", "subprocess.Popen", "pty.spawn", "socket.", "ctypes.",
                  "resource.setrlimit", "resource.prlimit", "sys.addaudithook")
REFUSED_IMPORTS = ("tinytorch", "_posixsubprocess", "harness", "run")
NO_TINYTORCH = "the grader runs your file without tinytorch: write each part yourself instead of"
CHANGING_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown",
                   "os.truncate", "os.utime", "shutil.")
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Refused(PermissionError):
    """What the audit hook raises for an action the grader does not allow a submission."""


def describe(error: BaseException, path: str | None) -> dict:
    """An exception as plain data: its type (and base classes), message, and the student's function and line (the
    last frame in the file `path`; with None, the last frame outside the harness)."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [(frame.f_code, line) for frame, line in traceback.walk_tb(error.__traceback__)
              if (frame.f_code.co_filename == path if path else not frame.f_code.co_filename.startswith(here))]
    code, line = frames[-1] if frames else (None, None)
    function = getattr(code, "co_qualname", getattr(code, "co_name", None))  # Class.method from Python 3.11
    if isinstance(error, SyntaxError) and error.filename == path:
        line, function = error.lineno, None
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    if isinstance(error, SystemExit):
        message = f"your code called sys.exit({error.code!r})"
    return {"type": type(error).__name__, "bases": [kind.__name__ for kind in type(error).__mro__],
            "message": message if len(message) <= 300 else message[:297] + "...", "line": line, "function": function}


def install_guard(roots: dict) -> None:
    """The audit hook. `roots["forbidden"]` are folders the submission may not open files in, except those in
    `roots["allowed"]`."""
    pid, realpath, startswith, isinstance_, str_ = os.getpid(), os.path.realpath, str.startswith, isinstance, str
    forbidden, allowed = (tuple(root.rstrip("/") + "/" for root in roots[kind]) for kind in ("forbidden", "allowed"))
    proc_self = (f"/proc/{pid}/", "/proc/self/", "/proc/thread-self/")
    own_folder = allowed[0]  # the grading folder: the harness, run.py and the submission, read-only to it

    def refuse(what: str):
        raise Refused(f"the grader does not let a submission {what}")

    def inside(path, roots) -> bool:
        return startswith(realpath(path if isinstance_(path, str_) else os.fsdecode(path)) + "/", roots)

    def hook(event, args):
        if event == "import" and (args[0] in REFUSED_IMPORTS or startswith(args[0], ("tinytorch.", "harness."))):
            if startswith(args[0], "tinytorch"):
                raise ImportError(f"{NO_TINYTORCH} importing {args[0]}")
            if startswith(args[0], ("harness", "run")):
                refuse(f"import the grader's harness ({args[0]}): its answers are the grader's, not yours")
            refuse(f"start, signal or connect to other processes (import {args[0]}, as subprocess does)")
        elif event == "open" and isinstance_(args[0], (str_, bytes)):
            path = realpath(args[0] if isinstance_(args[0], str_) else args[0].decode(errors="replace"))
            writing = (args[2] or 0) & WRITING or any(letter in (args[1] or "") for letter in "wax+")
            if writing and startswith(path + "/", (own_folder,)):
                refuse(f"write {args[0]!r}: the grader's folder is read-only")
            if startswith(path + "/", allowed):
                return
            if startswith(path + "/", forbidden) or (startswith(path, "/proc/") and path[6:7].isdigit()
                                                 and not startswith(path + "/", proc_self)):
                refuse(f"open {args[0]!r}: only your own code and NumPy are available while grading")
        elif startswith(event, CHANGING_EVENTS) and any(inside(arg, (own_folder, *forbidden)) for arg in args[:2]
                                                        if isinstance_(arg, (str_, bytes))):
            refuse(f"change the grader's files ({event})")
        elif startswith(event, REFUSED_EVENTS):
            refuse(f"start, signal or connect to other processes, or load C libraries ({event})")

    sys.addaudithook(hook)
    sys.meta_path.insert(0, NoTinytorch())


class NoTinytorch:
    """A meta path finder that answers any import of tinytorch (however it is asked for) with a clear message."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "tinytorch" or name.startswith("tinytorch."):
            raise ImportError(f"{NO_TINYTORCH} importing {name}")


def load(path: str, name: str = "submission"):
    """Import the student's file as a module named `name` (its `if __name__ == "__main__":` blocks do not run)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(folder: str, request_fd: int, reply_fd: int, ops_name: str, roots: dict) -> None:
    """The submission process's loop: load the student's file, then answer requests until the grader closes."""
    from . import wire

    ops = importlib.import_module(f"{__name__}.{ops_name}").OPS
    path = os.path.join(folder, SUBMISSION)
    for name in [name for name in sys.modules if name == "harness" or name.startswith("harness.")]:
        del sys.modules[name]  # out of the submission's reach by name: importing them again is refused
    install_guard(roots)
    try:
        student = load(path)
        reply = {"loaded": True}
    except BaseException as error:  # a syntax error, an exception or sys.exit() at import: nothing to grade
        reply, student = {"loaded": False, "raised": describe(error, path)}, None
    wire.send(reply_fd, reply)
    while student is not None:
        try:
            request = wire.receive(request_fd, shared=True)
        except EOFError:
            return
        wire.send(reply_fd, answer(ops, student, request, path))


def answer(ops, student, request, path) -> dict:
    """Run one request {"id": n, "op": name, "inputs": {...}} on the student's module: {"id": n, "ok": outputs} or
    {"id": n, "raised": ...}."""
    try:
        return {"id": request["id"], "ok": ops[request["op"]](student, **request["inputs"])}
    except BaseException as error:  # the student's code raised (or exited): report it, keep serving
        return {"id": request["id"], "raised": describe(error, path)}
