#!/usr/bin/env bash
# Stop the one-node test cluster started by start-cluster.sh: slurmd, slurmctld
# and (unless --keep-munge) munged. Safe to run when nothing is running.
set -euo pipefail

STATE_DIR="${SLURM_CI_DIR:-/tmp/trigger-lab-slurm}"
KEEP_MUNGE=0
[[ "${1:-}" == --keep-munge ]] && KEEP_MUNGE=1

log() { echo "[stop-cluster] $*"; }

# Send TERM to the pid in a pid file, then KILL if it has not gone within 10 s.
stop_pidfile() {
  local name="$1" file="$2" pid
  [[ -s "$file" ]] || { log "$name not running"; return 0; }
  pid=$(cat "$file")
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$name not running (stale pid file)"
    rm -f "$file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { log "stopped $name (pid $pid)"; rm -f "$file"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  log "killed $name (pid $pid) after it ignored SIGTERM for 10 s"
  rm -f "$file"
}

# The running daemons are the ones the current slurm.conf names, which may
# point at another state directory than this invocation's SLURM_CI_DIR.
conf_value() { [[ -f /etc/slurm/slurm.conf ]] && sed -n "s/^$1=//p" /etc/slurm/slurm.conf | head -n 1; }
slurmd_pid=$(conf_value SlurmdPidFile || true)
ctld_pid=$(conf_value SlurmctldPidFile || true)
stop_pidfile slurmd "${slurmd_pid:-$STATE_DIR/run/slurmd.pid}"
stop_pidfile slurmctld "${ctld_pid:-$STATE_DIR/run/slurmctld.pid}"

if ((!KEEP_MUNGE)); then
  for f in /run/munge/munged.pid /var/run/munge/munged.pid; do
    if [[ -s "$f" ]]; then stop_pidfile munged "$f"; break; fi
  done
fi
