// A real OpenID Provider (oidc-provider 9) for the integration and browser tests.
//
//   node tests/op/op.mjs --port N --issuer http://127.0.0.1:N --jwks FILE \
//        --client-id ID --client-secret S --redirect-uri URI [--redirect-uri URI2 ...] \
//        [--post-logout-redirect-uri URI ...] [--auto-login USER] [--token-auth client_secret_basic|client_secret_post] \
//        [--alg RS256|PS256|ES256] [--rotate] [--amr pwd,mfa] [--tls-cert PEM --tls-key PEM]
//   node tests/op/op.mjs --make-keys N [--alg ALG]   (makes N signing keys, prints KEYS N, exits:
//                                                     the key generation check of the tests)
//
// The signing keys live in FILE (private JWKS), created on first start, so tokens stay
// verifiable across restarts (restart = outage tests). --rotate (at start) or SIGHUP (live)
// puts a new signing key first and keeps the previous one published.
// --auto-login USER answers every login interaction as USER without a form; without it
// the provider's own HTML login form (devInteractions) is shown, for browser tests. Consent
// is never asked: the grant for the requested OIDC scopes is created on the fly.
// Accounts: any name; claims sub, email (NAME@example.org, or NAME when it has an '@'),
// upn (NAME@corp.example, or NAME when it has an '@'),
// preferred_username = NAME, all also in the ID token.
// RP-initiated logout (end_session_endpoint) is on; --post-logout-redirect-uri registers
// where the client may send people back after it (the OP asks them to confirm with its own
// form unless the id_token_hint names their session).
// Prints "READY <port>" on stdout once listening.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Provider from 'oidc-provider';

function parseArgs(argv) {
  const opts = { redirectUris: [], postLogoutUris: [], tokenAuth: 'client_secret_basic', alg: 'RS256', rotate: false };
  const need = (i) => {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    switch (a) {
      case '--port': opts.port = Number(need(i)); i += 1; break;
      case '--issuer': opts.issuer = need(i); i += 1; break;
      case '--jwks': opts.jwks = need(i); i += 1; break;
      case '--client-id': opts.clientId = need(i); i += 1; break;
      case '--client-secret': opts.clientSecret = need(i); i += 1; break;
      case '--redirect-uri': opts.redirectUris.push(need(i)); i += 1; break;
      case '--post-logout-redirect-uri': opts.postLogoutUris.push(need(i)); i += 1; break;
      case '--auto-login': opts.autoLogin = need(i); i += 1; break;
      case '--token-auth': opts.tokenAuth = need(i); i += 1; break;
      case '--alg': opts.alg = need(i); i += 1; break;
      case '--rotate': opts.rotate = true; break;
      case '--amr': opts.amr = need(i).split(','); i += 1; break;
      case '--tls-cert': opts.tlsCert = need(i); i += 1; break;
      case '--tls-key': opts.tlsKey = need(i); i += 1; break;
      case '--make-keys': opts.makeKeys = Number(need(i)); i += 1; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!['RS256', 'PS256', 'ES256'].includes(opts.alg)) throw new Error('--alg: RS256, PS256 or ES256');
  if (opts.makeKeys !== undefined) return opts;
  for (const k of ['port', 'issuer', 'jwks', 'clientId', 'clientSecret']) {
    if (opts[k] === undefined || Number.isNaN(opts[k])) throw new Error(`missing --${k}`);
  }
  if (opts.redirectUris.length === 0) throw new Error('missing --redirect-uri');
  return opts;
}

// The new key comes out of generateKeyPairSync as PEM and is read back into a key object of
// its own before the JWK export. Exporting the generated key object itself can hang Node 20
// for good: that export holds the key's lock while it allocates, and a garbage collection
// at that moment finalizes the finished key generation job, whose teardown takes the same
// lock (seen as an OP that printed its first warning and never READY).
function newKey(alg) {
  const pem = { privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' } };
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256', ...pem })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048, ...pem });
  const jwk = crypto.createPrivateKey(privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), alg, use: 'sig' };
}

function writeKeys(file, keys) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

// The keys of FILE for alg; created when missing. rotate: a new key first, one old kept.
function loadKeys(file, alg, rotate) {
  let keys = [];
  if (fs.existsSync(file)) keys = JSON.parse(fs.readFileSync(file, 'utf8')).keys || [];
  keys = keys.filter((k) => k.alg === alg);
  if (keys.length === 0 || rotate) {
    keys = [newKey(alg), ...keys].slice(0, 2);
    writeKeys(file, keys);
  }
  return keys;
}

function account(id) {
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email: id.includes('@') ? id : `${id}@example.org`,
        email_verified: true,
        preferred_username: id,
        upn: id.includes('@') ? id : `${id}@corp.example`, // as AD FS gives it
      };
    },
  };
}

async function loadExistingGrant(ctx) {
  const { client, session } = ctx.oidc;
  const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
  if (grantId) {
    const existing = await ctx.oidc.provider.Grant.find(grantId);
    if (existing) return existing;
  }
  const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope('openid email profile');
  await grant.save();
  return grant;
}

function makeProvider(opts, keys) {
  const provider = new Provider(opts.issuer, {
    clients: [{
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      redirect_uris: opts.redirectUris,
      post_logout_redirect_uris: opts.postLogoutUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: opts.tokenAuth,
      id_token_signed_response_alg: opts.alg,
    }],
    jwks: { keys },
    findAccount: async (ctx, id) => account(id),
    claims: {
      openid: ['sub', 'amr'], // amr in the ID token: how the person authenticated
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'upn'],
    },
    conformIdTokenClaims: false, // the relying party reads claims from the ID token
    loadExistingGrant,
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256'] },
    features: { devInteractions: { enabled: !opts.autoLogin }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: [crypto.createHash('sha256').update(opts.clientSecret).digest('hex')] },
  });
  provider.proxy = false;
  if (opts.autoLogin) {
    provider.use(async (ctx, next) => {
      const m = ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path);
      if (!m) return next();
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      // login_hint (added by a test client to the authorization request) names the person
      // who signs in at the OP, so several people can sign in through one OP.
      const who = details.params.login_hint || opts.autoLogin;
      const login = { accountId: who, ...(opts.amr ? { amr: opts.amr } : {}) };
      const result = details.prompt.name === 'login' ? { login } : {};
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result,
        { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(returnTo);
      return undefined;
    });
  }
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.makeKeys !== undefined) {
    for (let i = 0; i < opts.makeKeys; i += 1) newKey(opts.alg);
    console.log(`KEYS ${opts.makeKeys}`);
    return;
  }
  let keys = loadKeys(opts.jwks, opts.alg, opts.rotate);
  let handler = makeProvider(opts, keys).callback();
  // --tls-cert/--tls-key: serve https (the issuer must then be https:// too).
  const server = opts.tlsCert
    ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
      (req, res) => handler(req, res))
    : http.createServer((req, res) => handler(req, res));
  process.on('SIGHUP', () => {
    keys = loadKeys(opts.jwks, opts.alg, true);
    handler = makeProvider(opts, keys).callback();
    console.log(`ROTATED ${keys[0].kid}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.listen(opts.port, '127.0.0.1', () => {
    console.log(`READY ${server.address().port}`);
  });
}

main();
