import type { Logger } from './logger';

/** A long-lived part of the process, as the lifecycle knows it: a name and how to stop it. */
export interface Part {
  name: string;
  stop(): Promise<void> | void;
}

/**
 * The parts a process started, in start order. Stopping takes them down in reverse, so nothing
 * stops before what depends on it; a part that fails to stop is logged and the others still stop.
 */
export class Parts {
  private readonly started: Part[] = [];

  add(name: string, stop: () => Promise<void> | void): void {
    this.started.push({ name, stop });
  }

  /** Names of the parts started so far, in start order. */
  get names(): string[] {
    return this.started.map((p) => p.name);
  }

  async stopAll(logger: Logger): Promise<void> {
    for (const part of this.started.splice(0).reverse()) {
      try {
        await part.stop();
        logger.info({ part: part.name }, 'part stopped');
      } catch (err) {
        logger.warn({ err, part: part.name }, 'error while stopping');
      }
    }
  }
}
