import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { App, type AppOptions } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { placeRoles } from './roles/placement';

export const generateDevSecret = (): string => randomBytes(32).toString('base64url');

/** Parses the environment or exits with a message naming the bad variable. */
export function configOrExit(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env, generateDevSecret);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** How long an ordered shutdown may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * Stops the app on SIGTERM or SIGINT, in order. Repeated signals (process managers and `tsx`
 * relay them more than once) do not cut the shutdown short; a shutdown that hangs past
 * SHUTDOWN_TIMEOUT_MS exits with status 1.
 */
export function stopOnSignals(app: App, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Starts the gateway with the given configuration; exits the process when start fails. */
export async function run(config: Config, options: AppOptions = {}): Promise<App> {
  // Every line names the roles of the thread that wrote it; a role thread's logger says its own.
  const logger = createLogger(config.logLevel).child({ role: placeRoles(config).main.join(',') });
  if (config.jwt.algorithm === 'HS256' && config.jwt.generated) {
    logger.warn('JWT_SECRET is not set: using a generated development secret (tokens die with this process)');
  }
  const app = new App(config, logger, options);
  stopOnSignals(app, logger);
  try {
    await app.start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    process.exit(1);
  }
  logger.info({ ...(config.roles.has('gateway') ? { port: app.port } : {}), roles: [...config.roles] }, 'started');
  return app;
}

if (require.main === module) {
  void run(configOrExit(process.env));
}
