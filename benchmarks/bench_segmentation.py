"""Word segmentation quality on ordinary text: does the domain lexicon damage it?

Scores plain ``jieba.lcut`` and the toolkit's ``Segmenter`` with the sample lexicon loaded
(token spans, no filtering) against the SIGHAN 2005 PKU test set, and prints word F1,
precision, recall and OOV recall for each, and their ratio. Word F1 is span-based: a
predicted word counts when its (start, end) character span is a gold word's span.

    python benchmarks/bench_segmentation.py --gold PATH [--lexicon corpus/lexicon.yaml]

PATH is a folder holding ``pku_test.utf8`` and ``pku_test_gold.utf8`` from the bakeoff's
public icwb2-data release; the data is for research use and stays outside this repository.
OOV words are gold words missing from ``pku_training_words.utf8`` when that file is in the
folder, else from jieba's dictionary (said in the output). Target (issue 15): the toolkit's
F1 no lower than plain jieba's.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spans(words: list[str]) -> set[tuple[int, int]]:
    """Character spans of consecutive words."""
    out, pos = set(), 0
    for word in words:
        out.add((pos, pos + len(word)))
        pos += len(word)
    return out


def score(predicted: list[list[str]], gold: list[list[str]], oov: set[str]) -> dict[str, float]:
    """Span precision, recall, F1, and recall of the gold words that are OOV."""
    n_pred = n_gold = n_hit = n_oov = n_oov_hit = 0
    for pred_words, gold_words in zip(predicted, gold):
        pred = spans(pred_words)
        n_pred += len(pred)
        n_gold += len(gold_words)
        pos = 0
        for word in gold_words:
            span = (pos, pos + len(word))
            hit = span in pred
            n_hit += hit
            if word in oov:
                n_oov += 1
                n_oov_hit += hit
            pos += len(word)
    p, r = n_hit / n_pred, n_hit / n_gold
    return {"f1": 2 * p * r / (p + r), "precision": p, "recall": r, "oov_recall": n_oov_hit / n_oov if n_oov else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, required=True, help="Folder with pku_test.utf8 and pku_test_gold.utf8.")
    parser.add_argument("--lexicon", type=Path, default=ROOT / "corpus" / "lexicon.yaml")
    args = parser.parse_args(argv)
    raw_path, gold_path = args.gold / "pku_test.utf8", args.gold / "pku_test_gold.utf8"
    if not raw_path.is_file() or not gold_path.is_file():
        print(f"error: {args.gold} has no pku_test.utf8 and pku_test_gold.utf8; get them from the SIGHAN 2005 bakeoff's "
              "icwb2-data release (testing/pku_test.utf8, gold/pku_test_gold.utf8) and pass their folder with --gold.", file=sys.stderr)
        return 1

    import jieba

    import analysis
    from analysis.segment import _jieba_tokenizer

    gold = [line.split() for line in gold_path.read_text(encoding="utf-8").splitlines()]
    raw = [line.strip() for line in raw_path.read_text(encoding="utf-8").splitlines()]
    pairs = [(r, g) for r, g in zip(raw, gold) if r]
    assert all("".join(g) == r for r, g in pairs), "raw and gold files do not align"
    raw, gold = [r for r, _ in pairs], [g for _, g in pairs]
    training = args.gold / "pku_training_words.utf8"
    if training.is_file():
        known, oov_from = set(training.read_text(encoding="utf-8").split()), training.name
    else:
        known, oov_from = set(_jieba_tokenizer()[0].FREQ), "jieba's dictionary"
    oov = {w for words in gold for w in words if w not in known}

    jieba.setLogLevel(60)
    start = time.perf_counter()
    plain = [jieba.lcut(line) for line in raw]
    t_plain = time.perf_counter() - start
    lexicon = analysis.load_lexicon(args.lexicon)
    segmenter = analysis.Segmenter(lexicon)
    start = time.perf_counter()
    # an entry comes out as its canonical term: score the text it covers
    ours = [[line[s:e] for s, e, *_ in segmenter.spans(line)] for line in raw]
    t_ours = time.perf_counter() - start
    s_plain, s_ours = score(plain, gold, oov), score(ours, gold, oov)

    print(f"SIGHAN 2005 PKU test: {len(raw):,} sentences, {sum(map(len, gold)):,} words; OOV ({len(oov):,} types) against {oov_from}")
    print(f"lexicon: {args.lexicon} ({len(lexicon.entries)} entries); {datetime.date.today()}, {platform.machine()}, Python {platform.python_version()}")
    print(f"{'segmenter':<34}{'F1':>8}{'P':>8}{'R':>8}{'OOV R':>8}{'seconds':>9}")
    for name, s, t in (("plain jieba.lcut", s_plain, t_plain), ("analysis.Segmenter + lexicon", s_ours, t_ours)):
        print(f"{name:<34}{s['f1']:>8.4f}{s['precision']:>8.4f}{s['recall']:>8.4f}{s['oov_recall']:>8.4f}{t:>9.1f}")
    print(f"F1 ratio (toolkit / plain): {s_ours['f1'] / s_plain['f1']:.4f}")
    changed = [(r, p, o) for r, p, o in zip(raw, plain, ours) if p != o]
    print(f"sentences segmented differently: {len(changed)}")
    for r, p, o in changed[:10]:
        print("  plain:", "/".join(p)[:100])
        print("  ours: ", "/".join(o)[:100])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
