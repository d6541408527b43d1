#!/usr/bin/env bash
# Install (or upgrade, or remove) Flatback on a Raspberry Pi. Safe to run again.
#
#   sudo systemd/install.sh                       install or upgrade from this checkout
#   sudo systemd/install.sh --from FILE.whl       install or upgrade from a wheel (or another checkout)
#   sudo systemd/install.sh --uninstall           remove the program and units, keep sessions and config
#   sudo systemd/install.sh --uninstall --purge   also delete sessions, config and the flatback user
#   systemd/install.sh --dry-run [...]            print every step, change nothing
#   DESTDIR=/tmp/root systemd/install.sh [...]    put the files under /tmp/root; the steps that act
#                                                 on the running system (user, apt, pip, systemctl)
#                                                 are only printed. No root needed.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
FROM="$SRC"
DESTDIR="${DESTDIR:-}"
PREFIX=/opt/flatback
UNIT_DIR=/etc/systemd/system
CONFIG_DIR=/etc/flatback
STATE_DIR=/var/lib/flatback
RUNTIME_DIR=/run/flatback
USER_NAME=flatback
UNITS=(flatback-mat.service flatback-web.service)
DRY_RUN=0
ACTION=install
PURGE=0

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --uninstall) ACTION=uninstall ;;
    --purge) PURGE=1 ;;
    --from)
      [ $# -ge 2 ] || { echo "install.sh: --from needs a wheel or a source directory" >&2; exit 2; }
      FROM="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ]; then
  echo "install.sh: --purge goes with --uninstall" >&2
  exit 2
fi
if [ "$DRY_RUN" = 0 ] && [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (sudo), or with --dry-run to see what it does" >&2
  exit 1
fi
if [ "$ACTION" = install ] && [ ! -e "$FROM" ]; then
  echo "install.sh: --from $FROM: no such wheel or directory" >&2
  exit 2
fi

# Each step is printed as a shell command, quoted so it can be pasted.
show() { printf '%s' "$1"; shift; printf ' %q' "$@"; echo; }

# A step on files: done under $DESTDIR, or only printed with --dry-run.
step() {
  if [ "$DRY_RUN" = 1 ]; then show "would run:" "$@"; else show "+" "$@"; "$@"; fi
}

# A step on the running system (users, packages, services): also only printed under $DESTDIR,
# because there is no system in a staging directory to act on.
system_step() {
  if [ "$DRY_RUN" = 1 ] || [ -n "$DESTDIR" ]; then show "would run:" "$@"; else show "+" "$@"; "$@"; fi
}

installed_deb() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

uninstall() {
  system_step systemctl disable --now "${UNITS[@]}" || true
  # A mat that published to MQTT leaves it: its Home Assistant device and retained topics go.
  if [ -x "$DESTDIR$PREFIX/venv/bin/mat" ] && grep -Eq '^[[:space:]]*enabled[[:space:]]*=[[:space:]]*true' \
      "$DESTDIR$CONFIG_DIR/config.toml" 2>/dev/null; then
    system_step "$PREFIX/venv/bin/mat" --config "$CONFIG_DIR/config.toml" mqtt forget || true
  fi
  for unit in "${UNITS[@]}"; do
    step rm -f "$DESTDIR$UNIT_DIR/$unit"
  done
  system_step systemctl daemon-reload
  system_step systemctl reset-failed "${UNITS[@]}" || true
  step rm -rf "$DESTDIR$PREFIX" "$DESTDIR$RUNTIME_DIR"
  if [ "$PURGE" = 1 ]; then
    step rm -rf "$DESTDIR$STATE_DIR" "$DESTDIR$CONFIG_DIR"
    if id "$USER_NAME" >/dev/null 2>&1; then system_step userdel "$USER_NAME"; fi
    echo "Flatback removed, with its sessions, its configuration and the $USER_NAME user."
  else
    echo "Flatback removed. Kept: your sessions in $STATE_DIR and the configuration in $CONFIG_DIR"
    echo "(uninstall --purge deletes them)."
  fi
}

create_user() {
  # The user both daemons run as: no login, no home of its own, only the groups that open
  # /dev/i2c-* and /dev/gpiochip* (Raspberry Pi OS's udev rules give those nodes to them).
  for group in i2c gpio; do
    getent group "$group" >/dev/null || system_step groupadd --system "$group"
  done
  if id "$USER_NAME" >/dev/null 2>&1; then
    system_step usermod --append --groups i2c,gpio "$USER_NAME"
  else
    system_step useradd --system --user-group --groups i2c,gpio --home-dir "$STATE_DIR" \
      --no-create-home --shell /usr/sbin/nologin --comment "Flatback mat" "$USER_NAME"
  fi
}

install_program() {
  # lgpio (gpiozero's pin library on a Pi) and gpiod (Blinka's) come from Debian: the venv sees
  # them through --system-site-packages, so nothing is compiled on the Pi.
  # Raspberry Pi OS has them all; elsewhere what the archive lacks is skipped with a note.
  if command -v apt-get >/dev/null 2>&1; then
    local missing=()
    for package in python3-venv python3-lgpio python3-libgpiod i2c-tools; do
      if installed_deb "$package"; then continue; fi
      if apt-cache show "$package" >/dev/null 2>&1; then
        missing+=("$package")
      else
        echo "note: $package is not in this system's package archive (not Raspberry Pi OS?)"
      fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
      system_step apt-get install -y --no-install-recommends "${missing[@]}"
    fi
  fi
  step install -d -m 0755 "$DESTDIR$PREFIX" "$DESTDIR$PREFIX/doc"
  if [ ! -x "$DESTDIR$PREFIX/venv/bin/python" ]; then
    system_step python3 -m venv --system-site-packages "$PREFIX/venv"
  fi
  system_step "$PREFIX/venv/bin/python" -m pip install --quiet --upgrade "$FROM"
  step install -m 0644 "$SRC/README.md" "$DESTDIR$PREFIX/doc/README.md"
  step install -m 0644 "$SRC/hardware/README.md" "$DESTDIR$PREFIX/doc/hardware.md"
}

install_config() {
  # The documented defaults, only when there is no config yet: yours is never overwritten.
  step install -d -m 0755 "$DESTDIR$CONFIG_DIR"
  if [ -e "$DESTDIR$CONFIG_DIR/config.toml" ]; then
    echo "kept: $CONFIG_DIR/config.toml (yours; the defaults are in $SRC/mat/default_config.toml)"
  else
    step install -m 0644 "$SRC/mat/default_config.toml" "$DESTDIR$CONFIG_DIR/config.toml"
  fi
}

install_units() {
  step install -d -m 0755 "$DESTDIR$UNIT_DIR"
  for unit in "${UNITS[@]}"; do
    step install -m 0644 "$SRC/systemd/$unit" "$DESTDIR$UNIT_DIR/$unit"
  done
  system_step systemctl daemon-reload
  system_step systemctl enable "${UNITS[@]}"
  # restart, not just start: an upgrade must run the new code.
  system_step systemctl restart "${UNITS[@]}"
}

web_port() {
  local port
  port=$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
    "$DESTDIR$CONFIG_DIR/config.toml" 2>/dev/null | head -n 1)
  echo "${port:-8080}"
}

i2c_advice() {
  local boot_config=/boot/firmware/config.txt
  [ -e "$boot_config" ] || boot_config=/boot/config.txt  # before Raspberry Pi OS bookworm
  if grep -qs '^dtparam=i2c_arm_baudrate=400000' "$boot_config" \
     && grep -qs '^dtparam=i2c_arm=on' "$boot_config"; then
    echo "- I2C is on at 400 kHz ($boot_config)."
  else
    echo "- Turn I2C on at 400 kHz (the frame rate needs it), then reboot:"
    echo "    sudo raspi-config nonint do_i2c 0"
    echo "    echo dtparam=i2c_arm_baudrate=400000 | sudo tee -a /boot/firmware/config.txt"
  fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi

create_user
install_program
install_config
install_units

echo
if [ "$DRY_RUN" = 1 ]; then
  echo "Dry run: nothing was changed. After a real install:"
else
  echo "Flatback is installed${DESTDIR:+ under $DESTDIR}."
fi
i2c_advice
echo "- Check the wiring (the doctor needs the chips to itself; lgpio needs a writable directory):"
echo "    sudo systemctl stop flatback-mat"
echo "    cd /tmp && sudo -u $USER_NAME env BLINKA_SKIP_DEPENDENCY_CHECK=1 $PREFIX/venv/bin/mat doctor"
echo "    sudo systemctl start flatback-mat"
echo "- Logs: journalctl -u flatback-mat -u flatback-web -f"
echo "- The page: http://$(hostname).local:$(web_port)/"
