#!/bin/sh
# make test-image's stand-in for python:3.11-slim-bookworm where no container registry answers:
# Debian bookworm (minbase) with Debian's Python 3.11 and its venv module, imported as a local
# podman image. The root filesystem is made once with debootstrap (about 30 s) and kept as a
# tarball (the cache, under var/); the image is imported from it whenever podman lacks it.
#
#   docker/local-base.sh IMAGE TARBALL      e.g. localhost/fashionsite-base:bookworm var/image-base/bookworm.tar
set -eu

image=$1
tarball=$2
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$image"; then
    exit 0
fi

if [ ! -s "$tarball" ]; then
    root="$(dirname "$tarball")/root"
    rm -rf "$root"
    mkdir -p "$root"
    echo "local-base: debootstrap bookworm (minbase) into $root, then python3.11-venv"
    # apt inside, not debootstrap's --include: debootstrap's resolver misses python3.11-venv's
    # dependency on python3.11-distutils.
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
        || { tail -20 "$root.log" >&2; exit 1; }
    # Slim as Debian's -slim images (python:3.11-slim's base) are: no manuals, docs but the
    # copyrights, or translations, now or from packages installed later.
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
SLIM
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/info/* "$root"/usr/share/lintian/overrides/* "$root"/usr/share/locale/* "$root"/usr/share/man/*
    chroot "$root" apt-get install -y -qq --no-install-recommends python3.11-venv >>"$root.log" 2>&1 \
        || { tail -20 "$root.log" >&2; exit 1; }
    # No package lists, apt caches or logs either.
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/var/cache/debconf/*-old
    tar --numeric-owner -C "$root" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$root" "$root.log"
fi

# LANG as python:3.11-slim sets it (Debian's minbase has no locale but C.UTF-8).
podman import --quiet --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3.11"]' "$tarball" "$image" >/dev/null
echo "local-base: imported $tarball as $image"
