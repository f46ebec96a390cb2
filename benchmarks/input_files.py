"""Reading input files: MB/s of `read_items` for the same 100,000 leads as UTF-8 (the fast
path), as cp1252 (every non-ASCII line guessed by charset-normalizer and flagged) and as a
UTF-8 file with one cp1252 line at the end (only that line guessed), for CSV and JSONL, and
the guessed/UTF-8 time ratio. Best of --repeat runs, so a busy machine flatters no one.

    python benchmarks/input_files.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leadflow.tools.ingest import read_items  # noqa: E402

PASTED = "Jürgen,Müller,jm@firma.de,Müller & Söhne GmbH,Köln,Größe: 250 Mitarbeiter\n"


def files(rows: int, where: Path) -> dict[str, dict[str, Path]]:
    """{format: {variant: path}} for the same leads."""
    header = "Vorname,Nachname,E-Mail,Firma,Ort,Notiz\n"
    csv_text = header + "".join(f"Jürgen{n},Müller,jm{n}@firma.de,Müller GmbH,Köln,"
                                f"Interesse an einer Lösung für {n} Geräte\n"
                                for n in range(rows))
    jsonl_text = "".join(json.dumps({"id": f"B-{n}", "source": "web_form", "payload": {
        "name": f"Jürgen Müller {n}", "email": f"jm{n}@firma.de", "company": "Müller GmbH",
        "message": f"Interesse an einer Lösung für {n} Geräte"}}, ensure_ascii=False) + "\n"
        for n in range(rows))
    pasted_jsonl = json.dumps({"id": "B-w", "source": "web_form", "payload": {
        "name": "Jürgen Müller", "email": "jm@firma.de"}}, ensure_ascii=False) + "\n"
    out: dict[str, dict[str, Path]] = {}
    for fmt, text, pasted in (("csv", csv_text, PASTED), ("jsonl", jsonl_text, pasted_jsonl)):
        out[fmt] = {}
        for variant, data in (("utf-8", text.encode()), ("cp1252", text.encode("cp1252")),
                              ("utf-8 + 1 cp1252 line",
                               text.encode() + pasted.encode("cp1252"))):
            path = where / f"{variant.replace(' ', '_')}.{fmt}"
            path.write_bytes(data)
            out[fmt][variant] = path
    return out


def best_of(path: Path, repeat: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = len(list(read_items(path)))
        times.append(time.perf_counter() - started)
    return min(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, variants in files(args.rows, Path(tmp)).items():
            base = None
            for variant, path in variants.items():
                seconds, count = best_of(path, args.repeat)
                base = base or seconds
                size = path.stat().st_size / 1e6
                print(f"{fmt:5} {variant:22} {count:7d} items {size:6.1f} MB {seconds:6.2f} s "
                      f"{size / seconds:6.1f} MB/s  ×{seconds / base:.2f} of UTF-8")


if __name__ == "__main__":
    main()
