#!/usr/bin/env bash
# A throw-away one-node SLURM cluster for tests (Debian's slurm-wlm + munge), everything under DIR:
#   Scripts/slurm-test-cluster.sh start DIR   starts munged (own key and socket), slurmctld and slurmd
#                                             (localhost, 2 CPUs, proctrack/linuxproc, no cgroups) on free
#                                             ports; prints SLURM_CONF=DIR/slurm/slurm.conf when the node is idle
#   Scripts/slurm-test-cluster.sh start DIR --accounting
#                                             also job accounting, so sacct works: a private MariaDB server
#                                             (mariadb-install-db into DIR/db, its socket and a free port on
#                                             127.0.0.1, no grant tables) and slurmdbd storing into it
#                                             (Debian's mariadb-server-core + slurmdbd; adds ~8 s)
#   Scripts/slurm-test-cluster.sh stop DIR    stops all of them (scontrol shutdown, then the pid files); safe to
#                                             run twice or after a failed start
# Clients (sbatch, squeue, scancel, voxterm batch --slurm) find the cluster through SLURM_CONF.
# Runs as root (slurmd starts jobs as their user); nothing outside DIR is touched.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"; accounting=0
[ "${3:-}" = --accounting ] && accounting=1
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [--accounting]" >&2; exit 64; }

stop() {
  local d="$1"
  if [ -f "$d/slurm/slurm.conf" ] && command -v scontrol >/dev/null; then
    SLURM_CONF="$d/slurm/slurm.conf" timeout 5 scontrol shutdown >/dev/null 2>&1 || true
  fi
  for pidfile in "$d/slurm/slurmd.pid" "$d/slurm/slurmctld.pid" "$d/slurm/slurmdbd.pid" "$d/db/mariadbd.pid" "$d/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    # Only our daemons: the pid file is ours, and the process must still be the daemon it names.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; kill "$pid" 2>/dev/null || true; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "$cmd" = stop ]; then stop "$dir"; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }

for tool in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm-test-cluster: $tool not found; install slurm-wlm and munge (Scripts/install-deps.sh --test)" >&2; exit 2; }
done
if [ $accounting = 1 ]; then
  for tool in slurmdbd mariadbd mariadb-install-db sacct; do
    command -v "$tool" >/dev/null || { echo "slurm-test-cluster: $tool not found; install slurmdbd and mariadb-server-core (Scripts/install-deps.sh --test)" >&2; exit 2; }
  done
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# munged refuses sockets in folders others cannot traverse, and keys others can read.
chmod 755 "$dir"
mkdir -p "$dir/munge" "$dir/slurm/state" "$dir/slurm/spool" "$dir/slurm/log"
chmod 755 "$dir/munge" "$dir/slurm"
trap 'stop "$dir"' ERR
if [ ! -f "$dir/munge/munge.key" ]; then
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$dir/munge/munge.key"
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 30000 ))
    if port_free "$p" && port_free $((p + 1)); then echo "$p"; return; fi
  done
  echo "slurm-test-cluster: no free port pair found" >&2; return 1
}
port=$(pick_port)
user=$(id -un)
acct_lines="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
if [ $accounting = 1 ]; then
  # A private MariaDB for slurmdbd: its own data folder, socket and port, no grant tables
  # (a throw-away server on 127.0.0.1 that only this cluster's slurmdbd uses).
  # Two more port pairs, distinct from the cluster's (nothing is bound between the picks).
  near() { [ "$1" -ge $(($2 - 1)) ] && [ "$1" -le $(($2 + 1)) ]; } # pairs p, p+1 overlap
  dbport=$(pick_port); while near "$dbport" "$port"; do dbport=$(pick_port); done
  dbdport=$(pick_port); while near "$dbdport" "$port" || near "$dbdport" "$dbport"; do dbdport=$(pick_port); done
  mkdir -p "$dir/db"
  [ -d "$dir/db/data/mysql" ] || mariadb-install-db --no-defaults --datadir="$dir/db/data" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve > "$dir/db/install.log" 2>&1 \
      || { echo "slurm-test-cluster: mariadb-install-db failed; log in $dir/db/install.log" >&2; tail -n 20 "$dir/db/install.log" >&2; stop "$dir"; exit 1; }
  rm -f "$dir/db/db.sock" # a socket left by a killed server would pass the wait below at once
  mariadbd --no-defaults --datadir="$dir/db/data" --socket="$dir/db/db.sock" --port="$dbport" --bind-address=127.0.0.1 \
      --user="$user" --pid-file="$dir/db/mariadbd.pid" --skip-grant-tables --skip-name-resolve \
      --innodb-buffer-pool-size=16M --log-error="$dir/db/mariadbd.log" < /dev/null > /dev/null 2>&1 &
  for _ in $(seq 1 150); do [ -S "$dir/db/db.sock" ] && break; sleep 0.1; done
  [ -S "$dir/db/db.sock" ] || { echo "slurm-test-cluster: MariaDB did not start; log in $dir/db/mariadbd.log" >&2; tail -n 5 "$dir/db/mariadbd.log" >&2 || true; stop "$dir"; exit 1; }
  printf '%s\n' "AuthType=auth/munge" "AuthInfo=socket=$dir/munge/munge.sock" "DbdHost=localhost" "DbdAddr=127.0.0.1" \
      "DbdPort=$dbdport" "SlurmUser=$user" "PidFile=$dir/slurm/slurmdbd.pid" "LogFile=$dir/slurm/log/slurmdbd.log" \
      "StorageType=accounting_storage/mysql" "StorageHost=127.0.0.1" "StoragePort=$dbport" "StorageUser=$user" \
      "StorageLoc=slurm_acct_db" > "$dir/slurm/slurmdbd.conf"
  chmod 600 "$dir/slurm/slurmdbd.conf"
  # slurmdbd reads slurmdbd.conf from SLURM_CONF's folder (slurm.conf is written below).
  SLURM_CONF="$dir/slurm/slurm.conf" slurmdbd
  for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$dbdport") 2>/dev/null && break; sleep 0.1; done
  (exec 3<>"/dev/tcp/127.0.0.1/$dbdport") 2>/dev/null || { echo "slurm-test-cluster: slurmdbd did not start; log in $dir/slurm/log/slurmdbd.log" >&2; tail -n 10 "$dir/slurm/log/slurmdbd.log" >&2 || true; stop "$dir"; exit 1; }
  acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$dbdport
AccountingStoragePass=$dir/munge/munge.sock
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5"
fi
cat > "$dir/slurm/slurm.conf" <<EOF
ClusterName=voxtermtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$dir/slurm/state
SlurmdSpoolDir=$dir/slurm/spool
SlurmctldPidFile=$dir/slurm/slurmctld.pid
SlurmdPidFile=$dir/slurm/slurmd.pid
SlurmctldLogFile=$dir/slurm/log/slurmctld.log
SlurmdLogFile=$dir/slurm/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
$acct_lines
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm/slurm.conf"
# -i: ignore state from an earlier run in this folder.
slurmctld -i
slurmd -N localhost
for _ in $(seq 1 100); do
  state=$(sinfo -h -N -o %t 2>/dev/null || true)
  if [ "$state" = idle ]; then echo "SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
echo "slurm-test-cluster: the node did not become idle in 20 s (state '${state:-none}'); logs in $dir/slurm/log" >&2
tail -n 5 "$dir/slurm/log/slurmctld.log" "$dir/slurm/log/slurmd.log" >&2 || true
stop "$dir"
exit 1
