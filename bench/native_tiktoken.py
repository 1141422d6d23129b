"""Native tiktoken (the Python binding) on the LLaMA-3 ranks, for `pnpm bench` and the test fixtures.

Reads one JSON request on stdin:
  {"ranks": PATH, "pattern": STR, "mode": "fixtures" | "time", "inputs": [AdversarialText...],
   "corpus": PATH or null, "repeat": N}
An input on which tiktoken fails gets {"chars", "error"} instead (it panics with a regex
StackOverflow on runs of millions of white-space characters).
- "fixtures": for each input, its length, the SHA-256 of its UTF-8 text and of its ids (little-endian
  uint32), the token count, and the first and last 8 ids.
- "time": for each input, wall and CPU seconds of one encode_ordinary; with "corpus" (a JSON array of
  texts), tokens/s over all of them, `repeat` passes, one thread, and the peak memory of the encoder:
  the highest RSS sampled after each text of the first pass, less the RSS once the texts are loaded
  and before the ranks are read ("peakExtraMiB").
Writes one JSON object on stdout. Texts are built as scripts/adversarialTexts.ts builds them.
"""
import base64
import hashlib
import json
import struct
import sys
import os
import time

import tiktoken


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_text(spec):
    if spec["kind"] == "runs":
        return "".join(unit * count for unit, count in spec["runs"])
    n = spec["n"]
    if spec["kind"] == "dna":
        return "".join("ACGT"[(7919 * i + 31 * (i // 8)) % 4] for i in range(n))
    return "".join(chr(0x4E00 + (7919 * i) % 20902) for i in range(n))


def main():
    req = json.load(sys.stdin)
    texts = None
    if req.get("corpus"):
        with open(req["corpus"], encoding="utf-8") as f:
            texts = json.load(f)
    baseline = rss_mib()
    ranks = {}
    with open(req["ranks"], "rb") as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    enc = tiktoken.Encoding("llama3", pat_str=req["pattern"], mergeable_ranks=ranks, special_tokens={})
    out = {"tiktoken": tiktoken.__version__, "python": sys.version.split()[0], "inputs": {}}
    for spec in req["inputs"]:
        text = make_text(spec)
        wall, cpu = time.perf_counter(), time.process_time()
        chars = len(text.encode("utf-16-le")) // 2
        try:
            ids = enc.encode_ordinary(text)
        except BaseException as error:  # tiktoken panics (pyo3 PanicException) on some inputs
            out["inputs"][spec["name"]] = {"chars": chars, "error": f"{type(error).__name__}: {error}"}
            continue
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        entry = {"chars": chars, "tokens": len(ids)}
        if req["mode"] == "fixtures":
            entry["textSha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
            entry["idsSha256"] = hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()
            entry["head"] = ids[:8]
            entry["tail"] = ids[-8:]
        else:
            entry["wallS"] = wall
            entry["cpuS"] = cpu
        out["inputs"][spec["name"]] = entry
    if texts is not None:
        peak = rss_mib()
        for text in texts:
            enc.encode_ordinary(text)
            peak = max(peak, rss_mib())
        tokens = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(req.get("repeat", 1)):
            for text in texts:
                tokens += len(enc.encode_ordinary(text))
        out["corpus"] = {"tokens": tokens, "wallS": time.perf_counter() - wall, "cpuS": time.process_time() - cpu, "peakExtraMiB": peak - baseline}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
