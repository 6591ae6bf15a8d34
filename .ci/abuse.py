#!/usr/bin/env python3
"""Abuse suite: the release build under the attacks of issue 11, on one database.

    python3 .ci/abuse.py target/release/basisset sqlite:///tmp/x.db
    python3 .ci/abuse.py target/release/basisset postgres://postgres@127.0.0.1:5432/empty_db

Starts the service (small demo data, a team client), then, while a thread measures /healthz
every 20 ms:
  1. eight anonymous GraphQL documents of 2.4 MB (one field repeated 150,000 times), eight
     under the byte limit with 12,000 tokens, and eight fragment bombs, all at once;
  2. a 12 MB submission with 1.5 million bad figures;
  3. an accepted submission of 100,000 figures (the limit), posted as JSON.
Checks: every bomb refused with its code in under 2 s, /healthz under 100 ms throughout,
the body bomb answered small and fast, and the server's peak memory (VmHWM) within the stated
bound. Exits non-zero on any failure. Standard library only.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, DB = sys.argv[1], sys.argv[2]
# The stated bound on the server's peak resident memory for any accepted body (README).
PEAK_RSS_MB = 400
HEALTH_MS = 100

failures = []


def fail(msg):
    print(f"FAIL: {msg}")
    failures.append(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data


def cli(*args):
    out = subprocess.run([BIN, "--database-url", DB, "--log", "warn", *args],
                         check=True, capture_output=True)
    return json.loads(out.stdout)


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


subprocess.run([BIN, "--database-url", DB, "--log", "warn", "seed-demo", "--organisations", "12",
                "--from-year", "2022"], check=True, capture_output=True)
org = cli("organisation", "list")[0]["id"]
creds = cli("client", "create", "--role", "team", "--name", "abuse", "--organisation", str(org))
port = free_port()
keys = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
os.unlink(keys)
server = subprocess.Popen([BIN, "--database-url", DB, "--log", "warn", "serve", "--bind",
                           f"127.0.0.1:{port}"],
                          env={**os.environ, "BASISSET_JWT_KEYS_FILE": keys},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    for _ in range(200):
        try:
            if request(port, "GET", "/readyz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.05)
    status, body = request(port, "POST", "/oauth/token",
                           f"grant_type=client_credentials&client_id={creds['client_id']}"
                           f"&client_secret={creds['client_secret']}",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(body)["access_token"]
    base_rss = vm_hwm_mb(server.pid)

    # /healthz, every 20 ms, from a thread of its own.
    worst = [0.0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            t = time.monotonic()
            try:
                request(port, "GET", "/healthz", timeout=5)
            except OSError as e:
                fail(f"/healthz failed during the attack: {e}")
            worst[0] = max(worst[0], (time.monotonic() - t) * 1000)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.2)

    # 1. GraphQL bombs, 24 at once.
    big = json.dumps({"query": "{ " + "goals { code } " * 150_000 + "}"})
    tokens = json.dumps({"query": "{ goals { " + "code " * 12_000 + "} }"})
    frag = "{ goals { ...F0 } }\n" + "".join(
        f"fragment F{i} on TransformationGoal {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(20)
    ) + "fragment F20 on TransformationGoal { code }\n"
    frags = json.dumps({"query": frag})
    results = []

    def bomb(doc, want):
        t = time.monotonic()
        status, data = request(port, "POST", "/graphql", doc, {"Content-Type": "application/json"})
        took = time.monotonic() - t
        code = json.loads(data)["errors"][0]["extensions"]["code"] if data else ""
        results.append((want, status, code, took))

    threads = [threading.Thread(target=bomb, args=(d, w)) for d, w in
               [(big, "QUERY_TOO_LARGE")] * 8 + [(tokens, "TOO_MANY_TOKENS")] * 8 +
               [(frags, "TOO_MANY_FIELDS")] * 8]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for want, status, code, took in results:
        if status != 400 or code != want:
            fail(f"GraphQL bomb: wanted 400 {want}, got {status} {code}")
        if took > 2:
            fail(f"GraphQL bomb {want} took {took:.2f} s")
    print(f"ok: 24 GraphQL bombs refused (slowest {max(r[3] for r in results) * 1000:.0f} ms)")

    # 2. The body bomb: 12 MB, 1.5 million bad figures.
    figures = ",".join(['{"v":-1}'] * 1_500_000)
    body = ('{"period":"2023","figures":[' + figures + "]}").encode()
    t = time.monotonic()
    status, data = request(port, "POST", f"/api/v1/organisations/{org}/submissions", body,
                           {"Content-Type": "application/json",
                            "Authorization": f"Bearer {token}"})
    took = time.monotonic() - t
    problem = json.loads(data)
    codes = [e["code"] for e in problem.get("errors", [])]
    if status != 422 or codes != ["too_many_figures"]:
        fail(f"body bomb: wanted 422 too_many_figures, got {status} {codes[:3]}")
    if len(data) > 10_000 or took > 10:
        fail(f"body bomb answered {len(data)} bytes in {took:.1f} s")
    print(f"ok: {len(body) / 1e6:.1f} MB body bomb refused in {took * 1000:.0f} ms, "
          f"{len(data)} bytes")

    # 3. The largest accepted body: 100,000 figures.
    indicators = ["klachten", "nieuwe_aanmeldingen", "voorkomen_huisuitzettingen"]
    munis = [m["code"] for m in json.loads(request(port, "GET", "/api/v1/municipalities")[1])]
    figs = []
    for m in munis:
        for ind in indicators:
            figs.append({"indicator": ind, "municipality": m, "value": 1, "note": "x" * 40})
    figs = figs[:1000]
    # The organisation serves few of these municipalities: most rows are refused, but all are
    # read, checked and answered: the work of the largest body.
    big = json.dumps({"period": "2023", "figures": (figs * 100)[:100_000]}).encode()
    t = time.monotonic()
    status, data = request(port, "POST", f"/api/v1/organisations/{org}/submissions", big,
                           {"Content-Type": "application/json",
                            "Authorization": f"Bearer {token}"})
    took = time.monotonic() - t
    if status not in (201, 422):
        fail(f"100,000 figures: {status} {data[:200]}")
    if status == 422 and len(data) > 1_000_000:
        fail(f"100,000 figures: {len(data)} bytes of problems")
    stop.set()
    watcher.join()
    peak = vm_hwm_mb(server.pid)
    print(f"ok: {len(big) / 1e6:.1f} MB body of 100,000 figures answered {status} in "
          f"{took:.1f} s")
    print(f"peak RSS {peak:.0f} MB (at start {base_rss:.0f} MB; bound {PEAK_RSS_MB} MB)")
    if peak > PEAK_RSS_MB:
        fail(f"peak RSS {peak:.0f} MB over the bound of {PEAK_RSS_MB} MB")
    print(f"/healthz: slowest {worst[0]:.1f} ms during the attacks (bound {HEALTH_MS} ms)")
    if worst[0] > HEALTH_MS:
        fail(f"/healthz took {worst[0]:.0f} ms during the attacks")
finally:
    server.terminate()
    try:
        _, err = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        _, err = server.communicate()
    if b"panicked" in err:
        fail("the server panicked: " + err.decode(errors="replace")[-2000:])

if failures:
    sys.exit(1)
print("abuse suite passed")
