"""What ``ppidbot verify`` prints (English, for the operator, like the other commands)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sop.papers import DocumentKind, HandoverRecord
from sop.verification import FileStatus, Verdict, Verification, format_code

KIND_NAMES = {
    DocumentKind.HANDOVER_STEP2: "handover record of step 2",
    DocumentKind.HANDOVER_STEP3: "handover record of step 3",
    DocumentKind.CONSEQUENCE_TEST: "consequence-test sheet",
    DocumentKind.CLASSIFICATION: "classification decision",
}
VERDICTS = {
    Verdict.MATCHES: "MATCHES the register",
    Verdict.CHANGED: "CHANGED since it was issued",
    Verdict.PDF_DIFFERS: (
        "the register still matches its code, but this PDF is NOT the file that was issued "
        "(altered, or saved again by another program)"
    ),
    Verdict.UNKNOWN: "UNKNOWN: no paper was issued with this code or this PDF",
}


def render_verification(result: Verification, tz: ZoneInfo) -> str:
    code = format_code(result.code) if result.code else "-"
    if result.verdict is Verdict.UNKNOWN or result.issued is None or result.kind is None:
        return f"verification code {code}\nresult: {VERDICTS[Verdict.UNKNOWN]}"
    issued = result.issued
    at = result.issued_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if result.issued_at else "-"
    lines = [
        f"verification code {code}: {KIND_NAMES[result.kind]} of {issued.record.number} "
        f"“{issued.record.title}”, issued {at}",
        f"result: {VERDICTS[result.verdict]}",
    ]
    if result.pdf_identical is not None:
        lines.append(
            "  pdf: identical to the issued file"
            if result.pdf_identical
            else "  pdf: differs from the issued file (its code was read from its metadata)"
        )
    if result.unavailable:
        lines.append(f"  record: the paper no longer holds: {result.unavailable}")
    elif result.changes:
        lines.append(f"  record: changed since: {', '.join(result.changes)}")
        if isinstance(issued, HandoverRecord) and "audit" in result.changes:
            current = result.current
            if isinstance(current, HandoverRecord):
                lines.append(
                    f"    the step was done again since (entry {issued.audit.seq} then, "
                    f"{current.audit.seq} now)"
                )
    else:
        lines.append("  record: as the paper says")
    if result.files:
        bad = [check for check in result.files if check.status is not FileStatus.OK]
        if not bad:
            lines.append(f"  files: {len(result.files)} checked, every checksum matches")
        for check in bad:
            lines.append(f"  file {check.name} (sha256 {check.sha256[:12]}…): {check.status.value}")
    chain = result.chain
    if chain is not None:
        seq = issued.audit.seq
        if not chain.entry_found:
            lines.append(f"  audit: entry {seq} the paper attests is MISSING from the chain")
        elif not chain.entry_unchanged:
            lines.append(f"  audit: entry {seq} has another hash than the paper records")
        else:
            lines.append(
                f"  audit: entry {seq} unchanged; {chain.checked} entries to the head recomputed"
            )
        lines.extend(f"  audit: {problem}" for problem in chain.problems)
    return "\n".join(lines)
