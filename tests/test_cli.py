"""`python -m tinytorch.data`: download, verify, info, list and preview against the loopback server."""
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinytorch.data import MNIST
from tinytorch.data.cli import main

pytestmark = pytest.mark.usefixtures("fast_retries", "isolated_cache")


def test_download_both_then_info_and_verify(fake_mnist, fake_cifar, loopback, tmp_path, capsys):
    assert main(["download", "mnist", "cifar10", "--root", str(tmp_path), "--quiet"]) == 0
    assert len(loopback.requests) == 5
    assert main(["info", "mnist", "cifar10", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"mnist: {tmp_path / 'MNIST' / 'raw'}" in out and "4 of 4 present, 4 verified" in out
    assert "7 of 7 present, 7 verified" in out
    assert main(["verify", "mnist", "cifar10", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok\n") == 11
    assert main(["verify", "--root", str(tmp_path)]) == 0  # what is here; the others are named on one line
    out = capsys.readouterr().out
    assert out.count(": ok\n") == 11 and "missing" not in out and "fashionmnist: " not in out
    assert out.splitlines()[-1].startswith("not downloaded: fashionmnist, kmnist, cifar100 (")


def test_verify_reports_a_damaged_file_and_fails(fake_mnist, tmp_path, capsys):
    main(["download", "mnist", "--root", str(tmp_path), "--quiet"])
    damaged = MNIST.folder(tmp_path) / "t10k-labels-idx1-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\xff")
    capsys.readouterr()
    assert main(["verify", "mnist", "--root", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.endswith(": ok") for line in lines] == [True, True, True, False]
    assert f"expected {MNIST.raw_md5s[damaged.name]}" in lines[3]


def test_force_downloads_again(fake_mnist, loopback, tmp_path):
    main(["download", "mnist", "--root", str(tmp_path), "--quiet"])
    main(["download", "mnist", "--root", str(tmp_path), "--quiet"])
    assert len(loopback.requests) == 4
    main(["download", "mnist", "--root", str(tmp_path), "--quiet", "--force"])
    assert len(loopback.requests) == 8


def test_a_failed_download_is_one_error_line_and_status_1(fake_mnist, loopback, tmp_path, capsys):
    loopback.files.clear()
    assert main(["download", "mnist", "--root", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not download train-images-idx3-ubyte.gz: every source failed")
    assert "HTTP 404" in err and "Traceback" not in err


def test_preview_writes_a_labelled_grid(fake_cifar, tmp_path):
    main(["download", "cifar10", "--root", str(tmp_path), "--quiet"])
    out = tmp_path / "grid.png"
    assert main(["preview", "cifar10", "--root", str(tmp_path), "--out", str(out), "--count", "10"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (2 * (96 + 14), 8 * 96, 3)
    assert (grid[96:110, :96] < 128).any()  # the caption under the first tile has dark text pixels


def test_info_needs_no_files_and_list_names_the_datasets(tmp_path, capsys):
    assert main(["info", "cifar10", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 of 7 present" in out and not (tmp_path / "cifar-10-batches-py").exists()
    assert f"download cifar10 --root={tmp_path}`" in out  # the hint fetches into the folder that was asked about
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["tinydigits", "tinytalks", "mnist", "fashionmnist", "kmnist",
                                                        "cifar10", "cifar100"]
    assert "shipped, always here" in lines[0] and "not downloaded" in lines[2] and "root: " in lines[-1]


def test_bad_arguments_exit_with_usage(tmp_path, capsys):
    for argv in (["download"], ["info", "imagenet"], ["preview", "mnist"], ["preview", "mnist", "--out", "x.png",
                                                                           "--count", "0"]):
        with pytest.raises(SystemExit) as raised:
            main(argv)
        assert raised.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "--help" in err  # one line
    with pytest.raises(SystemExit):
        main(["info", "imagenet"])
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tinytorch.data", "list"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert result.returncode == 0 and "mnist" in result.stdout


def test_verify_without_names_fails_only_for_a_wrong_file_or_when_nothing_is_here(fake_mnist, tmp_path, capsys):
    assert main(["verify", "--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: no dataset is downloaded in {tmp_path}, so nothing was verified\n"
    MNIST(tmp_path, train=False, download=True)  # one split only: its files are checked, the others' are not errors
    assert main(["verify", "--root", str(tmp_path)]) == 0
    damaged = MNIST.folder(tmp_path) / "t10k-labels-idx1-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\xff")
    assert main(["verify", "--root", str(tmp_path)]) == 1
    assert f"{damaged}: md5 " in capsys.readouterr().out


def test_every_failure_is_one_line_and_its_advice_works_when_pasted(fake_mnist, loopback, tmp_path, capsys):
    root = tmp_path / "my data" / "-root"  # a space, and a name that looks like an option
    with pytest.raises(Exception) as raised:
        MNIST(root)
    command = str(raised.value).split("(or run `")[1].split("`")[0]
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "tinytorch.data"]
    assert main(argv[3:] + ["--quiet"]) == 0 and len(MNIST(root)) == 120
    capsys.readouterr()
    (MNIST.folder(root) / "train-labels-idx1-ubyte").write_bytes(b"damaged")
    assert main(["info", "mnist", f"--root={root}"]) == 0
    advice = capsys.readouterr().out.split("(run `")[1].split("`")[0]
    assert shlex.split(advice)[3:] == ["verify", "mnist", f"--root={root}"]
    loopback.files.clear()  # every mirror now answers 404
    for argv in (["download", "mnist", "--force", "--quiet", f"--root={root}"],  # a DownloadError of several lines
                 ["preview", "mnist", f"--root={tmp_path}", "--out", str(tmp_path / "x.png")]):  # DatasetNotFound
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 1 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("value", ["a-file", "-data"])
def test_data_manager_with_an_odd_tinytorch_data_is_one_line(tmp_path, value):
    (tmp_path / "a-file").write_text("not a folder")
    script = Path(__file__).resolve().parents[1] / "milestones" / "data_manager.py"
    result = subprocess.run([sys.executable, str(script), "status", "mnist"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, env={**os.environ, "TINYTORCH_DATA": value})
    if value == "a-file":
        assert result.returncode == 1 and result.stderr.startswith("error: ") and "a-file" in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    else:  # a root named like an option is passed as --root=-data, not taken for one
        assert result.returncode == 0 and result.stdout.startswith("mnist: -data/MNIST/raw\n")
        assert "download mnist --root=-data`" in result.stdout


def test_data_manager_usage_errors_are_one_line_with_status_2(capsys):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "milestones"))
    import data_manager

    for argv in (["status", "imagenet"], ["unpack"]):
        with pytest.raises(SystemExit) as raised:
            data_manager.main(argv)
        err = capsys.readouterr().err
        assert raised.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1
