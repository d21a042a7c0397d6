"""The student's code in an interpreter of its own, which the grading process talks to with plain data.

`Sandbox` writes a temporary folder (the harness, the student's code as `submission.py`, a link to NumPy) and
starts `python -I -S run.py` there: isolated mode, no site-packages (so no editable install of tinytorch), a clean
environment, a session of its own, and, when the grader runs as root (as on Gradescope), a user id of its own that
owns no file. The child learns nothing of the grading: not the seed, not where results go, not the checks.

`ask(requests)` sends a round of requests at once and reads the replies, in order, until the check's deadline. A
submission that runs past it, exits or crashes costs that check only: its whole process group (and, under its own
user id, every process of that user, even one that left the group) is killed, and the next check starts a fresh
interpreter. What the submission prints is collected apart, up to `OUTPUT_LIMIT` characters.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.util import Finalize
from pathlib import Path

import numpy as np

from . import harness
from .harness import wire

OUTPUT_LIMIT = 4000
MEMORY_LIMIT = 4 << 30  # bytes of address space for the submission's interpreter
RUN = """import json
import os
import sys
folder = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [folder, folder + "/site"]  # the harness, and NumPy: nothing else installed
import numpy  # noqa: E402,F401  (loaded before the guard: the student's code uses it)
import resource  # noqa: E402
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))  # a runaway allocation is a MemoryError, not the machine's
if {separate_user}:
    resource.setrlimit(resource.RLIMIT_NPROC, (32, 32))
from harness import serve  # noqa: E402
serve(folder, int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]))
"""


class SubmissionError(Exception):
    """The submission did not answer a request: `status` is one of "not implemented", "error", "timeout",
    "crashed", "refused"; `detail` says what happened, for the report."""

    def __init__(self, status: str, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def roots(folder: Path, numpy_folder: Path, shared: Path) -> dict:
    """Where the submission may not open files (the grader's package, the checkout it lives in, Gradescope's
    folders) and, within those, where it may (NumPy, its own folder)."""
    package = Path(harness.__file__).resolve().parents[2]  # tinytorch/
    forbidden = [str(package), "/autograder"]
    if (package.parent / "modules").is_dir() or (package.parent / "setup.cfg").is_file():
        forbidden.append(str(package.parent))
    numpy_dir = numpy_folder / "numpy"
    return {"forbidden": forbidden, "allowed": [str(folder), str(numpy_dir), f"{numpy_dir}.libs", str(shared)]}


def error_status(raised: dict) -> str:
    if "NotImplementedError" in raised["bases"]:
        return "not implemented"
    if raised["type"] == "Refused" or raised["message"].startswith(harness.NO_TINYTORCH):
        return "refused"
    return "error"


class Sandbox:
    """One submission's interpreter, started on demand and restarted after a timeout or a crash."""

    def __init__(self, code: str, ops: str, where=lambda raised: ""):
        self.ops, self.where = ops, where
        self.folder = Path(tempfile.mkdtemp(prefix="tinytorch-grade-"))
        self.shared = Path(tempfile.mkdtemp(prefix="tinytorch-grade-shared-"))  # inputs both processes map
        self.shared.chmod(0o755)
        self.python, self.uid, self.warning = sys.executable, None, ""
        if os.geteuid() == 0:  # the submission runs under a user id of its own, with an interpreter it can run
            self.python = interpreter_for_others()
            self.uid = fresh_uid() if self.python else None
            if self.python is None:
                self.python, self.warning = sys.executable, (
                    f"the submission ran as root: no Python {sys.version_info.major}.{sys.version_info.minor} that an "
                    "unprivileged user can run was found (install one in /usr/bin or /usr/local/bin)")
        shutil.copytree(Path(harness.__file__).parent, self.folder / "harness",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (self.folder / "run.py").write_text(RUN.format(separate_user=self.uid is not None, memory=MEMORY_LIMIT),
                                            encoding="utf-8")
        (self.folder / harness.SUBMISSION).write_text(code, encoding="utf-8")
        site = self.folder / "site"
        site.mkdir()
        self.numpy = numpy_home(self.uid is not None)
        for name in ("numpy", "numpy.libs"):
            if (self.numpy / name).exists():
                (site / name).symlink_to(self.numpy / name)
        for path in [self.folder, *self.folder.rglob("*")]:  # readable by the submission's user, writable by none
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        self.output, self.output_size, self.process, self.requests = bytearray(), 0, None, 0
        self.writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, deadline: float) -> dict:
        """Start the interpreter and load the student's file: {"loaded": True}, or {"loaded": False} with what it
        raised ("raised") or the SubmissionError of a timeout or crash ("failure")."""
        request_read, self.request_fd = os.pipe()
        self.reply_fd, reply_write = os.pipe()
        argv = [self.python, "-I", "-S", "-B", "-u", str(self.folder / "run.py"), str(request_read), str(reply_write),
                self.ops, json.dumps(roots(self.folder, self.numpy, self.shared))]
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        try:
            self.process = self.popen(argv, env, (request_read, reply_write))
        except PermissionError:  # a container that maps no other user id: run as this user, and say so
            self.uid, self.warning = None, "the submission ran as root: this system refused it a user id of its own"
            self.process = self.popen(argv, env, (request_read, reply_write))
        os.close(request_read)
        os.close(reply_write)
        self.reader = threading.Thread(target=self.collect, args=(self.process.stdout,), daemon=True)
        self.reader.start()
        try:
            return self.receive(deadline)
        except SubmissionError as error:  # it ran past the deadline or ended while loading
            return {"loaded": False, "failure": error}

    def popen(self, argv: list, env: dict, fds: tuple) -> subprocess.Popen:
        user = {} if self.uid is None else {"user": self.uid, "group": self.uid, "extra_groups": []}
        return subprocess.Popen(argv, cwd=self.folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, pass_fds=fds, start_new_session=True, **user)

    def ask(self, requests: list, deadline: float) -> list:
        """The student's code's answer to each request (op, inputs), in order, all sent at once: an answer, a
        SubmissionError (it raised, or ran past `deadline`, or crashed), or None for one never answered after
        that. A fresh interpreter is started first when none is running."""
        if self.process is None:
            loaded = self.start(deadline)
            if not loaded["loaded"]:
                self.stop()
                return [loaded.get("failure") or SubmissionError("error", "your file no longer loads")] + \
                    [None] * (len(requests) - 1)
        first = self.requests + 1
        self.requests += len(requests)
        messages = [{"id": first + number, "op": op, "inputs": inputs} for number, (op, inputs) in enumerate(requests)]
        shared = self.share(messages)
        self.writer = threading.Thread(target=self.send, args=(messages,), daemon=True)  # replies are read meanwhile
        self.writer.start()
        answers = []
        try:
            for number in range(len(requests)):
                try:
                    reply = self.receive(deadline, first + number)
                except SubmissionError as error:
                    return answers + [error] + [None] * (len(requests) - number - 1)
                answers.append(reply["ok"] if "ok" in reply else self.raised(reply["raised"]))
            self.writer.join()
            return answers
        finally:
            self.read_back(shared)

    def share(self, value, found=None) -> list:
        """Each `wire.Shared` input in `value` written to a file of its own that the submission maps (writable by
        its user): the list of them."""
        found = [] if found is None else found
        if isinstance(value, wire.Shared):
            value.path = str(self.shared / f"{self.requests}-{len(found)}")
            with open(value.path, "wb") as file:
                file.write(value.array.tobytes())
            os.chmod(value.path, 0o666)
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                self.share(item, found)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.share(item, found)
        return found

    def read_back(self, shared: list):
        """What each shared input holds now (the submission answered, or its interpreter is gone): `after`."""
        for item in shared:
            try:
                with open(item.path, "rb") as file:
                    data = file.read(item.array.nbytes + 1)
                os.remove(item.path)
            except OSError:  # removed or replaced: that is writing too
                data = b""
            item.after = np.frombuffer(data, item.array.dtype, item.array.size).reshape(item.array.shape) \
                if len(data) == item.array.nbytes else np.zeros(0, item.array.dtype)  # resized: written
            item.path = None

    def send(self, messages: list):
        try:
            for message in messages:
                wire.send(self.request_fd, message)
        except OSError:
            pass  # the interpreter is gone: the reader says how

    def raised(self, raised: dict) -> SubmissionError:
        """What the student's code raised, as the report says it: its type, message and line."""
        status, location = error_status(raised), self.where(raised)
        if status == "not implemented":
            return SubmissionError(status, raised["message"] or raised["type"])
        text = f"{raised['type']}: {raised['message']}".rstrip(": ")
        return SubmissionError(status, f"raised {text}" + (f" ({location})" if location else ""))

    def receive(self, deadline: float, request: int | None = None) -> dict:
        """The reply to request number `request` (None: the reply to loading the file), checked to be the harness's
        answer to it: anything else on the channel means the submission wrote to it, and the interpreter is stopped."""
        def wait(fd):
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError

        try:
            reply = wire.receive(self.reply_fd, wait)
            if not well_formed(reply, request):
                raise wire.WireError(f"an answer that is not the harness's: {wire.safe_repr(reply)}")
            return reply
        except TimeoutError:
            self.stop()
            raise SubmissionError("timeout", "no answer in time: an endless loop, or far too slow?") from None
        except EOFError:
            code = self.stop(exiting=True)
            raise SubmissionError("crashed", f"your code ended the interpreter that runs it ({exit_text(code)}): "
                                             "does it call os._exit(), or crash Python?") from None
        except wire.WireError as error:
            self.stop()
            raise SubmissionError("crashed", f"the submission's process sent {error}: does your code write to "
                                             "file descriptors it did not open?") from None

    def stop(self, exiting: bool = False):
        """Kill the submission's processes (its group; under its own user id, all of that user's) and return the
        interpreter's exit code (negative: the signal that ended it), or None when none was running."""
        if self.process is None:
            return None
        code = self.process.poll()
        if code is None and exiting:  # it closed its end: a moment to collect the real exit code
            try:
                code = self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.kill_user):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
        self.process.wait()
        if self.writer is not None:
            self.writer.join()  # its writes fail now that nobody reads: then its descriptor can be closed
            self.writer = None
        code = self.process.returncode if code is None else code
        self.reader.join(timeout=5)
        for fd in (self.request_fd, self.reply_fd):
            os.close(fd)
        self.process = None
        return code

    def kill_user(self):
        """Every process of the submission's own user id (also one that left the process group), by kill(-1)."""
        if self.uid is not None:
            subprocess.run([self.python, "-I", "-S", "-c", "import os, signal; os.kill(-1, signal.SIGKILL)"],
                           user=self.uid, group=self.uid, extra_groups=[], env={}, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def collect(self, stream):
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.output_size += len(chunk)
            self.output += chunk[: max(0, OUTPUT_LIMIT * 4 - len(self.output))]
        stream.close()

    def printed(self) -> tuple[str, int]:
        """(the first OUTPUT_LIMIT characters the submission printed, how many bytes it printed in all)."""
        return bytes(self.output).decode("utf-8", errors="replace")[:OUTPUT_LIMIT], self.output_size

    def close(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.shared, ignore_errors=True)


def interpreter_for_others() -> str | None:
    """This Python, or the same version in /usr/local/bin or /usr/bin, when a user without any rights can run it
    and read its standard library (a pyenv or conda Python under /root is out of its reach); else None."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/local/bin/{version}", f"/usr/bin/{version}"):
        real = Path(candidate).resolve()
        stdlib = real.parent.parent / "lib" / version
        if real.is_file() and stdlib.is_dir() and open_to_others(real, 0o001) and open_to_others(stdlib, 0o005):
            return str(real)
    return None


NUMPY_COPIES: dict = {}


def numpy_home(for_others: bool) -> Path:
    """The folder holding this process's `numpy` (and `numpy.libs`) for the submission's interpreter: where NumPy is
    installed, or, when the submission runs as another user who cannot reach it there (a virtual environment under
    /root, as on CI), a copy made once per grading process in a temporary folder that only root can write, removed
    when that process exits. The submission's interpreter so imports exactly this NumPy, of the same version."""
    installed = Path(np.__file__).resolve().parent
    if not for_others or open_to_others(installed / "__init__.py", 0o004):
        return installed.parent
    if "copy" not in NUMPY_COPIES:
        home = Path(tempfile.mkdtemp(prefix="tinytorch-grade-numpy-"))
        for name in ("numpy", "numpy.libs"):
            if (installed.parent / name).exists():
                shutil.copytree(installed.parent / name, home / name, ignore=shutil.ignore_patterns("__pycache__"))
        for path in [home, *home.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        Finalize(None, shutil.rmtree, (home, True), exitpriority=0)  # at exit, also of a pool's worker process
        NUMPY_COPIES["copy"] = home
    return NUMPY_COPIES["copy"]


def open_to_others(path: Path, mode: int) -> bool:
    """Whether users other than the owner can reach `path` (every folder above it searchable) with `mode` bits."""
    return all(folder.stat().st_mode & 0o001 for folder in path.parents) and path.stat().st_mode & mode == mode


def well_formed(reply, request: int | None) -> bool:
    """Whether `reply` is the harness's answer to request `request` (None: to loading the file)."""
    if not isinstance(reply, dict):
        return False
    if request is None:
        return reply == {"loaded": True} or (set(reply) == {"loaded", "raised"} and reply["loaded"] is False
                                             and raised_ok(reply["raised"]))
    return reply.get("id") == request and (set(reply) == {"id", "ok"} or set(reply) == {"id", "raised"}
                                           and raised_ok(reply["raised"]))


def raised_ok(raised) -> bool:
    return isinstance(raised, dict) and isinstance(raised.get("type"), str) and isinstance(raised.get("message"), str) \
        and isinstance(raised.get("bases"), list) and isinstance(raised.get("line"), (int, type(None))) \
        and isinstance(raised.get("function"), (str, type(None)))


def fresh_uid() -> int:
    """An unused user id for one submission (root only): it owns no file, so it can write nowhere that matters,
    and its processes can all be found and killed afterwards."""
    return 200_000 + int.from_bytes(os.urandom(3), "big")


def exit_text(code) -> str:
    if code is None:
        return "it is still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
