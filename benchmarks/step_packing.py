"""CPU cost of packing one run's step rows (``callboard.store.step_contexts.pack_steps``).

The rows are those of the SMS flow ``benchmarks/throughput.py`` drives (Trigger → Set
Variables → Split → Send Message: four steps, contexts taken from a real run), each with
its own copy of the context, as the runner hands them to ``store.steps.insert_steps``.
Prints the median time per run (four rows) over several timed rounds, and the packed
bytes of each row. Compare two versions of the code with the same command in the same
hour:

    .venv/bin/python benchmarks/step_packing.py [--rounds 7] [--runs 2000]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any

from callboard.store.step_contexts import pack_steps

SID = "FN001778a446312a62ec2662e616a5a6f5"
FLOW = "FW067e75fba59103ebbe445bbfc124ef34"
ACCOUNT = "AC836fcca787e8392ca092515f58195723"


def contexts() -> list[dict[str, Any]]:
    """The four contexts of one run of the throughput benchmark's SMS flow."""
    first: dict[str, Any] = {
        "contact": {"channel": {"address": "+112000000163"}},
        "trigger": {
            "message": {
                "MessageSid": "SM12000000000000000000000000a3",
                "AccountSid": ACCOUNT,
                "From": "+112000000163",
                "To": "+15559990000",
                "Body": "I am new here",
                "NumMedia": "0",
            }
        },
        "widgets": {},
        "flow": {
            "flow_sid": FLOW,
            "sid": SID,
            "channel": {"address": "+15559990000"},
            "data": {},
            "variables": {},
        },
    }
    values = {"who": "0163", "said": "I AM NEW HERE", "kind": "new"}
    second = copy.deepcopy(first)
    second["widgets"]["remember"] = dict(values)
    second["flow"]["variables"] = dict(values)
    third = copy.deepcopy(second)
    fourth = copy.deepcopy(third)
    when = "Thu, 03 Dec 2026 15:49:23 GMT"
    message = "SMc3b706b8714b22d9ffdcec2c451fbc9e"
    fourth["widgets"]["reply"] = {
        "outbound": {
            "Sid": message,
            "AccountSid": ACCOUNT,
            "MessagingServiceSid": None,
            "Status": "sent",
            "Direction": "outbound-api",
            "To": "+112000000163",
            "From": "+15559990000",
            "Body": "Hi …0163, you said I AM NEW HERE",
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
            "DateCreated": when,
            "DateUpdated": when,
            "DateSent": when,
            "ErrorCode": None,
            "ErrorMessage": None,
            "Price": None,
            "PriceUnit": "USD",
            "Uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{message}.json",
        }
    }
    return [first, second, third, fourth]


def rows() -> list[dict[str, Any]]:
    return [
        {"sid": f"FT{seq:032x}", "execution_sid": SID, "seq": seq, "context": context}
        for seq, context in enumerate(copy.deepcopy(contexts()), start=1)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    batches = [rows() for _ in range(args.runs)]
    pack_steps(batches[0])  # warm-up
    times = []
    for _ in range(args.rounds):
        start = time.process_time()
        for batch in batches:
            pack_steps(batch)
        times.append((time.process_time() - start) / args.runs)
    packed = pack_steps(rows())
    sizes = ", ".join(str(len(row["context_z"])) for row in packed)
    median = statistics.median(times) * 1e6
    print(f"pack_steps: {median:.1f} µs CPU per run of 4 steps (median of {args.rounds})")
    print(f"packed context bytes per step: {sizes}")


if __name__ == "__main__":
    main()
