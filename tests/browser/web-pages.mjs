// Headless Chromium (Debian's package) against a running service with demo data: every page of
// the public website loads offline (no request leaves the origin) without console errors, each
// chart and the map render a non-empty SVG, the numbers in every table equal what the REST API
// returns for the same query (the table's data-api), axe-core finds no WCAG 2.1 A/AA
// violations, and the tables work with JavaScript off. Screenshots go to OUT_DIR.
//   BASE_URL=http://127.0.0.1:8080 OUT_DIR=/tmp/shots node web-pages.mjs
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const base = process.env.BASE_URL || 'http://127.0.0.1:8080';
const origin = new URL(base).origin;
const out = process.env.OUT_DIR || new URL('./out/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
let failures = 0;
const fail = (msg) => { failures += 1; console.error(`FAIL: ${msg}`); process.exitCode = 1; };

const api = async (path) => {
  const res = await fetch(base + path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
};

// Pick the pages' subjects from the API: an indicator with a national value, and a municipality
// that an organisation serves.
const orgs = await api('/api/v1/organisations?limit=5');
const municipality = orgs[0].primaryMunicipality;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// bypassCSP only so that axe-core can be injected; the pages' own scripts are files anyway.
const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });

async function open(path) {
  const page = await context.newPage();
  const external = [];
  const problems = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) external.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  const started = Date.now();
  const res = await page.goto(base + path, { waitUntil: 'networkidle' });
  if (res.status() !== 200) fail(`${path}: status ${res.status()}`);
  return { page, external, problems, ms: Date.now() - started };
}

// Dutch or English display text back to a number: "1.234,5%" -> 1234.5 (and its decimals).
function parseShown(text, lang) {
  let t = text.replace(/[^0-9.,-]/g, '');
  const [thousands, decimal] = lang === 'en' ? [',', '.'] : ['.', ','];
  t = t.split(thousands).join('');
  const decimals = t.includes(decimal) ? t.length - t.indexOf(decimal) - 1 : 0;
  return { value: Number(t.replace(decimal, '.')), decimals };
}

function apiRowsByKey(body, dim) {
  const byKey = new Map();
  if (dim === 'year') {
    for (const p of body.series[0]?.points ?? []) byKey.set(String(p.year), p);
  } else if (dim === 'code') {
    for (const r of body.rows) byKey.set(r.code, r);
  } else {
    for (const r of body.rows) byKey.set(String(r.group[dim]), r);
  }
  return byKey;
}

function compareCell(where, cell, a) {
  if (!a) {
    if (cell.status !== 'missing') fail(`${where}: shown as ${cell.status} but the API has no row`);
    return 0;
  }
  if (cell.status === 'suppressed') {
    if (!a.suppressed || a.value !== null) fail(`${where}: suppressed on the page, API ${JSON.stringify(a.value)}`);
    return 1;
  }
  if (cell.status === 'missing') {
    if (a.suppressed || a.value !== null) fail(`${where}: missing on the page, API ${JSON.stringify(a.value)}`);
    return 1;
  }
  if (cell.status === 'distribution') {
    // Not additive: the page shows the median of the organisations' values, never a total.
    const d = a.distribution;
    if (a.pooling !== 'distribution' || a.value !== null || !d) fail(`${where}: median on the page, API pooling ${a.pooling} value ${JSON.stringify(a.value)}`);
    else if (Math.abs(Number(cell.raw) - d.median) > 1e-9 * Math.max(1, Math.abs(d.median))) fail(`${where}: median ${cell.raw} != API ${d.median}`);
    return 1;
  }
  if (a.suppressed || a.value === null) { fail(`${where}: page shows ${cell.text}, API withholds it`); return 1; }
  if (Math.abs(Number(cell.raw) - a.value) > 1e-9 * Math.max(1, Math.abs(a.value))) fail(`${where}: data-value ${cell.raw} != API ${a.value}`);
  const shown = parseShown(cell.text, cell.lang);
  if (Math.abs(shown.value - a.value) > 0.5 * 10 ** -shown.decimals + 1e-9) fail(`${where}: shows ${cell.text}, API ${a.value}`);
  if (cell.index) {
    const idx = parseShown(cell.index, cell.lang);
    if (a.index === null || Math.abs(idx.value - a.index) > 0.5 * 10 ** -idx.decimals + 1e-9) fail(`${where}: index ${cell.index}, API ${a.index}`);
  } else if (cell.index === '' && a.index !== undefined && a.index !== null) fail(`${where}: API index ${a.index} not shown`);
  if (cell.orgs !== '' && a.organisations !== null && parseShown(cell.orgs, cell.lang).value !== a.organisations) fail(`${where}: organisations ${cell.orgs} != API ${a.organisations}`);
  return 1;
}

async function checkTables(path, page) {
  const tables = await page.$$eval('table[data-api]', (ts) => ts.map((t) => ({
    id: t.id, api: t.dataset.api, dim: t.dataset.dim, lang: t.dataset.lang,
    rows: Array.from(t.querySelectorAll('tbody tr[data-key]')).map((tr) => ({
      key: tr.dataset.key, raw: tr.dataset.value, status: tr.dataset.status,
      text: tr.querySelector('td').textContent.trim(), orgs: tr.querySelector('td.orgs')?.textContent.trim() ?? '',
      index: tr.querySelector('td.index')?.textContent.trim() ?? null,
    })),
    total: (() => { const tr = t.querySelector('tfoot tr'); return tr ? { raw: tr.dataset.value, status: tr.dataset.status, text: tr.querySelector('td').textContent.trim(), orgs: '' } : null; })(),
  })));
  let compared = 0;
  for (const t of tables) {
    const body = await api(t.api);
    const byKey = apiRowsByKey(body, t.dim);
    for (const r of t.rows) compared += compareCell(`${path} #${t.id} ${r.key}`, { ...r, lang: t.lang }, byKey.get(r.key));
    if (t.dim !== 'year') {
      const onPage = new Set(t.rows.map((r) => r.key));
      for (const k of byKey.keys()) if (!onPage.has(k)) fail(`${path} #${t.id}: API row ${k} not on the page`);
    }
    if (t.total) compared += compareCell(`${path} #${t.id} total`, { ...t.total, lang: t.lang }, body.total);
  }
  return { tables: tables.length, compared };
}

async function checkCharts(path, page) {
  const charts = await page.$$eval('figure[data-chart]', (fs) => fs.map((f) => {
    const svg = f.querySelector('.chart svg');
    const shown = f.querySelectorAll('tbody tr[data-status="shown"]').length;
    const marks = svg ? svg.querySelectorAll('rect, path, circle').length : 0;
    const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return { id: f.id, svg: !!svg, shown, marks, w: box.width, h: box.height };
  }));
  for (const c of charts) {
    if (!c.svg || c.w === 0 || c.h === 0) fail(`${path} ${c.id}: no chart drawn`);
    else if (c.shown > 0 && c.marks === 0) fail(`${path} ${c.id}: chart has no marks for ${c.shown} values`);
  }
  return charts.length;
}

async function checkAxe(path, page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  for (const v of result.violations) {
    fail(`${path} axe ${v.id} (${v.impact}): ${v.help}; ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }
  return result.passes.length;
}

const pages = [
  { name: 'dashboard', path: '/' },
  { name: 'dashboard-en', path: '/?lang=en' },
  { name: 'indicators', path: '/indicatoren' },
  { name: 'indicator', path: null },
  { name: 'map', path: '/kaart', map: true },
  { name: 'municipality', path: `/gemeenten/${municipality}` },
];

try {
  for (const p of pages) {
    if (p.path === null) {
      // The indicator of the dashboard's first headline.
      const { page } = await open('/');
      p.path = await page.$eval('.card .headline-label a', (a) => a.getAttribute('href'));
      await page.close();
    }
    const { page, external, problems, ms } = await open(p.path);
    const title = await page.title();
    const h1 = (await page.textContent('h1')).trim();
    let charts = 0;
    if (await page.$('figure[data-chart]')) {
      await page.waitForFunction(() => document.querySelectorAll('figure[data-chart] .chart svg').length
        === document.querySelectorAll('figure[data-chart]').length, null, { timeout: 20000 });
      charts = await checkCharts(p.path, page);
    }
    if (p.map) {
      await page.waitForSelector('#map svg path', { timeout: 20000 });
      const paths = await page.$$eval('#map svg g[aria-label="geo"] path', (ps) => ps.length);
      if (paths < 342) fail(`${p.path}: the map draws ${paths} municipalities, expected 342`);
    }
    const { tables, compared } = await checkTables(p.path, page);
    const passes = await checkAxe(p.path, page);
    await page.screenshot({ path: `${out}/${p.name}.png`, fullPage: true });
    if (external.length) fail(`${p.path} fetched from elsewhere: ${external.join(', ')}`);
    if (problems.length) fail(`${p.path} problems: ${problems.join('; ')}`);
    console.log(`ok: ${p.path} "${h1}" (${title}) in ${ms} ms: ${charts} charts, ${tables} tables, ${compared} cells equal to the API, axe ${passes} rules passed`);
    await page.close();
  }
  // Without JavaScript the tables and text are all there.
  {
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const page = await noJs.newPage();
    const path = pages.find((p) => p.name === 'indicator').path;
    await page.goto(base + path);
    const rows = await page.$$eval('table tbody tr', (trs) => trs.length);
    if (rows === 0) fail(`${path} without JavaScript: no table rows`);
    console.log(`ok: ${path} without JavaScript shows ${rows} table rows`);
    await noJs.close();
  }
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
console.log(failures ? `${failures} failures` : `web pages: all checks passed; screenshots in ${out}`);
