import { Lru } from './lru';
import { UAParser } from 'ua-parser-js';
import { DeviceType, type DeviceInfo } from './activity';

const TYPES: Record<string, DeviceType> = {
  mobile: DeviceType.MOBILE,
  tablet: DeviceType.TABLET,
  smarttv: DeviceType.TV,
  console: DeviceType.OTHER,
  wearable: DeviceType.OTHER,
  embedded: DeviceType.OTHER,
  xr: DeviceType.OTHER,
};

/**
 * Derives a device from a User-Agent header with ua-parser-js. Parsing costs tens of
 * microseconds and clients repeat their agent, so results are kept in a bounded cache.
 */
export class DeviceDetector {
  private readonly cache: Lru<string, DeviceInfo>;

  constructor(capacity = 5_000) {
    this.cache = new Lru(capacity);
  }

  detect(userAgent: string): DeviceInfo {
    const hit = this.cache.get(userAgent);
    if (hit) return hit;
    const r = new UAParser(userAgent).getResult();
    // ua-parser reports no device type for desktops; anything it cannot read at all is OTHER.
    const known = r.browser.name !== undefined || r.os.name !== undefined;
    const device: DeviceInfo = {
      type: r.device.type ? (TYPES[r.device.type] ?? DeviceType.OTHER) : known ? DeviceType.DESKTOP : DeviceType.OTHER,
      os: r.os.name ?? null,
      browser: r.browser.name ?? null,
    };
    this.cache.set(userAgent, device);
    return device;
  }
}
