#!/usr/bin/env bash
# A real single-node Slurm cluster for longmix's tests and for trying `--executor slurm` by hand,
# on a Debian machine where we are root and there is no systemd (CI and developer machines).
#
#   scripts/slurm/cluster.sh start    install the Debian packages if missing (slurmctld slurmd
#                                     slurm-client munge), start munged, slurmctld and slurmd with
#                                     everything under $LONGMIX_SLURM_DIR, wait until the node is
#                                     idle, print `export SLURM_CONF=…` on stdout
#   scripts/slurm/cluster.sh stop     stop only the daemons whose pid files this script wrote
#   scripts/slurm/cluster.sh env      print `export SLURM_CONF=…` for a running cluster
#   scripts/slurm/cluster.sh running  exit 0 when munged, slurmctld and slurmd of $LONGMIX_SLURM_DIR all run
#
# Settings measured on these machines (../shared/SLURM.md): munge socket directory 0755; no
# cgroups (proctrack/linuxproc, task/none); DefMemPerCPU so jobs share the node; schedule at
# submit time; a short cred_expire so a requeued job starts again quickly; no accounting daemon
# (completion files, not Slurm's job states, are the truth). Nothing in /etc/slurm or /run/munge
# is touched. Exits non-zero, naming the log to read, when a daemon does not come up.
set -euo pipefail

DIR=${LONGMIX_SLURM_DIR:-/tmp/longmix-slurm}
CONF=$DIR/etc/slurm.conf
NODE=$(hostname -s)

say() { printf '[longmix-slurm] %s\n' "$*" >&2; }

# live PIDFILE NAME: the pid file names a running process called NAME
live() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(cat "$1")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$2" ]]
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then return; fi
  say "installing slurmctld slurmd slurm-client munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 1024; print (m > 20000 ? 20000 : m) }' /proc/meminfo)
  cat >"$CONF" <<EOF
ClusterName=longmix
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket.2,cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/pids/slurmctld.pid
SlurmdPidFile=$DIR/pids/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobContainerType=job_container/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=600
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2048
MaxArraySize=10001
ReturnToService=2
SlurmdParameters=config_overrides
SlurmdTimeout=20
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  install_packages
  id munge >/dev/null 2>&1 || { say "user munge is missing (the munge package creates it)"; exit 1; }
  mkdir -p "$DIR"/{etc,log,pids,state,spool,munge}
  chmod 0755 "$DIR" "$DIR/etc" "$DIR/log" "$DIR/pids"
  chown munge:munge "$DIR/munge"
  chmod 0755 "$DIR/munge"
  if ! live "$DIR/munge/munged.pid" munged; then
    [[ -s $DIR/munge/munge.key ]] || { setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$DIR/munge/munge.key" --force; chmod 0400 "$DIR/munge/munge.key"; }
    rm -f "$DIR/munge/munge.socket.2" "$DIR/munge/munge.socket.2.lock"
    setpriv --reuid=munge --regid=munge --init-groups munged --socket="$DIR/munge/munge.socket.2" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
    for _ in $(seq 50); do [[ -S $DIR/munge/munge.socket.2 ]] && break; sleep 0.1; done
    live "$DIR/munge/munged.pid" munged || { say "munged did not start; see $DIR/munge/munged.log"; exit 1; }
  fi
  export SLURM_CONF=$CONF
  if ! live "$DIR/pids/slurmctld.pid" slurmctld; then
    write_conf
    slurmctld -f "$CONF" -c
  fi
  if ! live "$DIR/pids/slurmd.pid" slurmd; then
    slurmd -f "$CONF" -N "$NODE"
  fi
  for _ in $(seq 120); do
    state=$(sinfo -h -o %T 2>/dev/null | head -n1 || true)
    [[ $state == idle* || $state == mixed* || $state == allocated* ]] && break
    sleep 0.5
  done
  [[ ${state:-} == idle* || ${state:-} == mixed* || ${state:-} == allocated* ]] || { say "the node is not up (state '${state:-}'); see $DIR/log/slurmctld.log and slurmd.log"; exit 1; }
  echo "export SLURM_CONF=$CONF"
}

stop() {
  for pair in "$DIR/pids/slurmd.pid:slurmd" "$DIR/pids/slurmctld.pid:slurmctld" "$DIR/munge/munged.pid:munged"; do
    local file=${pair%%:*} name=${pair##*:}
    if live "$file" "$name"; then
      kill "$(cat "$file")"
      for _ in $(seq 50); do live "$file" "$name" || break; sleep 0.1; done
    fi
  done
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) [[ -s $CONF ]] && echo "export SLURM_CONF=$CONF" ;;
  running) live "$DIR/munge/munged.pid" munged && live "$DIR/pids/slurmctld.pid" slurmctld && live "$DIR/pids/slurmd.pid" slurmd ;;
  *) echo "usage: $0 start|stop|env|running" >&2; exit 2 ;;
esac
