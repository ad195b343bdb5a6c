#!/bin/sh
# Guest init of the lab (user-mode Linux, the host's root on hostfs). Started by lab/run.ts with
# WANBOND_LAB_DIR=<host boot dir> on the kernel command line. Everything the guest writes goes
# to tmpfs, except the one result file in the boot dir (bound to /run/lab-host).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lab-host /run/lock
# Bind the boot dir before /tmp is covered by tmpfs: it usually lives under the host's /tmp.
mount --bind "$WANBOND_LAB_DIR" /run/lab-host
. /run/lab-host/job.sh
# The repo may itself live under /tmp (a CI clone does): keep it visible at the same path.
mkdir -p /run/lab-repo
mount --bind "$WANBOND_LAB_CWD" /run/lab-repo
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
case "$WANBOND_LAB_CWD" in
  /tmp/*|/var/tmp/*) mkdir -p "$WANBOND_LAB_CWD" && mount --bind /run/lab-repo "$WANBOND_LAB_CWD" ;;
esac
mount -t tmpfs -o mode=0755 tmpfs /var/log
mount --bind /usr/lib/uml/modules /lib/modules
for m in bonding ip_gre sch_netem sch_htb sch_tbf sch_fq_codel tun veth ifb act_mirred cls_u32 \
  nf_tables nf_nat nf_conntrack ip_tables iptable_nat iptable_filter iptable_mangle \
  xt_MASQUERADE xt_TCPMSS xt_tcpmss xt_mark xt_conntrack xt_comment xt_tcpudp; do
  modprobe -q "$m" 2>/dev/null
done
ip link set lo up
cd "$WANBOND_LAB_CWD" || echo "lab: no such directory $WANBOND_LAB_CWD"
export WANBOND_LAB_RESULT=/run/lab-host/result.json
echo "WANBOND_LAB_BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
timeout -k 5 "$WANBOND_LAB_TIMEOUT" node --import tsx "$@"
echo "WANBOND_LAB_EXIT=$?"
poweroff -f
