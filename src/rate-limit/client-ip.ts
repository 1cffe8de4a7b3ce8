/**
 * The caller's address, and the key a per-IP quota should count it under.
 *
 * On Cloudflare `CF-Connecting-IP` is set by the edge and overwrites anything the client sent; it is
 * the only client address to trust (X-Forwarded-For can be forged). It is absent only for requests
 * that did not come through the edge: local development and Worker-to-Worker calls, which share one
 * stable fallback key.
 *
 * IPv6 clients usually hold a whole /64 (RFC 6177, RFC 7381 §4), so counting each /128 separately
 * would let one client rotate through 2^64 fresh quotas; `ipRateLimitKey` counts the /64 instead.
 */
import type { Context } from "hono";
import type { AppEnv } from "../http/types";

export const UNKNOWN_CLIENT = "unknown";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** `CF-Connecting-IP` when it holds an IP address, otherwise `UNKNOWN_CLIENT`. */
export function clientIp(c: Context<AppEnv>): string {
  const header = c.req.header("CF-Connecting-IP")?.trim();
  if (header === undefined) return UNKNOWN_CLIENT;
  if (IPV4.test(header) || ipv6Groups(header) !== undefined) return header;
  return UNKNOWN_CLIENT;
}

/** IPv4 address as is; IPv6 as its /64 (`2001:db8:1:2::/64`); IPv4-mapped IPv6 as the IPv4 address. */
export function ipRateLimitKey(c: Context<AppEnv>): string {
  const ip = clientIp(c);
  const groups = ipv6Groups(ip);
  if (groups === undefined) return ip;
  const [high = 0, low = 0] = groups.slice(6);
  // ::ffff:a.b.c.d is an IPv4 client (RFC 4291 §2.5.5.2): count it with its IPv4 address.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff)
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (RFC 4291 §2.2 text forms), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  if (!text.includes(":") || text.length > 45) return undefined;
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

function parseGroups(part: string, mayEndWithIpv4: boolean): number[] | undefined {
  if (part === "") return [];
  const pieces = part.split(":");
  const groups: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (HEXTET.test(piece)) groups.push(Number.parseInt(piece, 16));
    else if (mayEndWithIpv4 && index === pieces.length - 1 && IPV4.test(piece)) {
      const [o1 = 0, o2 = 0, o3 = 0, o4 = 0] = piece.split(".").map(Number);
      groups.push((o1 << 8) | o2, (o3 << 8) | o4);
    } else return undefined;
  }
  return groups;
}
