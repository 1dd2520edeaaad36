#!/usr/bin/env bash
# Builds every Spin component of the workspace (components/*) and the test
# guests (tests/guests/*) for wasm32-wasip2 in release mode, into
# target/wasm32-wasip2/release/ — the paths spin.toml names: a library
# (cdylib) becomes <package name with _>.wasm, a binary (a command component)
# <bin name>.wasm.
#
# Uses the installed rustup target when there is one; otherwise falls back to
# Debian's Rust with its std sources (-Zbuild-std), installing the packages it
# needs when they are missing. Prints each component's size, and fails when
# a platform component (components/*) is larger than MAX_COMPONENT_BYTES:
# the platform's components must stay small enough to load and deploy fast.
#
# Every artifact is touched after a successful build: cargo leaves an
# up-to-date .wasm untouched, and the host compares its time with the
# sources its manifest's `watch` globs name (a stale component is refused),
# so a build that found nothing to do must still mark it current.
# The console's web assets are built first (scripts/build-console.sh) when the
# console component is among the packages: it embeds them.
# Usage: scripts/build-wasm.sh [package...]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=wasm32-wasip2
MAX_COMPONENT_BYTES=1048576
packages=()
# The .wasm files each package's build writes, by package name.
declare -A artifacts
platform_components=" "
for dir in components/*/ tests/guests/*/; do
    manifest="$dir/Cargo.toml"
    [ -f "$manifest" ] || continue
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n 1)
    packages+=("-p" "$name")
    if grep -q '^\[\[bin\]\]' "$manifest"; then
        # Every [[bin]] section's name (the first `name =` after its header).
        bins=$(awk '/^\[\[bin\]\]/ { inbin = 1; next }
                    /^\[/ { inbin = 0 }
                    inbin && /^name *=/ { gsub(/^name *= *"|".*$/, ""); print; inbin = 0 }' "$manifest")
        artifacts[$name]=${bins:-$name}
    elif [ -f "$dir/src/main.rs" ] && ! grep -q '^\[lib\]' "$manifest"; then
        artifacts[$name]=$name
    else
        artifacts[$name]=${name//-/_}
    fi
    case "$dir" in components/*) platform_components+="$name " ;; esac
done
if [ "$#" -gt 0 ]; then
    packages=()
    for name in "$@"; do packages+=("-p" "$name"); done
fi

# The console component (package web-console) embeds the web console's
# built assets.
if [[ " ${packages[*]} " == *" web-console "* ]]; then
    scripts/build-console.sh
fi

has_rustup_target() {
    command -v rustup >/dev/null 2>&1 &&
        rustup target list --installed 2>/dev/null | grep -qx "$TARGET"
}

debian_packages=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc)
ensure_debian_toolchain() {
    local missing=()
    for pkg in "${debian_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "build-wasm: installing ${missing[*]} (no rustup $TARGET target here)" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

if has_rustup_target; then
    echo "build-wasm: using the rustup $TARGET target" >&2
    cargo build --release --target "$TARGET" "${packages[@]}"
else
    ensure_debian_toolchain
    echo "build-wasm: using Debian's Rust with -Zbuild-std" >&2
    PATH="/usr/lib/llvm-22/bin:/usr/bin:$PATH" \
    RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-L /usr/lib/wasm32-wasi" \
        /usr/bin/cargo build --release --target "$TARGET" -Zbuild-std=std,panic_abort "${packages[@]}"
fi

too_big=()
for ((i = 1; i < ${#packages[@]}; i += 2)); do
    name=${packages[$i]}
    for artifact in ${artifacts[$name]:-${name//-/_}}; do
        file="target/$TARGET/release/$artifact.wasm"
        touch "$file"
        size=$(stat -c %s "$file")
        printf '%-28s %8d bytes\n' "$(basename "$file")" "$size"
        if [[ "$platform_components" == *" $name "* ]] && [ "$size" -gt "$MAX_COMPONENT_BYTES" ]; then
            too_big+=("$(basename "$file") is $size bytes")
        fi
    done
done
if [ "${#too_big[@]}" -gt 0 ]; then
    echo "build-wasm: components over the $MAX_COMPONENT_BYTES-byte budget:" >&2
    printf '  %s\n' "${too_big[@]}" >&2
    exit 1
fi
