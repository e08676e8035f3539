#!/usr/bin/env python3
"""A load client built on OpenSSL 3 (Python's ssl module), the TLS library most mail clients on Linux use, with its
default groups, cipher suites and ticket handling. bench/run drives it beside its Netty client; it prints its figures on
standard output as key=value lines.

  openssl-client.py handshakes HOST PORT CONCURRENCY SECONDS MAX_CONNECTIONS
      CONCURRENCY threads each connect, handshake, read the greeting line, send QUIT, read the answer and close, until
      the time or the count runs out; reports connections, seconds, greeting latencies and what was negotiated.
  openssl-client.py roundtrips HOST PORT COUNT
      one TLS connection to an echo backend: COUNT round trips of 32 bytes; reports their latencies.

Loopback only: HOST must be 127.0.0.1 or ::1. The certificate is not verified (the benchmark's own, self-signed).
"""
import socket
import ssl
import sys
import threading
import time


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def read_line(tls):
    data = b""
    while not data.endswith(b"\n"):
        chunk = tls.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def handshakes(host, port, concurrency, seconds, max_connections):
    ctx = context()
    deadline = time.monotonic() + seconds
    latencies = []
    failures = [0]
    started = [0]
    negotiated = {}
    lock = threading.Lock()

    def loop():
        while True:
            with lock:
                if time.monotonic() > deadline or started[0] >= max_connections or failures[0] > 100:
                    return
                started[0] += 1
            t0 = time.perf_counter_ns()
            try:
                with socket.create_connection((host, port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                        read_line(tls)
                        t1 = time.perf_counter_ns()
                        tls.sendall(b"QUIT\r\n")
                        read_line(tls)
                        with lock:
                            latencies.append(t1 - t0)
                            if not negotiated:
                                negotiated.update(version=tls.version(), cipher=tls.cipher()[0])
            except OSError:
                with lock:
                    failures[0] += 1

    begin = time.monotonic()
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.monotonic() - begin
    latencies.sort()
    return {"connections": len(latencies), "seconds": elapsed, "failures": failures[0],
            "p50_ns": percentile(latencies, 50), "p99_ns": percentile(latencies, 99),
            "version": negotiated.get("version", "-"), "cipher": negotiated.get("cipher", "-")}


def roundtrips(host, port, count):
    ctx = context()
    payload = b"x" * 30 + b"\r\n"
    latencies = []
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            for _ in range(count):
                t0 = time.perf_counter_ns()
                tls.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = tls.recv(4096)
                    if not chunk:
                        raise OSError("closed")
                    got += chunk
                latencies.append(time.perf_counter_ns() - t0)
    latencies.sort()
    return {"count": len(latencies), "p50_ns": percentile(latencies, 50), "p99_ns": percentile(latencies, 99)}


def percentile(values, p):
    if not values:
        return -1
    return values[min(len(values) - 1, max(0, -(-p * len(values) // 100) - 1))]


def main(argv):
    mode, host, port = argv[1], argv[2], int(argv[3])
    if host not in ("127.0.0.1", "::1"):
        raise SystemExit("loopback only")
    if mode == "handshakes":
        result = handshakes(host, port, int(argv[4]), float(argv[5]), int(argv[6]))
    elif mode == "roundtrips":
        result = roundtrips(host, port, int(argv[4]))
    else:
        raise SystemExit("mode: handshakes or roundtrips")
    for key, value in result.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main(sys.argv)
