#!/usr/bin/env python3
"""Where a process's CPU went, from `perf script` output (perf record -g): each sample is put in one
category by its call stack, and the table says which share of the samples each category has.

  perf script -i perf.data | ops/bench/profile.py --title "worker pool" > profile.md

A sample's category is the first of these that matches:
  1. a subsystem anywhere on the stack (logging, metrics, tracing, Kafka), since their cost is theirs
     however deep it goes;
  2. else the leafmost frame of a known layer (JSON, the bridge's own code, the HTTP client, the
     HTTP codec, sockets, the event loop);
  3. else the leaf frame's mechanism (ARC, allocation, Swift runtime, kernel), for stacks perf could
     not unwind to a known frame.
Swift frames are placed by the module their mangled name starts with, never by the types of their
parameters (a function that takes a `Logger` is not logging).
A second table sorts every sample by its leaf frame's mechanism alone: what the CPU was doing,
whatever it was for.
"""
import argparse
import collections
import re
import sys

def module(symbol):
    """The module a mangled Swift symbol belongs to (`$s7Logging6LoggerV…` → `Logging`), `Swift` for
    the standard library, None for anything else. Only the symbol's own context counts: a module
    named in its parameter types (a function taking a `Logger`) must not."""
    match = re.match(r"^\$s(\d+)", symbol)
    if match:
        length, digits = int(match.group(1)), match.group(1)
        return symbol[2 + len(digits):2 + len(digits) + length]
    if symbol.startswith(("$ss", "$sS")):
        return "Swift"
    return None


def head(symbol):
    """The start of a symbol: its module and the first names of its context."""
    return symbol[:64]


SUBSYSTEMS = [  # anywhere on the stack, in this order: (name, test(symbol, module, dso))
    ("logging (swift-log, the line handler, write(2))",
     lambda s, m, d: m == "Logging" or (m == "CLISupport" and "LineLogHandler" in head(s))),
    ("metrics (swift-metrics, Prometheus)", lambda s, m, d: m in ("Metrics", "CoreMetrics", "Prometheus")),
    ("tracing (swift-distributed-tracing)", lambda s, m, d: m in ("Tracing", "Instrumentation", "ServiceContextModule")),
    ("Kafka (Swift wrapper and librdkafka)", lambda s, m, d: m in ("Kafka", "CKafkaShim") or "librdkafka" in d or s.startswith("rd_kafka")),
]
LAYERS = [  # leafmost frame first
    ("JSON (parsing answers, decoding, encoding records)",
     lambda s, m, d: (m == "HTTPAPI" and any(t in head(s) for t in ("JSONParser", "JSONBytes", "JSONValue", "JSONCoding", "UTCTimestamp")))
     or (m == "FoundationEssentials" and "JSON" in head(s))),
    ("processing (the worker, Bridge, the API clients, records)",
     lambda s, m, d: m in ("Bridge", "AuroraAPI", "CoperniqAPI", "HTTPAPI", "Worker", "Records")),
    ("HTTP client (AsyncHTTPClient: pool, request and response state)", lambda s, m, d: m == "AsyncHTTPClient"),
    ("HTTP codec (NIOHTTP1, llhttp)", lambda s, m, d: m == "NIOHTTP1" or s.startswith("c_nio_llhttp")),
    ("sockets (NIO channels and the kernel's TCP)",
     lambda s, m, d: (m == "NIOPosix" and any(t in head(s) for t in ("Socket", "PendingWrites")))
     or ("kernel" in d and re.search(r"tcp|sock|inet|skb|ip_", s) is not None)),
    ("event loop (NIO's loop: epoll, timers, running the tasks it holds)",
     lambda s, m, d: (m == "NIOPosix" and any(t in head(s) for t in ("SelectableEventLoop", "Selector"))) or "epoll" in s),
    ("Swift async machinery (continuations, task groups, NIO's async bridges)",
     lambda s, m, d: (m == "Swift" and any(t in head(s) for t in ("Continuation", "TaskGroup", "withTaskCancellation")))
     or (m == "NIOCore" and "NIOAsync" in head(s))),
]
MECHANISMS = [  # the leaf frame
    ("ARC retain/release", r"^swift_(retain|release|bridgeObject|isUniquely|unknownObject)|RefCounts|_swift_release_dealloc|swift_arrayDestroy"),
    ("allocation (malloc, free, the task allocator)", r"malloc|_int_free|cfree|^free$|unlink_chunk|StackAllocator|swift_task_alloc|swift_task_dealloc|swift_allocObject|swift_slowAlloc|swift_deallocObject"),
    ("generic metadata, casts, witness tables", r"Metadata|tryCast|getCache|WitnessTable|instantiateConcreteType|swift_dynamicCast|swift_conformsTo"),
    ("Swift concurrency runtime (jobs, executors, task status)", r"^swift::|^swift_task|^swift_job|AsyncTask|StatusRecord"),
    ("locks", r"pthread_mutex|Lock|futex"),
]


def read_samples(lines):
    samples, current = [], None
    for line in lines:
        if not line.strip():
            if current:
                samples.append(current)
            current = None
            continue
        if not line[0].isspace():
            current = []
            continue
        if current is None:
            continue
        match = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$", line)
        current.append((match.group(1), match.group(2)) if match else (line.strip(), ""))
    if current:
        samples.append(current)
    return samples


def mechanism(frames):
    if not frames:
        return "other"
    symbol, dso = frames[0]
    for name, pattern in MECHANISMS:
        if re.search(pattern, symbol):
            return name
    if "kernel" in dso:
        if re.search(r"tcp|sock|ip_|inet|skb|net_|dev_|softirq|napi|loopback", symbol):
            return "kernel: network"
        return "kernel: other (syscalls, scheduling)"
    return "other code (the leaf's own work)"


def category(frames):
    annotated = [(symbol, module(symbol), dso) for symbol, dso in frames]
    for name, test in SUBSYSTEMS:
        if any(test(*frame) for frame in annotated):
            return name
    for frame in annotated:
        for name, test in LAYERS:
            if test(*frame):
                return name
    return "not attributed, by leaf: " + mechanism(frames)


def table(counter, total, heading):
    print(f"| {heading} | share of samples |")
    print("|---|---|")
    for name, count in counter.most_common():
        print(f"| {name} | {100 * count / total:.1f} % |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--title", default="process")
    parser.add_argument("--per-unit", type=float, default=0, help="CPU ms per unit of work, to print each share in ms")
    args = parser.parse_args()
    samples = read_samples(sys.stdin)
    if not samples:
        print("(no samples)")
        return
    total = len(samples)
    by_category = collections.Counter(category(frames) for frames in samples)
    by_mechanism = collections.Counter(mechanism(frames) for frames in samples)
    print(f"{total} samples of {args.title}.")
    print()
    table(by_category, total, "what the CPU was for (whole stack)")
    print()
    table(by_mechanism, total, "what it was doing (leaf frame)")


if __name__ == "__main__":
    main()
