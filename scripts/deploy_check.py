#!/usr/bin/env python3
"""Offline checks of deploy/ (make deploy-check, part of make test).

Nothing here reaches a cluster: Kubernetes and AWS Batch cannot run on this
machine. What is checked:
- every manifest in deploy/kubernetes/ against the Kubernetes OpenAPI schema
  (kubernetes-validate, pinned, strict: unknown fields are errors), and that
  the Indexed Jobs' completions equal CAUCE_SHARD_COUNT, the Jobs run binaries
  the image has, and config.yaml holds the repository's config/*.yaml as is;
- every AWS Batch job definition in deploy/aws-batch/ against botocore's model
  of RegisterJobDefinition (pinned), with the ${…} variables filled in;
- the Dockerfile: two stages, a non-root numeric USER, the four binaries, a
  Rust builder at least the workspace's rust-version;
- bash -n on every script in deploy/.
Before checking, it checks itself: a Job with a misspelt field and a job
definition with an unknown key must both be reported.

  scripts/deploy_check.py                    # check
  scripts/deploy_check.py --write-configmap  # regenerate deploy/kubernetes/config.yaml
"""

import argparse
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.33.0"
BINARIES = {"etl", "trainer", "model-registry", "inference"}
CONFIG_FILES = ["pipeline_config.yaml", "model_config.yaml"]
FILLED = {
    "CAUCE_IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cauce:0.1.0",
    "CAUCE_JOB_ROLE_ARN": "arn:aws:iam::123456789012:role/cauce-batch-job",
    "CAUCE_S3_ROOT": "s3://cauce-check-bucket",
}


def configmap():
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cauce-config", "labels": {"app.kubernetes.io/name": "cauce"}},
        "data": {name: (ROOT / "config" / name).read_text() for name in CONFIG_FILES},
    }


def write_configmap():
    class Literal(str):
        pass

    yaml.add_representer(Literal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|"))
    doc = configmap()
    doc["data"] = {k: Literal(v) for k, v in doc["data"].items()}
    text = ("# The pipeline's YAML, mounted at /app/config. Generated from config/*.yaml by\n"
            "# scripts/deploy_check.py --write-configmap; make deploy-check fails when they differ.\n")
    (DEPLOY / "kubernetes/config.yaml").write_text(text + yaml.dump(doc, sort_keys=False, width=1000, allow_unicode=True))


def k8s_errors(doc):
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        return []
    except kubernetes_validate.ValidationError as e:
        return [f"{'.'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.utils.SchemaNotFoundError as e:
        return [str(e)]


def batch_errors(definition):
    import botocore.session
    from botocore.validate import ParamValidator

    shape = (botocore.session.get_session().get_service_model("batch")
             .operation_model("RegisterJobDefinition").input_shape)
    report = ParamValidator().validate(definition, shape)
    return [report.generate_report()] if report.has_errors() else []


def fill(text):
    for key, value in FILLED.items():
        text = text.replace("${" + key + "}", value)
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    return text, left


def check_kubernetes(problems):
    docs = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.setdefault(path.name, []).append(doc)
                problems += [f"{path.name}: {e}" for e in k8s_errors(doc)]
    config = docs.get("config.yaml", [None])[0]
    if config != configmap():
        problems.append("kubernetes/config.yaml differs from config/*.yaml: run .deploy-venv/bin/python scripts/deploy_check.py --write-configmap")
    locations = docs.get("locations.yaml", [{}])[0].get("data", {})
    shards = locations.get("CAUCE_SHARD_COUNT")
    jobs = [(name, d) for name, ds in docs.items() for d in ds if d.get("kind") == "Job"]
    if len(jobs) != 5:
        problems.append(f"expected 5 Jobs (etl, etl-merge, train, inference, inference-merge), found {len(jobs)}")
    images = set()
    for name, job in jobs:
        spec = job["spec"]
        pod = spec["template"]["spec"]
        container = pod["containers"][0]
        images.add(container["image"])
        if container["command"][0] not in BINARIES:
            problems.append(f"{name}: runs {container['command'][0]}, not one of the image's binaries")
        if "merge" not in container["command"] and container["command"][0] in ("etl", "inference"):
            if spec.get("completionMode") != "Indexed":
                problems.append(f"{name}: a sharded stage must be an Indexed Job")
            if str(spec.get("completions")) != shards or str(spec.get("parallelism")) != shards:
                problems.append(f"{name}: completions/parallelism {spec.get('completions')}/{spec.get('parallelism')} "
                                f"differ from CAUCE_SHARD_COUNT {shards} in locations.yaml")
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            memory = str(resources.get(kind, {}).get("memory", ""))
            if not re.fullmatch(r"\d+(Mi|Gi)", memory):
                problems.append(f"{name}: memory {kind} '{memory}' is not a quantity like 512Mi or 2Gi")
        if pod.get("securityContext", {}).get("runAsUser") in (None, 0):
            problems.append(f"{name}: runs as root")
    if len(images) > 1:
        problems.append(f"the Jobs use different images: {sorted(images)}")
    return len(docs)


def check_batch(problems):
    count = 0
    for path in sorted((DEPLOY / "aws-batch").glob("*.json")):
        text, left = fill(path.read_text())
        if left:
            problems.append(f"aws-batch/{path.name}: variables submit.sh does not fill: {left}")
        definition = json.loads(text)
        problems += [f"aws-batch/{path.name}: {e}" for e in batch_errors(definition)]
        for requirement in definition.get("containerProperties", {}).get("resourceRequirements", []):
            if requirement["type"] == "MEMORY" and not requirement["value"].isdigit():
                problems.append(f"aws-batch/{path.name}: MEMORY '{requirement['value']}' is not MiB")
        command = definition.get("containerProperties", {}).get("command", [""])
        if command[0] not in BINARIES:
            problems.append(f"aws-batch/{path.name}: runs {command[0]}, not one of the image's binaries")
        if f"--job-definition {definition.get('jobDefinitionName')}" not in (DEPLOY / "aws-batch/submit.sh").read_text():
            problems.append(f"aws-batch/{path.name}: submit.sh never submits {definition.get('jobDefinitionName')}")
        count += 1
    return count


def check_dockerfile(problems):
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if len(stages) < 2:
        problems.append("Dockerfile: not multi-stage")
    builder = re.match(r"rust:(\d+)\.(\d+)", stages[0]) if stages else None
    wanted = re.search(r'rust-version\s*=\s*"(\d+)\.(\d+)"', (ROOT / "Cargo.toml").read_text())
    if not builder or not wanted or tuple(map(int, builder.groups())) < tuple(map(int, wanted.groups())):
        problems.append(f"Dockerfile: the builder {stages[:1]} is older than the workspace's rust-version")
    final = text.split("FROM")[-1]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    if not user or not user[-1].split(":")[0].isdigit() or user[-1].startswith("0"):
        problems.append("Dockerfile: the final stage must set a numeric non-root USER")
    for binary in BINARIES:
        if f"target/release/{binary}" not in final:
            problems.append(f"Dockerfile: {binary} is not copied into the image")


def check_scripts(problems):
    count = 0
    for path in sorted(list(DEPLOY.rglob("*.sh")) + list(DEPLOY.rglob("*.sbatch"))):
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(f"{path.relative_to(ROOT)}: {result.stderr.strip()}")
        count += 1
    return count


def self_test():
    job = yaml.safe_load((DEPLOY / "kubernetes/etl-job.yaml").read_text())
    broken = copy.deepcopy(job)
    broken["spec"]["completion"] = broken["spec"].pop("completions")
    if not k8s_errors(broken) or k8s_errors(job):
        sys.exit("deploy-check: the Kubernetes validator does not catch a misspelt field")
    definition = json.loads(fill((DEPLOY / "aws-batch/etl.json").read_text())[0])
    definition["containerProperties"]["memoryMiB"] = 1
    if not batch_errors(definition):
        sys.exit("deploy-check: the AWS Batch validator does not catch an unknown key")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-configmap", action="store_true")
    args = parser.parse_args()
    if args.write_configmap:
        write_configmap()
        return
    self_test()
    problems = []
    manifests = check_kubernetes(problems)
    definitions = check_batch(problems)
    check_dockerfile(problems)
    scripts = check_scripts(problems)
    if problems:
        for p in problems:
            print(f"deploy-check: {p}", file=sys.stderr)
        sys.exit(1)
    print(f"deploy-check: {manifests} Kubernetes manifests (schema {K8S_VERSION}, strict), "
          f"{definitions} AWS Batch job definitions, the Dockerfile and {scripts} scripts: OK")


if __name__ == "__main__":
    main()
