import { DeviceType } from '../../src/domain/activity';
import { DeviceDetector } from '../../src/domain/user-agent';

describe('DeviceDetector', () => {
  const d = new DeviceDetector(2);
  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', DeviceType.DESKTOP, 'Windows', 'Chrome'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36', DeviceType.MOBILE, 'Android', 'Chrome'],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1', DeviceType.TABLET, 'iOS', 'Mobile Safari'],
    ['Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36', DeviceType.TV, 'Tizen', 'Samsung Internet'],
  ])('reads %s', (ua, type, os, browser) => {
    expect(d.detect(ua)).toEqual({ type, os, browser });
  });

  it('calls an unreadable agent OTHER', () => {
    expect(d.detect('curl-ish/1').type).toBe(DeviceType.OTHER);
  });
});
