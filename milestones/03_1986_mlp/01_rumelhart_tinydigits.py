"""1986, Rumelhart, Hinton and Williams: a multi-layer perceptron trained by backpropagation learns to read digits.

TinyDigits ships with the repository (1,000 training and 200 test 8x8 digits), so this runs offline in seconds:
64 pixels -> 128 hidden ReLU units -> 10 classes, Adam, cross-entropy. Target: at least 85% test accuracy.

`--loader student` serves the batches with the DataLoader you wrote in course module 08
(modules/08_dataloader/dataloader.py, or --student-file). A correct one reaches the target too; one whose orders
come from np.random.default_rng([seed, epoch]), as the module suggests, serves the very batches of tinytorch.data
and reaches the same accuracy.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import parser, train_classifier  # noqa: E402  (before NumPy loads: BLAS threads)


from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, TinyDigits  # noqa: E402
from tinytorch.data.transforms import Flatten  # noqa: E402

TARGET = 85
STUDENT_FILE = HERE.parents[2] / "modules" / "08_dataloader" / "dataloader.py"


def library_loaders(batch_size: int, seed: int):
    train = DataLoader(TinyDigits(train=True, transform=Flatten()), batch_size, shuffle=True, generator=seed)
    return train, DataLoader(TinyDigits(train=False, transform=Flatten()), batch_size=200)


def student_loaders(path: Path, batch_size: int, seed: int):
    """The same batches from the student's TensorDataset and DataLoader (module 08)."""
    from tinytorch.grade import load

    student = load(str(path))
    train, test = (student.TensorDataset(split.data.reshape(len(split), -1), split.targets)
                   for split in (TinyDigits(train=True), TinyDigits(train=False)))
    return student.DataLoader(train, batch_size, shuffle=True, seed=seed), student.DataLoader(test, batch_size=200)


def main():
    args = parser(__doc__.splitlines()[0], epochs=30, batch_size=32, lr=0.005)
    args.add_argument("--loader", choices=["tinytorch", "student"], default="tinytorch",
                      help="whose DataLoader serves the batches: tinytorch.data's, or yours from module 08")
    args.add_argument("--student-file", type=Path, default=STUDENT_FILE, help=f"your module 08 file (default {STUDENT_FILE})")
    args = args.parse_args()
    epochs = 2 if args.quick else args.epochs
    nn.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    try:
        if args.loader == "student":
            train, test = student_loaders(args.student_file, args.batch_size, args.seed)
        else:
            train, test = library_loaders(args.batch_size, args.seed)
        print(f"TinyDigits: {len(train.dataset)} training and {len(test.dataset)} test images of 8x8; "
              f"MLP 64-128-10, Adam lr {args.lr}, {epochs} epochs, {args.loader} DataLoader")
        train_classifier(model, optimizer, train, test, epochs, TARGET, args.check)
    except NotImplementedError as error:
        sys.exit(f"{args.student_file}: {error or 'a part'} is not implemented yet; finish the module and check it "
                 "with `python -m tinytorch.grade 08_dataloader`")


if __name__ == "__main__":
    main()
