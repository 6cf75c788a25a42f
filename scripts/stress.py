#!/usr/bin/env python3
"""`make stress`: Cauce's binaries under concurrent writers, kill -9 and a cut
S3 connection, on local disk and on the S3 test server, with invariants
checked after every round.

Scenarios, per backend:
  concurrency  N concurrent `etl --force` into one output; N concurrent
               trainer publishes into one registry; N concurrent `inference`
               into one output; N writers of each registry kind at once
               (promote, promote --if-better, rollback, delete, gc 0s).
  kill -9      each stage (etl, trainer, inference, model-registry publish)
               killed at a seeded random moment of its run, then a rerun.
  cut S3       (S3 only) a TCP proxy in front of the server drops every
               connection mid-run for a moment.
  S3 faults    (S3 only) the proxy answers a share of requests with 503
               SlowDown, 500 InternalError or RequestLimitExceeded, or adds
               latency to every chunk.
  full disk    (local only) stages run under RLIMIT_FSIZE, so a write fails
               part-way as on a full disk; one line, previous output kept.
  leftovers    after the lease timeout, no dead run and no stale staging
               file is left.
  shards       sharded ETL (3 shards over 6 files whose rows repeat across
               shards, de-duplicated) rerun by 2 writers per shard while
               merges run; then shards and merges killed at random moments;
               a final merge must succeed and equal the unsharded rows.
  hostile     (issue 27) a symbolic link and a user's folder under every
               output's runs/ (local; on S3 a user's "folder"), which runs
               must never delete; merges racing shard reruns with the
               publish delayed by CAUCE_FAULT_PUBLISH_DELAY_MS, then the
               trainer on the merge; `gc` beside user files named like
               staging files; promote / rollback of a corrupted version;
               the trainer on a processed output whose parts were swapped or
               flipped.
Invariants: every manifest lists only files that exist with their recorded
size and SHA-256 and rows that add up; every alias resolves; `verify` is
clean; concurrent publishes got distinct versions; a rerun after a fault
succeeds. A missing manifest, a writer that panics (exit 101 or a
"panicked" message) and a kill that found the process already gone are
violations too. Any violation fails the run (exit 1).

    scripts/with-s3-test-server.sh .s3-venv/bin/python scripts/stress.py          # full, writes RELIABILITY.md
    scripts/with-s3-test-server.sh .s3-venv/bin/python scripts/stress.py --quick --bin-dir target/debug
"""

import argparse
import hashlib
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import docgen  # noqa: E402  (generated blocks in documents)

STAGES = ("etl", "trainer", "inference", "publish")


# --------------------------------------------------------------------------- storage

class Local:
    name = "local"

    def __init__(self, root):
        self.root = Path(root)

    def url(self, key):
        return str(self.root / key)

    def read(self, key):
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def clear(self, prefix):
        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def write(self, key, data):
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def copy(self, src, dst):
        shutil.copytree(self.root / src, self.root / dst, symlinks=True)


class S3:
    name = "s3"

    def __init__(self, prefix):
        import boto3
        self.bucket = os.environ["CAUCE_TEST_S3_BUCKET"]
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def url(self, key):
        return f"s3://{self.bucket}/{self.prefix}/{key}"

    def read(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket,
                                          Key=f"{self.prefix}/{key}")["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def write(self, key, data):
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def copy(self, src, dst):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/{src}/"):
            for obj in page.get("Contents", []):
                rest = obj["Key"][len(f"{self.prefix}/{src}/"):]
                self.client.copy_object(Bucket=self.bucket, Key=f"{self.prefix}/{dst}/{rest}",
                                        CopySource={"Bucket": self.bucket, "Key": obj["Key"]})

    def keys(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/{prefix}"):
            found += [o["Key"][len(self.prefix) + 1:] for o in page.get("Contents", [])]
        return found

    def clear(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/{prefix}"):
            for obj in page.get("Contents", []):
                self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])


# --------------------------------------------------------------------------- a cuttable S3 link

class Proxy:
    """TCP proxy on 127.0.0.1 in front of the S3 server; `cut()` drops every
    connection and refuses new ones until `restore()`."""

    def __init__(self, upstream):
        host, port = upstream.rsplit("//", 1)[-1].split(":")
        self.upstream = (host, int(port.rstrip("/")))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        # Faults besides a cut: the share of new connections answered with an
        # HTTP error instead of being proxied, that error, and a delay added
        # to every chunk relayed.
        self.error_share = 0.0
        self.error = (503, "SlowDown")
        self.latency = 0.0
        self.rng = random.Random(5)
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if not self.up:
                client.close()
                continue
            if self.error_share and self.rng.random() < self.error_share:
                threading.Thread(target=self._refuse, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _refuse(self, client):
        """Reads the request's head and answers it with S3's error (a 5xx
        or throttling), as a struggling S3 endpoint does."""
        code, name = self.error
        try:
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(65536)
                if not chunk:
                    break
                head += chunk
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{name}</Code>"
                    f"<Message>injected by stress.py</Message></Error>").encode()
            client.sendall(f"HTTP/1.1 {code} {name}\r\nContent-Type: application/xml\r\n"
                           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                           .encode() + body)
        except OSError:
            pass
        finally:
            client.close()

    def _pipe(self, a, b):
        try:
            while self.up:
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if self.latency:
                        time.sleep(self.latency)
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def cut(self):
        self.up = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def restore(self):
        self.up = True


# --------------------------------------------------------------------------- the suite

class Suite:
    def __init__(self, args, store, work):
        self.bins = Path(args.bin_dir)
        self.store = store
        self.work = work
        self.rng = random.Random(args.seed)
        self.figures = {"writers": 0, "kills": 0, "cuts": 0, "faults": 0, "invariants": 0,
                        "violations": 0}
        self.problems = []
        (work / "logs").mkdir(parents=True, exist_ok=True)
        self.pipeline = work / "pipeline.yaml"
        self.pipeline.write_text("etl:\n  deduplicate: false\n  keep_runs: 2\n"
                                 "inference:\n  keep_runs: 2\n")
        self.model = work / "model.yaml"
        self.model.write_text(json.dumps({"model": {
            "name": "stress", "task": "classification", "target": "species",
            "algorithm": "random_forest", "params": {"n_trees": 20, "max_depth": 6},
            "seed": 7}}))
        rows = (ROOT / "data/raw/penguins.csv").read_text().splitlines()
        raw = work / "raw.csv"
        raw.write_text("\n".join([rows[0]] + rows[1:] * args.copies) + "\n")
        self.raw = str(raw)
        # Six files for the shards; every penguin is in several of them.
        parts = work / "parts"
        parts.mkdir()
        body = rows[1:] * max(2, args.copies // 4)
        for i in range(6):
            (parts / f"part-{i}.csv").write_text(
                "\n".join([rows[0]] + body[i::4]) + "\n")
        self.parts = str(parts)
        self.sharded = work / "sharded.yaml"
        self.sharded.write_text("etl:\n  deduplicate: true\n  keep_runs: 1\n"
                                "  split: {test: 0.2, seed: 3, key: [species, island, "
                                "bill_length_mm, bill_depth_mm, body_mass_g, sex, year]}\n")

    # -- running
    def env(self, extra=None):
        return {**os.environ, "CAUCE_LOG_DIR": str(self.work / "logs"), "RUST_LOG": "error",
                "CAUCE_LEASE_SECONDS": "5", **(extra or {})}

    def cmd(self, stage, output=None, data=None):
        u = self.store.url
        if stage == "etl":
            return [self.bins / "etl", "--config", self.pipeline, "--input", self.raw,
                    "--output", output or u("processed"), "--force"]
        if stage == "trainer":
            return [self.bins / "trainer", "--config", self.model, "--pipeline-config",
                    self.pipeline, "--data", data or u("processed"), "--registry", u("models")]
        if stage == "inference":
            return [self.bins / "inference", "--config", self.pipeline, "--registry",
                    u("models"), "--model", "latest", "--input", self.raw,
                    "--output", output or u("predictions")]
        if stage == "publish":
            return self.registry("publish", "--file", self.work / "model.bin",
                                 "--card", self.work / "card.json")
        raise ValueError(stage)

    def shard_cmd(self, output, shard=None):
        base = [self.bins / "etl", "--config", self.sharded, "--input", self.parts,
                "--output", self.store.url(output)]
        if shard is None:
            return [base[0], "merge", *base[1:]]
        return [*base, "--shard", f"{shard}/3", "--force"]

    def registry(self, *args):
        return [self.bins / "model-registry", "--config", self.pipeline, "--registry",
                self.store.url("models"), *args]

    def run(self, cmd, env=None, check=True, timeout=300):
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                                env=self.env(env), timeout=timeout)
        if check and result.returncode != 0:
            self.violation(f"{' '.join(map(str, cmd[:2]))} failed: {result.stderr.strip()[-500:]}")
        return result

    def concurrently(self, cmds, env=None):
        self.figures["writers"] += len(cmds)
        procs = [subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=self.env(env))
                 for cmd in cmds]
        return [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]

    def kill_during(self, cmd, duration):
        """Starts `cmd` and kills it with SIGKILL at a seeded random moment of
        its expected `duration`. A process that finished first (exit 0, also
        in the instant between the check and the signal) is started again
        with a shorter wait, three tries; a kill that never found it alive,
        or any other exit, is a violation, not a kill."""
        wait = self.rng.uniform(0.0, duration)
        for _ in range(3):
            proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env=self.env())
            time.sleep(wait)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate()
            if proc.returncode == -signal.SIGKILL:
                self.figures["kills"] += 1
                return
            if proc.returncode != 0:
                self.violation(f"{' '.join(map(str, cmd[:2]))} exited {proc.returncode} "
                               f"before the kill: {err.strip()[-300:]}")
                return
            wait /= 4
        self.violation(f"{' '.join(map(str, cmd[:2]))}: never alive to be killed")

    # -- invariants
    def check(self, ok, what):
        self.figures["invariants"] += 1
        if not ok:
            self.violation(what)

    def violation(self, what):
        self.figures["violations"] += 1
        self.problems.append(f"{self.store.name}: {what}")
        print(f"stress: VIOLATION {self.store.name}: {what}", file=sys.stderr)

    def manifest_ok(self, folder, kind, name="_manifest.json"):
        raw = self.store.read(f"{folder}/{name}")
        self.check(raw is not None, f"{folder}/{name} is missing")
        if raw is None:
            return
        manifest = json.loads(raw)
        if kind == "etl":
            files = [f for fs in manifest["outputs"].values() for f in fs]
            rows = manifest["rows"]
            self.check(rows["input"] == rows["train"] + rows["test"] + rows["validation"]
                       + rows["quarantined"] + rows["duplicates"], f"{folder}: rows do not add up")
        else:
            files = manifest["outputs"] + manifest["quarantine"]
            rows = manifest["rows"]
            self.check(rows["input"] == rows["predicted"] + rows["errored"]
                       + rows.get("quarantined", 0),
                       f"{folder}: rows do not add up")
        for f in files:
            data = self.store.read(f"{folder}/{f['path']}")
            self.check(data is not None, f"{folder}: manifest lists missing {f['path']}")
            if data is not None:
                self.check(len(data) == f["bytes"]
                           and hashlib.sha256(data).hexdigest() == f["sha256"],
                           f"{folder}: {f['path']} does not match its size or checksum")

    def rows_of(self, folder, dataset):
        """Every row of a dataset a manifest lists, sorted (needs pyarrow)."""
        import io
        import pyarrow.parquet as pq
        manifest = json.loads(self.store.read(f"{folder}/_manifest.json"))
        rows = []
        for f in manifest["outputs"].get(dataset, []):
            table = pq.read_table(io.BytesIO(self.store.read(f"{folder}/{f['path']}")))
            rows += [tuple(r.values()) for r in table.to_pylist()]
        return sorted(rows, key=repr)

    def registry_ok(self):
        verify = self.run(self.registry("verify"), check=False)
        self.check(verify.returncode == 0, f"verify: {verify.stdout[-300:]} {verify.stderr[-300:]}")
        history = self.run(self.registry("--json", "history", "--alias", "latest"), check=False)
        self.check(history.returncode == 0, f"history: {history.stderr.strip()[-300:]}")
        if history.returncode == 0 and json.loads(history.stdout or "[]"):
            show = self.run(self.registry("show", "latest"), check=False)
            self.check(show.returncode == 0, f"latest does not resolve: {show.stderr.strip()}")

    def invariants(self):
        self.manifest_ok("processed", "etl")
        self.manifest_ok("predictions", "inference")
        self.registry_ok()

    def versions(self):
        listed = self.run(self.registry("--json", "list"))
        data = json.loads(listed.stdout or "[]")
        return data if isinstance(data, list) else data["versions"]

    # -- scenarios
    def setup(self):
        self.run(self.cmd("etl"))
        self.run([*self.cmd("trainer"), "--promote"])
        shown = self.run(self.registry("--json", "show", "latest"))
        card = json.loads(shown.stdout)
        (self.work / "card.json").write_text(json.dumps({
            "name": card["name"], "metrics": card["metrics"], "params": card["params"],
            "metadata": None}))
        model = self.store.read(f"models/versioned/v{card['version']}/model.bin")
        (self.work / "model.bin").write_bytes(model)
        self.run(self.cmd("inference"))

    def concurrency(self, n):
        for stage, folder, kind in (("etl", "processed", "etl"),
                                    ("inference", "predictions", "inference")):
            results = self.concurrently([self.cmd(stage)] * n)
            for code, _, err in results:
                self.check(code == 0, f"concurrent {stage} failed: {err.strip()[-300:]}")
            self.manifest_ok(folder, kind)
        before = len(self.versions())
        results = self.concurrently([self.cmd("trainer")] * n)
        for code, _, err in results:
            self.check(code == 0, f"concurrent trainer failed: {err.strip()[-300:]}")
        versions = [v["version"] for v in self.versions()]
        self.check(len(versions) == len(set(versions)) == before + n,
                   f"{n} concurrent publishes gave {len(versions) - before} new versions")
        # Every registry writer kind at once.
        candidates = [f"v{v}" for v in versions[-n:]]
        mixed = []
        for i in range(n):
            v = candidates[i % len(candidates)]
            mixed += [self.registry("promote", v), self.registry("promote", v, "--if-better",
                                                                 "accuracy"),
                      self.registry("rollback"), self.registry("delete", v),
                      self.registry("gc", "--grace-period", "0s")]
        # Refusals (in use, nothing to roll back) exit 1 and a gate that
        # does not promote exits 3: fine; a panic (101) or any other code
        # is not.
        for cmd, (code, _, err) in zip(mixed, self.concurrently(mixed)):
            allowed = (0, 1, 3) if "--if-better" in map(str, cmd) else (0, 1)
            self.check(code in allowed and "panicked" not in err,
                       f"{' '.join(map(str, cmd[-3:]))} exited {code}: {err.strip()[-300:]}")
        self.invariants()

    def kills(self, trials):
        durations = {}
        for stage in STAGES:
            started = time.perf_counter()
            self.run(self.cmd(stage))
            durations[stage] = time.perf_counter() - started
        for stage in STAGES:
            for _ in range(trials):
                self.kill_during(self.cmd(stage), durations[stage])
                self.invariants()
                self.run(self.cmd(stage))
                self.invariants()

    def shards(self, n, trials):
        """Sharded ETL and its merge under concurrent reruns and kill -9."""
        out = "processed-sharded"

        def all_ok():
            for i in range(3):
                self.manifest_ok(out, "etl", f"_manifest.shard-{i}-of-3.json")
            self.manifest_ok(out, "etl")

        self.run([self.bins / "etl", "--config", self.sharded, "--input", self.parts,
                  "--output", self.store.url("processed-whole"), "--force"])
        for i in range(3):
            self.run(self.shard_cmd(out, i))
        self.run(self.shard_cmd(out))
        all_ok()
        # Every shard rerun by n writers while merges run (a merge may refuse
        # while shards change under it; it must never publish a bad manifest).
        cmds = [self.shard_cmd(out, i) for i in range(3) for _ in range(max(1, n // 2))]
        cmds += [self.shard_cmd(out)] * max(1, n // 2)
        for cmd, (code, _, err) in zip(cmds, self.concurrently(cmds)):
            if "--shard" in map(str, cmd):
                self.check(code == 0, f"concurrent shard failed: {err.strip()[-300:]}")
        all_ok()
        # Kill -9 shards and merges at random moments.
        started = time.perf_counter()
        self.run(self.shard_cmd(out, 0))
        duration = time.perf_counter() - started
        for t in range(trials * 2):
            cmd = self.shard_cmd(out, t % 3) if t % 2 == 0 else self.shard_cmd(out)
            self.kill_during(cmd, duration)
            all_ok()
        for i in range(3):
            self.run(self.shard_cmd(out, i))
        merged = self.run(self.shard_cmd(out))
        if merged.returncode == 0:
            all_ok()
            whole = json.loads(self.store.read("processed-whole/_manifest.json"))
            ours = json.loads(self.store.read(f"{out}/_manifest.json"))
            self.check(ours["rows"] == whole["rows"],
                       f"merged shards {ours['rows']} != one run {whole['rows']}")
            for dataset in ("train", "test"):
                self.check(self.rows_of(out, dataset) == self.rows_of("processed-whole", dataset),
                           f"merged shards' {dataset} rows differ from one run's")

    def hostile(self, trials):
        """Issue 27: foreign folders and links where runs write, a merge's
        publish delayed while its shards rerun, gc beside user files, promote
        and rollback of a corrupted version, a trainer fed tampered parts."""
        local = isinstance(self.store, Local)
        victim = self.work / "victim"
        victim.mkdir(exist_ok=True)
        (victim / "precious.csv").write_text("keep me\n")
        planted = []
        for folder in ("processed/runs", "predictions/runs", "processed-sharded/runs/merged",
                       "processed-sharded/runs/shard-0-of-3"):
            key = f"{folder}/2025-11-03_baseline/notes.csv"
            self.store.write(key, b"a user's file\n")
            planted.append(key)
            if local:
                link = self.store.root / folder / "0000-link"
                if not link.exists():
                    link.symlink_to(victim)
        for _ in range(trials):
            for stage in ("etl", "inference"):
                self.run(self.cmd(stage))
            for i in range(3):
                self.run(self.shard_cmd("processed-sharded", i))
            self.run(self.shard_cmd("processed-sharded"))
        for key in planted:
            self.check(self.store.read(key) is not None, f"{key} (not Cauce's) was deleted")
        self.check((victim / "precious.csv").exists(), "a file behind a link under runs/ was deleted")

        # A merge whose publish waits 1.5 s while shard 0 is rerun 3 times:
        # what it publishes must exist, and the trainer must read it.
        out = "processed-sharded"
        for t in range(trials):
            merge = subprocess.Popen([str(c) for c in self.shard_cmd(out)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=self.env({"CAUCE_FAULT_PUBLISH_DELAY_MS": "1500"}))
            for _ in range(3):
                self.run(self.shard_cmd(out, t % 3))
            _, err = merge.communicate(timeout=600)
            self.figures["writers"] += 4
            self.check(merge.returncode in (0, 1) and "panicked" not in err,
                       f"delayed merge exited {merge.returncode}: {err.strip()[-300:]}")
            self.manifest_ok(out, "etl")
            trained = self.run([*self.cmd("trainer", data=self.store.url(out)),
                                "--no-register"], check=False)
            self.check(trained.returncode == 0,
                       f"trainer on the merged output: {trained.stderr.strip()[-300:]}")

        # gc next to a user's files named like object_store's staging files.
        user = ["models/notes/issue#42", "models/issue#7"]
        for key in user:
            self.store.write(key, b"mine\n")
            if local:
                old = time.time() - 3600
                os.utime(self.store.root / key, (old, old))
        self.run(self.registry("gc", "--grace-period", "0s"))
        for key in user:
            self.check(self.store.read(key) is not None, f"gc deleted {key}")

        # Promote and roll back onto a corrupted version: refused, latest kept.
        versions = [v["version"] for v in self.versions()]
        if len(versions) >= 2:
            target, other = versions[-1], versions[-2]
            self.run(self.registry("promote", f"v{other}"))
            self.run(self.registry("promote", f"v{target}"))
            key = f"models/versioned/v{target}/model.bin"
            good = self.store.read(key)
            self.check(good is not None, f"{key} is missing")
            if good is not None:
                # Corrupt the one before too, then roll back onto it.
                prev_key = f"models/versioned/v{other}/model.bin"
                prev_good = self.store.read(prev_key)
                self.store.write(prev_key, bytes([prev_good[0] ^ 1]) + prev_good[1:])
                rolled = self.run(self.registry("rollback"), check=False)
                self.check(rolled.returncode == 1 and "sha256 mismatch" in rolled.stderr,
                           f"rollback onto corrupted v{other}: exit {rolled.returncode} "
                           f"{rolled.stderr.strip()[-200:]}")
                self.store.write(prev_key, prev_good)
                self.store.write(key, bytes([good[0] ^ 1]) + good[1:])
                self.run(self.registry("promote", f"v{other}"))
                promoted = self.run(self.registry("promote", f"v{target}"), check=False)
                self.check(promoted.returncode == 1 and "sha256 mismatch" in promoted.stderr,
                           f"promote of corrupted v{target}: exit {promoted.returncode} "
                           f"{promoted.stderr.strip()[-200:]}")
                latest = json.loads(self.run(self.registry("--json", "show", "latest")).stdout)
                self.check(latest["version"] == other, "latest moved to a corrupted version")
                self.store.write(key, good)

        # The trainer on processed output whose train part was swapped or flipped.
        self.store.clear("tampered")
        self.store.copy("processed", "tampered")
        manifest = json.loads(self.store.read("tampered/_manifest.json"))
        train = manifest["outputs"]["train"][0]["path"]
        test = manifest["outputs"]["test"][0]["path"]
        original = self.store.read(f"tampered/{train}")
        before = len(self.versions())
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x10
        for what, body in (("swapped", self.store.read(f"tampered/{test}")),
                           ("flipped", bytes(flipped))):
            self.store.write(f"tampered/{train}", body)
            trained = self.run(self.cmd("trainer", data=self.store.url("tampered")),
                               check=False)
            self.check(trained.returncode == 1 and train in trained.stderr
                       and "not the file its manifest lists" in trained.stderr,
                       f"trainer on a {what} part: exit {trained.returncode} "
                       f"{trained.stderr.strip()[-200:]}")
        self.check(len(self.versions()) == before, "a tampered training set was registered")
        self.invariants()

    def s3_faults(self, trials):
        """S3 answering 503 SlowDown, 500 InternalError or 429-style
        throttling for a share of requests, and 50 ms added to every chunk:
        each stage succeeds (object_store retries) or fails in one clear
        line, and the invariants hold either way."""
        proxy = Proxy(os.environ["AWS_ENDPOINT_URL"])
        env = {"AWS_ENDPOINT_URL": proxy.url()}
        # The last but one makes most runs give up: the one-line failure path.
        faults = [((503, "SlowDown"), 0.3, 0.0), ((500, "InternalError"), 0.3, 0.0),
                  ((503, "RequestLimitExceeded"), 0.5, 0.0), ((503, "SlowDown"), 0.95, 0.0),
                  ((503, "SlowDown"), 0.0, 0.05)]
        for i in range(trials):
            error, share, latency = faults[i % len(faults)]
            proxy.error, proxy.error_share, proxy.latency = error, share, latency
            stage = STAGES[i % len(STAGES)]
            result = self.run(self.cmd(stage), env=env, check=False, timeout=600)
            self.figures["faults"] = self.figures.get("faults", 0) + 1
            lines = [l for l in result.stderr.strip().splitlines() if ": error: " in l]
            self.check(result.returncode == 0 or (result.returncode == 1 and len(lines) == 1),
                       f"{stage} under {error} at {share:.0%}, +{latency}s: exit "
                       f"{result.returncode}, {result.stderr.strip()[-300:]}")
            proxy.error_share, proxy.latency = 0.0, 0.0
            self.invariants()
            self.run(self.cmd(stage))
            self.invariants()

    def full_disk(self, trials):
        """Local disk only: stages run with a file-size limit (RLIMIT_FSIZE,
        no root needed), so a write fails part-way as on a full disk. The
        run fails in one line naming the file; the previous output stays."""
        import resource

        def limited(size):
            def apply():
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
            return apply

        for i in range(trials):
            stage = ("etl", "inference", "trainer")[i % 3]
            folder = {"etl": "processed", "inference": "predictions"}.get(stage)
            before = self.store.read(f"{folder}/_manifest.json") if folder else None
            versions = len(self.versions())
            size = self.rng.choice([2_000, 20_000, 200_000])
            proc = subprocess.run([str(c) for c in self.cmd(stage)], capture_output=True,
                                  text=True, env=self.env(), preexec_fn=limited(size),
                                  timeout=600)
            self.figures["faults"] = self.figures.get("faults", 0) + 1
            lines = [l for l in proc.stderr.strip().splitlines() if ": error: " in l]
            self.check(proc.returncode == 0 or (proc.returncode == 1 and len(lines) == 1
                                                and "panicked" not in proc.stderr),
                       f"{stage} with files capped at {size} B: exit {proc.returncode}, "
                       f"{proc.stderr.strip()[-300:]}")
            if proc.returncode != 0:
                if folder:
                    self.check(self.store.read(f"{folder}/_manifest.json") == before,
                               f"{stage} failed on a full disk but its manifest changed")
                else:
                    self.check(len(self.versions()) == versions,
                               "the trainer failed on a full disk but a version appeared")
            self.invariants()

    def leftovers(self):
        """After the lease timeout (5 s here), the next run of each stage
        removes the runs of killed writers: no run folder is left with a
        stale lease, and (local disk) no stale staging file beside a
        manifest."""
        time.sleep(6)
        for stage, folder in (("etl", "processed"), ("inference", "predictions")):
            self.run(self.cmd(stage))
            if isinstance(self.store, Local):
                runs = self.store.root / folder / "runs"
                stale = [p for p in runs.glob("*/_lease.json")
                         if time.time() - p.stat().st_mtime > 5]
                staging = [p for p in (self.store.root / folder).glob("_manifest*#*")
                           if time.time() - p.stat().st_mtime > 5]
                self.check(not stale, f"{folder}: dead runs left after the lease: {stale}")
                self.check(not staging, f"{folder}: stale staging files left: {staging}")
            else:
                keys = self.store.keys(f"{folder}/runs/")
                leases = [k for k in keys if k.endswith("/_lease.json")
                          and not k.startswith(f"{folder}/runs/2025-")]
                self.check(not leases, f"{folder}: dead runs left after the lease: {leases}")

    def cuts(self, trials):
        proxy = Proxy(os.environ["AWS_ENDPOINT_URL"])
        env = {"AWS_ENDPOINT_URL": proxy.url()}
        for i in range(trials):
            stage = STAGES[i % len(STAGES)]
            proc = subprocess.Popen([str(c) for c in self.cmd(stage)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=self.env(env))
            time.sleep(self.rng.uniform(0.05, 0.5))
            proxy.cut()
            time.sleep(self.rng.uniform(0.2, 1.5))
            proxy.restore()
            try:
                proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                self.violation(f"{stage} hung after the S3 link was cut")
            self.figures["cuts"] += 1
            self.invariants()
            self.run(self.cmd(stage))
            self.invariants()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run (part of make test)")
    parser.add_argument("--bin-dir", default=str(ROOT / "target/release"))
    parser.add_argument("--report", help="write the figures here (default RELIABILITY.md "
                                         "for a full run)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--backends", default="local,s3")
    args = parser.parse_args()
    writers, kills, cuts = (4, 2, 2) if args.quick else (16, 20, 12)
    args.copies = 10 if args.quick else 40
    if Path(args.bin_dir).resolve() == (ROOT / "target/release").resolve():
        subprocess.run(["cargo", "build", "--release", "--workspace", "--bins"], check=True,
                       cwd=ROOT)
    started = time.perf_counter()
    totals, problems, rows = {}, [], []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="cauce-stress-") as tmp:
            work = Path(tmp)
            store = (Local(work / "store") if backend == "local"
                     else S3(f"stress-{os.getpid()}-{int(time.time())}"))
            suite = Suite(args, store, work)
            t = time.perf_counter()
            suite.setup()
            suite.concurrency(writers)
            suite.kills(kills)
            suite.shards(writers, kills)
            suite.hostile(2 if args.quick else 6)
            suite.leftovers()
            if backend == "local":
                suite.full_disk(3 if args.quick else 12)
            if backend == "s3":
                suite.cuts(cuts)
                suite.s3_faults(5 if args.quick else 15)
            rows.append((backend, suite.figures, time.perf_counter() - t))
            problems += suite.problems
            for k, v in suite.figures.items():
                totals[k] = totals.get(k, 0) + v
            print(f"stress: {backend}: {suite.figures}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    results = {"quick": args.quick, "seed": args.seed, "cores": os.cpu_count(),
               "bin_dir": Path(args.bin_dir).resolve().relative_to(ROOT).as_posix()
               if Path(args.bin_dir).resolve().is_relative_to(ROOT) else args.bin_dir,
               "minutes": round(elapsed / 60, 1), "date": time.strftime("%Y-%m-%d"),
               "commit": docgen.commit(), "writers": writers, "kills": kills, "cuts": cuts,
               "rows": [{"backend": b, "figures": f, "seconds": round(t)} for b, f, t in rows],
               "problems": problems}
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text("# Reliability (quick run)\n\n" + render(results) + "\n")
    elif not args.quick:
        docgen.publish(ROOT / "RELIABILITY.md", "Reliability", __file__, render,
                       ROOT / "docs/results/stress.json", results)
    print(f"stress: {totals} in {elapsed:.0f} s", file=sys.stderr)
    sys.exit(1 if problems else 0)


def render(results):
    """RELIABILITY.md's generated block from the run's results."""
    r = results
    writers, kills, cuts, problems = r["writers"], r["kills"], r["cuts"], r["problems"]
    lines = [f"Measured {r['date']} at {r['commit']} by "
             f"`scripts/stress.py{' --quick' if r['quick'] else ''}` (`make stress`), seed "
             f"{r['seed']}, binaries from `{r['bin_dir']}`, {r['cores']} cores; "
             f"{r['minutes']:.1f} minutes.", "",
             f"Per backend: {writers} concurrent writers of each kind (etl, inference, "
             "trainer publishes, and promote / promote --if-better / rollback / delete / "
             f"gc 0s together); {kills} kill -9 per stage (etl, trainer, inference, "
             "publish) at seeded random moments, each followed by a rerun; sharded ETL "
             "(3 shards, rows repeated across them) rerun concurrently with merges, and "
             f"{2 * kills} shards or merges killed, then a merge equal to one run; on S3, "
             f"{cuts} runs whose connection to the server was cut for 0.2–1.5 s by a TCP "
             "proxy, and runs of each stage through it while it answers 30–95% of "
             "requests with 503 SlowDown, 500 InternalError or RequestLimitExceeded, or "
             "adds 50 ms to every chunk (each run succeeds or fails in one line); on local "
             "disk, runs with their files capped by RLIMIT_FSIZE at 2 kB–200 kB, as on a "
             "full disk (one line, the previous output kept); after the lease timeout, "
             "no killed run and no stale staging file left behind; the merged shards' "
             "rows equal one run's, row for row. "
             "Hostile inputs (issue 27): a symbolic link and a user's folder under "
             "every output's runs/ (never deleted), merges whose publish is delayed 1.5 s "
             "while their shards rerun (the trainer reads each merge), gc beside user files "
             "named like staging files, promote and rollback onto corrupted versions "
             "(refused), the trainer on swapped and flipped parts (refused, nothing "
             "registered). A missing manifest, a panic exit and a kill that found the "
             "process gone count as violations. "
             "After every round: manifests list only existing files with their size "
             "and SHA-256 and rows that add up, `latest` resolves, `verify` is clean, "
             "publishes got distinct versions, reruns succeed.", "",
             "| backend | writers | kills | cuts | other faults | invariants checked | violations "
             "| seconds |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in r["rows"]:
        f = row["figures"]
        lines.append(f"| {row['backend']} | {f['writers']} | {f['kills']} | {f['cuts']} | "
                     f"{f['faults']} | {f['invariants']} | {f['violations']} | "
                     f"{row['seconds']:.0f} |")
    lines += ["", "Violations:" if problems else "No violations.", ""]
    # The same violation found after many rounds is one line with its count.
    counted = {}
    for p in problems:
        counted[p] = counted.get(p, 0) + 1
    lines += [f"- {p}" if n == 1 else f"- ({n}×) {p}" for p, n in counted.items()]
    return "\n".join(lines).strip()


if __name__ == "__main__":
    main()
