#!/usr/bin/env bash
# The library and its unit tests with no feature, each feature alone, and all of them: clippy
# (warnings are errors) of the library alone and with its unit tests; `cargo test --lib` with
# no feature and with all.
#
# Why a copy of the crate: the crate's dev-dependency on itself (its tests, doctests and
# examples use the test issuer) turns `test-util` and `metrics` on for every `cargo test`, so
# `cargo test --lib --no-default-features` here would test all features. The copy in
# target/feature-matrix/ is the library alone: the same `src/`, README and lock file, a manifest
# without that dependency and without the test and bench targets. It shares `target/`, so the
# dependencies are compiled once; only this crate is rebuilt per feature set.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
copy=$root/target/feature-matrix/axum-cognito

rm -rf "$copy"
mkdir -p "$copy"
ln -s "$root/src" "$copy/src"
ln -s "$root/README.md" "$copy/README.md" # the crate docs (`include_str!`)
cp Cargo.lock "$copy/Cargo.lock"
awk '
    /^\[\[(test|bench|example)\]\]$/ { skip = 1; next }   # targets whose files the copy lacks
    skip && /^$/ { skip = 0; next }
    skip { next }
    /^axum-cognito = \{ path = "\."/ { next }     # the dev-dependency on itself
    { print }
    END { print ""; print "[workspace]" }         # its own workspace, not the one above it
' Cargo.toml >"$copy/Cargo.toml"

export CARGO_TARGET_DIR=$root/target
manifest=(--manifest-path "$copy/Cargo.toml" --locked)
# The lock file loses the root's dependency on itself; every version stays as it is.
cargo metadata --manifest-path "$copy/Cargo.toml" --format-version 1 >/dev/null

# The copy must really build without features: nothing may turn them back on. (The tree is
# read first, so that a failing `cargo tree` fails the script instead of passing the check.)
tree=$(cargo tree "${manifest[@]}" -e features --no-default-features -i axum-cognito)
if grep -E 'axum-cognito feature "(test-util|metrics|alb|redis|lambda)"' <<<"$tree"; then
    echo "feature-matrix: a feature of axum-cognito is still on with --no-default-features" >&2
    exit 1
fi

for features in "" test-util metrics alb redis lambda test-util,metrics,alb,redis,lambda; do
    printf '\n-- features: %s\n' "${features:-(none)}"
    flags=(--no-default-features)
    [[ -n $features ]] && flags+=(--features "$features")
    # The library as a user builds it, and its unit tests (--all-targets checks both; the copy
    # has no other target): no dev-dependency in the graph, so only these flags turn features
    # of its dependencies on (a feature it forgot to ask for fails here).
    cargo clippy "${manifest[@]}" --all-targets "${flags[@]}" -- -D warnings
done

# The unit tests run with no feature and with all of them (each feature's own tests are in the
# second set; a feature alone is linted above with its tests).
for features in "" test-util,metrics,alb,redis,lambda; do
    cargo test "${manifest[@]}" --lib --no-default-features ${features:+--features "$features"}
done
