"""The milestone scripts run end to end: quick modes for all, the TinyDigits MLP to its real target, MNIST to its
real target when the real files are available, CIFAR-10 through a download of real-format fixture data; and
milestones/data_manager.py over the library's datasets."""
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.data import MNIST

MILESTONES = Path(__file__).resolve().parents[1] / "milestones"
LAST_LINE = re.compile(r"test accuracy: (\d+\.\d\d)% \(target >= (\d+)%\)")

sys.path.insert(0, str(MILESTONES))
import data_manager  # noqa: E402
import milestone  # noqa: E402


def run(script: str, *args: str, env: dict | None = None) -> tuple[float, float]:
    """Run a milestone in a fresh interpreter; return (accuracy, target) from its last line, in percent."""
    result = subprocess.run([sys.executable, str(MILESTONES / script), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    match = LAST_LINE.fullmatch(result.stdout.strip().splitlines()[-1])
    assert match, result.stdout
    return float(match[1]), float(match[2])


def run_here(script: str, *args: str, monkeypatch) -> None:
    """Run a milestone in this process, so that fixtures patching the dataset classes apply."""
    monkeypatch.setattr(sys, "argv", [script, *args])
    monkeypatch.setattr(sys, "path", list(sys.path))
    runpy.run_path(str(MILESTONES / script), run_name="__main__")


def test_tinydigits_mlp_reaches_its_target():
    accuracy, target = run("03_1986_mlp/01_rumelhart_tinydigits.py", "--check")
    assert target == 85 and accuracy >= 85


@pytest.mark.parametrize("script, target", [("04_1998_cnn/01_lecun_tinydigits.py", 88),
                                            ("05_2017_transformer/01_vaswani_tinytalks.py", 70)])
def test_offline_milestones_run_in_quick_mode(script, target):
    accuracy, stated = run(script, "--quick", "--seed", "3")
    assert stated == target and 0 <= accuracy <= 100


def test_mnist_milestone_quick_mode_downloads_through_the_library(fake_mnist, isolated_cache, monkeypatch, capsys):
    run_here("03_1986_mlp/02_rumelhart_mnist.py", "--quick", "--batch-size", "16", monkeypatch=monkeypatch)
    out = capsys.readouterr().out
    assert "MNIST: 120 training and 30 test images" in out
    assert LAST_LINE.fullmatch(out.strip().splitlines()[-1])
    assert (Path(os.environ["TINYTORCH_DATA"]) / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()


@pytest.mark.skipif(not os.environ.get("TINYTORCH_MNIST_RAW"), reason="TINYTORCH_MNIST_RAW (real MNIST files) not set")
def test_mnist_milestone_reaches_its_target_on_the_real_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"  # torchvision's layout, the files linked rather than copied
    raw.mkdir(parents=True)
    for name in MNIST.raw_md5s:
        (raw / name).symlink_to(Path(os.environ["TINYTORCH_MNIST_RAW"]) / name)
    accuracy, target = run("03_1986_mlp/02_rumelhart_mnist.py", "--check", env={"TINYTORCH_DATA": str(tmp_path)})
    assert target == 95 and accuracy >= 95


def test_cifar10_milestone_runs_end_to_end_on_fixture_data(fake_cifar, isolated_cache, monkeypatch, capsys):
    run_here("04_1998_cnn/02_lecun_cifar10.py", "--subset", "16", "--epochs", "2", "--batch-size", "8",
             monkeypatch=monkeypatch)
    out = capsys.readouterr().out
    assert "CIFAR-10: 16 training and 6 test images" in out
    assert re.search(r"epoch 2/2: loss \d+\.\d{4}, \d+\.\d\d s", out)
    accuracy = float(LAST_LINE.fullmatch(out.strip().splitlines()[-1])[1])
    assert accuracy in {round(100 * k / 6, 2) for k in range(7)}


def test_report_prints_the_last_line_and_check_exits_1_below_target(capsys):
    milestone.report(0.8512, 85, check=True)
    assert capsys.readouterr().out == "test accuracy: 85.12% (target >= 85%)\n"
    with pytest.raises(SystemExit) as exit_info:
        milestone.report(0.8499, 85, check=True)
    assert exit_info.value.code == 1
    milestone.report(0.10, 85, check=False)  # without --check a miss is only reported


def test_learning_rate_drops_tenfold_for_the_last_fifth():
    assert [milestone.learning_rate(1.0, epoch, 10) for epoch in range(1, 11)] == [1.0] * 8 + [0.1] * 2
    assert milestone.learning_rate(1.0, 1, 1) == 1.0


def test_command_line_rejects_non_positive_epochs(capsys):
    with pytest.raises(SystemExit):
        milestone.parser("x", epochs=1, batch_size=1, lr=0.1).parse_args(["--epochs", "0"])
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_data_root_is_under_milestones_unless_tinytorch_data_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYTORCH_DATA", raising=False)
    assert data_manager.data_root("mnist") == MILESTONES / "data" / "mnist"
    assert data_manager.data_root("cifar10") == MILESTONES / "data" / "cifar-10"
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    assert data_manager.data_root("cifar10") == tmp_path
    with pytest.raises(ValueError, match="got 'svhn'"):
        data_manager.data_root("svhn")


def test_data_manager_downloads_reports_and_verifies(fake_mnist, isolated_cache, capsys):
    assert data_manager.main(["status", "mnist"]) == 0
    assert "0 of 4 present" in capsys.readouterr().out
    assert data_manager.main(["download", "mnist"]) == 0
    assert data_manager.main(["status", "mnist"]) == 0
    assert "4 of 4 present, 4 verified" in capsys.readouterr().out
    assert data_manager.main(["verify", "mnist"]) == 0
    damaged = MNIST.folder(data_manager.data_root("mnist")) / "t10k-labels-idx1-ubyte"
    data = damaged.read_bytes()
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert data_manager.main(["verify", "mnist"]) == 1
    assert "t10k-labels-idx1-ubyte: md5" in capsys.readouterr().out


def test_data_manager_rejects_unknown_datasets(capsys):
    with pytest.raises(SystemExit):
        data_manager.main(["status", "svhn"])
    assert "unknown dataset 'svhn'; expected any of mnist, fashionmnist, cifar10" in capsys.readouterr().err


def test_transformer_exact_match_by_one_forward_pass_agrees_with_greedy_generation(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    gpt = runpy.run_path(str(MILESTONES / "05_2017_transformer/01_vaswani_tinytalks.py"))
    from tinytorch import nn
    from tinytorch.data import TinyTalks

    talks = TinyTalks("train", levels=[1])
    nn.manual_seed(0)
    model = gpt["GPT"](talks.vocab_size, gpt["BLOCK_SIZE"], 16, 2, 1)
    questions = [question for question, _ in talks.pairs]
    answers = gpt["answer_all"](model, talks, questions)  # an untrained model's greedy answers, of varied lengths
    assert len({len(answer) for answer in answers}) > 5
    talks.pairs = list(zip(questions, answers))
    assert gpt["exact_matches"](model, talks).all()
    talks.pairs = [(question, answer + ".") for question, answer in zip(questions, answers)]
    assert not gpt["exact_matches"](model, talks).any()
