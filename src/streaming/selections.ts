import { Kind, print, type DocumentNode, type GraphQLResolveInfo } from 'graphql';
import type { Selection } from './subscriber';

/**
 * The selections of live subscriptions, one object per key. The key holds the operation, its
 * fragments, its variables and whether the subscriber may see everything: what decides the bytes
 * a payload renders to.
 */
export class Selections {
  private readonly byKey = new Map<string, Selection>();

  get size(): number {
    return this.byKey.size;
  }

  /** The selection of this operation, shared with every live subscription that has the same key. */
  acquire(info: GraphQLResolveInfo, seesAll: boolean): Selection {
    const fragments = Object.values(info.fragments);
    const key = `${seesAll ? 'A' : 'U'}|${print(info.operation)}|${fragments.map((f) => print(f)).join('|')}|${JSON.stringify(info.variableValues)}`;
    let selection = this.byKey.get(key);
    if (!selection) {
      const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [info.operation, ...fragments] };
      selection = { key, users: 0, schema: info.schema, document, variableValues: info.variableValues, operationName: info.operation.name?.value };
      this.byKey.set(key, selection);
    }
    selection.users++;
    return selection;
  }

  release(selection: Selection): void {
    if (--selection.users === 0 && this.byKey.get(selection.key) === selection) this.byKey.delete(selection.key);
  }
}
