#!/bin/sh
# The enclave image's entrypoint (docs/enclave-deployment.md, "The entrypoint"). A Nitro Enclave
# boots with no network but vsock: the Nitro init process does not even bring up loopback. This
# script wires the few channels the enclave app needs and then becomes the app:
#   inbound   vsock port 5000 (the parent proxy's `vsock://CID:5000`) -> TCP 127.0.0.1:5000 (the app)
#   egress    TCP 127.0.0.1:443 (the model host, mapped in /etc/hosts) -> vsock 3:8001 (the parent's
#             vsock-proxy); TLS still ends here, so the parent relays ciphertext only
#   key       the model API key, KMS-encrypted by the operator, decrypted by kmstool_enclave_cli with
#             this enclave's attestation document, so KMS answers only an image whose PCRs its key
#             policy names; the plaintext lives in this process's environment, never in a file
# Its configuration is the image's ENV (Dockerfile), so it is measured into the PCRs with the rest.
set -eu

INBOUND_VSOCK_PORT=5000
APP_PORT=5000
PARENT_CID=3
BOOTSTRAP_VSOCK_PORT=5001
MODEL_EGRESS_VSOCK_PORT=8001
KMS_PROXY_VSOCK_PORT=8000
KMSTOOL=/usr/local/bin/kmstool_enclave_cli
KMSTOOL_LIBRARY_PATH=/usr/local/lib/kmstool

fail() {
  printf 'enclave-entrypoint: %s\n' "$1" >&2
  exit 1
}

# Splits "https://host[:port]/path" into MODEL_HOST and MODEL_PORT. Only https: the model reply is
# plaintext health data, and TLS terminating inside the enclave is what keeps it from the parent.
parse_model_url() {
  case "$1" in
    https://*) ;;
    *) fail "MODEL_URL must be an https:// URL" ;;
  esac
  authority=${1#https://}
  authority=${authority%%/*}
  case "$authority" in
    "" | *@* | \[*) fail "MODEL_URL must name a host (no credentials, no IPv6 literal)" ;;
    *:*)
      MODEL_HOST=${authority%%:*}
      MODEL_PORT=${authority#*:}
      ;;
    *)
      MODEL_HOST=$authority
      MODEL_PORT=443
      ;;
  esac
  case "$MODEL_PORT" in
    "" | *[!0-9]*) fail "MODEL_URL has an invalid port" ;;
  esac
}

# Waits for the parent's one bootstrap line on vsock: "ACCESS_KEY_ID SECRET_ACCESS_KEY
# SESSION_TOKEN CIPHERTEXT_BASE64" (deploy/deliver-model-key.sh). The credentials are the instance
# role's temporary ones, which KMS needs to authenticate the call; they are not what protects the
# key, the attestation document is. The key id is pinned from the image, so a ciphertext made under
# any other KMS key (one the parent controls) is refused.
decrypt_model_api_key() {
  [ -x "$KMSTOOL" ] || fail "KMS_KEY_ARN is set but this image has no kmstool_enclave_cli (build the enclave-kms target)"
  [ -n "${KMS_REGION:-}" ] || fail "KMS_REGION is not set"
  bootstrap=$(socat -u VSOCK-LISTEN:"$BOOTSTRAP_VSOCK_PORT" STDOUT) || fail "no bootstrap message from the parent"
  set -f
  # shellcheck disable=SC2086 # splitting the four space-separated fields is the point
  set -- $bootstrap
  set +f
  [ "$#" -eq 4 ] || fail "the bootstrap message must have four fields"
  reply=$(LD_LIBRARY_PATH="$KMSTOOL_LIBRARY_PATH" "$KMSTOOL" decrypt \
    --region "$KMS_REGION" \
    --proxy-port "$KMS_PROXY_VSOCK_PORT" \
    --aws-access-key-id "$1" \
    --aws-secret-access-key "$2" \
    --aws-session-token "$3" \
    --ciphertext "$4" \
    --key-id "$KMS_KEY_ARN" \
    --encryption-algorithm SYMMETRIC_DEFAULT) || fail "KMS refused to decrypt the model API key (key policy PCRs, role or ciphertext)"
  case "$reply" in
    "PLAINTEXT: "*) ;;
    *) fail "kmstool_enclave_cli printed no plaintext" ;;
  esac
  MODEL_API_KEY=$(printf '%s' "${reply#PLAINTEXT: }" | base64 -d) || fail "the decrypted model API key is not base64"
  [ -n "$MODEL_API_KEY" ] || fail "the decrypted model API key is empty"
  export MODEL_API_KEY
}

# A key in the image would sit in plaintext on every disk the image passes through.
[ -z "${MODEL_API_KEY:-}" ] || fail "MODEL_API_KEY must not be baked into the image; use KMS_KEY_ARN"

ip addr replace 127.0.0.1/8 dev lo
ip link set dev lo up

socat VSOCK-LISTEN:"$INBOUND_VSOCK_PORT",fork,reuseaddr TCP:127.0.0.1:"$APP_PORT" &

model=${PULSE_MODEL:-analyst}
set -- enclave --listen "127.0.0.1:$APP_PORT" --nsm nitro --nsm-helper /usr/local/bin/pulse-nsm --model "$model"

case "$model" in
  analyst) ;;
  openai)
    [ -n "${MODEL_URL:-}" ] || fail "MODEL_URL is not set"
    [ -n "${MODEL_NAME:-}" ] || fail "MODEL_NAME is not set"
    parse_model_url "$MODEL_URL"
    # The enclave has no DNS: the model host resolves to loopback, where socat hands the TLS
    # stream to the parent's vsock-proxy, which alone decides (by its allow-list) where it goes.
    printf '127.0.0.1 %s\n' "$MODEL_HOST" >>/etc/hosts
    socat TCP-LISTEN:"$MODEL_PORT",bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:"$PARENT_CID":"$MODEL_EGRESS_VSOCK_PORT" &
    if [ -n "${KMS_KEY_ARN:-}" ]; then
      decrypt_model_api_key
    fi
    set -- "$@" --model-url "$MODEL_URL" --model-name "$MODEL_NAME"
    # The endpoint sees plaintext, so the app needs its attestation pins (from the image's ENV, so
    # PCR0 measures them) or the explicit non-confidential flag; it refuses to start with neither.
    if [ -n "${MODEL_ATTESTATION_ROOT_B64:-}" ] || [ -n "${MODEL_MEASUREMENTS_B64:-}" ]; then
      mkdir -p /run/pulse
      printf '%s' "${MODEL_ATTESTATION_ROOT_B64:-}" | base64 -d >/run/pulse/model-attestation-root.pem \
        || fail "MODEL_ATTESTATION_ROOT_B64 is not base64"
      printf '%s' "${MODEL_MEASUREMENTS_B64:-}" | base64 -d >/run/pulse/model-measurements.json \
        || fail "MODEL_MEASUREMENTS_B64 is not base64"
      set -- "$@" --model-attestation-root /run/pulse/model-attestation-root.pem \
        --model-measurements /run/pulse/model-measurements.json
    fi
    if [ "${MODEL_NON_CONFIDENTIAL:-}" = "true" ]; then
      set -- "$@" --non-confidential-model
    fi
    if [ -n "${MODEL_TIMEOUT_MS:-}" ]; then
      set -- "$@" --model-timeout-ms "$MODEL_TIMEOUT_MS"
    fi
    ;;
  llama)
    # The weights are part of the image (Dockerfile, enclave-llama), so PCR0 measures them; the
    # app hashes them again at start and names that hash in every attestation document.
    [ -n "${MODEL_PATH:-}" ] || fail "MODEL_PATH is not set"
    [ -r "$MODEL_PATH" ] || fail "MODEL_PATH does not name a readable file in the image"
    set -- "$@" --model-path "$MODEL_PATH"
    if [ -n "${MODEL_MAX_TOKENS:-}" ]; then
      set -- "$@" --model-max-tokens "$MODEL_MAX_TOKENS"
    fi
    if [ -n "${MODEL_THREADS:-}" ]; then
      set -- "$@" --model-threads "$MODEL_THREADS"
    fi
    if [ -n "${MODEL_TIMEOUT_MS:-}" ]; then
      set -- "$@" --model-timeout-ms "$MODEL_TIMEOUT_MS"
    fi
    ;;
  *) fail "PULSE_MODEL must be analyst, openai or llama" ;;
esac

cd /app/enclave-bridge
exec node dist/cli.js "$@"
