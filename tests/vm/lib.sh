# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Real libvirtd + QEMU (TCG) domains for vmtuned's host tests and lab.
# Source it from bash:   . tests/vm/lib.sh
#
# Public functions (vm_*; vm__* are private):
#   vm_deps                       install missing Debian packages (root), idempotent
#   vm_build_guest                kernel + busybox initramfs under $VM_BUILD/guest
#   vm_libvirtd_up / _down        start/stop virtlogd + libvirtd by hand (only ours)
#   vm_libvirtd_restart [--term]  kill -9 (or TERM) our libvirtd, start it, wait
#   vm_domain_xml NAME [opts]     print a transient domain's XML
#   vm_create NAME [opts]         virsh create; opts: --vcpus N --mem MiB --burn
#                                 --vcpupin[=CPUS] --numatune[=NODES] --cpuset=CPUS
#                                 --iothreads=N --metadata-optout --wait-boot
#   vm_destroy NAME, vm_destroy_all, vm_kill_orphans
#   vm_pid NAME, vm_vcpu_tids NAME, vm_cgroup NAME CTRL [emulator|vcpuN],
#   vm_wait_booted NAME [SECONDS], vm_cleanup, vm_guard "$@", vm_cleanup_on_exit
#
# Settings (environment, read when sourced):
#   VMT_VM_BUILD   artifacts and state   (default: <repo>/build/vm)
#   VMT_VM_PREFIX  names this library may create and destroy (default: vmt-)
#   VMT_VM_URI     libvirt URI           (default: qemu:///system)
#   VMT_VM_KERNEL  use this vmlinuz instead of downloading Debian's
#
# Every function returns non-zero and says why on stderr when it fails; none
# but vm_guard exits the caller's shell. They work with and without
# `set -euo pipefail`.

VM_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_BUILD=${VMT_VM_BUILD:-$VM_SRCDIR/build/vm}
VM_PREFIX=${VMT_VM_PREFIX:-vmt-}
VM_URI=${VMT_VM_URI:-qemu:///system}
VM_GUEST=$VM_BUILD/guest
VM_RUN=$VM_BUILD/run          # pid records of the daemons we started
VM_CONSOLE=$VM_BUILD/console  # one serial log per domain
VM_PACKAGES="libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 busybox-static"
# Where --metadata-optout writes its element. vmtuned reads it with
# virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT, VM_METADATA_NS).
VM_METADATA_NS=${VMT_VM_METADATA_NS:-https://vmtuned.org/xmlns/1.0}  # VMTUNED_XMLNS in include/domain.h
VM_READY_MARK="vmtuned-guest: ready"

# --- helpers -------------------------------------------------------------
vm__log() { printf 'vm: %s\n' "$*" >&2; }
vm__err() { printf 'vm: error: %s\n' "$*" >&2; return 1; }
vm__virsh() { timeout -k 10 60 virsh -q -c "$VM_URI" "$@"; }
vm__now() { echo "${EPOCHREALTIME/,/.}"; }
vm__since() { awk -v a="$1" -v b="$(vm__now)" 'BEGIN { printf "%.1f", b - a }'; }

# A name this library may touch: our prefix, and characters safe in paths.
vm__ours() {
        [[ $VM_PREFIX =~ ^[A-Za-z0-9_.-]{2,}$ && $1 == "$VM_PREFIX"* && $1 =~ ^[A-Za-z0-9_.-]+$ ]]
}
vm__check_name() {
        vm__ours "$1" || vm__err "refusing domain '$1': not a '$VM_PREFIX' test domain"
}

# --- packages ------------------------------------------------------------
vm_deps() {
        local p missing=()
        for p in $VM_PACKAGES; do
                dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                        missing+=("$p")
        done
        [[ ${#missing[@]} -eq 0 ]] && return 0
        [[ $(id -u) -eq 0 ]] ||
                vm__err "missing packages; run: apt-get install --no-install-recommends ${missing[*]}" || return
        vm__log "installing ${missing[*]}"
        apt-get update -q >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                        "${missing[@]}" >&2
}

# --- guest ---------------------------------------------------------------
# The guest's /init. Idles, or with vmtuned.burn=1 on the kernel command line
# runs one busy loop per vCPU. Prints VM_READY_MARK on the serial console.
vm__init_script() {
        cat <<'EOF'
#!/bin/busybox sh
export PATH=/bin
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
exec </dev/console >/dev/console 2>&1
ncpu=$(grep -c ^processor /proc/cpuinfo)
burn=0
for arg in $(cat /proc/cmdline); do
        case $arg in vmtuned.burn=1) burn=1 ;; esac
done
if [ "$burn" = 1 ]; then
        i=0
        while [ "$i" -lt "$ncpu" ]; do
                (while :; do :; done) &
                i=$((i + 1))
        done
fi
echo "vmtuned-guest: ready cpus=$ncpu burn=$burn uptime=$(cut -d' ' -f1 /proc/uptime)"
while :; do sleep 3600; done
EOF
}

# Debian's kernel, not installed: the linux-image-amd64 metapackage names the
# real image package; only boot/vmlinuz-* is taken out of it.
vm__fetch_kernel() {
        local dl=$VM_BUILD/dl meta dep ver deb tmp
        rm -rf "$dl" && mkdir -p "$dl" || return
        if ! (cd "$dl" && apt-get -q -o APT::Sandbox::User=root download linux-image-amd64 >&2); then
                vm__log "apt-get download failed; updating package lists once"
                apt-get update -q >&2 &&
                        (cd "$dl" && apt-get -q -o APT::Sandbox::User=root download linux-image-amd64 >&2) ||
                        vm__err "cannot download linux-image-amd64" || return
        fi
        meta=$(echo "$dl"/linux-image-amd64_*.deb)
        # "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
        read -r dep ver < <(dpkg-deb -f "$meta" Depends | sed -E 's/,.*//; s/[()=]//g')
        [[ $dep == linux-image-* ]] || vm__err "unexpected Depends in $meta: $dep" || return
        (cd "$dl" && apt-get -q -o APT::Sandbox::User=root download "$dep${ver:+=$ver}" >&2) ||
                vm__err "cannot download $dep" || return
        deb=$(echo "$dl/${dep}"_*.deb)
        tmp=$dl/x
        mkdir -p "$tmp" &&
                dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
                vm__err "cannot extract the kernel from $deb" || return
        mv "$tmp"/boot/vmlinuz-* "$VM_GUEST/vmlinuz.new" &&
                mv "$tmp"/boot/config-* "$VM_GUEST/kernel-config" &&
                echo "$dep $ver" >"$VM_GUEST/kernel-version" &&
                mv "$VM_GUEST/vmlinuz.new" "$VM_GUEST/vmlinuz" &&
                rm -rf "$dl"
}

vm__build_initramfs() {
        local root=$VM_GUEST/root bb
        bb=$(command -v busybox) || bb=/bin/busybox
        # static: no ELF interpreter; the initramfs has no shared libraries
        [[ -x $bb ]] && ! LC_ALL=C grep -qa '/lib64/ld-linux' "$bb" ||
                vm__err "no static busybox (package busybox-static)" || return
        rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp} || return
        cp "$bb" "$root/bin/busybox" &&
                vm__init_script >"$root/init" && chmod 0755 "$root/init" || return
        # The kernel opens /dev/console before /init runs; needs CAP_MKNOD.
        mknod -m 0600 "$root/dev/console" c 5 1 2>/dev/null || true
        (cd "$root" && find . -print | sort | busybox cpio -o -H newc 2>/dev/null) |
                gzip -9 >"$VM_GUEST/initramfs.img.new" &&
                mv "$VM_GUEST/initramfs.img.new" "$VM_GUEST/initramfs.img" &&
                vm__init_script >"$VM_GUEST/init.stamp"
}

# Idempotent: downloads the kernel once, rebuilds the initramfs only when the
# init script changed. Prints the time it took.
vm_build_guest() {
        local t0 did=""
        t0=$(vm__now)
        mkdir -p "$VM_GUEST" || return
        if [[ -n ${VMT_VM_KERNEL:-} ]]; then
                [[ -r $VMT_VM_KERNEL ]] || vm__err "VMT_VM_KERNEL=$VMT_VM_KERNEL: not readable" || return
                cmp -s "$VMT_VM_KERNEL" "$VM_GUEST/vmlinuz" || {
                        cp "$VMT_VM_KERNEL" "$VM_GUEST/vmlinuz" &&
                                echo "$VMT_VM_KERNEL" >"$VM_GUEST/kernel-version"
                } || return
        elif [[ ! -s $VM_GUEST/vmlinuz ]]; then
                vm__fetch_kernel || return
                did="kernel "
        fi
        if [[ ! -s $VM_GUEST/initramfs.img ]] || ! vm__init_script | cmp -s - "$VM_GUEST/init.stamp"; then
                vm__build_initramfs || return
                did+="initramfs "
        fi
        # QEMU runs as libvirt-qemu: it must be able to reach and read these.
        chmod a+rx "$VM_GUEST" && chmod a+r "$VM_GUEST/vmlinuz" "$VM_GUEST/initramfs.img" || return
        vm__log "guest ready (${did:-nothing rebuilt, }$(vm__since "$t0") s): $(cat "$VM_GUEST/kernel-version")"
}

# --- daemons -------------------------------------------------------------
# A daemon we started is recorded as "PID STARTTIME" in $VM_RUN/NAME.pid;
# the start time (field 22 of /proc/PID/stat) guards against a reused pid.
vm__starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# Prints the pid of a running daemon NAME (its /run pidfile, checked), or fails.
vm__daemon_pid() {
        local pid
        pid=$(cat "/run/$1.pid" 2>/dev/null) || return 1
        [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] || return 1
        echo "$pid"
}

# Prints the pid of daemon NAME if we started it and it still runs.
vm__our_pid() {
        local pid start
        read -r pid start 2>/dev/null <"$VM_RUN/$1.pid" || return 1
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" && $(vm__starttime "$pid") == "$start" ]] || return 1
        echo "$pid"
}

vm__daemon_start() {
        local name=$1 pid i
        if pid=$(vm__daemon_pid "$name"); then
                vm__our_pid "$name" >/dev/null || vm__log "$name already running (pid $pid, not ours: left alone)"
                return 0
        fi
        mkdir -p "$VM_RUN" && "$name" -d || vm__err "$name -d failed" || return
        for ((i = 0; i < 100; i++)); do
                pid=$(vm__daemon_pid "$name") && break
                sleep 0.1
        done
        [[ -n $pid ]] || vm__err "$name did not write /run/$name.pid" || return
        echo "$pid $(vm__starttime "$pid")" >"$VM_RUN/$name.pid"
        vm__log "started $name (pid $pid)"
}

# SIGTERM (then SIGKILL after 10 s) a daemon we started; others are left.
vm__daemon_stop() {
        local name=$1 pid i
        if ! pid=$(vm__our_pid "$name"); then
                rm -f "$VM_RUN/$name.pid"
                return 0
        fi
        kill -TERM "$pid" 2>/dev/null || :
        for ((i = 0; i < 100; i++)); do
                [[ -d /proc/$pid ]] || break
                sleep 0.1
        done
        if [[ -d /proc/$pid ]]; then
                vm__log "$name pid $pid ignored SIGTERM; SIGKILL"
                kill -KILL "$pid" 2>/dev/null || :
        fi
        rm -f "$VM_RUN/$name.pid"
        vm__log "stopped $name (pid $pid)"
}

# /dev/kvm without udev is root:root 0600. libvirt probes QEMU's capabilities
# as root (KVM "enabled") but checks /dev/kvm as the QEMU user (not usable),
# so it calls its cache stale and re-probes QEMU (~4 s) on every lookup:
# virsh create took ~50 s. Debian's udev would make it root:kvm 0660; do that
# while our libvirtd runs, and put the old owner and mode back afterwards.
vm__kvm_perms_fix() {
        local old
        [[ -c /dev/kvm && ! -e $VM_RUN/kvm-perms ]] || return 0
        getent group kvm >/dev/null || return 0
        old=$(stat -c '%u:%g %a' /dev/kvm) || return 0
        [[ $(stat -c '%G' /dev/kvm) == kvm && $(( 0$(stat -c '%a' /dev/kvm) & 060 )) == 48 ]] && return 0
        echo "$old" >"$VM_RUN/kvm-perms" && chgrp kvm /dev/kvm && chmod g+rw /dev/kvm &&
                vm__log "/dev/kvm: $old -> root:kvm $(stat -c '%a' /dev/kvm) while libvirtd runs"
}

vm__kvm_perms_restore() {
        local owner mode
        read -r owner mode 2>/dev/null <"$VM_RUN/kvm-perms" || return 0
        chown "$owner" /dev/kvm && chmod "$mode" /dev/kvm && rm -f "$VM_RUN/kvm-perms" &&
                vm__log "/dev/kvm: back to $owner $mode"
}

vm__wait_libvirtd() {
        local t0=$1 limit=${VMT_VM_UP_TIMEOUT:-90}
        until virsh -c "$VM_URI" version >/dev/null 2>&1; do
                if (($(vm__since "$t0" | cut -d. -f1) >= limit)); then
                        vm__err "libvirtd did not answer on $VM_URI within $limit s; see /var/log/libvirt/libvirtd.log"
                        return
                fi
                sleep 0.2
        done
}

# Lock manager daemon only when qemu.conf asks for one (Debian: it does not).
vm__daemons() {
        echo virtlogd
        grep -Eq '^[[:space:]]*lock_manager[[:space:]]*=[[:space:]]*"lockd"' /etc/libvirt/qemu.conf 2>/dev/null &&
                echo virtlockd
        echo libvirtd
}

vm_libvirtd_up() {
        local t0 d
        t0=$(vm__now)
        vm_deps && mkdir -p "$VM_RUN" || return
        # before anything talks to libvirt, also to a libvirtd that is not ours
        vm__kvm_perms_fix || return
        if [[ -z $(vm__our_pid libvirtd) ]] && virsh -c "$VM_URI" version >/dev/null 2>&1; then
                vm__log "libvirt already answers on $VM_URI (not ours: left alone)"
                return 0
        fi
        for d in $(vm__daemons); do
                vm__daemon_start "$d" || { vm_libvirtd_down; return 1; }
        done
        vm__wait_libvirtd "$t0" || { vm_libvirtd_down; return 1; }
        vm__log "libvirtd up in $(vm__since "$t0") s"
}

# Destroys our test domains, then stops the daemons we started (reverse order).
vm_libvirtd_down() {
        local d rc=0
        vm_destroy_all || rc=1
        for d in $(vm__daemons | tac); do
                vm__daemon_stop "$d" || rc=1
        done
        [[ -n $(vm__our_pid libvirtd) ]] || vm__kvm_perms_restore || rc=1
        return $rc
}

# For tests of libvirtd crashes: SIGKILL (default) or SIGTERM our libvirtd,
# wait until it is gone, start it again and wait until it answers.
vm_libvirtd_restart() {
        local sig=KILL pid t0 i
        [[ ${1:-} == --term ]] && sig=TERM
        pid=$(vm__our_pid libvirtd) ||
                vm__err "libvirtd was not started by vm_libvirtd_up: not restarting it" || return
        t0=$(vm__now)
        kill "-$sig" "$pid" || return
        for ((i = 0; i < 200; i++)); do
                [[ -d /proc/$pid ]] || break
                sleep 0.05
        done
        [[ ! -d /proc/$pid ]] || vm__err "libvirtd pid $pid survived SIG$sig" || return
        rm -f "$VM_RUN/libvirtd.pid"
        vm__log "libvirtd pid $pid gone after SIG$sig"
        vm__daemon_start libvirtd && vm__wait_libvirtd "$t0" || return
        vm__log "libvirtd restarted in $(vm__since "$t0") s"
}

# --- domains -------------------------------------------------------------
# Parses vm_create's options into the caller's variables (dynamic scope):
# vcpus mem burn vcpupin numatune cpuset optout wait iothreads.
vm__parse_opts() {
        while (($#)); do
                case $1 in
                --vcpus) vcpus=${2:-}; shift ;;
                --vcpus=*) vcpus=${1#*=} ;;
                --mem) mem=${2:-}; shift ;;
                --mem=*) mem=${1#*=} ;;
                --burn) burn=1 ;;
                --vcpupin) vcpupin=spread ;;
                --vcpupin=*) vcpupin=${1#*=} ;;
                --numatune) numatune=0 ;;
                --numatune=*) numatune=${1#*=} ;;
                --cpuset=*) cpuset=${1#*=} ;;
                --iothreads=*) iothreads=${1#*=} ;;
                --metadata-optout) optout=1 ;;
                --wait-boot) wait=1 ;;
                *) vm__err "unknown option '$1'"; return ;;
                esac
                shift
        done
        [[ $vcpus =~ ^[1-9][0-9]*$ && $mem =~ ^[1-9][0-9]*$ && $iothreads =~ ^[0-9]+$ ]] ||
                vm__err "--vcpus, --mem and --iothreads take numbers (got '$vcpus', '$mem', '$iothreads')" || return
        # Debian's kernel: 64 MiB resets while it decompresses itself (its
        # init_size is 63.6 MiB), 80 MiB runs out of memory before /init.
        ((mem >= 96)) || vm__err "--mem $mem: the guest kernel needs at least 96 MiB"
}

vm_domain_xml() {
        local name=${1:-} vcpus=1 mem=128 burn=0 vcpupin="" numatune="" cpuset="" optout=0 wait=0 iothreads=0
        local ncpu i extra=""
        vm__check_name "$name" || return
        shift
        vm__parse_opts "$@" || return
        ((burn)) && extra=" vmtuned.burn=1"
        ncpu=$(nproc --all)
        # shellcheck disable=SC2016 # the quotes are XML's, inside the here-document
        cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu placement='static'${cpuset:+ cpuset='$cpuset'}>$vcpus</vcpu>
EOF
        ((iothreads)) && echo "  <iothreads>$iothreads</iothreads>"
        if [[ -n $vcpupin ]]; then
                echo "  <cputune>"
                for ((i = 0; i < vcpus; i++)); do
                        # "spread": vCPU i on host CPU i mod N; else all on the given set
                        echo "    <vcpupin vcpu='$i' cpuset='$([[ $vcpupin == spread ]] && echo $((i % ncpu)) || echo "$vcpupin")'/>"
                done
                echo "  </cputune>"
        fi
        [[ -n $numatune ]] &&
                echo "  <numatune><memory mode='strict' nodeset='$numatune'/></numatune>"
        ((optout)) && cat <<EOF
  <metadata>
    <vmtuned:domain xmlns:vmtuned='$VM_METADATA_NS'><vmtuned:balance>no</vmtuned:balance></vmtuned:domain>
  </metadata>
EOF
        cat <<EOF
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$VM_GUEST/vmlinuz</kernel>
    <initrd>$VM_GUEST/initramfs.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1$extra</cmdline>
  </os>
  <features><acpi/><apic/><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'>
      <log file='$VM_CONSOLE/$name.log' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# Starts a transient domain. With --wait-boot also waits for the guest's /init.
vm_create() {
        local name=${1:-} xml t0 vcpus=1 mem=128 burn=0 vcpupin="" numatune="" cpuset="" optout=0 wait=0
        local iothreads=0
        vm__check_name "$name" || return
        vm__parse_opts "${@:2}" || return
        [[ -s $VM_GUEST/vmlinuz && -s $VM_GUEST/initramfs.img ]] ||
                vm__err "no guest in $VM_GUEST; run vm_build_guest first" || return
        mkdir -p "$VM_BUILD/xml" "$VM_CONSOLE" || return
        xml=$VM_BUILD/xml/$name.xml
        vm_domain_xml "$@" >"$xml" || return
        t0=$(vm__now)
        vm__virsh create "$xml" >/dev/null || vm__err "virsh create $name failed ($xml)" || return
        vm__log "$name running $(vm__since "$t0") s after create (pid $(vm_pid "$name"))"
        ((wait)) || return 0
        vm_wait_booted "$name" 120 || return
        vm__log "$name booted $(vm__since "$t0") s after create: $(grep -a "$VM_READY_MARK" "$VM_CONSOLE/$name.log" | tr -d '\r')"
}

# Waits until the guest's /init printed its ready line (default 60 s).
vm_wait_booted() {
        local name=$1 limit=${2:-60} t0
        t0=$(vm__now)
        until grep -aq "$VM_READY_MARK" "$VM_CONSOLE/$name.log" 2>/dev/null; do
                (($(vm__since "$t0" | cut -d. -f1) < limit)) ||
                        vm__err "$name: no '$VM_READY_MARK' on its console within $limit s" || return
                [[ -n $(vm_pid "$name" 2>/dev/null) ]] ||
                        vm__err "$name: QEMU is gone (console: $VM_CONSOLE/$name.log)" || return
                sleep 0.2
        done
}

vm_destroy() {
        local name=${1:-}
        vm__check_name "$name" || return
        vm__virsh domstate "$name" >/dev/null 2>&1 || return 0
        vm__virsh destroy "$name" >/dev/null 2>&1 || :
        # a persistent domain of ours (someone defined it) goes as well;
        # for a transient one this fails, as expected
        vm__virsh undefine "$name" >/dev/null 2>&1 || :
        ! vm__virsh domstate "$name" >/dev/null 2>&1 || vm__virsh domstate "$name" | grep -q 'shut off' ||
                vm__err "$name: still there after destroy"
}

# Destroys every domain whose name has our prefix, and QEMU processes of
# such domains that libvirt no longer knows about. Nothing else.
vm_destroy_all() {
        local name rc=0
        local -a jobs=()
        if virsh -c "$VM_URI" version >/dev/null 2>&1; then
                # in parallel: libvirt takes ~1 s to see a TCG QEMU exit
                while read -r name; do
                        vm__ours "$name" || continue
                        { vm_destroy "$name" && vm__log "destroyed $name"; } &
                        jobs+=($!)
                done < <(vm__virsh list --all --name)
                for name in "${jobs[@]}"; do
                        wait "$name" || rc=1
                done
        fi
        vm_kill_orphans || rc=1
        return $rc
}

# QEMU processes started for one of our domains ("-name guest=vmt-...,").
vm__qemu_pids() {
        local f pid args
        for f in /proc/[0-9]*/cmdline; do
                pid=${f#/proc/}
                pid=${pid%/cmdline}
                args=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
                [[ $args == *qemu-system-* ]] || continue
                [[ $args =~ guest=([A-Za-z0-9_.-]+), ]] || continue
                if [[ -z ${1:-} ]]; then vm__ours "${BASH_REMATCH[1]}" || continue
                else [[ ${BASH_REMATCH[1]} == "$1" ]] || continue; fi
                echo "$pid"
        done
}

vm_kill_orphans() {
        local pid pids
        pids=$(vm__qemu_pids)
        [[ -z $pids ]] && return 0
        for pid in $pids; do
                vm__log "killing orphaned QEMU pid $pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -o 'guest=[^,]*'))"
                kill -KILL "$pid" 2>/dev/null || :
        done
        sleep 0.5
        # libvirt cleans up cgroups of domains it destroys; these it will not
        find /sys/fs/cgroup/*/machine -depth -mindepth 1 -type d \
                -name "qemu-*-$VM_PREFIX*" 2>/dev/null | while read -r d; do
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        return 0
}

# --- introspection -------------------------------------------------------
# The QEMU pid of a running domain (libvirt's pidfile, checked against the
# process's command line, so it also works while libvirtd is down).
vm_pid() {
        local name=$1 pid
        pid=$(cat "/run/libvirt/qemu/$name.pid" 2>/dev/null) &&
                [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *"guest=$name,"* ]] ||
                pid=$(vm__qemu_pids "$name" | head -n1)
        [[ -n $pid ]] || vm__err "$name: no QEMU process" || return
        echo "$pid"
}

# vCPU thread ids, one a line, in vCPU order (threads named "CPU N/TCG" or
# "CPU N/KVM" by QEMU's debug-threads, which libvirt turns on).
vm_vcpu_tids() {
        local pid t comm
        pid=$(vm_pid "$1") || return
        for t in /proc/"$pid"/task/*; do
                comm=$(cat "$t/comm" 2>/dev/null) || continue
                if [[ $comm =~ ^CPU\ ([0-9]+)/ ]]; then echo "${BASH_REMATCH[1]} ${t##*/}"; fi
        done | sort -n | awk '{ print $2 }'
}

# The absolute cgroup directory of a domain's part for one controller
# ("cpuset", "cpu", "memory", ... or "unified" for cgroup2): PART is
# "emulator", "vcpuN" or empty for the domain's own directory.
vm_cgroup() {
        local name=$1 ctrl=$2 part=${3:-} pid rel mnt
        pid=$(vm_pid "$name") || return
        if [[ $ctrl == unified ]]; then
                rel=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
        else
                rel=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
                        "/proc/$pid/cgroup")
        fi
        [[ -n $rel ]] || vm__err "$name: no '$ctrl' line in /proc/$pid/cgroup" || return
        mnt=/sys/fs/cgroup/$ctrl
        [[ -d $mnt ]] || mnt=/sys/fs/cgroup
        rel=${rel%/emulator}
        echo "$mnt$rel${part:+/$part}"
}

# --- cleanup -------------------------------------------------------------
vm_cleanup() {
        vm_libvirtd_down
}

# For scripts, as their first command: vm_guard "$@". Runs the script again
# as a child and cleans up after it exits, however it exits (error, signal,
# even a crash of bash itself). A signal to the parent is passed on to the
# child. Why not traps in the script: bash 5.2 aborts ("reader_loop: bad
# jump") when a trap runs while it is inside $(...), and the test is then
# gone without its EXIT trap; a parent that only waits has no such moment.
vm_guard() {
        local child rc
        if [[ -n ${VMT_VM_GUARDED:-} ]]; then
                unset VMT_VM_GUARDED # scripts this one runs guard themselves
                trap 'vm_cleanup || :' EXIT # the normal way out
                return 0
        fi
        VMT_VM_GUARDED=1 "$BASH" "$0" "$@" <&0 &  # keep stdin (& would make it /dev/null)
        child=$!
        trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
        while :; do
                rc=0
                wait "$child" || rc=$? # also under set -e
                kill -0 "$child" 2>/dev/null || break
        done
        trap - INT TERM HUP
        vm_cleanup || :
        exit "$rc"
}

# For a shell that sourced this file and cannot use vm_guard: traps.
vm_cleanup_on_exit() {
        trap 'vm_cleanup || :' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
}
