"""Shipped datasets: small enough to live in the repository, so a first model trains offline with no download.

`pip install .` installs this folder as `tinytorch.data.shipped`, never as a top-level `datasets` package (which
would shadow Hugging Face `datasets`); from a checkout, `from datasets.tinydigits import load_tinydigits` works.
"""
