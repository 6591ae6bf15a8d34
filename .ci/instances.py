#!/usr/bin/env python3
"""Two instances behind Debian's nginx, on one PostgreSQL database (issue 15, item 4).

    python3 .ci/instances.py target/release/basisset postgres://postgres@127.0.0.1:5432/empty_db

Writes an nginx.conf into a temporary directory (an upstream of both instances, nginx run as the
current user with `-p tmpdir -c conf`, pid and logs in tmpdir, `daemon off` in the background),
starts two instances of the binary on the one (fresh) database, bootstraps clients and
organisations with the command line as the README does, then checks through nginx and each
instance directly:
  1. the role matrix: representative routes per role (anonymous, team A, team B, Associatie,
     admin), through nginx, with tokens issued by one instance and checked by the other;
  2. coherent views: a submission committed on one instance shows at once in the views of the
     other instance, of itself and through nginx, both ways; an Idempotency-Key used on one
     instance replays on the other; /metrics answers on each instance directly, 403 through nginx;
  3. shared throttling: failed token requests on instance A count on instance B;
  4. a rolling restart (SIGTERM A, start it again, then the same for B) while client threads keep
     requesting through nginx (GETs, and token POSTs that nginx does not retry once sent): zero
     failed requests, and both instances serve again afterwards.
Exits non-zero on any failure. Standard library only; needs nginx (.ci/run installs it).
"""
import http.client
import json
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, DB = sys.argv[1], sys.argv[2]
if not DB.startswith(("postgres://", "postgresql://")):
    sys.exit("instances.py needs a PostgreSQL URL: SQLite is single-instance")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

failures = []
started_at = time.monotonic()


def fail(msg):
    print(f"FAIL: {msg}")
    failures.append(msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


section_failures = [0]


def ok(msg):
    """Report a section: `ok` when it added no failure."""
    print(("ok: " if len(failures) == section_failures[0] else "FAILED: ") + msg)
    section_failures[0] = len(failures)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, headers=None, timeout=30):
    """(status, headers as a dict with lower-case names, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, {k.lower(): v for k, v in res.getheaders()}, data


def auth(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def cli(*args):
    out = subprocess.run([BIN, "--database-url", DB, "--log", "warn", *args],
                         check=True, capture_output=True)
    return json.loads(out.stdout)


tmp = tempfile.mkdtemp(prefix="basisset-instances-")
keys = os.path.join(tmp, "jwt-keys.json")
ports = {"A": free_port(), "B": free_port()}
nginx_port = free_port()
servers = {}
logs = {}
nginx = None


def start(name):
    """Start instance `name` and wait until it is ready (its own /readyz, directly)."""
    log = open(os.path.join(tmp, f"instance-{name}.log"), "ab")
    logs[name] = log.name
    env = {**os.environ,
           "BASISSET_JWT_KEYS_FILE": keys,
           # Few failures before the delays start, to see the shared count quickly.
           "BASISSET_AUTH_MAX_FAILURES": "3",
           # nginx is the only proxy: its X-Forwarded-For names the client.
           "BASISSET_TRUSTED_PROXIES": "127.0.0.1",
           "BASISSET_SHUTDOWN_TIMEOUT_SECS": "10",
           "BASISSET_WORKERS": "2"}
    servers[name] = subprocess.Popen(
        [BIN, "--database-url", DB, "--log", "warn", "serve", "--bind",
         f"127.0.0.1:{ports[name]}"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if servers[name].poll() is not None:
            sys.exit(f"instance {name} exited at start: {open(log.name).read()[-2000:]}")
        try:
            if request(ports[name], "GET", "/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"instance {name} not ready within 30 s")


def stop(name):
    """SIGTERM: the graceful shutdown. Returns the exit code."""
    proc = servers[name]
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def nginx_conf():
    user = ""
    if os.getuid() == 0:
        # A root master would switch its workers to an unprivileged user who cannot write tmpdir.
        user = (f"user {pwd.getpwuid(os.getuid()).pw_name} "
                f"{grp.getgrgid(os.getgid()).gr_name};")
    return f"""{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 20m;
    upstream basisset {{
        # max_fails=0: an instance that is restarting is tried again at once when it is back;
        # while it is away its refused connections are retried on the other (below).
        server 127.0.0.1:{ports['A']} max_fails=0;
        server 127.0.0.1:{ports['B']} max_fails=0;
    }}
    server {{
        listen 127.0.0.1:{nginx_port};
        location / {{
            proxy_pass http://basisset;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 0;
            proxy_connect_timeout 2s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


try:
    # --- Bootstrap with the command line (README: "Bootstrapping a new install").
    subprocess.run([BIN, "--database-url", DB, "--log", "warn", "migrate"], check=True,
                   capture_output=True)
    org_a = cli("organisation", "create", "--name", "Buurtteam A", "--team-type", "jeugd",
                "--form", "stichting", "--municipalities", "GM0344")["id"]
    org_b = cli("organisation", "create", "--name", "Buurtteam B", "--team-type", "jeugd",
                "--form", "stichting", "--municipalities", "GM0599")["id"]
    creds = {
        "admin": cli("client", "create", "--role", "admin", "--name", "beheer"),
        "associatie": cli("client", "create", "--role", "associatie", "--name", "associatie"),
        "team A": cli("client", "create", "--role", "team", "--name", "team A",
                      "--organisation", str(org_a)),
        "team B": cli("client", "create", "--role", "team", "--name", "team B",
                      "--organisation", str(org_b)),
        "throttled": cli("client", "create", "--role", "team", "--name", "throttled",
                         "--organisation", str(org_a)),
    }
    # A first: on its first start it writes the signing key both instances then share.
    start("A")
    start("B")
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf())
    nginx = subprocess.Popen([NGINX, "-p", tmp, "-c", conf, "-e", f"{tmp}/nginx-error.log"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            if request(nginx_port, "GET", "/healthz", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        if nginx.poll() is not None:
            sys.exit(f"nginx exited: {nginx.stderr.read().decode(errors='replace')}")
        time.sleep(0.05)
    print(f"ok: instances A :{ports['A']} and B :{ports['B']} behind nginx :{nginx_port} "
          f"({time.monotonic() - started_at:.1f} s)")

    def token(port, who, secret=None):
        c = creds[who]
        status, headers, body = request(
            port, "POST", "/oauth/token",
            f"grant_type=client_credentials&client_id={c['client_id']}"
            f"&client_secret={secret or c['client_secret']}",
            {"Content-Type": "application/x-www-form-urlencoded"})
        return status, headers, json.loads(body)

    # --- 1. The role matrix through nginx; tokens from A for even roles, from B for odd ones,
    # so every instance checks tokens the other signed.
    tokens = {None: None}
    for i, who in enumerate(["team A", "team B", "associatie", "admin"]):
        status, _, body = token(ports["AB"[i % 2]], who)
        check(status == 200, f"token for {who}: {status} {body}")
        tokens[who] = body.get("access_token")
    roles = [None, "team A", "team B", "associatie", "admin"]
    matrix = [
        ("GET", "/api/v1/indicators", [200, 200, 200, 200, 200]),
        ("GET", f"/api/v1/organisations/{org_a}", [200, 200, 200, 200, 200]),
        ("GET", "/api/v1/me", [401, 200, 200, 200, 200]),
        ("GET", f"/api/v1/organisations/{org_a}/submissions", [401, 200, 403, 200, 403]),
        ("GET", "/api/v1/submissions", [401, 200, 200, 200, 403]),
        ("GET", "/api/v1/clients", [401, 403, 403, 403, 200]),
        ("GET", "/api/v1/audit", [401, 403, 403, 200, 200]),
        ("GET", "/api/v1/views/aggregate?indicator=klachten&period=2023",
         [200, 200, 200, 200, 200]),
    ]
    upstreams = set()
    cells = 0
    for _round in range(2):  # twice, so round robin sends every cell to both instances
        for method, path, want in matrix:
            for who, expected in zip(roles, want):
                status, headers, body = request(nginx_port, method, path, None, auth(tokens[who]))
                upstreams.add(headers.get("x-upstream"))
                cells += 1
                check(status == expected,
                      f"matrix {method} {path} as {who or 'anonymous'}: {status}, "
                      f"wanted {expected}: {body[:200]!r}")
    # A write per role: only the admin registers an organisation.
    new_org = {"name": "Nieuw team", "teamType": "wmo", "orgForm": "netwerk",
               "municipalities": [{"code": "GM0014"}]}
    for who, expected in zip(roles, [401, 403, 403, 403, 201]):
        status, headers, body = request(nginx_port, "POST", "/api/v1/organisations", new_org,
                                        auth(tokens[who]))
        cells += 1
        check(status == expected, f"matrix POST /api/v1/organisations as {who}: {status}")
    check({f"127.0.0.1:{ports['A']}", f"127.0.0.1:{ports['B']}"} <= upstreams,
          f"nginx used both instances: {upstreams}")
    ok(f"role matrix through nginx, {cells} cells, served by {sorted(upstreams)}")

    # --- 2. Coherent views right after a commit, on either instance.
    view = "/api/v1/views/aggregate?indicator=klachten&period=2023"

    def total(port):
        status, _, body = request(port, "GET", view, None, auth(tokens["associatie"]))
        check(status == 200, f"view on :{port}: {status} {body[:200]!r}")
        return json.loads(body)["total"].get("value") if status == 200 else None

    def everywhere():
        # Each instance directly, and nginx twice (round robin: both instances).
        return [total(ports["A"]), total(ports["B"]), total(nginx_port), total(nginx_port)]

    everywhere()  # warm both view caches at the current version
    expected = 0
    for poster, team, org, value in [("A", "team A", org_a, 7), ("B", "team B", org_b, 5)]:
        status, _, body = request(
            ports[poster], "POST", f"/api/v1/organisations/{org}/submissions?submit=true",
            {"period": "2023", "figures": [{"indicator": "klachten", "value": value}]},
            {**auth(tokens[team]), "Idempotency-Key": f"instances-{poster}"})
        check(status == 201, f"submission on {poster}: {status} {body[:300]!r}")
        expected += value
        seen = everywhere()
        check(all(v == expected for v in seen),
              f"views right after a commit on {poster}: {seen}, wanted {expected} everywhere")
        # The same key on the other instance: the first result again, no second revision.
        other = "B" if poster == "A" else "A"
        status, headers, body2 = request(
            ports[other], "POST", f"/api/v1/organisations/{org}/submissions?submit=true",
            {"period": "2023", "figures": [{"indicator": "klachten", "value": value}]},
            {**auth(tokens[team]), "Idempotency-Key": f"instances-{poster}"})
        check(status in (200, 201) and headers.get("idempotent-replayed") == "true"
              and json.loads(body2)["submissionId"] == json.loads(body)["submissionId"],
              f"idempotent retry on {other}: {status} {headers.get('idempotent-replayed')}")
    ok(f"a commit on either instance is in every view at once (total {expected} on A, "
          f"B and nginx); Idempotency-Key replays across instances")

    # /metrics: each instance answers its own loopback scrape; through nginx (X-Forwarded-For)
    # it is refused, so the load balancer does not make it public.
    for name in ["A", "B"]:
        status, headers, body = request(ports[name], "GET", "/metrics")
        text = body.decode(errors="replace")
        check(status == 200 and 'basisset_submissions{status="submitted"} 2' in text
              and "basisset_http_requests_total{" in text,
              f"/metrics on {name}: {status} {text[:300]!r}")
    status, _, body = request(nginx_port, "GET", "/metrics")
    check(status == 403, f"/metrics through nginx: wanted 403, got {status} {body[:200]!r}")
    ok("/metrics: each instance answers loopback scrapes (2 submitted in the shared database), "
       "through nginx 403")

    # --- 3. Shared throttling: 3 failures on A (the limit), then B refuses the pair.
    for i in range(3):
        status, _, body = token(ports["A"], "throttled", secret="wrong-secret")
        check(status == 401, f"failure {i + 1} on A: {status} {body}")
    status, headers, body = token(ports["B"], "throttled", secret="wrong-secret")
    check(status == 429 and body.get("code", body.get("error")) is not None
          and "retry-after" in headers,
          f"4th failure, on B: wanted 429 with Retry-After, got {status} {headers} {body}")
    status, _, body = token(ports["B"], "throttled")
    check(status == 429, f"the right secret on B during the pair's delay: {status} {body}")
    ok("failures on A count on B (429 with Retry-After "
          f"{headers.get('retry-after')} s; the right secret waits too)")

    # --- 4. Rolling restart while clients keep requesting through nginx.
    stop_clients = threading.Event()
    stats = {"requests": 0, "posts": 0, "failed": [], "served_by": {}, "retried": 0}
    lock = threading.Lock()
    paths = ["/api/v1/indicators", "/healthz", view, f"/api/v1/organisations/{org_a}"]

    token_body = (f"grant_type=client_credentials&client_id={creds['associatie']['client_id']}"
                  f"&client_secret={creds['associatie']['client_secret']}")

    def client(n, post):
        """GETs (nginx may retry them elsewhere), or token POSTs: nginx does not pass a POST
        it has sent to the next instance, so these fail unless shutdown is graceful."""
        i = n
        while not stop_clients.is_set():
            path = "/oauth/token" if post else paths[i % len(paths)]
            i += 1
            try:
                if post:
                    status, headers, body = request(
                        nginx_port, "POST", path, token_body,
                        {"Content-Type": "application/x-www-form-urlencoded"}, timeout=15)
                else:
                    status, headers, body = request(nginx_port, "GET", path, None,
                                                    auth(tokens["associatie"]), timeout=15)
                good = status == 200
                detail = f"{status} {body[:120]!r}"
            except OSError as e:
                good, headers, detail = False, {}, repr(e)
            with lock:
                stats["requests"] += 1
                stats["posts"] += post
                if not good:
                    stats["failed"].append(f"{'POST' if post else 'GET'} {path}: {detail}")
                up = headers.get("x-upstream", "")
                if "," in up:
                    stats["retried"] += 1
                last = up.split(",")[-1].strip()
                stats["served_by"][last] = stats["served_by"].get(last, 0) + 1

    threads = [threading.Thread(target=client, args=(n, n == 4)) for n in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    restart_log = []
    for name in ["A", "B"]:
        t0 = time.monotonic()
        code = stop(name)
        check(code == 0, f"instance {name} after SIGTERM: exit code {code}")
        start(name)
        restart_log.append(f"{name} {time.monotonic() - t0:.1f} s")
        time.sleep(0.5)
    with lock:
        stats["served_by"] = {}
    time.sleep(1.0)
    stop_clients.set()
    for t in threads:
        t.join()
    check(not stats["failed"],
          f"{len(stats['failed'])} failed requests during the rolling restart: "
          f"{stats['failed'][:5]}")
    after = stats["served_by"]
    check(after.get(f"127.0.0.1:{ports['A']}", 0) > 0 and
          after.get(f"127.0.0.1:{ports['B']}", 0) > 0,
          f"both instances serve after the restart: {after}")
    ok(f"rolling restart ({', '.join(restart_log)}): {stats['requests']} requests "
       f"({stats['posts']} token POSTs) through nginx, {len(stats['failed'])} failed, "
       f"{stats['retried']} retried on the other instance by nginx; afterwards served by "
       f"{after}")
finally:
    if nginx is not None:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
    for name, proc in servers.items():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    for name, path in logs.items():
        text = open(path, errors="replace").read()
        if "panicked" in text:
            fail(f"instance {name} panicked: {text[-2000:]}")
    if failures:
        for path in [*logs.values(), f"{tmp}/nginx-error.log"]:
            if os.path.exists(path):
                print(f"--- {path} (tail)")
                print(open(path, errors="replace").read()[-3000:])
    shutil.rmtree(tmp, ignore_errors=True)

print(f"({time.monotonic() - started_at:.1f} s)")
if failures:
    sys.exit(1)
print("two-instance suite passed")
