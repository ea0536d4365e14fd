#!/usr/bin/env bash
# The main job, end to end on this machine (Debian 12, root):
#   installs what is missing, builds a tiny guest (Debian kernel + busybox initramfs),
#   boots it under libvirt (QEMU/TCG), gives it a virtio and a SCSI disk with
#   playbooks/hotplug_disk.yml, shows what the guest sees, runs the playbook again
#   (no change), takes the disks away and removes the guest.
# Usage: bash scripts/demo.sh [--keep]     (--keep leaves the guest and its disks in place)
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/setup.sh
source "$TOP/scripts/setup.sh"
cd "$TOP"

KEEP=false
[ "${1:-}" = "--keep" ] && KEEP=true
GUEST=${VIRTOPS_DEMO_GUEST:-virtops-demo}
LAB=${VIRTOPS_LAB_DIR:-/var/lib/virtops-lab}
IMAGES=$LAB/images
LABTOOL=(python "$TOP/tests/lab/tiny_guest.py")
export ANSIBLE_COLLECTIONS_PATH=$TOP/tests/output/collections ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-}
mkdir -p "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/virtops" "$IMAGES"
ln -sfn "$TOP" "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/virtops/devices"

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "Building (or reusing) the tiny guest"
"${LABTOOL[@]}" build
step "Booting $GUEST under libvirt (machine pc, TCG)"
"${LABTOOL[@]}" up --name "$GUEST" --machine pc >/dev/null
step "What the guest sees before"
"${LABTOOL[@]}" exec --name "$GUEST" -- 'cat /proc/partitions; echo; lsdisks'

INVENTORY=$(mktemp --suffix=.json)
trap 'rm -f "$INVENTORY"' EXIT
python - "$INVENTORY" "$GUEST" <<'PY'
import json, sys
sys.path.insert(0, 'tests/lab')
import tiny_guest
path, guest = sys.argv[1:]
inventory = {'all': {'hosts': {
    'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
    guest: tiny_guest.inventory(guest)}}}
json.dump(inventory, open(path, 'w'))
PY
VARS=$(python - "$GUEST" "$IMAGES" <<'PY'
import json, sys
guest, images = sys.argv[1:]
print(json.dumps({'hotplug_domain': guest, 'hotplug_guest': guest, 'hotplug_disks': [
    {'source': '%s/%s-data.qcow2' % (images, guest), 'serial': 'demo-data', 'size': '256M'},
    {'source': '%s/%s-logs.raw' % (images, guest), 'bus': 'scsi', 'serial': 'demo-logs', 'size': '64M', 'format': 'raw'},
]}))
PY
)

step "ansible-playbook playbooks/hotplug_disk.yml: attach a virtio and a SCSI disk, live and persistent"
ansible-playbook -i "$INVENTORY" playbooks/hotplug_disk.yml -e "$VARS" --diff
step "What the guest sees now (serials demo-data and demo-logs)"
for _ in $(seq 1 20); do
    "${LABTOOL[@]}" exec --name "$GUEST" -- lsdisks | grep -q demo-logs && break
    sleep 0.5
done
"${LABTOOL[@]}" exec --name "$GUEST" -- 'cat /proc/partitions; echo; lsdisks'
step "The same playbook again: nothing to change"
ansible-playbook -i "$INVENTORY" playbooks/hotplug_disk.yml -e "$VARS" | tail -n 3

if $KEEP; then
    step "Leaving $GUEST running with its disks (remove it with: python tests/lab/tiny_guest.py down --name $GUEST)"
    exit 0
fi
step "Detaching both disks (confirmed gone from the live domain) and removing their images"
ansible-playbook -i "$INVENTORY" playbooks/hotplug_disk.yml -e "$VARS" \
    -e '{"hotplug_state": "absent", "hotplug_remove_images": true}' | tail -n 3
# shellcheck disable=SC2016 # expanded by the guest's shell, not here
"${LABTOOL[@]}" exec --name "$GUEST" -- 'echo "block devices left: $(lsdisks | wc -l)"'
step "Removing the guest"
"${LABTOOL[@]}" down --name "$GUEST"
step "Done"
