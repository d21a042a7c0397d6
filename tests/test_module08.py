"""Course module 08 (DataLoader): the generated student file and notebook, the grader's reports and results.json,
the student repository, the Gradescope bundle, and the milestone trained through the student's loader.

The seeded mistakes are in test_module08_faults.py, the cheating attempts in test_module08_cheats.py.
"""
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinytorch.data.datasets.storage.idx import read_idx
from tinytorch.grade import checks_of, grade, gradescope, load, report, write_results
from tinytorch.grade.sandbox import Sandbox, SubmissionError
from tinytorch.modules import module_paths, notebook_text, student_text

ROOT = Path(__file__).resolve().parents[1]
DEV, STUDENT = module_paths("08_dataloader")
TOTAL = len(checks_of("08_dataloader"))
MILESTONE = ROOT / "milestones" / "03_1986_mlp" / "01_rumelhart_tinydigits.py"
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])))


def faulty(tmp_path, old: str, new: str, name: str = "dataloader.py") -> Path:
    """The teacher's file with `old` replaced by `new` (which must occur exactly once)."""
    text = DEV.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def by_name(grading) -> dict:
    return {result.check.name: result for result in grading.results}


def test_the_committed_student_file_is_the_generated_one():
    expected = student_text(DEV.read_text(encoding="utf-8"), "08_dataloader", DEV.name)
    assert STUDENT.read_text(encoding="utf-8") == expected


def test_release_replaces_each_solution_with_a_named_not_implemented_error():
    teacher = ("# ---\n# jupyter: {}\n# ---\n\nclass Box:\n    def size(self):\n        \"\"\"TODO: the size.\"\"\"\n"
               "        ### BEGIN SOLUTION\n        return 3\n        ### END SOLUTION\n\n\ndef area(box):\n"
               "    ### BEGIN SOLUTION\n    return box.size() ** 2\n    ### END SOLUTION\n")
    student = student_text(teacher, "01_box", "box_dev.py")
    assert student.startswith("# ---\n# jupyter: {}\n# ---\n\n# %% [markdown]\n# *The student's version of box_dev.py")
    assert '        """TODO: the size."""\n        raise NotImplementedError("Box.size")\n' in student
    assert '    raise NotImplementedError("area")\n' in student
    assert "return 3" not in student and "SOLUTION" not in student
    with pytest.raises(ValueError, match="never closed"):
        student_text("### BEGIN SOLUTION\nx = 1\n", "01_box", "box_dev.py")


def test_the_teachers_version_scores_full_marks_and_the_students_zero():
    teacher = grade("08_dataloader", DEV, timeout=30)
    assert [r.status for r in teacher.results] == ["passed"] * TOTAL
    assert report(teacher).endswith(f"Score: {TOTAL}/{TOTAL} — full marks!")
    student = grade("08_dataloader", STUDENT, timeout=30)
    assert {r.status for r in student.results} == {"not implemented", "blocked"} and student.score == 0
    text = report(student)
    assert "Traceback" not in text and "DataLoader: len(loader): not implemented yet (DataLoader.__len__)" in text
    # a part that depends on another says which to fix first, instead of a second hint
    blocked = "❌ DataLoader: a new order every epoch: fix “DataLoader: batches in order without shuffle” first"
    assert blocked in text
    assert text.count("hint:") == 0


def test_the_smallest_failing_example_is_reported_with_shapes_and_dtypes(tmp_path):
    path = faulty(tmp_path, "self.mean = images.mean(axis=(0, 2, 3), dtype=np.float64)",
                  "self.mean = images.mean(axis=(0, 2, 3), dtype=np.float64, keepdims=True)")
    detail = by_name(grade("08_dataloader", path, timeout=30))["Normalizer: per-channel statistics"].detail
    assert detail.startswith("smallest failing example: shape=(")
    assert re.search(r"\nNormalizer\(\)\.fit\(x\)\.mean should be an array of shape \(\d,\) \(one per channel\), "
                     r"got an array of shape \(1, \d, 1, 1\) and dtype float64", detail), detail


def test_an_exception_names_the_students_line(tmp_path):
    path = faulty(tmp_path, "        n = len(self.dataset)\n        return n // self.batch_size",
                  "        n = len(self.batch_size)\n        return n // self.batch_size")
    result = by_name(grade("08_dataloader", path, timeout=30))["DataLoader: len(loader)"]
    line = DEV.read_text(encoding="utf-8").splitlines().index("        n = len(self.dataset)") + 1
    assert result.status == "error"
    assert result.detail.endswith(
        f"raised TypeError: object of type 'int' has no len() (in DataLoader.__len__, line {line})")


def test_an_endless_loop_is_a_timeout_of_its_check_only(tmp_path):
    # independent of the machine's speed: an endless loop exceeds any limit, and what must pass has a long one
    path = faulty(tmp_path, "        return tuple(array[indices] for array in self.arrays)\n",
                  "        while True:\n            pass\n")  # only TensorDataset's get_batch loops
    endless = "TensorDataset: get_batch in one indexing call"
    short = by_name(grade("08_dataloader", path, timeout=1, only={endless}))[endless]
    assert short.status == "timeout" and short.detail.endswith("no answer in time: an endless loop, or far too slow?")
    assert re.match(r"smallest failing example: n=\d+, arrays=\d, seed=\d+\n", short.detail)  # the case it was stuck on
    with Sandbox(path.read_text(), "dataloader08") as sandbox:
        inputs = {"arrays": [np.arange(3)], "items": [0], "batch": np.array([2, 0])}
        stuck, never = sandbox.ask([("tensor_dataset", inputs), ("collate", {"samples": [(np.zeros(2), 1)]})],
                                   time.monotonic() + 0.5)
        assert isinstance(stuck, SubmissionError) and stuck.status == "timeout" and never is None
        assert sandbox.process is None  # killed
        (answer,) = sandbox.ask([("collate", {"samples": [(np.zeros(2), 1), (np.ones(2), 2)]})], time.monotonic() + 60)
        assert answer["batch"][1].tolist() == [1, 2]  # a fresh interpreter answers the next check


def test_a_file_that_exits_gets_its_real_exit_code(tmp_path):
    path = faulty(tmp_path, "    first = samples[0]\n", "    import os\n    os._exit(3)\n")
    result = by_name(grade("08_dataloader", path, timeout=30, only={"collate: a list of samples -> one batch"}))
    assert result["collate: a list of samples -> one batch"].status == "crashed"
    assert "(exit code 3)" in result["collate: a list of samples -> one batch"].detail


def test_a_file_that_does_not_load_is_reported_once(tmp_path):
    path = tmp_path / "dataloader.py"
    path.write_text("import numpy as np\ndef collate(:\n", encoding="utf-8")
    results = grade("08_dataloader", path, timeout=30).results
    assert {r.status for r in results} == {"import error"}
    assert results[0].detail == "your file does not load: SyntaxError: invalid syntax (line 2)"
    lines = report(grade("08_dataloader", path, timeout=30)).splitlines()
    assert lines[1] == "❌ your file does not load: SyntaxError: invalid syntax (line 2)"
    assert lines[2] == "❌ TensorDataset: rows as samples: not graded, the file does not load"


def test_a_file_that_loads_forever_is_reported_without_running_the_checks(tmp_path):
    path = tmp_path / "dataloader.py"
    path.write_text("while True:\n    pass\n", encoding="utf-8")
    results = grade("08_dataloader", path, timeout=1).results
    assert {r.status for r in results} == {"import error"}
    assert results[0].detail == \
        "your file did not finish loading within 1 s: does code outside the functions run forever?"


def test_the_notebook_is_graded_like_the_py_and_its_answers_are_collected(tmp_path):
    text = DEV.read_text(encoding="utf-8").replace("# **Your answer to question 2:**",
                                                   "# **Your answer to question 2:** copying 31 MB is what is left.")
    notebook = json.loads(notebook_text(text))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    code.insert(1, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                    "source": ["%matplotlib inline\n", "!ls\n", "x = 1\n"]})  # IPython's magics are not Python
    markdown = [cell for cell in notebook["cells"] if cell["cell_type"] == "markdown"]
    notebook["cells"] = markdown[:1] + code + [cell for cell in markdown if "Your answer" in "".join(cell["source"])]
    path = tmp_path / "dataloader.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    grading = grade("08_dataloader", path, timeout=30)
    assert grading.score == grading.total == TOTAL, report(grading)
    assert grading.answers == {1: "", 2: "copying 31 MB is what is left.", 3: ""}
    tests = gradescope(grading)["tests"]
    assert tests[-2] == {"name": "Part 7, question 2 (graded by hand)", "number": "7.2", "score": 0, "max_score": 0,
                         "output": "copying 31 MB is what is left."}
    assert "📝 Part 7: 1 of 3 questions answered (2); your teacher reads the answers" in report(grading)


def test_an_exception_in_a_notebook_names_its_cell_and_line(tmp_path):
    text = DEV.read_text(encoding="utf-8").replace("    first = samples[0]\n", "    first = samples[0].field\n")
    path = tmp_path / "dataloader.ipynb"
    path.write_text(notebook_text(text), encoding="utf-8")
    sources = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
    cell = next(number for number, source in enumerate(sources, start=1) if "first = samples[0].field" in source)
    line = sources[cell - 1].splitlines().index("    first = samples[0].field") + 1
    result = by_name(grade("08_dataloader", path, timeout=30, only={"collate: a list of samples -> one batch"}))
    assert result["collate: a list of samples -> one batch"].detail.endswith(
        f"'field' (in collate, cell {cell}, line {line})")


def test_the_notebook_written_by_release_is_the_one_jupytext_pairs_with_the_py(tmp_path):
    jupytext = pytest.importorskip("jupytext")  # the dev extra
    paired = tmp_path / STUDENT.name
    paired.write_text(STUDENT.read_text(encoding="utf-8"), encoding="utf-8")
    synced = subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(paired)], capture_output=True, text=True)
    assert synced.returncode == 0, synced.stderr  # what `make notebook` does first
    assert paired.read_text(encoding="utf-8") == STUDENT.read_text(encoding="utf-8")  # the .py is left as it was
    ours = json.loads(notebook_text(paired.read_text()))["cells"]
    theirs = json.loads(paired.with_suffix(".ipynb").read_text())["cells"]
    assert [(cell["cell_type"], cell["source"]) for cell in theirs] == [(c["cell_type"], c["source"]) for c in ours]
    text = STUDENT.read_text(encoding="utf-8")
    ours, theirs = json.loads(notebook_text(text)), jupytext.reads(text, fmt="py:percent")
    assert [(cell["cell_type"], "".join(cell["source"])) for cell in ours["cells"]] == \
        [(cell.cell_type, cell.source) for cell in theirs.cells]
    pairing = ours["metadata"]["jupytext"]
    assert pairing == {key: theirs.metadata["jupytext"][key] for key in pairing}
    assert ours["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"


def test_the_students_notebook_runs_in_a_jupyter_kernel_and_says_what_is_left(tmp_path):
    nbclient = pytest.importorskip("nbclient")  # the dev extra (JupyterLab)
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.reads(notebook_text(STUDENT.read_text(encoding="utf-8")), as_version=4)
    nbformat.validate(notebook)  # a valid nbformat 4.5 notebook (cell ids included)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
                            ).execute()  # raises CellExecutionError on any error
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "⏳ DataLoader: len(loader): not implemented yet (DataLoader.__len__)" in printed and "❌" not in printed
    assert printed.count("⏳") == TOTAL + 1  # each check once, and the analysis waiting for time_epoch


def test_command_line_exit_status_and_an_atomic_results_json(tmp_path):
    results_json = tmp_path / "results.json"
    passed = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader", str(DEV), "--json",
                             str(results_json)], capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("✅") == TOTAL
    results = json.loads(results_json.read_text(encoding="utf-8"))
    assert results["score"] == TOTAL and len(results["tests"]) == TOTAL + 3  # and the three answers, worth 0
    assert [path.name for path in tmp_path.iterdir()] == ["results.json"]  # no temporary file left
    failed = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader"], capture_output=True,
                            text=True, cwd=ROOT, env=ENV)
    assert failed.returncode == 1 and f"Score: 0/{TOTAL}" in failed.stdout and str(STUDENT) in failed.stdout


def test_gradescope_output_of_a_failed_check_carries_the_hint_and_example(tmp_path):
    path = faulty(tmp_path, 'np.frombuffer(data, dtype=">u4", count=ndim, offset=4)',
                  'np.frombuffer(data, dtype="<u4", count=ndim, offset=4)')
    grading = grade("08_dataloader", path, timeout=30, only={"read_idx: IDX files of any shape and type"})
    write_results(grading, tmp_path / "results.json")
    test = json.loads((tmp_path / "results.json").read_text())["tests"][0]
    assert test["score"] == 0 and test["max_score"] == 1 and test["status"] == "failed"
    assert test["output"].startswith("   hint: IDX: ") and "smallest failing example: shape=(" in test["output"]


def test_the_modules_self_checks_are_the_graders_checks(tmp_path):
    teacher = subprocess.run([sys.executable, str(DEV)], capture_output=True, text=True, timeout=300, env=ENV)
    assert teacher.returncode == 0 and "❌" not in teacher.stdout, teacher.stdout + teacher.stderr
    assert teacher.stdout.count("✅") == TOTAL  # each check once, on its first cases
    assert re.search(r"^\s+256 \|\s+\d+\.\d \|", teacher.stdout, re.MULTILINE)  # the analysis table
    student = subprocess.run([sys.executable, str(STUDENT)], capture_output=True, text=True, timeout=300, env=ENV)
    assert student.returncode == 0 and "✅" not in student.stdout and "Traceback" not in student.stderr
    assert "⏳ DataLoader: len(loader): not implemented yet (DataLoader.__len__)" in student.stdout
    # a mistake the grader sees, the notebook sees too: the same check, the same hint
    path = faulty(tmp_path, "np.random.default_rng([self.seed, epoch]).permutation(n)",
                  "np.random.default_rng([self.seed, epoch] if self.seed else None).permutation(n)")
    path.write_text(path.read_text().replace("        analyse_loading_speed()\n", "        pass\n"))  # timed above
    mistaken = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, env=ENV)
    assert "❌ DataLoader: the same seed, the same orders\n   hint: the same seed (0 included" in mistaken.stdout


@pytest.mark.skipif(not os.environ.get("TINYTORCH_MNIST_RAW"), reason="TINYTORCH_MNIST_RAW (real MNIST files) not set")
def test_the_teachers_read_idx_reads_the_real_mnist_files_as_tinytorch_data_does():
    teacher = load(str(DEV))
    for name, shape in (("train-images-idx3-ubyte", (60000, 28, 28)), ("t10k-labels-idx1-ubyte", (10000,))):
        path = Path(os.environ["TINYTORCH_MNIST_RAW"]) / name
        array = teacher.read_idx(path.read_bytes())
        assert array.shape == shape and array.dtype == np.uint8 and np.array_equal(array, read_idx(path))


def test_release_out_writes_a_student_repository_without_answer_keys(tmp_path):
    out = tmp_path / "student-repo"
    result = subprocess.run([sys.executable, "-m", "tinytorch.modules", "release", "08_dataloader", "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert result.returncode == 0, result.stderr
    files = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    assert {"modules/08_dataloader/dataloader.py", "modules/08_dataloader/dataloader.ipynb", "README.md",
            "tinytorch/grade/__init__.py"} <= files
    assert not [name for name in files if name.endswith("_dev.py") or name.startswith("tests/test_module08")]
    assert not any("### BEGIN SOLUTION" in line.strip() for name in files
                   for line in (out / name).read_text(errors="replace").splitlines() if line.strip().startswith("###"))
    assert (out / "modules/08_dataloader/dataloader.py").read_text() == STUDENT.read_text()
    notebook = json.loads((out / "modules/08_dataloader/dataloader.ipynb").read_text())
    assert notebook["metadata"]["jupytext"]["formats"] == "ipynb,py:percent" and notebook["nbformat"] == 4
    again = subprocess.run([sys.executable, "-m", "tinytorch.modules", "release", "08_dataloader", "--out", str(out)],
                           capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert again.returncode == 2 and "already exists" in again.stderr


GRADESCOPE_TEST_KEYS = {"score": (int, float), "max_score": (int, float), "status": str, "name": str,
                        "name_format": str, "number": str, "output": str, "output_format": str, "tags": list,
                        "visibility": str, "extra_data": dict}
GRADESCOPE_KEYS = {"score": (int, float), "execution_time": (int, float), "output": str, "output_format": str,
                   "test_output_format": str, "test_name_format": str, "visibility": str, "stdout_visibility": str,
                   "extra_data": dict, "tests": list, "leaderboard": list}


def gradescope_schema_problems(results: dict) -> list:
    """What in `results` does not follow Gradescope's autograder results specification."""
    problems = [f"{key}: {type(value).__name__}" for key, value in results.items()
                if key not in GRADESCOPE_KEYS or not isinstance(value, GRADESCOPE_KEYS[key])]
    if "score" not in results and not all("score" in test for test in results.get("tests", [])):
        problems.append("neither a total score nor a score per test")
    for test in results.get("tests", []):
        problems += [f"test {key}" for key, value in test.items()
                     if key not in GRADESCOPE_TEST_KEYS or not isinstance(value, GRADESCOPE_TEST_KEYS[key])]
        problems += [f"status {test['status']}" for _ in [0] if test.get("status") not in (None, "passed", "failed")]
        problems += ["score above max_score"] if test.get("score", 0) > test.get("max_score", float("inf")) else []
    return problems


@pytest.mark.parametrize("submitted", ["dataloader.py", "dataloader.ipynb"])
def test_the_gradescope_bundle_runs_in_a_folder_laid_out_as_gradescopes(tmp_path, submitted):
    bundle = tmp_path / "autograder.zip"
    built = subprocess.run([sys.executable, "-m", "tinytorch.grade", "bundle", "08_dataloader", "--out", str(bundle)],
                           capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert built.returncode == 0, built.stderr
    autograder = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "grader.json", "tinytorch/grade/__init__.py"} <= set(names)
        assert not [name for name in names if name.endswith("_dev.py") or name.startswith("modules/")]
        archive.extractall(autograder / "source")
    seed = json.loads((autograder / "source" / "grader.json").read_text())["seed"]
    (autograder / "submission").mkdir()
    (autograder / "results").mkdir()
    text = DEV.read_text(encoding="utf-8").replace("else math.ceil(n / self.batch_size)",
                                                   "else n // self.batch_size + 1")
    (autograder / "submission" / submitted).write_text(notebook_text(text) if submitted.endswith(".ipynb") else text)
    run = subprocess.run(["bash", str(autograder / "source" / "run_autograder")], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "TINYTORCH_AUTOGRADER_ROOT": str(autograder),
                              "TINYTORCH_AUTOGRADER_PYTHON": sys.executable})
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert gradescope_schema_problems(results) == []
    assert results["score"] == TOTAL - 1
    lost = [test["name"] for test in results["tests"] if test["score"] < test["max_score"]]
    assert lost == ["DataLoader: len(loader)"]
    assert str(seed) not in run.stdout + run.stderr  # the teacher's secret stays in the bundle


def accuracy(*args: str) -> str:
    result = subprocess.run([sys.executable, str(MILESTONE), "--epochs", "6", *args], capture_output=True, text=True,
                            timeout=300, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_milestone_trains_through_the_students_loader_to_the_same_accuracy():
    line = accuracy("--loader", "student", "--student-file", str(DEV), "--seed", "5")
    assert re.fullmatch(r"test accuracy: \d+\.\d\d% \(target >= 85%\)", line)
    assert line == accuracy("--seed", "5")


def test_the_milestone_says_when_the_students_loader_is_not_written_yet():
    result = subprocess.run([sys.executable, str(MILESTONE), "--loader", "student", "--student-file", str(STUDENT)],
                            capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "TensorDataset.__init__ is not implemented yet" in result.stderr


def test_the_submission_imports_the_graders_numpy_even_from_a_venv_others_cannot_read(tmp_path, monkeypatch):
    # the submission's interpreter may be another Python (/usr/bin/python3.11 when the venv's lives under /root):
    # it must import this very NumPy, the same version; when the submission's user cannot read it where it is
    # installed (a venv under /root, as on CI), it gets a copy
    from tinytorch.grade import sandbox

    code = "import numpy\nprint('numpy', numpy.__version__, numpy.__file__)\n"
    path = tmp_path / "dataloader.py"
    path.write_text(DEV.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")
    grading = grade("08_dataloader", path, timeout=30, only={"collate: a list of samples -> one batch"})
    version, where = grading.printed.split("numpy ")[1].split()[:2]
    assert grading.score == 1 and version == np.__version__ and "/site/numpy/" in where
    if os.geteuid() != 0 or sandbox.interpreter_for_others() is None:
        return
    unreadable = str(Path(np.__file__).resolve())
    monkeypatch.setattr(sandbox, "open_to_others", lambda path, mode, real=sandbox.open_to_others:
                        str(path) != unreadable and real(path, mode))
    monkeypatch.setattr(sandbox, "NUMPY_COPIES", {})
    grading = grade("08_dataloader", path, timeout=30, only={"collate: a list of samples -> one batch"})
    assert grading.score == 1 and grading.printed.split("numpy ")[1].split()[0] == np.__version__, grading.printed
    copy = sandbox.NUMPY_COPIES["copy"]
    assert copy != Path(np.__file__).resolve().parents[1] and (copy / "numpy" / "__init__.py").stat().st_mode & 0o004
