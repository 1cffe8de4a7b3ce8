#!/usr/bin/env bash
# Prints the Worker configuration that pins an enclave image: ENCLAVE_PCR0/1/2 (DESIGN §9). The
# measurements come from the EIF itself (`nitro-cli describe-eif`) or from the JSON that
# `nitro-cli build-enclave` printed; either way they are checked to be SHA-384 values and not the
# all-zero measurements of a debug enclave, which the Worker refuses anyway.
# See docs/enclave-deployment.md, "Publishing and pinning the PCRs".
#
# usage: publish-pcrs.sh [--format vars|secret] <pulse-enclave.eif | build-output.json | ->
#   vars    (default) TOML lines for wrangler.toml's [vars] (or [env.production.vars])
#   secret  `wrangler secret put` commands
set -euo pipefail

format=vars

fail() {
  printf 'publish-pcrs: %s\n' "$1" >&2
  exit 1
}

usage() {
  fail "usage: publish-pcrs.sh [--format vars|secret] <pulse-enclave.eif | build-output.json | ->"
}

if [ "${1:-}" = "--format" ]; then
  [ "$#" -ge 2 ] || usage
  format=$2
  shift 2
fi
[ "$#" -eq 1 ] || usage
case "$format" in
  vars | secret) ;;
  *) usage ;;
esac
command -v jq >/dev/null || fail "jq is not installed"

source=$1
case "$source" in
  -) measurements=$(cat) ;;
  *.eif)
    command -v nitro-cli >/dev/null || fail "nitro-cli is not installed (or pass the build-enclave JSON instead)"
    measurements=$(nitro-cli describe-eif --eif-path "$source") || fail "nitro-cli describe-eif failed for $source"
    ;;
  *)
    [ -r "$source" ] || fail "cannot read $source"
    measurements=$(cat "$source")
    ;;
esac

pcrs=$(printf '%s' "$measurements" | jq -er '
  .Measurements
  | if (.HashAlgorithm | type) == "string" and (.HashAlgorithm | ascii_downcase | startswith("sha384")) then . else error("not SHA-384 measurements") end
  | [.PCR0, .PCR1, .PCR2]
  | map(if type == "string" then ascii_downcase else error("missing PCR") end)
  | join(" ")') || fail "no SHA-384 Measurements.PCR0/1/2 in the input"
read -r pcr0 pcr1 pcr2 <<<"$pcrs"

zero=$(printf '0%.0s' {1..96})
for value in "$pcr0" "$pcr1" "$pcr2"; do
  [[ "$value" =~ ^[0-9a-f]{96}$ ]] || fail "a PCR is not 48 bytes of hex"
  [ "$value" != "$zero" ] || fail "all-zero PCR: this is a debug-mode measurement"
done

index=0
for value in "$pcr0" "$pcr1" "$pcr2"; do
  if [ "$format" = vars ]; then
    printf 'ENCLAVE_PCR%d = "%s"\n' "$index" "$value"
  else
    printf "printf '%%s' '%s' | npx wrangler secret put ENCLAVE_PCR%d\n" "$value" "$index"
  fi
  index=$((index + 1))
done
