#!/usr/bin/env bash
# Runs on the parent instance right after the enclave starts (pulse-enclave.service): hands the
# enclave what it needs to decrypt the model API key, over vsock, once. That is the KMS ciphertext
# (which only an attested enclave can turn back into the key) and the instance role's temporary
# credentials from IMDSv2 (which KMS needs to authenticate the call, and which the parent holds
# anyway). Nothing sent here is a secret the parent could not already use; the plaintext key never
# exists outside the enclave. See docs/enclave-deployment.md, "Encrypting the model API key".
#
# usage: deliver-model-key.sh [--cid CID] [--ciphertext FILE]
#   --cid         the enclave's CID (default 16, as in pulse-enclave.service)
#   --ciphertext  base64 KMS ciphertext of the key (default /etc/pulse/model-api-key.ciphertext)
set -euo pipefail

cid=16
ciphertext_file=/etc/pulse/model-api-key.ciphertext
readonly bootstrap_port=5001
readonly imds=http://169.254.169.254/latest
readonly attempts=30

fail() {
  printf 'deliver-model-key: %s\n' "$1" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --cid)
      [ "$#" -ge 2 ] || fail "--cid needs a value"
      cid=$2
      shift 2
      ;;
    --ciphertext)
      [ "$#" -ge 2 ] || fail "--ciphertext needs a value"
      ciphertext_file=$2
      shift 2
      ;;
    *) fail "unknown argument: $1" ;;
  esac
done

[[ "$cid" =~ ^[0-9]+$ ]] || fail "--cid must be a number"
for tool in curl jq socat; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -r "$ciphertext_file" ] || fail "cannot read $ciphertext_file"
ciphertext=$(tr -d ' \n\r\t' <"$ciphertext_file")
[[ "$ciphertext" =~ ^[A-Za-z0-9+/]+=*$ ]] || fail "$ciphertext_file is not base64 (aws kms encrypt --output text --query CiphertextBlob)"

token=$(curl -sSf -X PUT "$imds/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60") || fail "IMDSv2 token request failed"
role=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/iam/security-credentials/") || fail "the instance has no IAM role"
credentials=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/iam/security-credentials/$role") || fail "could not read the role's credentials"
fields=$(printf '%s' "$credentials" |
  jq -er '[.AccessKeyId, .SecretAccessKey, .Token] | map(select(type == "string" and length > 0)) | if length == 3 then join(" ") else error("incomplete") end') ||
  fail "IMDS returned incomplete credentials"

# The enclave listens only once it has booted; retry for about a minute.
for ((i = 1; i <= attempts; i++)); do
  if printf '%s %s\n' "$fields" "$ciphertext" | socat -u STDIN "VSOCK-CONNECT:$cid:$bootstrap_port" 2>/dev/null; then
    printf 'deliver-model-key: delivered to enclave CID %s\n' "$cid"
    exit 0
  fi
  sleep 2
done
fail "enclave CID $cid did not accept the bootstrap on vsock port $bootstrap_port"
