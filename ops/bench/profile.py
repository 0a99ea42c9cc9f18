#!/usr/bin/env python3
"""Where a process's CPU went, from `perf script` output (perf record -g): each sample is put in one
category by its call stack, and the table says which share of the samples each category has.

  perf script -i perf.data | ops/bench/profile.py --title "worker pool" > profile.md

A sample's category is the first of these that matches:
  1. a subsystem anywhere on the stack (logging, metrics, tracing, Kafka), since their cost is theirs
     however deep it goes;
  2. else the leafmost frame of a known layer (JSON, the HTTP client, the HTTP codec, the processor,
     Swift's async bridging, sockets, the event loop's wait);
  3. else the leaf frame's mechanism (ARC, allocation, Swift runtime, kernel), for stacks perf could
     not unwind to a known frame.
A second table sorts every sample by its leaf frame's mechanism alone: what the CPU was doing,
whatever it was for.
"""
import argparse
import collections
import re
import sys

SUBSYSTEMS = [  # anywhere on the stack, in this order
    ("logging (swift-log, the line handler, write(2))", r"LogHandler|\bLogging\.|7Logging|LogEvent"),
    ("metrics (swift-metrics, Prometheus)", r"Prometheus|10Prometheus|7Metrics|CoreMetrics|MetricsMiddleware"),
    ("tracing", r"7Tracing|15Instrumentation|RecordTrace|ServiceContext"),
    ("Kafka (Swift wrapper and librdkafka)", r"rd_kafka|librdkafka|5Kafka|CKafkaShim|rdk_"),
]
LAYERS = [  # leafmost frame first
    ("JSON (parsing answers, decoding, encoding records)", r"JSONParser|JSONBytes|JSONDecoder|JSONEncoder|JSONValue|JSONFields|decodeUnwrapped|Readable|UTCTimestamp|encoded"),
    ("processing (Bridge, API clients: mapping, decisions, building requests)", r"6Bridge|9AuroraAPI|11CoperniqAPI|7HTTPAPI|6Worker|7Records"),
    ("HTTP client (AsyncHTTPClient: pool, request and response state)", r"15AsyncHTTPClient|AsyncHTTPClient"),
    ("HTTP codec (NIOHTTP1, llhttp)", r"NIOHTTP1|llhttp|HTTPDecoder|HTTPEncoder|HTTPTypes|HTTPFields"),
    ("Swift async bridging (continuations, async sequences, task groups)", r"Continuation|NIOAsync|AsyncSequence|AsyncStream|TaskGroup|withTaskCancellationHandler|withDeadline"),
    ("sockets (NIO channels and the kernel's TCP)", r"Socket\.|BaseSocketChannel|BaseStreamSocketChannel|PendingWrites|sock_|tcp_|inet_"),
    ("event loop (NIO's loop, epoll, timers)", r"SelectableEventLoop|Selector|epoll|_blockingWait|whenReady"),
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
    for name, pattern in SUBSYSTEMS:
        if any(re.search(pattern, symbol) or re.search(pattern, dso) for symbol, dso in frames):
            return name
    for symbol, _ in frames:
        for name, pattern in LAYERS:
            if re.search(pattern, symbol):
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
