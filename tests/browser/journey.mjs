// A person's sign-in journey in headless Chromium (Debian's), driven by playwright-core.
//
//   node tests/browser/journey.mjs --url URL --expect TEXT [--user U --password P]
//        [--totp-secret BASE32] [--op-login LOGIN --op-password PW] [--screenshot FILE]
//
// It opens URL and answers whatever page comes: the module's password form, its code form,
// the OpenID Provider's login and consent forms; then checks that the final page contains
// TEXT. Prints one JSON line {ok, url, steps, text} and exits 0 only when ok.
import { createHmac } from 'node:crypto';
import { chromium } from '../op/node_modules/playwright-core/index.mjs';

function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}

function base32(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.toUpperCase().replace(/=+$/, '')) bits += alpha.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const opt = args();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const steps = [];
let ok = false;
let text = '';
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(opt.url);
  for (let i = 0; i < 8; i++) {
    await page.waitForLoadState('load');
    text = await page.locator('body').innerText().catch(() => '');
    if (text.includes(opt.expect)) { ok = true; break; }
    if (await page.locator('[role=alert]').count()) break; // the form said no: stop there
    if (await page.locator('input[name=password]').count() && await page.locator('input[name=user]').count()) {
      steps.push('password');
      await page.fill('input[name=user]', opt.user);
      await page.fill('input[name=password]', opt.password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    } else if (await page.locator('input[name=code]').count()) {
      steps.push('code');
      await page.fill('input[name=code]', totp(opt['totp-secret']));
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    } else if (await page.locator('input[name=login]').count()) {
      steps.push('op-login');
      await page.fill('input[name=login]', opt['op-login']);
      await page.fill('input[name=password]', opt['op-password'] || 'x');
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    } else if (await page.locator('button[autofocus], button[type=submit]').count()) {
      steps.push('op-consent');
      await Promise.all([page.waitForNavigation(), page.locator('button[type=submit]').first().click()]);
    } else {
      break;
    }
  }
  if (opt.screenshot) await page.screenshot({ path: opt.screenshot });
  console.log(JSON.stringify({ ok, url: page.url(), steps, text: text.slice(0, 2000) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, steps, error: String(e), text: text.slice(0, 2000) }));
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
