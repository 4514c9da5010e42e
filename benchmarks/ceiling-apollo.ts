// Reference (b): Apollo Server's core request pipeline (executeHTTPGraphQLRequest) on plain
// node:http, a mutation that does nothing, no authentication. Nothing the gateway adds.
import { createServer } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';

const typeDefs = `
  input RecordActivityInput { type: String! pageUrl: String sessionId: String properties: String }
  type Receipt { eventId: ID! partition: Int! offset: String! }
  type Query { ok: Boolean }
  type Mutation { recordActivity(input: RecordActivityInput!): Receipt! }
`;
const resolvers = { Mutation: { recordActivity: () => ({ eventId: 'e', partition: 0, offset: '0' }) } };

async function main(): Promise<void> {
  const apollo = new ApolloServer({ typeDefs, resolvers });
  await apollo.start();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const r = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method!, headers, search: '', body: JSON.parse(Buffer.concat(chunks).toString()) },
      context: async () => ({}),
    });
    res.statusCode = r.status ?? 200;
    for (const [k, v] of r.headers) res.setHeader(k, v);
    res.end(r.body.kind === 'complete' ? r.body.string : '');
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
void main();
