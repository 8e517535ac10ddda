"""Parses the same files as the C# MIME benchmark with Python's standard email package.

Reads the file list from argv[1], runs argv[2] rounds after one warm-up round, and prints one JSON line.
Each message is parsed with BytesParser(policy=policy.default) and the fields a helpdesk reads are
touched: subject, from, to, the plain (or HTML) body and every attachment's decoded content.
"""
import json
import sys
import time
from email import policy
from email.parser import BytesParser


def read(data):
    message = BytesParser(policy=policy.default).parsebytes(data)
    try:
        _ = (str(message["subject"]), str(message["from"]), str(message["to"]))
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
        for part in message.iter_attachments():
            part.get_content()
    except Exception:
        pass  # Python refuses some damaged parts; the parse itself is what is timed.


def main():
    paths = open(sys.argv[1], encoding="utf-8").read().split("\n")
    rounds = int(sys.argv[2])
    files = [open(p, "rb").read() for p in paths if p]
    for data in files:
        read(data)
    start = time.perf_counter()
    for _ in range(rounds):
        for data in files:
            read(data)
    elapsed = time.perf_counter() - start
    total = sum(len(d) for d in files) * rounds
    print(json.dumps({"seconds": elapsed, "messages": len(files) * rounds, "bytes": total}))


main()
