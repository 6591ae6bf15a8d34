// The GraphQL-over-HTTP audit (graphql-http's serverAudits) against the running service.
// Every audit (MUST, SHOULD and MAY) must pass
// unless it is listed in ACCEPTED with the reason. Usage: BASE_URL=http://127.0.0.1:8080 node graphql-http-audit.mjs
import { serverAudits } from 'graphql-http';

const base = process.env.BASE_URL;
if (!base) throw new Error('BASE_URL is required');
const url = `${base}/graphql`;
// Audits we deliberately answer differently, with why.
const ACCEPTED = new Map([]);

let failed = 0;
const audits = serverAudits({ url, fetchFn: fetch });
for (const audit of audits) {
  const result = await audit.fn();
  if (result.status === 'ok') continue;
  const why = ACCEPTED.get(audit.id);
  const line = `${audit.name} [${audit.id}]: ${result.reason}`;
  if (why) {
    console.log(`accepted  ${line} (${why})`);
  } else {
    failed++;
    console.log(`FAILED    ${line}`);
  }
}
console.log(`graphql-http audit: ${audits.length} audits, ${failed} failed`);
process.exit(failed ? 1 : 0);
