#!/usr/bin/env bash
# Install (or upgrade, or remove) Flatback on a Raspberry Pi. Safe to run again.
#
#   sudo systemd/install.sh                 install or upgrade from this checkout
#   sudo systemd/install.sh --uninstall     remove the program and units, keep your data
#   sudo systemd/install.sh --uninstall --purge   also delete sessions and config
#   systemd/install.sh --dry-run            print what would be done, change nothing
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX=/opt/flatback
UNIT_DIR=/etc/systemd/system
CONFIG=/etc/flatback/config.toml
STATE=/var/lib/flatback
USER_NAME=flatback
DRY_RUN=0
ACTION=install
PURGE=0

for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    --uninstall) ACTION=uninstall ;;
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

run() {
  if [ "$DRY_RUN" = 1 ]; then echo "would run: $*"; else "$@"; fi
}

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (sudo), or with --dry-run to see what it does" >&2
  exit 1
fi

if [ "$ACTION" = uninstall ]; then
  run systemctl disable --now flatback-web.service flatback-mat.service || true
  run rm -f "$UNIT_DIR/flatback-mat.service" "$UNIT_DIR/flatback-web.service"
  run systemctl daemon-reload
  run rm -rf "$PREFIX"
  if [ "$PURGE" = 1 ]; then
    run rm -rf "$STATE" /etc/flatback
    run userdel "$USER_NAME" || true
    echo "Flatback removed, with its sessions and configuration."
  else
    echo "Flatback removed. Your sessions ($STATE) and config (/etc/flatback) are kept."
  fi
  exit 0
fi

# The user the daemons run as: no login, only the groups for the bus and the pins.
for group in i2c gpio; do
  getent group "$group" >/dev/null || run groupadd --system "$group"
done
if ! id "$USER_NAME" >/dev/null 2>&1; then
  run useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin \
      --groups i2c,gpio "$USER_NAME"
else
  run usermod -a -G i2c,gpio "$USER_NAME"
fi

# The program: a virtual environment under /opt, upgraded in place when run again.
run install -d -m 0755 "$PREFIX"
[ -x "$PREFIX/venv/bin/python" ] || run python3 -m venv "$PREFIX/venv"
run "$PREFIX/venv/bin/python" -m pip install --quiet --upgrade "$SRC"

# Configuration: the documented defaults, only if there is none yet (never overwritten).
run install -d -m 0755 /etc/flatback
if [ ! -e "$CONFIG" ]; then
  run install -m 0644 "$SRC/mat/default_config.toml" "$CONFIG"
fi

run install -m 0644 "$SRC/systemd/flatback-mat.service" "$UNIT_DIR/flatback-mat.service"
run install -m 0644 "$SRC/systemd/flatback-web.service" "$UNIT_DIR/flatback-web.service"
run systemctl daemon-reload
run systemctl enable flatback-mat.service flatback-web.service
run systemctl restart flatback-mat.service flatback-web.service

cat <<EOT
Flatback is installed.
- Enable I2C at 400 kHz if you have not: sudo raspi-config nonint do_i2c 0, then add
  dtparam=i2c_arm_baudrate=400000 to /boot/firmware/config.txt and reboot.
- Check the wiring: sudo -u $USER_NAME $PREFIX/venv/bin/mat doctor
- The page: http://$(hostname).local:8080/
EOT
