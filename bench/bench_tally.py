"""Benchmark the streaming Tally parser on large synthetic UTF-16 exports.

Writes a Day Book style export of N MB (UTF-16LE with BOM, Tally's quirks included:
``&#4;`` names, padded numbers, units, ``(-)`` negatives) to a temporary file, streaming,
then parses it into voucher records in a fresh process and reports wall time and that
process's peak RSS. Targets: 500 MB in under 60 s with peak RSS under 300 MB, and memory
that does not grow with the file (compare 1x and 10x).

    .venv/bin/python bench/bench_tally.py              # 50 MB and 500 MB
    .venv/bin/python bench/bench_tally.py --sizes 5,50
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ("Zinc Oxide", "Caustic Soda Flakes", "Titanium Dioxide Rutile", "Soda Ash Light")

HEAD = (
    "<ENVELOPE>\r\n <HEADER>\r\n  <TALLYREQUEST>Import Data</TALLYREQUEST>\r\n </HEADER>\r\n"
    " <BODY>\r\n  <IMPORTDATA>\r\n   <REQUESTDESC><REPORTNAME>Day Book</REPORTNAME></REQUESTDESC>\r\n"
    "   <REQUESTDATA>\r\n"
)
TAIL = "   </REQUESTDATA>\r\n  </IMPORTDATA>\r\n </BODY>\r\n</ENVELOPE>\r\n"


def _voucher(n: int) -> str:
    item = ITEMS[n % len(ITEMS)]
    qty = 25 * (1 + n % 40)
    rate = 50 + n % 200
    amount = qty * rate
    sign = "(-)" if n % 97 == 0 else ""
    lines = "".join(
        f"<ALLINVENTORYENTRIES.LIST><STOCKITEMNAME>{item}</STOCKITEMNAME>"
        f"<ISDEEMEDPOSITIVE>No</ISDEEMEDPOSITIVE><RATE>{rate}.00/kg</RATE>"
        f"<AMOUNT>{amount}.00</AMOUNT><ACTUALQTY> {sign}{qty}.000 kg</ACTUALQTY>"
        f"<BILLEDQTY> {qty}.000 kg</BILLEDQTY><BATCHALLOCATIONS.LIST>"
        f"<GODOWNNAME>&#4; Main Location</GODOWNNAME><ORDERNO>SO/25-26/{n:06d}</ORDERNO>"
        f"</BATCHALLOCATIONS.LIST></ALLINVENTORYENTRIES.LIST>\r\n"
        for _ in range(1 + n % 3)
    )
    return (
        f'<TALLYMESSAGE><VOUCHER REMOTEID="guid-{n}" VCHTYPE="Sales" ACTION="Create">\r\n'
        f"<DATE>2025{1 + n % 12:02d}{1 + n % 28:02d}</DATE><GUID>guid-{n}</GUID>"
        f"<VOUCHERTYPENAME>Sales</VOUCHERTYPENAME><VOUCHERNUMBER>INV/25-26/{n:06d}</VOUCHERNUMBER>"
        f"<PARTYLEDGERNAME>Shah &amp; Sons Detergents ({n % 50})</PARTYLEDGERNAME>"
        f"<ISCANCELLED>No</ISCANCELLED><MASTERID> {n}</MASTERID><ALTERID> {n + 1000}</ALTERID>\r\n"
        f"<LEDGERENTRIES.LIST><LEDGERNAME>Shah &amp; Sons Detergents ({n % 50})</LEDGERNAME>"
        f"<ISPARTYLEDGER>Yes</ISPARTYLEDGER><AMOUNT>-{amount}.00</AMOUNT></LEDGERENTRIES.LIST>\r\n"
        f"<LEDGERENTRIES.LIST><LEDGERNAME>Sales Account</LEDGERNAME>"
        f"<AMOUNT>{amount}.00</AMOUNT></LEDGERENTRIES.LIST>\r\n{lines}</VOUCHER></TALLYMESSAGE>\r\n"
    )


def synthesise(path: Path, megabytes: int) -> int:
    """Write a UTF-16LE export of about ``megabytes`` MB, streaming; returns voucher count."""
    target = megabytes * 1_000_000
    count = 0
    with path.open("wb") as out:
        out.write(b"\xff\xfe" + HEAD.encode("utf-16-le"))
        written = out.tell()
        while written < target:
            block = "".join(_voucher(count + i) for i in range(2000))
            count += 2000
            data = block.encode("utf-16-le")
            out.write(data)
            written += len(data)
        out.write(TAIL.encode("utf-16-le"))
    return count


def parse_file(path: Path) -> dict[str, float]:
    """Parse every voucher of ``path`` (run in a fresh process for a clean peak RSS)."""
    sys.path.insert(0, str(ROOT))
    from ingest.tally.parse import read_file_records

    started = time.perf_counter()
    vouchers = lines = 0
    for record in read_file_records(path, "vouchers"):
        vouchers += 1
        lines += len(record["lines"])
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": elapsed, "peak_rss_mb": peak_kb / 1024, "vouchers": vouchers, "lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500", help="export sizes in MB, comma-separated")
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)  # child-process mode
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.parse:
        print(json.dumps(parse_file(args.parse)))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_tally_") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"daybook_{size}mb.xml"
            started = time.perf_counter()
            count = synthesise(path, size)
            written = time.perf_counter() - started
            child = subprocess.run(
                [sys.executable, __file__, "--parse", str(path)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(child.stdout) | {"mb": os.path.getsize(path) / 1e6}
            assert result["vouchers"] == count, (result, count)
            results.append(result)
            print(
                f"{result['mb']:7.1f} MB UTF-16: {count:>8} vouchers, {result['lines']:>8} lines "
                f"parsed in {result['seconds']:6.1f} s ({result['mb'] / result['seconds']:5.1f} MB/s),"
                f" peak RSS {result['peak_rss_mb']:6.1f} MB  (synthesis {written:.1f} s)"
            )
            path.unlink()
    if args.json:
        args.json.write_text(json.dumps({"results": results}, indent=2) + "\n")
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(
            f"growth {large['mb'] / small['mb']:.0f}x size: time x"
            f"{large['seconds'] / small['seconds']:.1f}, peak RSS x"
            f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}"
        )


if __name__ == "__main__":
    main()
