"""`python -m tinytorch.data`: download, verify, info, list and preview against the loopback server."""
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
    assert main(["verify", "--root", str(tmp_path)]) == 1  # all datasets: the others are missing
    assert "fashionmnist: " in capsys.readouterr().out


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
    assert f"download cifar10 --root {tmp_path}`" in out  # the hint fetches into the folder that was asked about
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
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tinytorch.data", "list"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert result.returncode == 0 and "mnist" in result.stdout
