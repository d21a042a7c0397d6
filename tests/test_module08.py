"""Course module 08 (DataLoader): the generated student file, the grader against tinytorch.data, and the milestone
trained through the student's loader.

The grader is held to its promise with seeded faults: each is a one-line change of the teacher's solution, a
mistake students make, and must lose points on the check whose hint names that concept.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinytorch.data.datasets.storage.idx import read_idx
from tinytorch.grade import checks_of, grade, gradescope, load, report
from tinytorch.modules import module_paths, student_text

ROOT = Path(__file__).resolve().parents[1]
DEV, STUDENT = module_paths("08_dataloader")
TOTAL = len(checks_of("08_dataloader"))
MILESTONE = ROOT / "milestones" / "03_1986_mlp" / "01_rumelhart_tinydigits.py"

# name: (the teacher's line, the faulty line, the check that must fail, words its hint must contain)
FAULTS = {
    "fetches sample by sample although the dataset has get_batch": (
        'if hasattr(self.dataset, "get_batch"):',
        "if False:",
        "DataLoader: one get_batch call per batch", "once per batch"),
    "drops the last partial batch without drop_last": (
        "starts = range(0, len(self) * self.batch_size, self.batch_size)",
        "starts = range(0, len(self.dataset) // self.batch_size * self.batch_size, self.batch_size)",
        "DataLoader: the last partial batch", "dropped only with drop_last=True"),
    "keeps the last partial batch with drop_last": (
        "starts = range(0, len(self) * self.batch_size, self.batch_size)",
        "starts = range(0, len(self.dataset), self.batch_size)",
        "DataLoader: drop_last=True", "drops the last partial batch"),
    "the same order every epoch": (
        "np.random.default_rng([self.seed, epoch]).permutation(n)",
        "np.random.default_rng(self.seed).permutation(n)",
        "DataLoader: a new order every epoch", "new order each epoch"),
    "a different order for the same seed": (
        "np.random.default_rng([self.seed, epoch]).permutation(n)",
        "np.random.permutation(n)",
        "DataLoader: the same seed, the same orders", "the same seed gives the same order"),
    "labels collated as float": (
        "return np.array(samples, dtype=np.int64)",
        "return np.array(samples, dtype=np.float64)",
        "collate: a list of samples -> one batch", "Python ints -> int64"),
    "len() wrong with drop_last": (
        "return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)",
        "return math.ceil(n / self.batch_size)",
        "DataLoader: len(loader)", "n // b with drop_last=True"),
    "IDX header read little-endian": (
        'np.frombuffer(data, dtype=">u4", count=ndim, offset=4)',
        'np.frombuffer(data, dtype="<u4", count=ndim, offset=4)',
        "read_idx: IDX files of any shape and type", "big-endian"),
    "Normalizer fitted on the test split": (
        "normalizer = Normalizer().fit(train_images)",
        "normalizer = Normalizer().fit(test_images)",
        "normalize_splits: statistics from the training split", "training split only"),
    "the flip applied to the labels": (
        "return flipped, labels\n",
        "return flipped, labels[..., ::-1]\n",
        "random_horizontal_flip: labels untouched", "mirrors the images only"),
    "the flip drawing from np.random instead of the rng given": (
        "chosen = rng.random(len(images)) < p",
        "chosen = np.random.random(len(images)) < p",
        "random_horizontal_flip: each image on its own", "from the rng given"),
    "the flip applied to the whole batch at once": (
        "chosen = rng.random(len(images)) < p",
        "chosen = np.full(len(images), rng.random() < p)",
        "random_horizontal_flip: each image on its own", "not the whole batch at once"),
}


def faulty(tmp_path, old: str, new: str) -> Path:
    """The teacher's file with `old` replaced by `new` (which must occur exactly once)."""
    text = DEV.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "dataloader.py"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def by_name(results) -> dict:
    return {result.check.name: result for result in results}


def test_the_committed_student_file_is_the_generated_one():
    assert STUDENT.read_text(encoding="utf-8") == student_text(DEV.read_text(encoding="utf-8"), "08_dataloader", DEV.name)


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


def test_the_teachers_version_scores_full_marks():
    results = grade("08_dataloader", DEV, timeout=20)
    assert [r.status for r in results] == ["passed"] * TOTAL
    assert report(results, DEV, "08_dataloader").endswith(f"Score: {TOTAL}/{TOTAL} — full marks!")


def test_the_student_version_scores_zero_with_not_implemented_yet_lines():
    results = grade("08_dataloader", STUDENT, timeout=20)
    assert {r.status for r in results} == {"not implemented"} and sum(r.score for r in results) == 0
    text = report(results, STUDENT, "08_dataloader")
    assert text.count("not implemented yet") == TOTAL and "Traceback" not in text
    assert "DataLoader: len(loader): not implemented yet (DataLoader.__len__)" in text


@pytest.mark.parametrize("fault", FAULTS)
def test_each_seeded_fault_loses_points_with_the_right_hint(fault, tmp_path):
    old, new, check, hint = FAULTS[fault]
    results = grade("08_dataloader", faulty(tmp_path, old, new), timeout=20)
    failed = by_name(results)[check]
    assert failed.status in {"failed", "error"} and hint in failed.check.hint
    assert failed.detail.startswith("smallest failing example: ")
    assert sum(r.score for r in results) < TOTAL
    assert f"hint: {failed.check.hint}" in report(results, "f.py", "08_dataloader")


def test_the_smallest_failing_example_is_reported(tmp_path):
    old, new, check, _ = FAULTS["drops the last partial batch without drop_last"]
    detail = by_name(grade("08_dataloader", faulty(tmp_path, old, new), timeout=20))[check].detail
    # (n=2, batch_size=3) is the smallest case with a partial batch: the faulty loader gives none
    assert detail.startswith("smallest failing example: n=2, batch_size=3, drop_last=False")
    assert detail.endswith("batch sizes [], expected [2]")


def test_an_endless_loop_and_an_exception_are_contained(tmp_path):
    path = faulty(tmp_path, "        return tuple(array[indices] for array in self.arrays)\n",
                  "        while True:\n            pass\n")  # only the TensorDataset check calls its get_batch
    text = path.read_text(encoding="utf-8").replace("    first = samples[0]\n", "    first = samples[0].field\n")
    path.write_text(text, encoding="utf-8")
    results = by_name(grade("08_dataloader", path, timeout=10))  # room for the checks that pass on a loaded machine
    endless = results["TensorDataset: rows as samples, get_batch in one call"]
    assert endless.status == "timeout" and endless.detail.endswith("no answer within 10 s: an endless loop, or far too slow?")
    assert re.match(r"smallest failing example: n=\d+, arrays=\d, unequal=False, seed=\d+\n", endless.detail)  # stuck on
    raised = results["collate: a list of samples -> one batch"]
    assert raised.status == "error" and re.search(r"\nraised AttributeError: .*'field' \(in collate, line \d+\)$", raised.detail)
    assert results["read_idx: IDX files of any shape and type"].status == "passed"
    assert "Traceback" not in report(list(results.values()), path, "08_dataloader")


def test_a_file_that_does_not_load_is_reported_once_per_check(tmp_path):
    path = tmp_path / "dataloader.py"
    path.write_text("import numpy as np\ndef collate(:\n", encoding="utf-8")
    results = grade("08_dataloader", path, timeout=20)
    assert {r.status for r in results} == {"import error"}
    assert results[0].detail == "your file does not load: SyntaxError: invalid syntax (line 2)"
    lines = report(results, path, "08_dataloader").splitlines()
    assert lines[1] == "❌ your file does not load: SyntaxError: invalid syntax (line 2)"
    assert lines[2] == "❌ TensorDataset: rows as samples, get_batch in one call: not graded, the file does not load"


def test_a_file_that_loads_forever_is_reported_without_running_the_checks(tmp_path):
    path = tmp_path / "dataloader.py"
    path.write_text("while True:\n    pass\n", encoding="utf-8")
    results = grade("08_dataloader", path, timeout=2)
    assert {r.status for r in results} == {"import error"} and "did not finish loading within 2 s" in results[0].detail


def test_command_line_exit_status_and_gradescope_json(tmp_path):
    results_json = tmp_path / "results.json"
    passed = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader", str(DEV), "--json",
                             str(results_json)], capture_output=True, text=True, cwd=ROOT)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("✅") == TOTAL
    results = json.loads(results_json.read_text(encoding="utf-8"))
    assert results["score"] == TOTAL and len(results["tests"]) == TOTAL
    assert all(set(test) >= {"name", "score", "max_score", "output"} and test["score"] == test["max_score"] == 1
               for test in results["tests"])
    failed = subprocess.run([sys.executable, "-m", "tinytorch.grade", "08_dataloader"], capture_output=True,
                            text=True, cwd=ROOT)
    assert failed.returncode == 1 and f"Score: 0/{TOTAL}" in failed.stdout and str(STUDENT) in failed.stdout


def test_gradescope_output_of_a_failed_check_carries_the_hint_and_example(tmp_path):
    old, new, check, _ = FAULTS["IDX header read little-endian"]
    results = grade("08_dataloader", faulty(tmp_path, old, new), timeout=20)
    tests = {test["name"]: test for test in gradescope(results, 1.0)["tests"]}
    assert tests[check]["score"] == 0 and tests[check]["output"].startswith("hint: IDX: ")
    assert "smallest failing example: shape=(1,), type code=" in tests[check]["output"]


def test_the_modules_self_checks_pass_for_the_teacher_and_say_not_implemented_for_the_student():
    teacher = subprocess.run([sys.executable, str(DEV)], capture_output=True, text=True, timeout=120)
    assert teacher.returncode == 0 and "❌" not in teacher.stdout and teacher.stdout.count("✅") >= 20
    assert re.search(r"^\s+256 \|\s+\d+\.\d \|", teacher.stdout, re.M)  # the analysis table
    student = subprocess.run([sys.executable, str(STUDENT)], capture_output=True, text=True, timeout=120)
    assert student.returncode == 0 and "✅" not in student.stdout and "Traceback" not in student.stderr
    assert student.stdout.count("not implemented yet") == 7 and "⏳ DataLoader: not implemented yet (" in student.stdout


@pytest.mark.skipif(not os.environ.get("TINYTORCH_MNIST_RAW"), reason="TINYTORCH_MNIST_RAW (real MNIST files) not set")
def test_the_teachers_read_idx_reads_the_real_mnist_files_as_tinytorch_data_does():
    teacher = load(str(DEV))
    for name, shape in (("train-images-idx3-ubyte", (60000, 28, 28)), ("t10k-labels-idx1-ubyte", (10000,))):
        path = Path(os.environ["TINYTORCH_MNIST_RAW"]) / name
        array = teacher.read_idx(path.read_bytes())
        assert array.shape == shape and array.dtype == np.uint8 and np.array_equal(array, read_idx(path))


def accuracy(*args: str) -> str:
    result = subprocess.run([sys.executable, str(MILESTONE), "--epochs", "6", *args], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_milestone_trains_through_the_students_loader_to_the_same_accuracy():
    line = accuracy("--loader", "student", "--student-file", str(DEV), "--seed", "5")
    assert re.fullmatch(r"test accuracy: \d+\.\d\d% \(target >= 85%\)", line)
    assert line == accuracy("--seed", "5")


def test_the_milestone_says_when_the_students_loader_is_not_written_yet():
    result = subprocess.run([sys.executable, str(MILESTONE), "--loader", "student", "--student-file", str(STUDENT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "TensorDataset.__init__ is not implemented yet" in result.stderr
