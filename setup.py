"""Packaging: the shipped data in datasets/ is installed inside the package as tinytorch.data.shipped, so that
no top-level `datasets` package lands in site-packages (where it would shadow Hugging Face `datasets`)."""
from setuptools import find_packages, setup

SHIPPED = ["tinydigits", "tinytalks"]

setup(
    packages=find_packages(include=["tinytorch", "tinytorch.*"])
    + ["tinytorch.data.shipped"]
    + [f"tinytorch.data.shipped.{name}" for name in SHIPPED],
    package_dir={"tinytorch.data.shipped": "datasets"},
    package_data={f"tinytorch.data.shipped.{name}": ["*.pkl", "*.txt", "*.json", "README.md"] for name in SHIPPED},
)
