// A headless Chromium (Debian's) driven step by step by a test: one JSON command per line on
// stdin, one JSON answer per line on stdout. One browser context lives for the whole run, so
// a virtual authenticator (Chrome DevTools Protocol, WebAuthn domain) keeps its passkeys
// between steps while the test changes the world around it (stops the OpenID Provider, ...).
//
//   {"op":"goto","url":U}                 -> {ok, url, text}
//   {"op":"fill","sel":S,"value":V}       -> {ok}
//   {"op":"click","sel":S[,"nav":true]}   -> {ok, url, text}  (nav: wait for the navigation)
//   {"op":"text"} / {"op":"html"}         -> {ok, url, text|html}
//   {"op":"authenticator"[,"options":{...}]} -> {ok, id}   virtual ctap2 authenticator
//   {"op":"credentials"}                  -> {ok, credentials}  (WebAuthn.getCredentials)
//   {"op":"remove_authenticator"}         -> {ok}
//   {"op":"add_credential","credential":{...}} -> {ok}  (WebAuthn.addCredential)
//   {"op":"posts"}                        -> {ok, posts: [{url, body, headers}]}  POSTs so far
//   {"op":"eval","js":"..."}              -> {ok, value}
//   {"op":"viewport","width":W,"height":H} -> {ok}
//   {"op":"headers","headers":{...}}      -> {ok}      extra request headers (Accept-Language)
//   {"op":"screenshot","path":P}          -> {ok, overflow}  full page; overflow: how many
//                                            CSS pixels the page is wider than the viewport
//   {"op":"drop_cookie","name":N}         -> {ok, dropped}  as if it had expired
//   {"op":"close"}                        -> {ok}, then exit
// Every answer has ok:false and error when the step failed.
import { createInterface } from 'node:readline';
import { chromium } from '../op/node_modules/playwright-core/index.mjs';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext();
const page = await context.newPage();
page.setDefaultTimeout(15000);
const cdp = await context.newCDPSession(page);
let authenticatorId = null;
const posts = [];
page.on('request', async (req) => {
  if (req.method() !== 'POST') return;
  const entry = { url: req.url(), body: req.postData(), headers: {} };
  posts.push(entry);
  entry.headers = await req.allHeaders().catch(() => ({}));
});

async function body() {
  await page.waitForLoadState('load');
  return page.locator('body').innerText().catch(() => '');
}

async function clickAndWait(sel, nav) {
  if (!nav) {
    await page.click(sel);
    return;
  }
  await Promise.all([page.waitForNavigation(), page.click(sel)]);
}

const handlers = {
  async goto(c) {
    const resp = await page.goto(c.url);
    return { url: page.url(), status: resp ? resp.status() : null, text: await body() };
  },
  async viewport(c) {
    await page.setViewportSize({ width: c.width, height: c.height });
    return {};
  },
  async headers(c) {
    await context.setExtraHTTPHeaders(c.headers);
    return {};
  },
  async screenshot(c) {
    await page.waitForLoadState('load');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.screenshot({ path: c.path, fullPage: true });
    return { overflow };
  },
  async drop_cookie(c) {
    const all = await context.cookies();
    const keep = all.filter((k) => k.name !== c.name);
    await context.clearCookies();
    await context.addCookies(keep);
    return { dropped: all.length - keep.length };
  },
  async fill(c) {
    await page.fill(c.sel, c.value);
    return {};
  },
  async click(c) {
    await clickAndWait(c.sel, c.nav);
    return { url: page.url(), text: await body() };
  },
  async text() {
    return { url: page.url(), text: await body() };
  },
  async html() {
    return { url: page.url(), html: await page.content() };
  },
  async authenticator(c) {
    await cdp.send('WebAuthn.enable');
    const r = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        ...(c.options || {}),
      },
    });
    authenticatorId = r.authenticatorId;
    return { id: authenticatorId };
  },
  async credentials() {
    const r = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    return { credentials: r.credentials };
  },
  async remove_authenticator() {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = null;
    return {};
  },
  async add_credential(c) {
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: c.credential });
    return {};
  },
  async posts() {
    return { posts };
  },
  async eval(c) {
    return { value: await page.evaluate(c.js) };
  },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: 'bad command' }));
    continue;
  }
  if (c.op === 'close') break;
  try {
    const h = handlers[c.op];
    if (!h) throw new Error(`unknown op ${c.op}`);
    console.log(JSON.stringify({ ok: true, ...(await h(c)) }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), url: page.url() }));
  }
}
await browser.close();
console.log(JSON.stringify({ ok: true }));
