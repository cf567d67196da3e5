'use strict';
// The launcher run as the runner runs it (node launcher/main.js), in throwaway
// action trees, with a stand-in app-token (testdata/fakeapp) and loopback
// servers playing GitHub's release downloads and an HTTP proxy.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const https = require('https');
const { assetName } = require('./launch');
const h = require('./testdata/helpers');

const ASSET = assetName(process.platform, process.arch);
const REPO = 'org/app-token-action';
const VERSION = 'v9.9.9';
const DOWNLOAD = `/${REPO}/releases/download/${VERSION}/${ASSET}`;

// setup makes a tree, a tool cache and a state file, and the runner-like
// environment that goes with them.
function setup(t, tree = {}, extraEnv = {}) {
  const dir = h.tempDir(t);
  const root = h.makeTree(path.join(dir, 'action'), tree);
  const cache = path.join(dir, 'toolcache');
  const state = path.join(dir, 'state');
  fs.writeFileSync(state, '');
  const env = h.cleanEnv({
    'INPUT_CLIENT-ID': 'Iv1.test',
    GITHUB_STATE: state,
    RUNNER_TOOL_CACHE: cache,
    GITHUB_ACTION_REPOSITORY: REPO,
    GITHUB_ACTION_REF: 'v9',
    ...extraEnv,
  });
  return { dir, root, cache, state, env };
}

function listed(sum) {
  return `# test\nversion ${VERSION}\n${sum}  ${ASSET}\n`;
}

// stateBinary returns the binary path main.js saved for post.js.
function stateBinary(stateFile) {
  const m = /^launcher-binary=(.*)$/m.exec(fs.readFileSync(stateFile, 'utf8'));
  assert.ok(m, 'main.js saved no launcher-binary state');
  return m[1];
}

function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

// releaseServer serves body as the release asset, through a redirect to
// "storage" as github.com does, and counts the requests.
async function releaseServer(t, body) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    if (req.url === DOWNLOAD) res.writeHead(302, { Location: `/storage/${ASSET}?sig=x` }).end();
    else if (body && req.url === `/storage/${ASSET}?sig=x`) res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { api: `http://127.0.0.1:${server.address().port}/api/v3`, seen };
}

test('a checksum-valid dist/ binary runs with the same environment, and its exit code passes through', async (t) => {
  const fake = h.fakeBinary();
  const s = setup(t, { checksums: listed(h.sha256(fake)), dist: { [ASSET]: fake } }, { FAKE_EXIT: '3' });
  const main = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(main.code, 3, main.stdout + main.stderr);
  assert.match(main.stdout, /^fakeapp action version=dev\nINPUT_CLIENT-ID=Iv1\.test\n/);
  assert.equal(stateBinary(s.state), path.join(s.root, 'dist', ASSET));

  const post = await h.runLauncher(s.root, 'post.js', { ...s.env, FAKE_EXIT: '0', 'STATE_launcher-binary': stateBinary(s.state) });
  assert.equal(post.code, 0, post.stdout + post.stderr);
  assert.match(post.stdout, /^fakeapp action-post version=dev\n/);
});

test('a dist/ binary that does not match launcher/checksums.txt is refused', async (t) => {
  const fake = h.fakeBinary();
  const s = setup(t, { checksums: listed('0'.repeat(64)), dist: { [ASSET]: fake } });
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`^::error::dist/${ASSET.replace('.', '\\.')} has SHA-256 ${h.sha256(fake)} but launcher/checksums\\.txt lists 0{64}: refusing to run it`));
  assert.doesNotMatch(r.stdout, /fakeapp/);
  assert.equal(fs.readFileSync(s.state, 'utf8'), '');
});

test('the release asset is downloaded, verified, cached for later jobs and reused by the post step', async (t) => {
  const fake = h.fakeBinary();
  const srv = await releaseServer(t, fs.readFileSync(fake));
  const s = setup(t, { checksums: listed(h.sha256(fake)) }, { 'INPUT_GITHUB-API-URL': srv.api });
  const first = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /^fakeapp action version=dev\n/);
  assert.deepEqual(srv.seen, [DOWNLOAD, `/storage/${ASSET}?sig=x`]);
  const bin = stateBinary(s.state);
  assert.ok(bin.startsWith(path.join(s.cache, 'app-token', VERSION) + path.sep), bin);

  // A later job on the same runner: a fresh tree and state, the same tool cache.
  const again = setup(t, { checksums: listed(h.sha256(fake)) }, { 'INPUT_GITHUB-API-URL': srv.api, RUNNER_TOOL_CACHE: s.cache });
  const second = await h.runLauncher(again.root, 'main.js', again.env);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(srv.seen.length, 2, 'the cached binary was downloaded again');
  assert.equal(stateBinary(again.state), bin);

  const post = await h.runLauncher(again.root, 'post.js', { ...again.env, 'STATE_launcher-binary': bin });
  assert.equal(post.code, 0, post.stdout + post.stderr);
  assert.match(post.stdout, /^fakeapp action-post /);
  assert.equal(srv.seen.length, 2);
});

test('a local action (uses: ./) downloads from the workflow repository\'s release', async (t) => {
  const fake = h.fakeBinary();
  const srv = await releaseServer(t, fs.readFileSync(fake));
  const s = setup(t, { checksums: listed(h.sha256(fake)) }, { 'INPUT_GITHUB-API-URL': srv.api, GITHUB_REPOSITORY: REPO });
  delete s.env.GITHUB_ACTION_REPOSITORY;
  delete s.env.GITHUB_ACTION_REF;
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^fakeapp action version=dev\n/);
  assert.deepEqual(srv.seen, [DOWNLOAD, `/storage/${ASSET}?sig=x`]);
});

test('a swapped release asset is refused and not cached', async (t) => {
  const fake = h.fakeBinary();
  const swapped = Buffer.concat([fs.readFileSync(fake), Buffer.from('evil')]);
  const srv = await releaseServer(t, swapped);
  const s = setup(t, { checksums: listed(h.sha256(fake)), source: true }, { 'INPUT_GITHUB-API-URL': srv.api });
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^::error::http:\/\/127\.0\.0\.1:\d+\/org\/app-token-action\/releases\/download\/v9\.9\.9\/\S+ has SHA-256 [0-9a-f]{64} but launcher\/checksums\.txt lists [0-9a-f]{64} for \S+: the release asset was replaced or corrupted; refusing to run it\n$/);
  assert.doesNotMatch(r.stdout + r.stderr, /fakeapp|building/);
  assert.deepEqual(filesUnder(s.cache), []);
});

test('without a release binary the action is built from source once, then reused', async (t) => {
  const s = setup(t, { source: true });
  const first = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /app-token: building from source \(launcher\/checksums\.txt lists no app-token-\S+ for this ref\)/);
  assert.match(first.stdout, /^fakeapp action version=source-[0-9a-f]{12}\n/);
  assert.match(first.stdout, /^schemacheck=off$/m, 'the source build is not made with -tags noschemacheck, as releases are');
  const bin = stateBinary(s.state);
  const built = fs.statSync(bin).mtimeMs;

  const again = setup(t, { source: true }, { RUNNER_TOOL_CACHE: s.cache });
  const second = await h.runLauncher(again.root, 'main.js', again.env);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(second.stderr, '');
  assert.equal(stateBinary(again.state), bin);
  assert.equal(fs.statSync(bin).mtimeMs, built);
});

test('where Node has process.execve the launcher becomes app-token; elsewhere it spawns it', async (t) => {
  const s = setup(t, { source: true });
  const pidOf = (r) => Number((/^pid=(\d+)$/m.exec(r.stdout) || [])[1]);
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  if (typeof process.execve === 'function' && process.platform !== 'win32') {
    assert.equal(pidOf(r), r.pid, 'app-token did not replace the launcher (execve)');
  } else {
    assert.notEqual(pidOf(r), r.pid, 'app-token ran in the launcher\'s process without execve');
  }
  const forced = await h.runLauncher(s.root, 'main.js', { ...s.env, APP_TOKEN_LAUNCHER_SPAWN: '1' });
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  assert.notEqual(pidOf(forced), forced.pid, 'APP_TOKEN_LAUNCHER_SPAWN=1 did not spawn');
  const failing = await h.runLauncher(s.root, 'main.js', { ...s.env, FAKE_EXIT: '7' });
  assert.equal(failing.code, 7);
});

test('a release without this platform\'s asset falls back to a source build', async (t) => {
  const srv = await releaseServer(t, null);
  const s = setup(t, { checksums: listed('1'.repeat(64)), source: true }, { 'INPUT_GITHUB-API-URL': srv.api });
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /building from source \(no release binary could be downloaded \(GET http:\/\/127\.0\.0\.1:\d+\/storage\/\S+: HTTP 404\)\)/);
  assert.match(r.stdout, /^::warning::app-token: building from source: no release binary could be downloaded \(GET http:\/\/127\.0\.0\.1:\d+\/storage\/\S+: HTTP 404\)\nfakeapp action version=source-/);
});

test('a source build without go says what to do', async (t) => {
  const s = setup(t, { source: true });
  const empty = path.join(s.dir, 'empty');
  fs.mkdirSync(empty);
  const r = await h.runLauncher(s.root, 'main.js', { ...s.env, PATH: empty, Path: empty });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `::error::launcher/checksums.txt lists no ${ASSET} for this ref, so app-token must be built from source, ` +
    'but "go" is not on PATH: add actions/setup-go before this step, or use a released version of the action\n');
});

test('the post step does nothing when the main step started no binary', async (t) => {
  const s = setup(t, { source: true });
  const r = await h.runLauncher(s.root, 'post.js', { ...s.env, RUNNER_DEBUG: '1' });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '::debug::app-token: the main step did not start app-token; nothing to clean up\n');
  assert.deepEqual(filesUnder(s.cache), []);
});

test('a signal to the launcher reaches app-token, and the launcher ends the same way',
  { skip: process.platform === 'win32' && 'Windows has no POSIX signals', timeout: 120000 }, async (t) => {
    const fake = h.fakeBinary();
    const s = setup(t, { checksums: listed(h.sha256(fake)), dist: { [ASSET]: fake } }, { FAKE_WAIT: '1' });
    let sent = false;
    const r = await h.runLauncher(s.root, 'main.js', s.env, {
      onStdout: (out, child) => {
        if (!sent && out.includes('ready\n')) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    });
    assert.ok(sent);
    assert.equal(r.signal, 'SIGTERM', r.stdout + r.stderr);
  });

// tlsRelease serves the release asset over TLS as "release.test", behind an
// HTTP proxy that only speaks CONNECT and checks its credentials.
async function tlsRelease(t, body, proxyAnswer) {
  const { key, cert } = h.selfSignedCert('release.test');
  const dir = h.tempDir(t);
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, cert);
  const origin = https.createServer({ key, cert }, (req, res) => {
    if (req.url === DOWNLOAD) res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => origin.close());
  const connects = [];
  const proxy = http.createServer((req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, client) => {
    connects.push([req.url, req.headers['proxy-authorization']]);
    if (proxyAnswer) return client.end(`HTTP/1.1 ${proxyAnswer}\r\n\r\n`);
    const upstream = net.connect(origin.address().port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  return {
    caFile,
    connects,
    api: `https://release.test:${origin.address().port}/api/v3`,
    proxy: `http://launcher:s3cret@127.0.0.1:${proxy.address().port}`,
  };
}

test('the release is fetched through HTTPS_PROXY with a CONNECT tunnel and verified TLS', async (t) => {
  const fake = h.fakeBinary();
  const rel = await tlsRelease(t, fs.readFileSync(fake));
  const s = setup(t, { checksums: listed(h.sha256(fake)) }, {
    'INPUT_GITHUB-API-URL': rel.api,
    HTTPS_PROXY: rel.proxy,
    NO_PROXY: 'localhost,127.0.0.1',
    NODE_EXTRA_CA_CERTS: rel.caFile,
  });
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^fakeapp action version=dev\n/);
  const port = new URL(rel.api).port;
  assert.deepEqual(rel.connects, [[`release.test:${port}`, `Basic ${Buffer.from('launcher:s3cret').toString('base64')}`]]);

  // Without the test CA the same download must fail TLS verification.
  const bare = setup(t, { checksums: listed(h.sha256(fake)) }, { 'INPUT_GITHUB-API-URL': rel.api, HTTPS_PROXY: rel.proxy });
  const refused = await h.runLauncher(bare.root, 'main.js', bare.env);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /no release binary could be downloaded \(GET https:\/\/release\.test:\d+\/\S+: self[- ]signed certificate/);
  assert.doesNotMatch(refused.stdout + refused.stderr, /fakeapp/);
});

test('a proxy refusal is reported without the proxy credentials', async (t) => {
  const rel = await tlsRelease(t, 'unused', '407 Proxy Authentication Required');
  const s = setup(t, { checksums: listed('2'.repeat(64)) }, { 'INPUT_GITHUB-API-URL': rel.api, HTTPS_PROXY: rel.proxy });
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^::error::no release binary could be downloaded \(GET https:\/\/release\.test:\d+\/\S+: proxy 127\.0\.0\.1:\d+ answered 407 to CONNECT release\.test:\d+\), and this copy of the action has no Go source to build from: use a released version\n$/);
  assert.doesNotMatch(r.stdout + r.stderr, /s3cret|launcher:/);
});
