import type { ActivityRecorder } from '../recording/recorder';
import type { Queryable } from '../store';

/** Everything resolvers depend on; passed in, never imported as singletons. */
export interface ResolverDeps {
  readonly development: boolean;
  /** The recording pipeline behind the mutations. */
  readonly recorder: ActivityRecorder;
  /** Where processed state is read from. */
  readonly store: Queryable;
  /** Events recorded but not yet processed, for the dashboard; without it, that is unknown. */
  readonly processingLag?: () => Promise<number | null>;
}
