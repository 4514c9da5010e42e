import 'reflect-metadata';
import { join } from 'node:path';
import { projectRoot } from '../paths';
import { buildGatewaySchema } from '../schema/build';

/** Writes the schema type-graphql builds to schema.graphql (committed; CI checks it is current). */
async function main(): Promise<void> {
  const path = process.argv[2] ?? join(projectRoot(), 'schema.graphql');
  await buildGatewaySchema(null, path);
  process.stdout.write(`schema written to ${path}\n`);
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
