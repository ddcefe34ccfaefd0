"""A fresh local imgedge stack (`imgedge dev`) for the scripts that drive one from outside:
the load test (`loadtest/run`) and the schemathesis run (`scripts/schemathesis`)."""

import json
import os
import re
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


class LocalStack:
    """`imgedge dev` on a fresh database, Redis prefix and data directory under `workdir`.

    The binary is IMGEDGE_BIN, or a release build made here when that is unset. `extra_env`
    adds to or overrides the environment (limits, for instance)."""

    def __init__(self, workdir, extra_env=None):
        workdir = Path(workdir)
        target = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache/imgedge/target")
        self.binary = Path(os.environ.get("IMGEDGE_BIN") or target / "release/imgedge")
        if "IMGEDGE_BIN" not in os.environ:
            print("==> building imgedge (release)", flush=True)
            subprocess.run(
                ["cargo", "build", "--locked", "--release", "--bin", "imgedge"],
                cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(target)},
            )
        self.data_dir = workdir / "stack"
        self.log = workdir / "stack.log"
        database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        self.database_url = database.rsplit("/", 1)[0] + f"/imgedge_run_{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
            "IMGEDGE_REDIS_PREFIX": f"run:{uuid.uuid4().hex[:8]}:",
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
            **(extra_env or {}),
        }
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
        secrets = json.loads((self.data_dir / "secrets.json").read_text())
        self.purge_token = secrets["purge_token"]

    def purge(self):
        """Empties the edge's cache."""
        status, _, body = call(
            "POST", f"{self.base}/_edge/purge", {"paths": ["/*"]},
            headers={"authorization": f"Bearer {self.purge_token}"},
        )
        if status != 200:
            sys.exit(f"purge answered {status}: {body[:200]!r}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        # The run's database goes with it, when psql is there to drop it.
        if shutil.which("psql"):
            server, name = self.database_url.rsplit("/", 1)
            subprocess.run(["psql", f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
