// Headless Chromium (Debian's package) against a running service: the API reference at /docs
// and GraphiQL at /graphql load fully offline, and GraphiQL runs a query.
//   BASE_URL=http://127.0.0.1:8080 node docs-pages.mjs
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL || 'http://127.0.0.1:8080';
const origin = new URL(base).origin;
const fail = (msg) => { console.error(`FAIL: ${msg}`); process.exitCode = 1; };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function open(path) {
  const page = await browser.newPage();
  const external = [];
  const problems = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) external.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(base + path, { waitUntil: 'networkidle' });
  return { page, external, problems };
}

try {
  // API reference: Swagger UI renders the operations of /api/openapi.json.
  {
    const { page, external, problems } = await open('/docs');
    await page.waitForSelector('.opblock', { timeout: 20000 });
    const title = await page.textContent('.info .title');
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
    if (!title.includes('basisset API')) fail(`docs title: ${title}`);
    for (const p of ['/api/v1/views/aggregate', '/api/v1/organisations/{id}/submissions', '/oauth/token']) {
      if (!paths.includes(p)) fail(`docs lack ${p}`);
    }
    if (external.length) fail(`docs fetched from elsewhere: ${external.join(', ')}`);
    if (problems.length) fail(`docs problems: ${problems.join('; ')}`);
    console.log(`ok: /docs shows ${paths.length} operations, offline`);
  }
  // GraphiQL: the editor loads with the schema, and running the default query shows data.
  {
    const { page, external, problems } = await open('/graphql');
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });
    await page.click('.graphiql-execute-button');
    const result = await page.waitForFunction(() => {
      const cm = document.querySelector('.graphiql-response .CodeMirror');
      const text = cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
      return text.includes('transformationGoals') ? text : null;
    }, null, { timeout: 20000 });
    const body = JSON.parse(await result.jsonValue());
    const goals = body.data.transformationGoals;
    if (!Array.isArray(goals) || goals.length !== 5) fail(`GraphiQL result: ${JSON.stringify(body).slice(0, 300)}`);
    if (external.length) fail(`GraphiQL fetched from elsewhere: ${external.join(', ')}`);
    if (problems.length) fail(`GraphiQL problems: ${problems.join('; ')}`);
    console.log(`ok: GraphiQL ran a query and shows ${goals.length} goals, offline`);
  }
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
