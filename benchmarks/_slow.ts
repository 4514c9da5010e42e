import { join } from 'node:path';
import { ROOT, SECRET, cpuSeconds, freePort, gateway, gatewayEnv, schema, sleep, start } from '/work/main/benchmarks/lib';
import { signToken } from '/work/main/src/auth/jwt';
(async () => {
  process.env.BENCH_PROFILE_DIR = '/tmp/prof-slow';
  const s = await schema();
  const gw = await gateway(gatewayEnv(`slow-${Date.now()}`, s.url, await freePort(), JSON.parse(process.env.EXTRA ?? '{}')), 'slow');
  await sleep(2000);
  const SERVICE = signToken({ sub: 's', roles: ['service'], ttlSeconds: 3600 }, SECRET, 'HS256');
  const c0 = cpuSeconds(gw.pid);
  const sender = start(join(ROOT, 'benchmarks', 'sender.ts'), {}, [gw.url, SERVICE, process.env.RATE ?? '100', '10']);
  await new Promise((r) => sender.child.once('exit', r));
  console.log('cores', ((cpuSeconds(gw.pid) - c0) / 10).toFixed(3));
  await gw.stop(); await s.drop(); process.exit(0);
})();
