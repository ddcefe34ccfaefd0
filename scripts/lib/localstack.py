"""A fresh local imgedge stack for the scripts that drive one from outside: `imgedge dev`
(LocalStack) for the load test (`loadtest/run`), the schemathesis run
(`scripts/schemathesis`) and the peers benchmark (`scripts/bench-peers`); each role its own
process (RolesStack) where one role's resources are measured on their own."""

import base64
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def call(method, url, body=None, token=None, content_type="application/json", headers=None):
    """One HTTP request; returns (status, headers, body) whatever the status."""
    headers = dict(headers or {})
    if body is not None:
        headers["content-type"] = content_type
        if content_type == "application/json":
            body = json.dumps(body).encode()
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def sign_in(base, email, password, register=True):
    """Registers `email` (unless told not to; an existing account answers 201 too) and returns an
    access token."""
    if register:
        status, _, body = call("POST", f"{base}/v1/auth/register", {"email": email, "password": password})
        if status != 201:
            sys.exit(f"register answered {status}: {body[:200]!r}")
    status, _, body = call("POST", f"{base}/v1/auth/login", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"login answered {status}: {body[:200]!r}")
    return json.loads(body)["access_token"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def imgedge_binary():
    """IMGEDGE_BIN, or a release build made here (once per script) when that is unset."""
    if "IMGEDGE_BIN" in os.environ:
        return Path(os.environ["IMGEDGE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache/imgedge/target")
    print("==> building imgedge (release)", flush=True)
    subprocess.run(
        ["cargo", "build", "--locked", "--release", "--bin", "imgedge"],
        cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(target)},
    )
    return target / "release/imgedge"


def fresh_database_url():
    """A database of its own on DATABASE_URL's server (not created here)."""
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return database.rsplit("/", 1)[0] + f"/imgedge_run_{uuid.uuid4().hex[:8]}"


def drop_database(database_url):
    """Drops a run's database, when psql is there to do it."""
    if shutil.which("psql"):
        server, name = database_url.rsplit("/", 1)
        subprocess.run(["psql", f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def backend_env(database_url, extra_env):
    """The environment every process of a stack starts with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
        "IMGEDGE_REDIS_PREFIX": f"run:{uuid.uuid4().hex[:8]}:",
        "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
        **(extra_env or {}),
    }


def stop_process(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LocalStack:
    """`imgedge dev` on a fresh database, Redis prefix and data directory under `workdir`.

    The binary is IMGEDGE_BIN, or a release build made here when that is unset. `extra_env`
    adds to or overrides the environment (limits, for instance)."""

    def __init__(self, workdir, extra_env=None):
        workdir = Path(workdir)
        self.binary = imgedge_binary()
        self.data_dir = workdir / "stack"
        self.log = workdir / "stack.log"
        self.database_url = fresh_database_url()
        env = backend_env(self.database_url, extra_env)
        port = free_port()
        self.out = open(workdir / "stack.out", "w+")
        self.process = subprocess.Popen(
            [str(self.binary), "dev", "--listen", f"127.0.0.1:{port}", "--data-dir", str(self.data_dir)],
            env=env, stdout=self.out, stderr=open(self.log, "w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.out.seek(0)
            match = re.search(r"imgedge is running at (\S+)", self.out.read())
            if match:
                self.base = match.group(1).rstrip("/")
                break
            if self.process.poll() is not None:
                sys.exit(f"imgedge dev exited; see {self.log}")
            time.sleep(0.1)
        else:
            sys.exit("imgedge dev did not start within a minute")
        generated = json.loads((self.data_dir / "secrets.json").read_text())
        self.purge_token = generated["purge_token"]

    def purge(self):
        """Empties the edge's cache."""
        status, _, body = call(
            "POST", f"{self.base}/_edge/purge", {"paths": ["/*"]},
            headers={"authorization": f"Bearer {self.purge_token}"},
        )
        if status != 200:
            sys.exit(f"purge answered {status}: {body[:200]!r}")

    def stop(self):
        stop_process(self.process)
        drop_database(self.database_url)


class RolesStack:
    """`imgedge s3`, `migrate`, `api`, `transformer` and `edge`, each its own process as in a
    deployment (docker-compose.yml wires the same roles), on a fresh database, Redis prefix
    and object directory under `workdir`, with secrets generated for the run. `base` is the
    edge's URL, the only way in; `processes` maps each running role to its process.

    The binary is IMGEDGE_BIN, or a release build made here when that is unset. `extra_env`
    adds to or overrides every role's environment (each role reads only its own settings)."""

    def __init__(self, workdir, extra_env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.binary = imgedge_binary()
        self.database_url = fresh_database_url()
        self.processes = {}
        address = {role: f"127.0.0.1:{free_port()}" for role in ("s3", "api", "transformer", "edge")}
        self.base = f"http://{address['edge']}"
        self.env = {
            **backend_env(self.database_url, extra_env),
            # One key pair for every role: the embedded S3 server knows a single user.
            "IMGEDGE_S3_ENDPOINT": f"http://{address['s3']}",
            "IMGEDGE_S3_ACCESS_KEY_ID": f"run{secrets.token_hex(8)}",
            "IMGEDGE_S3_SECRET_ACCESS_KEY": secrets.token_hex(24),
            "IMGEDGE_URL_SECRET": secrets.token_hex(32),
            "IMGEDGE_ORIGIN_SECRET": secrets.token_hex(24),
            "IMGEDGE_EDGE_PURGE_TOKEN": secrets.token_hex(24),
            "IMGEDGE_JWT_KEYS": f"run={base64.b64encode(secrets.token_bytes(32)).decode()}",
            "IMGEDGE_JWT_ACTIVE_KID": "run",
            "IMGEDGE_API_LISTEN": address["api"],
            "IMGEDGE_TRANSFORMER_LISTEN": address["transformer"],
            "IMGEDGE_EDGE_LISTEN": address["edge"],
            "IMGEDGE_CDN_BASE": self.base,
            "IMGEDGE_API_URL": f"http://{address['api']}",
            "IMGEDGE_TRANSFORMER_URL": f"http://{address['transformer']}",
            "IMGEDGE_EDGE_PURGE_URL": f"{self.base}/_edge/purge",
        }
        self.purge_token = self.env["IMGEDGE_EDGE_PURGE_TOKEN"]
        self.urls = {role: f"http://{addr}" for role, addr in address.items()}
        try:
            self._start(address)
        except BaseException:
            self.stop()
            raise

    def _start(self, address):
        # The order of docker-compose.yml's dependencies: storage and schema first, then the
        # API (which creates the bucket), the transformer, and the edge in front of them.
        self._spawn("s3", ["s3", "--listen", address["s3"], "--dir", str(self.workdir / "s3")])
        self._wait("s3", lambda: _port_open(address["s3"]))
        # `imgedge migrate` creates no database (`imgedge dev` does, for itself).
        if not shutil.which("psql"):
            sys.exit("RolesStack needs psql, to create the run's database")
        server, name = self.database_url.rsplit("/", 1)
        subprocess.run(["psql", f"{server}/postgres", "-qc", f"CREATE DATABASE {name}"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(self.workdir / "migrate.log", "w") as log:
            if subprocess.run([str(self.binary), "migrate"], env=self.env, stderr=log).returncode:
                sys.exit(f"imgedge migrate failed; see {self.workdir / 'migrate.log'}")
        self.env["IMGEDGE_S3_CREATE_BUCKET"] = "true"
        for role, ready in (("api", "/readyz"), ("transformer", "/readyz"), ("edge", "/healthz")):
            self._spawn(role, [role])
            self._wait(role, lambda role=role, ready=ready: call("GET", self.urls[role] + ready)[0] == 200)

    def _spawn(self, role, arguments):
        log = open(self.workdir / f"{role}.log", "w")
        self.processes[role] = subprocess.Popen([str(self.binary), *arguments], env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT)

    def _wait(self, role, ready):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes[role].poll() is not None:
                sys.exit(f"imgedge {role} exited; see {self.workdir / f'{role}.log'}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit(f"imgedge {role} was not ready within a minute; see {self.workdir / f'{role}.log'}")

    def stop(self):
        # The edge first and storage last, so that no role outlives what it talks to.
        for role in reversed(list(self.processes)):
            stop_process(self.processes.pop(role))
        drop_database(self.database_url)


def _port_open(address):
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0
