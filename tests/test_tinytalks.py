"""TinyTalks: the shipped pairs (counts, splits, format, arithmetic) and the dataset (vocabulary, windows, loader)."""
import json
import re
import shutil
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets.tinytalks import load_tinytalks
from datasets.tinytalks.build import make_splits, splits_json
from tinytorch.data import DataLoader, TinyTalks
from tinytorch.data.datasets.shipped import shipped_dir
from tinytorch.data.datasets.tinytalks import LEVELS, SPLITS, TokenWindows, level_name, read_pairs

ROOT = shipped_dir("tinytalks")
LEVEL_SIZES = {1: 50, 2: 100, 3: 50, 4: 100, 5: 50}
SPLIT_SIZES = {"train": 245, "val": 53, "test": 52}
SPLIT_SHARES = {"train": 0.70, "val": 0.15, "test": 0.15}

ALL = TinyTalks(split=None)
TRAIN = TinyTalks("train")
WINDOWS = TRAIN.windows(32)


def test_every_level_has_its_number_of_pairs():
    assert Counter(ALL.levels) == LEVEL_SIZES
    assert len(ALL) == len(load_tinytalks()) == 350


@pytest.mark.parametrize("split", SPLITS)
def test_splits_have_their_sizes_and_are_stratified_by_level(split):
    dataset = TinyTalks(split)
    assert len(dataset) == len(dataset.levels) == SPLIT_SIZES[split]
    for level, count in Counter(dataset.levels).items():
        assert abs(count - SPLIT_SHARES[split] * LEVEL_SIZES[level]) < 1, (split, level, count)
    assert set(dataset.levels) == set(LEVELS)


def test_splits_are_disjoint_and_cover_every_pair():
    parts = [set(load_tinytalks(split)) for split in SPLITS]
    assert sum(map(len, parts)) == 350
    assert set.union(*parts) == set(load_tinytalks())


def test_splits_json_is_what_the_builder_writes():
    assert json.loads((ROOT / "splits.json").read_text()) == make_splits(ROOT)
    assert (ROOT / "splits.json").read_text() == splits_json(make_splits(ROOT))


def test_the_builder_refuses_a_level_of_the_wrong_size(tmp_path):
    root = copy_of_shipped(tmp_path)
    path = root / f"{level_name(3)}.txt"
    path.write_text(path.read_text() + "\nQ: What is 1 plus 1?\nA: 1 plus 1 is 2.\n")
    with pytest.raises(ValueError, match="level 3 has 51 pairs, expected 50"):
        make_splits(root)


@pytest.mark.parametrize("level", LEVELS)
def test_files_are_ascii_and_exactly_in_the_q_a_blank_line_format(level):
    raw = (ROOT / f"{level_name(level)}.txt").read_bytes()
    assert raw.isascii() and b"\r" not in raw and b"\t" not in raw
    pairs = read_pairs(ROOT / f"{level_name(level)}.txt")
    assert raw.decode() == "\n".join(f"Q: {question}\nA: {answer}\n" for question, answer in pairs)
    for text in (text for pair in pairs for text in pair):
        assert text == text.strip() and "  " not in text


def test_no_question_appears_twice():
    questions = [question for question, _ in ALL.pairs]
    assert len(set(questions)) == len(questions) == 350


def test_answers_are_short_full_sentences_ending_with_a_period():
    for question, answer in ALL.pairs:
        assert question[-1] in "?!", question
        assert answer[0].isupper() or answer[0].isdigit(), answer
        assert answer.endswith(".") and not answer.endswith(".."), answer
        assert len(answer) <= 60 and len(answer.split()) <= 12, answer


def test_every_math_answer_is_the_computed_result():
    operations = {"plus": int.__add__, "minus": int.__sub__, "times": int.__mul__, "divided by": int.__truediv__}
    used = Counter()
    for question, answer in load_tinytalks(levels=3):
        a, operation, b = re.fullmatch(r"What is (\d+) (plus|minus|times|divided by) (\d+)\?", question).groups()
        result = operations[operation](int(a), int(b))
        assert result == int(result) and result >= 0, question
        assert answer == f"{a} {operation} {b} is {int(result)}.", (question, answer)
        used[operation] += 1
    assert set(used) == set(operations) and min(used.values()) >= 10


def test_context_questions_state_something_before_asking():
    for question, answer in load_tinytalks(levels=5):
        context, asked = question.rsplit(". ", 1)
        assert context and asked.endswith("?"), question


def test_load_tinytalks_returns_the_pairs_of_a_split_and_levels():
    pairs = load_tinytalks("val", levels=[4, 2])
    assert pairs == TinyTalks("val", levels=(2, 4)).pairs
    assert len(pairs) == 15 + 15
    assert all(isinstance(question, str) and isinstance(answer, str) for question, answer in pairs)
    assert set(load_tinytalks("train", levels=1)) < set(load_tinytalks(levels=1))


def test_levels_select_and_label_pairs():
    dataset = TinyTalks("train", levels=[5, 1, 1])
    assert dataset.levels == [1] * 35 + [5] * 35
    level_of = {pair: level for pair, level in zip(ALL.pairs, ALL.levels)}
    assert all(level_of[pair] == level for pair, level in zip(dataset.pairs, dataset.levels))
    assert dataset[0] == dataset.pairs[0] and dataset[-1] == dataset.pairs[-1]
    with pytest.raises(IndexError):
        dataset[70]


@pytest.mark.parametrize("split, error, words", [
    ("training", ValueError, "split must be one of 'train', 'val', 'test' or None, got 'training'"),
    (1, TypeError, "split must be a str or None, got int: 1"),
])
def test_bad_split_is_refused(split, error, words):
    with pytest.raises(error, match=re.escape(words)):
        TinyTalks(split)
    with pytest.raises(error, match=re.escape(words)):
        load_tinytalks(split)


@pytest.mark.parametrize("levels, error, words", [
    (0, ValueError, "got 0"),
    ([1, 6], ValueError, "got 6"),
    ([], ValueError, "empty"),
    (["1"], TypeError, "got '1' of type str"),
    (True, TypeError, "got True of type bool"),
    (1.0, TypeError, "got 1.0"),
])
def test_bad_levels_are_refused(levels, error, words):
    with pytest.raises(error, match=re.escape(words)):
        TinyTalks("train", levels=levels)


def test_vocabulary_is_shared_by_every_split_and_level():
    for dataset in (TinyTalks("val"), TinyTalks("test", levels=3), TRAIN):
        assert dataset.chars == ALL.chars and dataset.vocab_size == len(ALL.chars)
    assert set(ALL.text) == set(ALL.chars)
    assert ALL.chars == sorted(ALL.chars) and ALL.vocab_size == len(set(ALL.chars))


def test_encode_decode_round_trip_the_text():
    ids = TRAIN.encode(TRAIN.text)
    assert ids.dtype == np.int64 and ids.shape == (len(TRAIN.text),)
    assert ids.min() >= 0 and ids.max() < TRAIN.vocab_size
    assert TRAIN.decode(ids) == TRAIN.text
    assert TRAIN.text.startswith(f"Q: {TRAIN[0][0]}\nA: {TRAIN[0][1]}\n\n")
    assert TRAIN.decode([]) == "" and TRAIN.encode("").shape == (0,)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALL.chars), max_size=200))
def test_decode_inverts_encode(text):
    assert TRAIN.decode(TRAIN.encode(text)) == text


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, ALL.vocab_size - 1), max_size=200))
def test_encode_inverts_decode(ids):
    assert TRAIN.encode(TRAIN.decode(ids)).tolist() == ids


@pytest.mark.parametrize("call, error, words", [
    (lambda: TRAIN.encode("Q: ~"), ValueError, "['~']"),
    (lambda: TRAIN.encode("caf\u00e9"), ValueError, "['\u00e9']"),
    (lambda: TRAIN.encode(b"Q"), TypeError, "text must be a str, got bytes"),
    (lambda: TRAIN.decode([0, ALL.vocab_size]), ValueError, f"[0, {ALL.vocab_size})"),
    (lambda: TRAIN.decode([-1]), ValueError, "got values from -1"),
    (lambda: TRAIN.decode([[0, 1]]), ValueError, "1-D sequence, got shape (1, 2)"),
    (lambda: TRAIN.decode([0.0, 1.0]), TypeError, "ids must be ints, got dtype float64"),
])
def test_bad_encode_decode_input_is_refused(call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call()


def test_windows_are_every_block_of_the_text_and_its_shift():
    ids = TRAIN.encode(TRAIN.text)
    assert len(WINDOWS) == len(ids) - 32
    for index in (0, 1, 1000, len(WINDOWS) - 1, -1):
        inputs, targets = WINDOWS[index]
        start = index % len(WINDOWS)
        assert inputs.dtype == targets.dtype == np.int64 and inputs.shape == targets.shape == (32,)
        assert np.array_equal(inputs, ids[start : start + 32]) and np.array_equal(targets, ids[start + 1 : start + 33])
    assert TRAIN.decode(WINDOWS[len(WINDOWS) - 1][1]) == TRAIN.text[-32:]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-len(WINDOWS), len(WINDOWS) - 1), max_size=40))
def test_get_batch_equals_the_windows_one_by_one(indices):
    inputs, targets = WINDOWS.get_batch(indices)
    assert inputs.dtype == targets.dtype == np.int64
    assert inputs.shape == targets.shape == (len(indices), 32)
    for row, index in enumerate(indices):
        assert np.array_equal(inputs[row], WINDOWS[index][0]) and np.array_equal(targets[row], WINDOWS[index][1])


@pytest.mark.parametrize("block_size, error, words", [
    (0, ValueError, "block_size must be in [1, 9] for 10 tokens, got 0"),
    (10, ValueError, "got 10"),
    (2.5, TypeError, "block_size must be an int, got float: 2.5"),
    (True, TypeError, "got bool"),
])
def test_bad_block_size_is_refused(block_size, error, words):
    with pytest.raises(error, match=re.escape(words)):
        TokenWindows(np.arange(10), block_size)


class _BatchOnlyWindows(TokenWindows):
    """Windows that fail when read one at a time, so a loader that works proves it took the get_batch path."""

    def __getitem__(self, index):
        raise AssertionError("the DataLoader read a window by __getitem__ instead of get_batch")

    get_batch = TokenWindows.get_batch  # vouches for it: else the loader calls the overriding __getitem__, as torch


def test_a_dataloader_over_windows_gives_next_character_batches_through_get_batch():
    windows = _BatchOnlyWindows(WINDOWS.tokens, 32)
    loader = DataLoader(windows, batch_size=64, shuffle=True, generator=0)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-len(windows) // 64)
    inputs = np.concatenate([batch[0] for batch in batches])
    targets = np.concatenate([batch[1] for batch in batches])
    assert inputs.shape == targets.shape == (len(windows), 32) and inputs.dtype == np.int64
    assert np.array_equal(inputs[:, 1:], targets[:, :-1])
    every_window = WINDOWS.get_batch(np.arange(len(windows)))[0]
    assert sorted(map(tuple, inputs.tolist())) == sorted(map(tuple, every_window.tolist()))
    assert not np.array_equal(inputs, every_window)  # shuffled


def copy_of_shipped(tmp_path):
    root = tmp_path / "tinytalks"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


@pytest.mark.parametrize("text, words", [
    ("Q: Hi?\nA: Hello.\n\nQ: Bye?\n", "expected 'Q: ...', 'A: ...' and a blank line per pair"),
    ("Q: Hi?\nA: Hello.\n\nQ: Bye?\nB: Bye.\n", "line 4: expected a 'Q: ...' line then an 'A: ...' line"),
    ("Q: Hi?\nA: Hello.\nx\nQ: Bye?\nA: Bye.\n", "line 3: expected a blank line between pairs, got 'x'"),
    ("Q: Hi?\nA: Hello.", "ending with a newline"),
])
def test_a_malformed_level_file_is_refused_with_its_line(tmp_path, text, words):
    root = copy_of_shipped(tmp_path)
    (root / f"{level_name(2)}.txt").write_text(text)
    with pytest.raises(ValueError, match=re.escape(words)):
        TinyTalks(None, root=root)


def test_a_root_in_the_same_layout_is_read_instead_of_the_shipped_one(tmp_path):
    root = copy_of_shipped(tmp_path)
    path = root / f"{level_name(1)}.txt"
    path.write_text(path.read_text().replace("My name is TinyBot.", "My name is Zed."))
    dataset = TinyTalks(None, root=root)
    assert ("What is your name?", "My name is Zed.") in dataset.pairs
    assert "Z" in dataset.chars and dataset.encode("Zed").shape == (3,)
