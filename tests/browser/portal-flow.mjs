// Headless Chromium (Debian's package) walks the portal end to end against a running service
// with demo data: invite (the command line) → set a password → sign in → upload a Dutch Excel
// CSV (BOM, semicolons, decimal commas) with two mistakes → see them at their rows → fix →
// submit → an Associatie member (second factor set up, its code computed here, RFC 6238)
// returns it with a reason → the team sees the reason, corrects, resubmits → the Associatie
// accepts → the public indicator page shows the new national value; then the team's benchmark,
// its entry form (a dry run with an error at its field), the Associatie's analysis, the
// completeness matrix, the registry and access pages and an admin creating a team client.
// axe-core (WCAG 2.1 A/AA)
// on every page, keyboard-only sign-in, no request leaving the origin; screenshots in OUT_DIR.
//   BASE_URL=http://127.0.0.1:8080 BIN=target/debug/basisset DATABASE_URL=... node portal-flow.mjs
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const base = process.env.BASE_URL || 'http://127.0.0.1:8080';
const origin = new URL(base).origin;
const bin = process.env.BIN || new URL('../../target/debug/basisset', import.meta.url).pathname;
const out = process.env.OUT_DIR || new URL('./out/portal/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
const started = Date.now();
const fail = (msg) => { throw new Error(msg); };
const check = (ok, msg) => { if (!ok) fail(msg); };

const api = async (path) => {
  const res = await fetch(base + path, { headers: { Accept: 'application/json' } });
  if (!res.ok) fail(`${path}: ${res.status}`);
  return res.json();
};

// RFC 6238 (HMAC-SHA1, 30 s, 6 digits) from a base32 secret.
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

const invite = (args) => JSON.parse(execFileSync(bin, ['--log', 'warn', 'user', 'invite', ...args], { encoding: 'utf8' }));

// A jeugd organisation of the demo data, its municipality, the last demo year.
const orgs = await api('/api/v1/organisations?limit=100');
const org = orgs.find((o) => o.teamType === 'jeugd') ?? fail('no jeugd organisation in the demo data');
const year = new Date().getFullYear() - 1;
const stamp = Date.now();
const teamEmail = `data-${stamp}@wijkteam.example`;
const assocEmail = `analist-${stamp}@associatie.example`;
const teamInvite = invite(['--email', teamEmail, '--role', 'team', '--organisation', String(org.id)]);
const assocInvite = invite(['--email', assocEmail, '--role', 'associatie']);
const password = 'paars konijn eet drie wortels';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function person() {
  // bypassCSP only so that axe-core can be injected.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`external request ${r.url()}`); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

let shot = 0;
async function audit(p, name) {
  await p.page.addScriptTag({ path: axePath });
  const result = await p.page.evaluate(async () => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  for (const v of result.violations) fail(`${name}: axe ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  check(p.problems.length === 0, `${name}: ${p.problems.join('; ')}`);
  shot += 1;
  await p.page.screenshot({ path: `${out}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

async function onboard(p, inv, email, name) {
  await p.page.goto(base + inv.path);
  await audit(p, `${name}-welkom`);
  await p.page.fill('#password', password);
  await p.page.fill('#password2', password);
  await Promise.all([p.page.waitForURL(/inloggen/), p.page.click('button[type=submit]')]);
  await audit(p, `${name}-inloggen`);
  // Keyboard only: tab into the form, type, submit with Enter.
  await p.page.focus('#email');
  await p.page.keyboard.type(email);
  await p.page.keyboard.press('Tab');
  await p.page.keyboard.type(password);
  await Promise.all([p.page.waitForURL((u) => !u.pathname.startsWith('/account/inloggen')), p.page.keyboard.press('Enter')]);
}

const header = 'indicator;gemeente;waarde;teller;noemer;respondenten;aantal;toelichting';
const csv = (rows) => Buffer.from('\ufeff' + [header, ...rows].join('\r\n') + '\r\n', 'utf8');
const upload = async (p, rows, name) => {
  await p.page.setInputFiles('#file', { name, mimeType: 'text/csv', buffer: csv(rows) });
  await Promise.all([p.page.waitForLoadState('load'), p.page.click('button[value=check]')]);
  await p.page.waitForLoadState('networkidle');
};

// The public national value of formatie_fte for the year, before.
const nationalOnPage = async (p) => {
  await p.page.goto(`${base}/indicatoren/formatie_fte?period=${year}`);
  return p.page.locator('tfoot [data-value]').first().getAttribute('data-value');
};

try {
  // The team.
  const team = await person();
  const before = await nationalOnPage(team);
  await onboard(team, teamInvite, teamEmail, 'team');
  check(team.page.url().includes(`/portaal/organisaties/${org.id}`), `team lands on ${team.page.url()}`);
  await audit(team, 'team-overzicht');
  await team.page.fill('#period', String(year));
  const good = [
    'nieuwe_aanmeldingen;;1200;;;;;',
    'formatie_fte;;987,5;;;;;',
    `aandeel_zelfmelders;${org.primaryMunicipality};;480;1200;;;"via de huisarts; zie jaarverslag"`,
  ];
  const bad = ['nieuwe_aanmeldingen;;1200,5;;;;;', good[1], good[2].replace(';480;1200;', ';480;400;')];
  await upload(team, bad, 'cijfers.csv');
  await audit(team, 'team-fouten');
  const errors = await team.page.$$eval('#fouten tbody tr', (rows) => rows.map((r) => [r.dataset.row, r.dataset.code]));
  check(errors.some(([row, code]) => row === '2' && code === 'not_integer'), `row 2 not_integer in ${JSON.stringify(errors)}`);
  check(errors.some(([row]) => row === '4'), `an error at row 4 in ${JSON.stringify(errors)}`);
  await upload(team, good, 'cijfers.csv');
  check((await team.page.textContent('#aantal')) === '3', 'three figures checked');
  await audit(team, 'team-controle');
  await Promise.all([team.page.waitForURL(/inzendingen\/\d+$/), team.page.click('button[value=submit]')]);
  const submission = team.page.url();
  check((await team.page.textContent('#status')).trim() === 'ingediend', 'submitted');
  await audit(team, 'team-inzending');

  // The Associatie: set up the app, then review.
  const assoc = await person();
  await onboard(assoc, assocInvite, assocEmail, 'associatie');
  check(assoc.page.url().includes('/account/app'), `associatie must set up the app first: ${assoc.page.url()}`);
  await audit(assoc, 'associatie-app');
  await Promise.all([assoc.page.waitForLoadState('load'), assoc.page.click('button[type=submit]:not(.signout button)')]);
  const secret = (await assoc.page.textContent('#totp-secret')).trim();
  await audit(assoc, 'associatie-sleutel');
  await assoc.page.fill('#code', totp(secret));
  await Promise.all([assoc.page.waitForURL(/beoordelen/), assoc.page.click('main button[type=submit]')]);
  await audit(assoc, 'associatie-wachtrij');
  await Promise.all([assoc.page.waitForURL(/inzendingen/), assoc.page.click(`#wachtrij a[href$="${new URL(submission).pathname}"]`)]);
  await audit(assoc, 'associatie-inzending');
  const reason = 'De formatie <b>987,5 fte</b> lijkt tien keer te hoog';
  await assoc.page.fill('#reason', reason);
  await assoc.page.click('main button:has-text("Terugsturen")');
  await assoc.page.waitForFunction(() => document.querySelector('#status')?.textContent.trim() === 'teruggestuurd');

  // The team sees the reason (as text), corrects and resubmits.
  await team.page.goto(`${base}/portaal/organisaties/${org.id}`);
  const shown = await team.page.textContent(`#perioden tr[data-key="${year}"] .reason`);
  check(shown.trim() === reason, `the reason as text: ${shown}`);
  await audit(team, 'team-teruggestuurd');
  await team.page.fill('#period', String(year));
  // A value this run alone uses, so the diff and the national value change on a rerun too.
  good[1] = `formatie_fte;;${(90 + (stamp % 997) / 100).toFixed(2).replace('.', ',')};;;;;`;
  await upload(team, good, 'cijfers-verbeterd.csv');
  await Promise.all([team.page.waitForURL(/inzendingen/), team.page.click('button[value=submit]')]);

  // The Associatie sees the diff and accepts.
  await assoc.page.goto(submission);
  check(await assoc.page.isVisible('#verschillen tr[data-key="formatie_fte"]'), 'the diff shows formatie_fte');
  await audit(assoc, 'associatie-verschillen');
  await assoc.page.click('main button:has-text("Accepteren")');
  await assoc.page.waitForFunction(() => document.querySelector('#status')?.textContent.trim() === 'geaccepteerd');

  // The public site shows the new national value.
  const anon = await person();
  const after = await nationalOnPage(anon);
  check(after && after !== before, `national value changed: ${before} → ${after}`);
  // The value on the page is the anonymous API's, which now counts the accepted revision.
  const apiPath = await anon.page.locator('tfoot').first().evaluate((t) => t.closest('table').dataset.api);
  const body = await api(apiPath);
  check(Math.abs(body.total.value - Number(after)) < 1e-9, `page ${after}, API ${body.total.value}`);
  const own = (await api(`/api/v1/organisations/${org.id}`)).name;
  check(typeof own === 'string', 'organisation readable');
  await audit(anon, 'publiek-indicator');

  // The pages beside the flow: the team's benchmark (a bar chart drawn from each table), the
  // Associatie's completeness matrix and the registry and access pages; an admin creates a
  // team client (its secret shown once). axe-core on each.
  await team.page.goto(`${base}/portaal/organisaties/${org.id}/benchmark?periode=${year}`);
  await team.page.waitForLoadState('networkidle');
  const tables = await team.page.locator('figure[data-chart="bar"] table').count();
  const bars = await team.page.locator('figure[data-chart="bar"] .chart svg').count();
  check(tables > 0 && bars === tables, `benchmark: ${tables} tables, ${bars} charts`);
  const ownValue = await team.page.locator('figure[data-chart="bar"] tr[data-key="eigen"]').first().getAttribute('data-value');
  check(ownValue !== null && ownValue !== '', 'benchmark: the own value');
  await audit(team, 'team-benchmark');
  // The team's form per goal: the dry run of a wrong ratio shows the error at its field and
  // stores nothing.
  const ratio = await api('/api/v1/indicators/aandeel_zelfmelders');
  await team.page.goto(`${base}/portaal/organisaties/${org.id}/invoeren?doel=${ratio.goal}&periode=${year}`);
  await audit(team, 'team-invoeren');
  await team.page.fill('#f-aandeel_zelfmelders-numerator', '500');
  await team.page.fill('#f-aandeel_zelfmelders-denominator', '400');
  await Promise.all([team.page.waitForLoadState('load'), team.page.click('form.entry button[value=check]')]);
  check(await team.page.isVisible('#fouten li[data-field="aandeel_zelfmelders.numerator"]'), 'entry: the error at its field');
  check((await team.page.getAttribute('#f-aandeel_zelfmelders-numerator', 'aria-invalid')) === 'true', 'entry: the field marked invalid');
  await audit(team, 'team-invoeren-fout');
  // The Associatie's analysis: exact figures, every chart and the map drawn from its tables.
  await assoc.page.goto(`${base}/portaal/analyse?indicator=formatie_fte&period=${year}`);
  await assoc.page.waitForLoadState('networkidle');
  const figures = await assoc.page.locator('figure[data-chart]').count();
  const drawn = await assoc.page.locator('figure[data-chart] .chart svg').count();
  check(figures > 0 && drawn === figures, `analysis: ${figures} tables, ${drawn} charts`);
  check(await assoc.page.locator('#map svg').count() > 0, 'analysis: the map');
  check(await assoc.page.locator('td.public[data-public]').count() > 0, 'analysis: what the public sees');
  await audit(assoc, 'associatie-analyse');
  await assoc.page.goto(`${base}/portaal/volledigheid?periode=${year}`);
  const matrixRows = await assoc.page.locator('#matrix tbody tr').count();
  check(matrixRows >= orgs.length, `completeness: ${matrixRows} rows for ${orgs.length} organisations`);
  check(await assoc.page.isVisible(`#matrix tr[data-organisation="${org.id}"] .cell.reported`), 'completeness: the team delivered');
  await audit(assoc, 'associatie-volledigheid');
  for (const [path, name] of [['organisaties', 'organisaties'], ['gebruikers', 'gebruikers'], ['audit', 'auditlog']]) {
    await assoc.page.goto(`${base}/portaal/beheer/${path}`);
    await audit(assoc, `associatie-${name}`);
  }
  check(await assoc.page.isVisible(`#audit td:has-text("${assocEmail}")`), 'the audit log names people by e-mail');
  const adminEmail = `beheer-${stamp}@associatie.example`;
  const admin = await person();
  await onboard(admin, invite(['--email', adminEmail, '--role', 'admin']), adminEmail, 'admin');
  await Promise.all([admin.page.waitForLoadState('load'), admin.page.click('button[type=submit]:not(.signout button)')]);
  const adminSecret = (await admin.page.textContent('#totp-secret')).trim();
  await admin.page.fill('#code', totp(adminSecret));
  await Promise.all([admin.page.waitForURL(/beheer\/organisaties/), admin.page.click('main button[type=submit]')]);
  await audit(admin, 'admin-organisaties');
  await admin.page.goto(`${base}/portaal/beheer/clients`);
  await admin.page.fill('#name', `Registratiesysteem ${stamp}`);
  await admin.page.selectOption('#organisation', String(org.id));
  await Promise.all([admin.page.waitForLoadState('load'), admin.page.click('main form.stack button[type=submit]')]);
  const clientSecret = (await admin.page.textContent('#client-secret')).trim();
  check(clientSecret.startsWith('bss_'), 'the new client\'s secret, once');
  await audit(admin, 'admin-client');
  await admin.page.goto(`${base}/portaal/beheer/gebruikers`);
  await audit(admin, 'admin-gebruikers');
  writeFileSync(`${out}/result.json`, JSON.stringify({ organisation: org.id, year, before, after }, null, 2));
  console.log(`portal flow passed in ${((Date.now() - started) / 1000).toFixed(1)} s: national formatie_fte ${year} ${before} → ${after}`);
} finally {
  await browser.close();
}
