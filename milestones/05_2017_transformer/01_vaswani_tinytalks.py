"""2017, Vaswani et al.: attention is all you need. A character-level GPT learns to answer TinyTalks questions.

The model (nanoGPT's shape: token and position embeddings, pre-norm blocks of causal self-attention and a ReLU MLP,
a final LayerNorm and a linear head) is trained on random next-character windows of the TinyTalks train split, all
five levels, with Adam; the learning rate drops tenfold for the last fifth of the epochs. It then answers each
question greedily from the prompt 'Q: <question>\\nA: ' up to the end of the line.

The "test accuracy" of the last line is the exact-match rate of those greedy answers on the level 1-2 (greetings,
facts) TRAINING questions: a check that the network memorised what it was taught, the target being 70%. The
per-level exact match on the val split is printed too, as a measure of generalisation (low, as expected from 245
pairs).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[2])]  # milestones/ (shared helpers), the checkout (tinytorch)

from milestone import (  # noqa: E402  (before NumPy loads: BLAS threads)
    learning_rate, parser, positive_int, report, train_epoch)

import numpy as np  # noqa: E402

from tinytorch import nn  # noqa: E402
from tinytorch.data import DataLoader, RandomSampler, TinyTalks  # noqa: E402
from tinytorch.nn.functional import cross_entropy  # noqa: E402

TARGET = 70
BLOCK_SIZE = 128  # longer than every pair, so a whole question and its answer fit in the context


class Block(nn.Module):
    """x + attention(norm(x)), then + mlp(norm(x)): (B, T, dim) -> (B, T, dim)."""

    def __init__(self, dim: int, heads: int):
        self.norm1, self.attention = nn.LayerNorm(dim), nn.CausalSelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    """int ids (B, T) with T <= block_size -> next-character logits (B, T, vocab_size)."""

    def __init__(self, vocab_size: int, block_size: int, dim: int, heads: int, layers: int):
        self.token, self.position = nn.Embedding(vocab_size, dim), nn.Embedding(block_size, dim)
        self.blocks = [Block(dim, heads) for _ in range(layers)]
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab_size)

    def forward(self, ids):
        x = self.token(ids) + self.position(np.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def answer_all(model, talks: TinyTalks, questions: list[str]) -> list[str]:
    """Greedy answers to all questions at once, each up to its first newline.

    The prompts sit left-aligned in one (B, block_size) buffer; causal attention means the logits at a prompt's
    last position ignore whatever lies to its right, so one forward pass per new character serves them all.
    """
    prompts = [talks.encode(f"Q: {question}\nA: ") for question in questions]
    ids = np.zeros((len(prompts), BLOCK_SIZE), dtype=np.int64)
    for row, prompt in enumerate(prompts):
        ids[row, :len(prompt)] = prompt
    lengths = np.array([len(prompt) for prompt in prompts])
    newline = talks.encode("\n")[0]
    done = lengths >= BLOCK_SIZE
    while not done.all():
        logits = model(ids[:, :lengths.max()]).data
        rows = np.flatnonzero(~done)
        ids[rows, lengths[rows]] = logits[rows, lengths[rows] - 1].argmax(axis=-1)
        lengths[rows] += 1
        done |= (ids[np.arange(len(ids)), lengths - 1] == newline) | (lengths >= BLOCK_SIZE)
    return [talks.decode(row[len(prompt):length]).split("\n")[0] for row, prompt, length in zip(ids, prompts, lengths)]


def exact_matches(model, talks: TinyTalks) -> np.ndarray:
    """bool (len(talks),): whether greedy decoding from 'Q: <question>\\nA: ' gives exactly the reference answer.

    Greedy decoding reproduces the answer and its closing newline if and only if, fed that reference text, the
    model's most likely next character is the reference one at every answer position. So one teacher-forced
    forward pass over all pairs decides it, with the same result as generating.
    """
    texts = [talks.encode(f"Q: {question}\nA: {answer}\n") for question, answer in talks.pairs]
    ids = np.zeros((len(texts), max(map(len, texts))), dtype=np.int64)
    for row, text in enumerate(texts):
        ids[row, :len(text)] = text
    guesses = model(ids[:, :-1]).data.argmax(axis=-1)  # guesses[:, t] predicts ids[:, t + 1]
    starts = [len(f"Q: {question}\nA: ") for question, _ in talks.pairs]
    return np.array([np.array_equal(guesses[row, start - 1:len(text) - 1], text[start:])
                     for row, (start, text) in enumerate(zip(starts, texts))])


def main():
    p = parser(__doc__.splitlines()[0], epochs=14, batch_size=32, lr=1e-2)
    p.add_argument("--windows", type=positive_int, default=3200,
                   help="random training windows per epoch (default 3200; the split has ~17000, overlapping)")
    p.add_argument("--dim", type=positive_int, default=64, help="embedding width (default 64)")
    p.add_argument("--layers", type=positive_int, default=2, help="transformer blocks (default 2)")
    p.add_argument("--heads", type=positive_int, default=4, help="attention heads (default 4)")
    args = p.parse_args()
    epochs, per_epoch = (1, 4 * args.batch_size) if args.quick else (args.epochs, args.windows)
    nn.manual_seed(args.seed)
    train, val = TinyTalks("train"), TinyTalks("val")
    windows = train.windows(BLOCK_SIZE)
    sampler = RandomSampler(windows, num_samples=per_epoch, generator=args.seed)
    loader = DataLoader(windows, args.batch_size, sampler=sampler)

    model = GPT(train.vocab_size, BLOCK_SIZE, args.dim, args.heads, args.layers)
    optimizer = nn.Adam(model.parameters(), lr=args.lr)
    parameters = sum(param.data.size for param in model.parameters())
    print(f"TinyTalks train: {len(train)} pairs, {len(train.text)} characters, vocabulary {train.vocab_size}; "
          f"GPT {args.layers} layers x {args.dim} wide, {args.heads} heads, {parameters:,} parameters; "
          f"{epochs} epochs of {len(loader)} batches of {args.batch_size} x {BLOCK_SIZE} characters")

    def loss_of(inputs, targets):
        return cross_entropy(model(inputs).reshape(-1, train.vocab_size), targets.reshape(-1))

    for epoch in range(1, epochs + 1):
        optimizer.lr = learning_rate(args.lr, epoch, epochs)
        train_epoch(loader, loss_of, optimizer, epoch, epochs)

    for name, talks in (("train", train), ("val", val)):
        picks = [talks.levels.index(level) for level in sorted(set(talks.levels))]  # the first pair of each level
        print(f"greedy answers to {name} questions:")
        for i, answer in zip(picks, answer_all(model, talks, [talks.pairs[i][0] for i in picks])):
            print(f"  Q: {talks.pairs[i][0]}\n  A: {answer}  [{'exact' if answer == talks.pairs[i][1] else 'wrong'}]")
    level12 = {}
    for name, talks in (("train", train), ("val", val)):
        hits, levels = exact_matches(model, talks), np.array(talks.levels)
        print(f"exact match on {name}: " + ", ".join(
            f"level {level} {100 * hits[levels == level].mean():.1f}%" for level in sorted(set(talks.levels))))
        level12[name] = hits[levels <= 2].mean()
    print("test accuracy below = exact match of the greedy answers to the level 1-2 TRAINING questions")
    report(level12["train"], TARGET, args.check)

if __name__ == "__main__":
    main()
