#!/usr/bin/env bash
# Builds every Spin component of the workspace (components/*) and the test
# guests (tests/guests/*) for wasm32-wasip2 in release mode, into
# target/wasm32-wasip2/release/<crate>.wasm — the paths spin.toml names.
#
# Uses the installed rustup target when there is one; otherwise falls back to
# Debian's Rust with its std sources (-Zbuild-std), installing the packages it
# needs when they are missing. Prints each component's size.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=wasm32-wasip2
packages=()
for dir in components/*/ tests/guests/*/; do
    [ -f "$dir/Cargo.toml" ] || continue
    name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n 1)
    packages+=("-p" "$name")
done
if [ "$#" -gt 0 ]; then
    packages=()
    for name in "$@"; do packages+=("-p" "$name"); done
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

for ((i = 1; i < ${#packages[@]}; i += 2)); do
    file="target/$TARGET/release/${packages[$i]//-/_}.wasm"
    printf '%-28s %8d bytes\n' "$(basename "$file")" "$(stat -c %s "$file")"
done
