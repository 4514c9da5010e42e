import type * as KafkaJS from 'kafkajs';
import { installKafkaPatches, kafkaPatchesRan } from './patches';

/**
 * KafkaJS's runtime, for the code of this folder that needs its values (the client class, the
 * default partitioner). KafkaJS's modules take their dependencies once, as they load, so it is
 * only ever loaded after the changes of `patches.ts` are installed: by `createKafka`, which
 * reports what it installed, or here, quietly, when something needs KafkaJS before a client is
 * created (the broker probe of `dev`). Everything else imports KafkaJS's types only.
 */
export function kafkajs(): typeof KafkaJS {
  if (!kafkaPatchesRan()) installKafkaPatches();
  return require('kafkajs') as typeof KafkaJS;
}
