#!/usr/bin/env bash
# A real one-node Slurm cluster (Debian's slurm-wlm: slurmctld + slurmd, munge
# for authentication) on this machine, for the Slurm test of make test.
#
#   scripts/slurm-test-cluster.sh install   apt-get install slurm-wlm and munge (idempotent; needs root)
#   scripts/slurm-test-cluster.sh start     install if needed, start munged, slurmctld and slurmd,
#                                           wait for the node to be idle, print `export SLURM_CONF=…`
#   scripts/slurm-test-cluster.sh stop      stop the daemons
#
# The cluster's config, state and logs are under target/slurm-test-cluster/.
# Progress goes to stderr; only the `export` line goes to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/target/slurm-test-cluster"
CONF="$STATE/slurm.conf"

log() { echo "slurm-test-cluster: $*" >&2; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        log "slurm-wlm and munge are not installed and this is not root: apt-get install slurm-wlm munge"
        exit 1
    fi
    log "installing slurm-wlm and munge (Debian packages)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        return
    fi
    [ -s /etc/munge/munge.key ] || { log "creating /etc/munge/munge.key"; mungekey --create >&2 || create-munge-key -f >&2; }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge/munge.key 2>/dev/null || true
    chmod 0755 /run/munge
    log "starting munged"
    if id munge >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        runuser -u munge -- /usr/sbin/munged >&2
    else
        /usr/sbin/munged >&2
    fi
    for _ in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.1
    done
    log "munged did not come up"
    exit 1
}

write_conf() {
    mkdir -p "$STATE/state" "$STATE/spool"
    local node host
    host="$(hostname -s)"
    # slurmd -C prints this machine's NodeName line (CPUs, sockets, RealMemory).
    node="$(slurmd -C | head -1 | sed "s/^NodeName=[^ ]*/NodeName=$host/")"
    cat >"$CONF" <<CONF
# Written by scripts/slurm-test-cluster.sh: one node, no accounting, no cgroups.
ClusterName=cauce-test
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MaxArraySize=1001
$node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=60 State=UP OverSubscribe=NO
CONF
}

running() {
    [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null
}

start() {
    install
    start_munge
    if ! running slurmctld || ! running slurmd; then
        stop_daemons
        write_conf
        log "starting slurmctld and slurmd ($CONF)"
        SLURM_CONF="$CONF" slurmctld -c -f "$CONF" >&2
        SLURM_CONF="$CONF" slurmd -f "$CONF" >&2
    fi
    export SLURM_CONF="$CONF"
    for _ in $(seq 120); do
        if sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle'; then
            echo "export SLURM_CONF=$CONF"
            log "node idle"
            return
        fi
        sleep 0.5
    done
    log "the node did not become idle; last log lines:"
    tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
    exit 1
}

stop_daemons() {
    for daemon in slurmd slurmctld; do
        if running "$daemon"; then
            kill "$(cat "$STATE/$daemon.pid")" 2>/dev/null || true
            for _ in $(seq 50); do running "$daemon" || break; sleep 0.1; done
        fi
        rm -f "$STATE/$daemon.pid"
    done
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_daemons; log "stopped" ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
