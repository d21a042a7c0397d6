"""Module 08's grader against a dishonest student: each file tries to get marks without the work, and gets none.

The submission runs in an interpreter of its own that cannot import tinytorch, holds no object of the grader and
learns neither the seed nor where the results go; the grader computes each expected answer itself and writes
results.json alone, after the submission's processes have ended.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinytorch.grade import checks_of, grade, gradescope, report
from tinytorch.modules import module_paths

ROOT = Path(__file__).resolve().parents[1]
DEV, STUDENT = module_paths("08_dataloader")
TOTAL = len(checks_of("08_dataloader"))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])))
COLLATE = "collate: a list of samples -> one batch"


def student_with(tmp_path, code: str, where: str = "end") -> Path:
    """The student's (unwritten) file with `code` added at its end, or in place of collate's body."""
    text = STUDENT.read_text(encoding="utf-8")
    if where == "collate":
        text = text.replace('    raise NotImplementedError("collate")\n', code)
    else:
        text += "\n" + code
    path = tmp_path / "dataloader.py"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("code", [
    "from tinytorch.data import DataLoader, TensorDataset, default_collate as collate\n",  # re-export the reference
    "import tinytorch.grade\ntinytorch.grade.checks_of = lambda module: []\n",  # replace the grader's checks
    "import tinytorch.data\ntinytorch.data.DataLoader = DataLoader\n",  # make the reference the student's
    "import sys\nsys.path.append(%r)\nfrom tinytorch.data import DataLoader\n" % str(ROOT),  # find the checkout
    "import importlib\nDataLoader = importlib.import_module('tinytorch.data').DataLoader\n",
])
def test_importing_tinytorch_gets_a_clear_message_and_no_marks(tmp_path, code):
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30)
    assert grading.score == 0 and {r.status for r in grading.results} == {"import error"}
    assert "the grader runs your file without tinytorch: write each part yourself" in grading.results[0].detail


def test_becoming_the_reference_when_graded_gets_no_marks(tmp_path):
    code = ("    if __name__ != '__main__':  # detected: being graded\n"
            "        from tinytorch.data import default_collate\n        return default_collate(samples)\n")
    grading = grade("08_dataloader", student_with(tmp_path, code, "collate"), timeout=30)
    result = {r.check.name: r for r in grading.results}
    assert result[COLLATE].status == "refused" and result[COLLATE].score == 0
    assert "without tinytorch" in result[COLLATE].detail and "(in collate, line" in result[COLLATE].detail


def test_writing_passed_into_the_graders_channel_gets_no_marks(tmp_path):
    code = ("import os, sys\nfrom harness import wire\nframe = sys._getframe()\n"
            "while frame is not None:\n"
            "    if 'reply_fd' in frame.f_locals:\n"
            "        fd = frame.f_locals['reply_fd']\n"
            "        wire.send(fd, ('passed', ''))\n"
            "        wire.send(fd, {'loaded': True})\n"
            "        for number in range(1, 2000):\n"
            "            answer = {'len': 3, 'items': [], 'raised': True, 'changed': False}\n"
            "            wire.send(fd, {'id': number, 'ok': answer})\n"
            "    frame = frame.f_back\n")
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30)
    assert grading.score == 0
    assert "answer that is not the harness's" in grading.results[0].detail
    assert "Flagged for the teacher: line" in gradescope(grading)["output"] and "uses sys._getframe" in report(grading)


def test_reading_the_graders_seed_and_globals_finds_nothing_to_use(tmp_path):
    code = ("import os, sys\nfound = []\n"
            "for path in ('/proc/%d/cmdline' % os.getppid(), '/proc/%d/environ' % os.getppid()):\n"
            "    try:\n        found.append(open(path).read())\n"
            "    except Exception as error:\n        found.append(repr(error))\n"
            "found += [repr(sys.argv), repr(dict(os.environ))]\nframe = sys._getframe()\n"
            "while frame is not None:\n"
            "    found += [repr(sorted(frame.f_globals)), repr(frame.f_locals)[:2000]]\n    frame = frame.f_back\n"
            "print('\\n'.join(found))\n")
    results_json = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader", str(student_with(tmp_path, code)),
                          "--seed", "987654321", "--json", str(results_json)], capture_output=True, text=True,
                         cwd=ROOT, env=ENV)
    printed = run.stdout.split("---- end of what your file printed ----")[0]
    assert "the grader does not let a submission open '/proc/" in printed  # another process's files
    assert "987654321" not in printed and str(results_json) not in printed and "checks_of" not in printed
    assert json.loads(results_json.read_text())["score"] == 0


def test_a_process_started_to_rewrite_the_results_is_refused(tmp_path):
    results_json = tmp_path / "results.json"
    attempts = ("import os\nfor attempt in (lambda: os.fork(), lambda: os.system('true'), lambda: __import__(\n"
                "        'subprocess').Popen(['sh', '-c', 'sleep 2; echo 99 > %s'])):\n"
                "    try:\n        attempt()\n        print('STARTED')\n"
                "    except PermissionError as error:\n        print(error)\n" % results_json)
    code = DEV.read_text(encoding="utf-8") + "\n" + attempts
    path = tmp_path / "dataloader.py"
    path.write_text(code, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader", str(path), "--json",
                          str(results_json)], capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert "STARTED" not in run.stdout
    assert run.stdout.count("│ the grader does not let a submission start, signal or connect to other processes") == 3
    results = json.loads(results_json.read_text())
    assert results["score"] == TOTAL
    assert "calls os.fork" in results["output"] and "calls __import__" in results["output"]


def test_signalling_the_grader_or_reading_the_answer_key_is_refused(tmp_path):
    code = ("    import os, signal\n    for attempt in (lambda: os.kill(os.getppid(), signal.SIGKILL),\n"
            "                    lambda: open(%r).read()):\n"
            "        try:\n            attempt()\n        except PermissionError as error:\n            print(error)\n"
            "    raise NotImplementedError('collate')\n" % str(DEV))
    grading = grade("08_dataloader", student_with(tmp_path, code, "collate"), timeout=30)
    assert grading.score == 0
    assert "the grader does not let a submission start, signal or connect to other processes, or load C libraries " \
           "(os.kill)" in grading.printed
    assert f"the grader does not let a submission open '{DEV}'" in grading.printed


def test_printing_a_fake_score_stays_in_its_labelled_block(tmp_path):
    code = "for _ in range(5000):\n    print(f'Score: {27}/{27} — full marks!')\n"
    text = report(grade("08_dataloader", student_with(tmp_path, code), timeout=30))
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("Score:")] == [lines[-1]] and lines[-1] == f"Score: 0/{TOTAL}"
    assert lines[0].startswith(
        "---- what your file printed while being graded (145000 bytes, the first 4000 characters shown)")
    assert all(line.startswith("│ ") for line in lines[1:lines.index("---- end of what your file printed ----")])


def test_a_runaway_allocation_is_a_memory_error_of_the_submission(tmp_path):
    grading = grade("08_dataloader", student_with(tmp_path, "import numpy\nHUGE = numpy.ones(1 << 31)\n"), timeout=30)
    assert grading.score == 0 and grading.results[0].detail.startswith("your file does not load: MemoryError: ")


def test_exiting_at_import_is_reported_with_its_exit_code(tmp_path):
    grading = grade("08_dataloader", student_with(tmp_path, "import os\nos._exit(0)\n"), timeout=30)
    assert grading.score == 0 and "(exit code 0)" in grading.results[0].detail


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader switches users only when it runs as root")
def test_under_root_the_submission_runs_as_an_unprivileged_user(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("the grader's\n")
    code = ("import os\nprint('uid', os.getuid(), os.getgid(), os.getgroups())\n"
            "try:\n    open(%r, 'w').write('rewritten')\n"
            "except PermissionError as error:\n    print('refused', error)\n"
            % str(target))
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30)
    uid = int(grading.printed.split("uid ")[1].split()[0])
    assert uid != 0 and f"uid {uid} {uid} []" in grading.printed and "refused" in grading.printed
    assert target.read_text() == "the grader's\n"


def test_the_submissions_interpreter_has_no_tinytorch_and_knows_nothing_of_the_grading(tmp_path):
    code = ("import json, os, sys\n"
            "print(json.dumps({'isolated': sys.flags.isolated, 'no_site': sys.flags.no_site, 'path': sys.path,\n"
            "                  'env': sorted(os.environ), 'argv': sys.argv, 'cwd': os.getcwd(),\n"
            "                  'modules': sorted(name for name in sys.modules\n"
            "                                    if 'tinytorch' in name or 'grade' in name)}))\n")
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30, seed=424242)
    seen = json.loads(grading.printed.splitlines()[0])
    assert seen["isolated"] == 1 and seen["no_site"] == 1 and seen["modules"] == []
    assert not [folder for folder in seen["path"] if folder.startswith(str(ROOT)) or "site-packages" in folder]
    assert set(seen["env"]) <= {"PATH", "LC_ALL", "LC_CTYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                "MKL_NUM_THREADS"}
    assert "424242" not in grading.printed and not seen["cwd"].startswith(str(ROOT))
    assert seen["argv"][0].endswith("run.py") and not any("results" in arg or "seed" in arg for arg in seen["argv"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader switches users only when it runs as root")
def test_a_process_that_left_the_submissions_group_is_killed_with_it(tmp_path):
    # what a submission could leave behind if it got past the audit hook: a process in a session of its own
    from tinytorch.grade.sandbox import Sandbox

    with Sandbox(STUDENT.read_text(encoding="utf-8"), "dataloader08") as sandbox:
        assert sandbox.uid is not None and sandbox.start(time.monotonic() + 60)["loaded"]
        escaped = subprocess.Popen([sandbox.python, "-I", "-S", "-c", "import time; time.sleep(600)"],
                                   user=sandbox.uid, group=sandbox.uid, extra_groups=[], start_new_session=True,
                                   cwd=sandbox.folder)
        sandbox.stop()
        assert escaped.wait(timeout=60) == -9  # SIGKILL, from the sweep of the submission's user id


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader switches users only when it runs as root")
def test_a_system_that_refuses_another_user_id_gets_a_warning_for_the_teacher(monkeypatch):
    from tinytorch.grade.sandbox import Sandbox

    original, calls = Sandbox.popen, []

    def refusing(self, argv, env, fds):
        calls.append(self.uid)
        if self.uid is not None:
            raise PermissionError(1, "Operation not permitted")
        return original(self, argv, env, fds)

    monkeypatch.setattr(Sandbox, "popen", refusing)
    grading = grade("08_dataloader", DEV, timeout=30, only={COLLATE})
    assert grading.score == 1 and calls[0] is not None and calls[-1] is None
    assert "the submission ran as root: this system refused it a user id of its own" in report(grading)
