#!/usr/bin/env python3
"""Parse-speed benchmark: stdlib ``email`` (policy.default, compat32) vs inboxbridge's parser.

Usage:
  parse_bench.py [CORPUS_DIR] [--gen PATH] [--n 2000] [--rounds 3] [--limit N] [--extract]

CORPUS_DIR is a Maildir (files under cur/ and new/, any depth, e.g. with .Archive)
or any directory of raw messages. Without it a temporary corpus of ``--n`` messages
is generated with the shared generator (``--gen``, else $INBOXBRIDGE_BENCH_GEN,
else ../shared/bench/gen_corpus.py relative to the repository root) and removed
afterwards. Prints one JSON line.

Every round times each contender on the whole corpus (order rotated per round) and
the best round counts: these machines are noisy, so compare the ratios of one run,
not absolute times across runs. Whole-corpus passes, not interleaved small chunks,
because a long sync runs one parser at a time (allocator and GC state included).
parse_message also decodes and hashes every attachment, which the stdlib parse
does not do (``--extract`` adds a policy.default parse that extracts bodies and
attachments, the like-for-like comparison).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GEN = REPO_ROOT.parent / "shared" / "bench" / "gen_corpus.py"

try:
    from inboxbridge.lib.mime import parse_message
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from inboxbridge.lib.mime import parse_message


def load_corpus(root: Path, limit: int | None = None) -> list[bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new"))
    if not files:
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
    if limit is not None:
        files = files[:limit]
    return [p.read_bytes() for p in files]


def generate_corpus(gen: Path, target: Path, n: int) -> None:
    if not gen.is_file():
        raise SystemExit(f"corpus generator not found: {gen} (give CORPUS_DIR, --gen or INBOXBRIDGE_BENCH_GEN)")
    # The generator's default Archive share (5,000) needs --n >= 5,000; keep its 25%.
    cmd = [sys.executable, str(gen), "--maildir", str(target), "--n", str(n), "--archive", str(n // 4)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"corpus generator failed with exit code {done.returncode}")


def stdlib_extract(raw: bytes) -> None:
    """What a sync would do with policy.default: parse, then pull bodies and attachments."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for header in ("subject", "from", "to", "cc", "date", "message-id"):
        msg.get(header)
    for pref in (("plain",), ("html",)):
        body = msg.get_body(preferencelist=pref)  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    for part in msg.iter_attachments():  # type: ignore[attr-defined]
        part.get_payload(decode=True)


def contenders(extract: bool) -> dict[str, Callable[[bytes], object]]:
    out: dict[str, Callable[[bytes], object]] = {
        "stdlib_default": lambda raw: email.message_from_bytes(raw, policy=email.policy.default),
        "compat32": lambda raw: email.message_from_bytes(raw, policy=email.policy.compat32),
        "parse_message": parse_message,
    }
    if extract:
        out["stdlib_default_extract"] = stdlib_extract
    return out


def time_once(fn: Callable[[bytes], object], corpus: list[bytes]) -> float:
    gc.collect()
    start = time.perf_counter()
    for raw in corpus:
        fn(raw)
    return time.perf_counter() - start


def run(corpus: list[bytes], rounds: int, extract: bool) -> dict[str, object]:
    fns = contenders(extract)
    names = list(fns)
    total = {name: float("inf") for name in names}
    for r in range(rounds):
        # Rotate the order so no contender always runs right after the same other one.
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            total[name] = min(total[name], time_once(fns[name], corpus))
    n, size = len(corpus), sum(map(len, corpus))
    result: dict[str, object] = {
        "messages": n,
        "megabytes": round(size / 1e6, 1),
        "rounds": rounds,
    }
    for name, seconds in total.items():
        result[name] = {
            "ms_per_msg": round(seconds / n * 1000, 4),
            "mb_per_s": round(size / seconds / 1e6, 1),
            "seconds": round(seconds, 3),
        }
    result["speedup_vs_compat32"] = round(total["compat32"] / total["parse_message"], 2)
    result["speedup_vs_default"] = round(total["stdlib_default"] / total["parse_message"], 2)
    result["defects_total"] = sum(len(parse_message(raw).defects) for raw in corpus)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, help="Maildir or directory of raw messages")
    ap.add_argument("--gen", type=Path, default=None, help="gen_corpus.py to build a temporary corpus")
    ap.add_argument("--n", type=int, default=2000, help="messages in a generated corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N messages")
    ap.add_argument(
        "--extract", action="store_true", help="also time policy.default parse + body/attachment extraction"
    )
    args = ap.parse_args(argv)

    if args.corpus is not None:
        corpus = load_corpus(args.corpus, args.limit)
    else:
        gen = args.gen or Path(os.environ.get("INBOXBRIDGE_BENCH_GEN") or DEFAULT_GEN)
        with tempfile.TemporaryDirectory(prefix="inboxbridge-bench-") as tmp:
            generate_corpus(gen, Path(tmp) / "Maildir", args.n)
            corpus = load_corpus(Path(tmp) / "Maildir", args.limit)
    if not corpus:
        raise SystemExit("no messages found")
    print(json.dumps(run(corpus, max(1, args.rounds), args.extract)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
