/** Where a request came from, as far as the gateway can tell. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * The client's IP address. Forwarded headers are honoured only when the gateway is told how
 * many proxies in front of it to trust (`TRUST_PROXY_HOPS`): with N hops, the address is the
 * Nth entry from the right of X-Forwarded-For (the one the outermost trusted proxy saw), so a
 * client cannot choose its own address by sending the header.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedHops: number): string | null {
  const direct = normalize(socketAddress ?? null);
  if (trustedHops <= 0 || forwardedFor === undefined) return direct;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (chain.length === 0) return direct;
  const index = Math.max(0, chain.length - trustedHops);
  return normalize(chain[index]!) ?? direct;
}

function normalize(ip: string | null): string | null {
  if (ip === null) return null;
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const value = v4mapped ? v4mapped[1]! : ip;
  return value.length <= 64 ? value : null;
}
