# The two set-up commands (see README.md):
#   make run    install everything, then run the daemon in the foreground
#   make test   install everything, then run the whole test suite through tox
# Both work on a fresh Debian/Ubuntu machine: they install the apt packages,
# a virtualenv in .venv and the Python packages they need.

PYTHON ?= python3
VENV   := .venv
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Runtime: PortAudio for PyAudio, xclip/notify-send for the outputs.
# Tests: a private PulseAudio server as the microphone, espeak-ng/sox for
# speech, Xvfb for a clipboard to test against; real desktops to deliver text
# into: xterm on Xvfb, foot on headless sway (run as a system user made with
# useradd, from passwd; setpriv is in util-linux), with xsel, xmodmap and
# wtype/wl-clipboard as the tools. Release checks (tox env release): zstd and
# its headers for the .run stub, debootstrap for Debian 12 chroots, lintian.
APT_PACKAGES := python3-venv gcc libc6-dev portaudio19-dev libasound2-plugins xclip xdotool libnotify-bin \
                pulseaudio pulseaudio-utils espeak-ng sox xvfb x11-utils dbus \
                xterm xsel x11-xserver-utils sway foot wtype wl-clipboard fonts-dejavu-core passwd util-linux \
                zstd libzstd-dev debootstrap lintian

.PHONY: run test apt venv clean

run: venv
	$(VENV)/bin/v2m daemon

test: venv
	$(VENV)/bin/tox run $(if $(TOX_ARGS),-- $(TOX_ARGS))

apt: .apt.stamp
# Re-checked when the Makefile (so the package list) changes; only missing
# packages are installed.
.apt.stamp: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	touch $@

venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml | .apt.stamp
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]' 'tox>=4'
	touch $@

clean:
	rm -rf $(VENV) .tox .apt.stamp
