#!/usr/bin/env python3
"""Memeriksa paket bukti ppidbot tanpa ppidbot; hanya pustaka standar Python 3.

Checks an evidence pack made by ``ppidbot evidence``, run inside the unpacked pack:
``python3 verifikasi.py [--with-files]``. It recomputes every audit entry's hash of the
chain proof, checks the links and that each segment ends on its anchor, that the
record's trail lies in the proof, the PDFs' checksums against their ``document.issued``
entries, the softcopies' checksums against their ``file.stored`` entries, and every file
against SHA256SUMS. Exit 0 when everything matches, 1 otherwise. This file is copied into
the pack as it is: it imports nothing of ppidbot."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

GENESIS = "0" * 64


def entry_hash(entry: dict) -> str:
    """The formula of ppidbot's audit chain (sop/audit.py)."""
    fields = [
        entry["seq"],
        entry["at"],
        entry["actor_user_id"],
        entry["action"],
        entry["record_id"],
        entry["details"],
    ]
    if entry.get("actor_name") is not None:
        fields.append(entry["actor_name"])
    payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{entry['prev_hash']}|{payload}".encode()).hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sums(root: Path, problems: list[str]) -> int:
    count = 0
    for line in (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        expected, name = line.split("  ", 1)
        path = root / name
        count += 1
        if not path.is_file():
            problems.append(f"{name}: tidak ada dalam paket")
        elif sha256_of(path) != expected:
            problems.append(f"{name}: SHA-256 tidak sama dengan SHA256SUMS")
    return count


def check_chain(chain: dict, problems: list[str]) -> dict[int, dict]:
    """Every segment: hashes recomputed, links, contiguous numbers, ends on its anchor."""
    proven: dict[int, dict] = {}
    for number, segment in enumerate(chain["segments"], start=1):
        entries = segment["entries"]
        previous = None
        for entry in entries:
            if entry_hash(entry) != entry["hash"]:
                problems.append(f"entri {entry['seq']}: isi tidak cocok dengan hash-nya")
            if previous is not None:
                if entry["seq"] != previous["seq"] + 1:
                    problems.append(f"potongan {number}: entri sesudah {previous['seq']} hilang")
                if entry["prev_hash"] != previous["hash"]:
                    problems.append(f"entri {entry['seq']}: sambungan ke entri sebelumnya putus")
            elif entry["seq"] == 1 and entry["prev_hash"] != GENESIS:
                problems.append("entri 1: tidak berawal dari hash awal rantai")
            previous = entry
            proven[entry["seq"]] = entry
        end = segment.get("anchor") or segment.get("head")
        if previous is None or end is None:
            problems.append(f"potongan {number}: kosong")
        elif (previous["seq"], previous["hash"]) != (end["seq"], end["hash"]):
            problems.append(
                f"potongan {number}: tidak berakhir pada jangkar {end['seq']}:{end['hash']}"
            )
    return proven


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Memeriksa paket bukti ppidbot.")
    parser.add_argument(
        "--with-files", action="store_true", help="periksa juga softcopy di folder softcopy/"
    )
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent
    problems: list[str] = []

    files = check_sums(root, problems)
    print(f"SHA256SUMS: {files} berkas diperiksa")

    chain = json.loads((root / "audit" / "rantai.json").read_text(encoding="utf-8"))
    proven = check_chain(chain, problems)
    print(
        f"Rantai audit: {len(proven)} entri dihitung ulang dalam {len(chain['segments'])} potongan"
    )

    trail = json.loads((root / "audit" / "jejak.json").read_text(encoding="utf-8"))
    for entry in trail:
        if proven.get(entry["seq"]) != entry:
            problems.append(f"entri {entry['seq']} jejak audit tidak ada (sama persis) di rantai")
    print(f"Jejak audit berkas: {len(trail)} entri")
    issued = {}
    stored = set()
    for entry in trail:
        details = json.loads(entry["details"])
        if entry["action"] == "document.issued":
            issued[details.get("code")] = details.get("pdf_sha256")
        if entry["action"] == "file.stored":
            stored.add(details.get("sha256"))

    documents = json.loads((root / "dokumen" / "dokumen.json").read_text(encoding="utf-8"))
    for document in documents:
        path = root / document["berkas"]
        if document["kode"] not in issued:
            problems.append(
                f"{document['berkas']}: kode {document['kode']} tidak tercatat di jejak audit"
            )
        elif issued[document["kode"]] != document["sha256"]:
            problems.append(
                f"{document['berkas']}: SHA-256 berbeda dengan yang tercatat saat terbit"
            )
        elif path.is_file() and sha256_of(path) != document["sha256"]:
            if document.get("dibuat_ulang_sama", True):
                problems.append(f"{document['berkas']}: SHA-256 PDF tidak sama dengan saat terbit")
            else:
                print(
                    f"Catatan: {document['berkas']} dibuat ulang dengan versi perangkat "
                    "lunak lain; isinya dan kodenya tetap, berkas PDF-nya berbeda dari yang terbit."
                )
    print(f"Dokumen: {len(documents)} PDF")

    softcopies = 0
    for line in (root / "checksum-softcopy.sha256").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        expected, name = line.split("  ", 1)
        softcopies += 1
        if expected not in stored:
            problems.append(f"{name}: tidak ada entri file.stored dengan SHA-256 ini")
        path = root / name
        if args.with_files:
            if not path.is_file():
                problems.append(f"{name}: softcopy tidak ada dalam paket")
            elif sha256_of(path) != expected:
                problems.append(f"{name}: SHA-256 softcopy tidak cocok")
    print(f"Softcopy: {softcopies} checksum" + (" (berkas diperiksa)" if args.with_files else ""))

    print("Jangkar yang dipakai (bandingkan dengan yang diterima admin dan Pejabat PPID):")
    for segment in chain["segments"]:
        anchor = segment.get("anchor")
        if anchor:
            print(f"  {anchor['seq']}:{anchor['hash']} ({anchor['at']})")
        else:
            head = segment["head"]
            print(f"  {head['seq']}:{head['hash']} (kepala rantai, belum dijangkarkan)")

    if problems:
        print("HASIL: TIDAK COCOK")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("HASIL: COCOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
