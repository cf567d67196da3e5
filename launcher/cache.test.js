'use strict';
// The cache's trust checks (issue 9, finding 4): a cached binary that another
// user could have replaced is never run, with the inputs in its environment,
// by the main step or the post step.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { assetName, trustedPath } = require('./launch');
const h = require('./testdata/helpers');

const ASSET = assetName(process.platform, process.arch);
const REPO = 'org/app-token-action';
const VERSION = 'v9.9.9';
const POSIX = process.platform !== 'win32';
const ROOT = POSIX && process.getuid() === 0;

function setup(t, tree, extraEnv = {}) {
  const dir = h.tempDir(t);
  const root = h.makeTree(path.join(dir, 'action'), tree);
  const state = path.join(dir, 'state');
  fs.writeFileSync(state, '');
  const env = h.cleanEnv({
    'INPUT_PRIVATE-KEY': '-----BEGIN RSA PRIVATE KEY-----secret',
    GITHUB_STATE: state,
    RUNNER_TOOL_CACHE: path.join(dir, 'toolcache'),
    XDG_CACHE_HOME: path.join(dir, 'home-cache'),
    GITHUB_ACTION_REPOSITORY: REPO,
    ...extraEnv,
  });
  return { dir, root, state, env, marker: path.join(dir, 'ran') };
}

function stateBinary(stateFile) {
  const m = /^launcher-binary=(.*)$/m.exec(fs.readFileSync(stateFile, 'utf8'));
  assert.ok(m, 'main.js saved no launcher-binary state');
  return m[1];
}

// replace puts a script where bin was that records its environment in
// marker, as another user could; how depends on what this test may do.
function replace(bin, marker, how) {
  const script = `#!/bin/sh\nenv > '${marker}'\necho INJECTED\n`;
  fs.rmSync(bin, { force: true });
  switch (how) {
    case 'another owner':
      fs.writeFileSync(bin, script, { mode: 0o755 });
      fs.chownSync(bin, 65534, 65534);
      break;
    case 'writable by others':
      fs.writeFileSync(bin, script);
      fs.chmodSync(bin, 0o777);
      break;
    case 'folder writable by others':
      fs.writeFileSync(bin, script, { mode: 0o755 });
      fs.chmodSync(path.dirname(bin), 0o777);
      break;
    case 'symlink':
      fs.writeFileSync(`${bin}.evil`, script, { mode: 0o755 });
      fs.symlinkSync(`${bin}.evil`, bin);
      break;
    case 'fifo':
      require('child_process').execFileSync('mkfifo', [bin]);
      break;
    default:
      throw new Error(how);
  }
}

const WAYS = ['writable by others', 'folder writable by others', 'symlink', 'fifo', ...(ROOT ? ['another owner'] : [])];

function assertNotRun(r, s) {
  assert.doesNotMatch(r.stdout, /INJECTED/);
  assert.ok(!fs.existsSync(s.marker), 'the replaced binary ran');
}

// releaseServer serves the fake app as any release asset and counts downloads.
async function releaseServer(t) {
  const body = fs.readFileSync(h.fakeBinary());
  const srv = { downloads: 0 };
  const server = http.createServer((req, res) => {
    srv.downloads++;
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  srv.api = `http://127.0.0.1:${server.address().port}/api/v3`;
  srv.tree = { checksums: `version ${VERSION}\n${h.sha256(h.fakeBinary())}  ${ASSET}\n` };
  return srv;
}

test('a replaced release binary in the cache is not run: it is downloaded and verified again', { skip: !POSIX && 'POSIX owners only' }, async (t) => {
  const srv = await releaseServer(t);
  for (const how of WAYS) {
    await t.test(how, async (t) => {
      const s = setup(t, srv.tree, { 'INPUT_GITHUB-API-URL': srv.api });
      const before = srv.downloads;
      const first = await h.runLauncher(s.root, 'main.js', s.env);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const bin = stateBinary(s.state);
      replace(bin, s.marker, how);
      const r = await h.runLauncher(s.root, 'main.js', s.env);
      assertNotRun(r, s);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^::warning::app-token: not running the cached binary: .*; making it again\n/);
      assert.match(r.stdout, /fakeapp action version=dev/);
      assert.equal(srv.downloads - before, 2);
    });
  }
});

test('a replaced source build in the cache is not run: it is reported and built again', { skip: !POSIX && 'POSIX owners only' }, async (t) => {
  const s = setup(t, { source: true });
  const first = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const bin = stateBinary(s.state);
  replace(bin, s.marker, ROOT ? 'another owner' : 'writable by others');
  fs.writeFileSync(s.state, '');
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assertNotRun(r, s);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^::warning::app-token: not running the cached binary: .*; making it again\n/);
  assert.match(r.stdout, /fakeapp action version=source-/);
  assert.equal(stateBinary(s.state), bin);

  // The post step checks the main step's binary again before running it.
  replace(bin, s.marker, 'symlink');
  const post = await h.runLauncher(s.root, 'post.js', { ...s.env, 'STATE_launcher-binary': bin });
  assertNotRun(post, s);
  assert.equal(post.code, 0, post.stdout + post.stderr);
  assert.match(post.stdout, /fakeapp action-post version=source-/);
});

test('a tool cache that other users can write is not used; the user\'s own cache folder is', { skip: !POSIX && 'POSIX owners only' }, async (t) => {
  const srv = await releaseServer(t);
  const s = setup(t, srv.tree, { 'INPUT_GITHUB-API-URL': srv.api });
  fs.mkdirSync(s.env.RUNNER_TOOL_CACHE, { mode: 0o755 });
  fs.chmodSync(s.env.RUNNER_TOOL_CACHE, 0o777);
  const r = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^::warning::app-token: not caching in the tool cache, as another user could replace what is there \(.*toolcache is writable by its group or others \(mode 777\)\); using .*home-cache/);
  assert.ok(stateBinary(s.state).startsWith(path.join(s.env.XDG_CACHE_HOME, 'app-token-action', 'app-token') + path.sep));
  assert.deepEqual(fs.readdirSync(s.env.RUNNER_TOOL_CACHE), []);

  // With no safe place at all, the step fails and says what to do.
  fs.rmSync(s.env.XDG_CACHE_HOME, { recursive: true });
  fs.mkdirSync(s.env.XDG_CACHE_HOME, { mode: 0o755 });
  fs.chmodSync(s.env.XDG_CACHE_HOME, 0o777);
  fs.writeFileSync(s.state, '');
  const bad = await h.runLauncher(s.root, 'main.js', s.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^::error::no safe place to keep app-token's binary: .*toolcache is writable by its group or others \(mode 777\): make the folder and its parents writable only by the runner's user \(chmod go-w\), or set RUNNER_TOOL_CACHE to such a folder\n$/);
  assert.equal(fs.readFileSync(s.state, 'utf8'), '');
});

test('trustedPath accepts this user\'s files under sticky or private folders, and names what it refuses', { skip: !POSIX && 'POSIX owners only' }, (t) => {
  const dir = h.tempDir(t);
  const top = path.join(dir, 'cache');
  fs.mkdirSync(path.join(top, 'v1'), { recursive: true, mode: 0o755 });
  const bin = path.join(top, 'v1', 'app-token');
  fs.writeFileSync(bin, 'x', { mode: 0o755 });
  assert.equal(trustedPath(bin, top), '');
  // A link on the way is followed and checked where it points.
  const link = path.join(dir, 'link');
  fs.symlinkSync(top, link);
  assert.equal(trustedPath(path.join(link, 'v1', 'app-token'), link), '');
  fs.chmodSync(top, 0o775);
  assert.match(trustedPath(path.join(link, 'v1', 'app-token'), link), /cache is writable by its group or others \(mode 775\)/);
  fs.chmodSync(top, 0o1777); // sticky, as /tmp
  assert.match(trustedPath(bin, top), /writable/, 'the cache folder itself must be private, sticky or not');
  fs.chmodSync(top, 0o755);
  fs.chmodSync(dir, 0o1777);
  assert.equal(trustedPath(bin, top), '', 'a sticky folder above the cache is fine');
  fs.chmodSync(dir, 0o700);
  assert.match(trustedPath(path.join(top, 'v1', 'missing'), top), /ENOENT/);
});
