#!/usr/bin/env bash
# Bring up a one-node Slurm cluster on localhost (munged, slurmctld, slurmd as
# root, no systemd, no cgroups, no accounting database), then prove it works by
# running a trivial batch job. Idempotent: a healthy cluster started with the
# same configuration is left running and only re-checked.
#
# Environment:
#   SLURM_CI_DIR       state, spool, logs and pid files (default /tmp/trigger-lab-slurm)
#   SLURM_CI_INSTALL=1 apt-get install slurm-wlm and munge when they are missing
#   SLURM_CI_TIMEOUT   seconds to wait for each readiness check (default 30)
set -euo pipefail

STATE_DIR="${SLURM_CI_DIR:-/tmp/trigger-lab-slurm}"
TIMEOUT="${SLURM_CI_TIMEOUT:-30}"
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
MUNGE_KEY=/etc/munge/munge.key
MUNGE_SOCKET_DIR=/run/munge
NODE=localhost
PARTITION=debug

log() { echo "[start-cluster] $*"; }
die() {
  echo "[start-cluster] ERROR: $*" >&2
  for f in "$STATE_DIR"/log/slurmctld.log "$STATE_DIR"/log/slurmd.log "$STATE_DIR"/log/munged.log; do
    if [[ -s "$f" ]]; then echo "--- last lines of $f" >&2; tail -n 15 "$f" >&2; fi
  done
  exit 1
}

# Poll a command until it succeeds or the timeout expires.
wait_for() {
  local what="$1"; shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then die "timed out after ${TIMEOUT}s waiting for $what"; fi
    sleep 0.3
  done
}

[[ $(id -u) -eq 0 ]] || die "must run as root (the daemons run as root without systemd)"

missing=()
for bin in munged munge slurmctld slurmd sinfo sbatch scontrol squeue; do
  command -v "$bin" >/dev/null 2>&1 || [[ -x /usr/sbin/$bin ]] || missing+=("$bin")
done
if ((${#missing[@]})); then
  if [[ "${SLURM_CI_INSTALL:-0}" == 1 ]]; then
    log "installing slurm-wlm and munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  else
    die "missing ${missing[*]}; install with: apt-get install -y slurm-wlm munge (or set SLURM_CI_INSTALL=1)"
  fi
fi
PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$STATE_DIR"/{state,spool,log,run,jobs} "$CONF_DIR" "$MUNGE_SOCKET_DIR"

# --- munge -----------------------------------------------------------------
if [[ ! -s "$MUNGE_KEY" ]]; then
  log "writing a munge key"
  mkdir -p "$(dirname "$MUNGE_KEY")"
  dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
fi
chown munge:munge "$MUNGE_KEY" "$(dirname "$MUNGE_KEY")" "$MUNGE_SOCKET_DIR" 2>/dev/null || true
chmod 0400 "$MUNGE_KEY"
chmod 0700 "$(dirname "$MUNGE_KEY")"
chmod 0755 "$MUNGE_SOCKET_DIR"
mkdir -p /var/lib/munge /var/log/munge
chown munge:munge /var/lib/munge /var/log/munge 2>/dev/null || true

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  log "munged already running"
else
  log "starting munged"
  rm -f "$MUNGE_SOCKET_DIR"/munge.socket.2*
  munge_log="$STATE_DIR/log/munged.log"
  touch "$munge_log"
  if id munge >/dev/null 2>&1; then
    # munged insists that its key, socket and log belong to the user it runs as.
    chown munge:munge "$munge_log"
    runuser -u munge -- munged --log-file="$munge_log" || die "munged failed to start"
  else
    munged --force --log-file="$munge_log" || die "munged failed to start"
  fi
  wait_for "munged to answer (munge -n | unmunge)" munge_ok
fi

# --- slurm.conf ------------------------------------------------------------
# The node line takes the real hardware from slurmd -C so that slurmd does not
# drain itself for having less than configured.
hw=$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ *UpTime=.*//')
[[ "$hw" == *CPUs=* && "$hw" == *RealMemory=* ]] || die "could not read the hardware from 'slurmd -C': $hw"

new_conf=$(cat <<EOF
# Written by .ci/slurm/start-cluster.sh: a one-node test cluster, no cgroups, no accounting.
ClusterName=triggerlab
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
StateSaveLocation=$STATE_DIR/state
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/run/slurmctld.pid
SlurmdPidFile=$STATE_DIR/run/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
# Finished jobs stay visible to squeue/scontrol this long: without accounting
# that is the only place their final state can be read.
MinJobAge=900
# Short grace between SIGTERM and SIGKILL so cancelled test jobs end quickly.
KillWait=5
SlurmdTimeout=60
InactiveLimit=0
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
)

pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
ctld_pid="$STATE_DIR/run/slurmctld.pid"
slurmd_pid="$STATE_DIR/run/slurmd.pid"

conf_changed=1
if [[ -f "$CONF" ]] && [[ "$(cat "$CONF")" == "$new_conf" ]]; then conf_changed=0; fi
if ((conf_changed)); then
  if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    log "configuration changed: restarting the daemons"
    "$(dirname "$0")/stop-cluster.sh" --keep-munge
  fi
  printf '%s\n' "$new_conf" >"$CONF"
  log "wrote $CONF"
fi
# Debian's slurmd reads cgroup.conf only for cgroup plugins; none are used here.

# --- daemons ---------------------------------------------------------------
if pid_alive "$ctld_pid"; then
  log "slurmctld already running (pid $(cat "$ctld_pid"))"
else
  log "starting slurmctld"
  slurmctld -f "$CONF" || die "slurmctld failed to start"
fi
wait_for "slurmctld to answer (scontrol ping)" bash -c "scontrol ping | grep -q 'is UP'"

if pid_alive "$slurmd_pid"; then
  log "slurmd already running (pid $(cat "$slurmd_pid"))"
else
  log "starting slurmd"
  slurmd -f "$CONF" -N "$NODE" || die "slurmd failed to start"
fi

node_state() { sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n 1; }
node_ready() { [[ "$(node_state)" =~ ^(idle|mixed|allocated|completing)$ ]]; }
deadline=$((SECONDS + TIMEOUT))
until node_ready; do
  state=$(node_state)
  # A node left drained or down by an earlier run is put back into service.
  if [[ "$state" =~ drain|down ]]; then
    scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
  fi
  if ((SECONDS >= deadline)); then die "node $NODE not ready after ${TIMEOUT}s (sinfo state: '${state:-none}')"; fi
  sleep 0.3
done
log "node $NODE is $(node_state)"

# --- smoke job -------------------------------------------------------------
out="$STATE_DIR/jobs/smoke-%j.out"
job=$(sbatch --parsable -J start-cluster-smoke -o "$out" -t 1 -n 1 --mem=16 --wrap 'hostname; echo smoke-ok') \
  || die "sbatch failed"
job=${job%%;*}
deadline=$((SECONDS + TIMEOUT))
while :; do
  state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1)
  case "$state" in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
      die "smoke job $job ended $state: $(cat "${out//%j/$job}" 2>/dev/null)" ;;
  esac
  if ((SECONDS >= deadline)); then
    scancel "$job" 2>/dev/null || true
    die "smoke job $job not completed after ${TIMEOUT}s (state '${state:-unknown}')"
  fi
  sleep 0.3
done
grep -q smoke-ok "${out//%j/$job}" || die "smoke job $job completed but its output lacks 'smoke-ok'"
rm -f "${out//%j/$job}"
log "cluster up: smoke job $job completed on $(sinfo -h -o '%N' | head -n 1)"
