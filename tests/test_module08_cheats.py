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
from test_module08 import faulty

from tinytorch.grade import checks_of, grade, gradescope, report
from tinytorch.grade.sandbox import interpreter_for_others
from tinytorch.modules import module_paths

ROOT = Path(__file__).resolve().parents[1]
DEV, STUDENT = module_paths("08_dataloader")
TOTAL = len(checks_of("08_dataloader"))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])))
COLLATE = "collate: a list of samples -> one batch"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0 or interpreter_for_others() is None,
                               reason="the grader switches users only when it runs as root, with a Python that "
                                      "other users can run")


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
    # the harness cannot be imported: the submission frames the grader's wire format itself
    code = ("import json, os, struct, sys\n"
            "def send(fd, value):\n"
            "    header = json.dumps(value).encode()\n"
            "    payload = struct.pack('>I', len(header)) + header\n"
            "    os.write(fd, struct.pack('>Q', len(payload)) + payload)\n"
            "frame = sys._getframe()\n"
            "while frame is not None:\n"
            "    if 'reply_fd' in frame.f_locals:\n"
            "        fd = frame.f_locals['reply_fd']\n"
            "        send(fd, {'$tuple': ['passed', '']})\n"
            "        send(fd, {'$dict': {'loaded': True}})\n"
            "        for number in range(1, 2000):\n"
            "            send(fd, {'$dict': {'id': number, 'ok': {'$dict': {'len': 3, 'raised': True}}}})\n"
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


@ROOT_ONLY
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


@ROOT_ONLY
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


@ROOT_ONLY
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


# ---- a third round: what a dishonest student tries once the obvious routes are closed ------------------------------

GET_BATCH = "TensorDataset: get_batch in one indexing call"
ONE_CALL = "DataLoader: one get_batch call per batch"
TIME_EPOCH = "time_epoch: seconds of the fastest epoch"


@pytest.mark.parametrize("code, flag", [
    ("import sys\nsys.modules['harness.dataloader08'].changed = lambda *arrays: False\n", "uses sys.modules"),
    ("from harness import dataloader08\ndataloader08.changed = lambda *arrays: False\n", "names the grader's harness"),
    ("import run\n", ""),
])
def test_patching_the_harness_from_inside_is_refused(tmp_path, code, flag):
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30)
    assert grading.score == 0 and {r.status for r in grading.results} == {"import error"}
    detail = grading.results[0].detail
    assert "KeyError: 'harness.dataloader08'" in detail or \
        "the grader does not let a submission import the grader's harness" in detail
    assert flag in "\n".join(grading.flags)


def test_rewriting_the_observers_counters_gets_no_marks(tmp_path):
    # counters the loader could rewrite if they were attributes of the objects it is handed: none is
    loop = ("            batch = collate([self.dataset[int(index)] for index in indices])\n"
            "            self.dataset.getitem_calls, self.dataset.get_batch_calls = 0, [indices]\n"
            "            return batch\n")
    path = faulty(tmp_path, "            return self.dataset.get_batch(indices)\n", loop)
    timing = ("    loader.started = loader.finished = repeats\n"
              "    return min(getattr(loader, 'durations', [0.0])[:repeats])\n")
    text = path.read_text().replace(TEXT_TIMING, timing)
    path.write_text(text)
    result = {r.check.name: r for r in grade("08_dataloader", path, timeout=30).results}
    assert result[ONE_CALL].status == "failed" and "dataset[i] " in result[ONE_CALL].detail
    assert result[TIME_EPOCH].score == 0


TEXT_TIMING = ("    best = math.inf\n    for _ in range(repeats):\n        start = time.perf_counter()\n"
               "        for _ in loader:\n            pass\n        best = min(best, time.perf_counter() - start)\n"
               "    return best\n")


def test_resetting_the_observers_through_closures_is_flagged_for_the_teacher(tmp_path):
    # what cannot be blocked inside one interpreter: a loop in get_batch that then rewrites the closure cells of the
    # index array's class. It may keep the mark; the teacher is told where to look.
    forged = ("        batch = tuple(np.stack([array[int(i)] for i in np.asarray(indices).tolist()]) for array in "
              "self.arrays)\n"
              "        for owner in (type(indices), *(type(array) for array in self.arrays)):\n"
              "            for method in ('__iter__', '__getitem__'):\n"
              "                for cell in getattr(owner, method).__closure__ or ():\n"
              "                    if isinstance(cell.cell_contents, list):\n"
              "                        cell.cell_contents[0] = 0\n"
              "        return batch\n")
    path = faulty(tmp_path, "        return tuple(array[indices] for array in self.arrays)\n", forged)
    grading = grade("08_dataloader", path, timeout=30, only={GET_BATCH})
    flags = "\n".join(grading.flags)
    assert "reaches into the interpreter's internals (__closure__)" in flags and "(cell_contents)" in flags
    assert "calls getattr with a computed or special name" in flags
    assert "Flagged for the teacher: line" in gradescope(grading)["output"]


def test_posix_spawn_and_multiprocessing_are_refused(tmp_path):
    attempts = ("import multiprocessing, os\n"
                "for attempt in (lambda: os.posix_spawn('/bin/sh', ['sh', '-c', 'true'], {}),\n"
                "                lambda: multiprocessing.Process(target=print).start(),\n"
                "                lambda: multiprocessing.get_context('spawn').Process(target=print).start()):\n"
                "    try:\n        attempt()\n        print('STARTED')\n"
                "    except Exception as error:\n        print(type(error).__name__, error)\n")
    path = tmp_path / "dataloader.py"
    path.write_text(DEV.read_text(encoding="utf-8") + "\n" + attempts, encoding="utf-8")
    grading = grade("08_dataloader", path, timeout=30, only={COLLATE})
    assert "STARTED" not in grading.printed and grading.score == 1
    assert grading.printed.count("Refused the grader does not let a submission start, signal or connect") == 3
    flags = "\n".join(grading.flags)
    assert "calls os.posix_spawn" in flags and "uses multiprocessing" in flags


def test_writing_the_results_or_the_harness_files_is_refused(tmp_path):
    code = ("import os\n"
            "for path in ('/autograder/results/results.json', 'harness/dataloader08.py', 'run.py', 'submission.py',\n"
            "             os.path.join(os.getcwd(), 'harness', 'cache.json')):\n"
            "    try:\n        open(path, 'w').write('{\"score\": 27}')\n        print('WROTE', path)\n"
            "    except OSError as error:\n        print(type(error).__name__, error)\n"
            "for change in (lambda: os.remove('run.py'), lambda: os.rename('harness', 'gone')):\n"
            "    try:\n        change()\n        print('CHANGED')\n"
            "    except OSError as error:\n        print(type(error).__name__, error)\n")
    grading = grade("08_dataloader", student_with(tmp_path, code), timeout=30)
    assert "WROTE" not in grading.printed and "CHANGED" not in grading.printed and grading.score == 0
    assert grading.printed.count("the grader's folder is read-only") == 4
    assert "open '/autograder/results/results.json'" in grading.printed
    assert grading.printed.count("the grader does not let a submission change the grader's files") == 2


def test_ignoring_sigterm_does_not_outlive_the_check(tmp_path):
    code = ("    import os, signal\n    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
            "        signal.signal(number, signal.SIG_IGN)\n    print('pid', os.getpid(), flush=True)\n"
            "    while True:\n        pass\n")
    grading = grade("08_dataloader", student_with(tmp_path, code, "collate"), timeout=1, only={COLLATE})
    (result,) = grading.results
    assert result.status == "timeout" and result.score == 0
    pid = int(grading.printed.split("pid ")[1].split()[0])
    assert not Path(f"/proc/{pid}").exists()  # killed (SIGKILL cannot be ignored) and reaped


def test_a_flood_of_output_is_cut_and_grading_goes_on(tmp_path):
    path = tmp_path / "dataloader.py"
    path.write_text(DEV.read_text(encoding="utf-8") + "\nimport sys\nsys.stdout.write('Score: 27/27\\n' * (4 << 20))\n",
                    encoding="utf-8")
    grading = grade("08_dataloader", path, timeout=30, only={COLLATE})
    assert grading.score == 1 and grading.printed_size == 13 * (4 << 20)
    assert len(grading.printed) <= 4000
    lines = report(grading).splitlines()
    assert lines[-1] == "Score: 1/1 — full marks!" and sum(line.startswith("Score:") for line in lines) == 1


def test_answers_to_logged_cases_are_graded_on_other_cases(tmp_path):
    # a file that prints the cases it is asked (Gradescope shows what it printed) and one with "cached answers" to
    # them built in: the cases come from the grader's seed and the file itself, so the second file gets other cases
    logger = ("    print('case', len(data), data[:8].hex(), flush=True)\n"
              "    raise NotImplementedError('read_idx')\n")
    first = student_with(tmp_path, "")
    text = first.read_text().replace('    raise NotImplementedError("read_idx")\n', logger)
    first.write_text(text)
    cases = [line for line in grade("08_dataloader", first, only={"read_idx: IDX files of any shape and type"},
                                    seed=5).printed.splitlines() if line.startswith("case")]
    again = [line for line in grade("08_dataloader", first, only={"read_idx: IDX files of any shape and type"},
                                    seed=5).printed.splitlines() if line.startswith("case")]
    first.write_text(text + "\nCACHED = %r\n" % cases)
    other = [line for line in grade("08_dataloader", first, only={"read_idx: IDX files of any shape and type"},
                                    seed=5).printed.splitlines() if line.startswith("case")]
    assert cases and cases == again  # the same file is graded on the same cases
    assert other and other != cases


def test_a_notebooks_raw_cells_and_cell_magics_are_not_graded_code(tmp_path):
    from tinytorch.modules import notebook_text

    notebook = json.loads(notebook_text(DEV.read_text(encoding="utf-8")))
    notebook["cells"] += [
        {"cell_type": "raw", "metadata": {}, "source": ["from tinytorch.data import DataLoader\n"]},
        {"cell_type": "code", "metadata": {"jupyter": {"source_hidden": True}}, "execution_count": None,
         "outputs": [], "source": ["%%bash\n", "echo 99 > /tmp/results.json\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["%%time\n", "TIMED = 1\n", "!ls\n"]}]
    path = tmp_path / "dataloader.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    grading = grade("08_dataloader", path, timeout=30, only={COLLATE, TIME_EPOCH})
    assert grading.score == grading.total == 2, report(grading)


def test_forging_the_harness_report_of_unchanged_inputs_gets_no_mark(tmp_path):
    # a flip that writes into the batch it is given, then rewrites the harness's own comparison through the frames:
    # the grading process reads the shared inputs back itself
    forged = ("    flipped = images\n"
              "    import sys\n    frame = sys._getframe(1)\n"
              "    frame.f_globals['changed'] = lambda arrays, pristine: False\n")
    path = faulty(tmp_path, "    flipped = images.copy()\n", forged)
    inputs = "every part leaves its inputs unchanged"
    grading = grade("08_dataloader", path, timeout=30, only={inputs})
    (result,) = grading.results
    assert result.status == "failed" and result.score == 0
    assert "random_horizontal_flip wrote into the arrays it was given (images)" in result.detail
    assert "uses sys._getframe" in "\n".join(grading.flags)
