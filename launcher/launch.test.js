'use strict';
// Unit tests of launch.js's pure parts. The whole launcher, run as the runner
// runs it, is tested in e2e.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { assetName, parseChecksums, serverURLs, sourceFingerprint, sourceKey, resolve, LaunchError } = require('./launch');
const { tempDir } = require('./testdata/helpers');

test('assetName maps every supported platform to its release asset', () => {
  const cases = [
    ['linux', 'x64', 'app-token-linux-amd64'],
    ['linux', 'arm64', 'app-token-linux-arm64'],
    ['darwin', 'x64', 'app-token-darwin-amd64'],
    ['darwin', 'arm64', 'app-token-darwin-arm64'],
    ['win32', 'x64', 'app-token-windows-amd64.exe'],
    ['win32', 'arm64', 'app-token-windows-arm64.exe'],
  ];
  for (const [platform, arch, want] of cases) assert.equal(assetName(platform, arch), want);
});

test('an unknown platform is a clear error, before anything is downloaded or built', async (t) => {
  assert.throws(() => assetName('linux', 'ia32'), { message: /no build for linux\/ia32.*x64 or arm64/ });
  const root = tempDir(t);
  await assert.rejects(
    resolve({ root, env: {}, platform: 'aix', arch: 'ppc64', log: () => assert.fail('logged') }),
    (err) => err instanceof LaunchError && /app-token has no build for aix\/ppc64: run this step on Linux, macOS or Windows/.test(err.message),
  );
});

test('parseChecksums reads the version and sha256sum lines, and skips comments', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const got = parseChecksums(`# comment\n\nversion v1.2.3\r\n${a}  app-token-linux-amd64\n${b} *app-token-windows-arm64.exe\n`);
  assert.equal(got.version, 'v1.2.3');
  assert.deepEqual([...got.sums], [['app-token-linux-amd64', a], ['app-token-windows-arm64.exe', b]]);
  assert.deepEqual(parseChecksums('# nothing released here\n'), { version: '', sums: new Map() });
});

test('parseChecksums names the line it cannot read', () => {
  assert.throws(() => parseChecksums(`version v1.0.0\n${'A'.repeat(64)}  app-token-linux-amd64\n`),
    { message: /launcher\/checksums\.txt line 2 is neither/ });
  assert.throws(() => parseChecksums('version 1.0\n'), { message: /line 1/ });
});

test('serverURLs turns the github-api-url input into the web host', () => {
  const cases = [
    [{ 'INPUT_GITHUB-API-URL': 'https://api.github.com' }, ['https://github.com']],
    [{ 'INPUT_GITHUB-API-URL': 'https://ghes.example.com/api/v3/' }, ['https://ghes.example.com']],
    [{ 'INPUT_GITHUB-API-URL': 'https://api.acme.ghe.com' }, ['https://acme.ghe.com']],
    [{ 'INPUT_GITHUB-API-URL': 'http://127.0.0.1:8080/api/v3', GITHUB_SERVER_URL: 'https://github.com' },
      ['http://127.0.0.1:8080', 'https://github.com']],
    [{ GITHUB_API_URL: 'https://api.github.com', GITHUB_SERVER_URL: 'https://github.com/' }, ['https://github.com']],
    [{}, []],
  ];
  for (const [env, want] of cases) assert.deepEqual(serverURLs(env), want, JSON.stringify(env));
  assert.throws(() => serverURLs({ 'INPUT_GITHUB-API-URL': 'ghes.example.com' }),
    { message: /input github-api-url "ghes\.example\.com" is not a URL: use https:\/\/api\.github\.com or https:\/\/HOST\/api\/v3/ });
});

test('sourceFingerprint changes with the Go source only', (t) => {
  const root = tempDir(t);
  const write = (rel, text) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('go.mod', 'module x\n');
  write('main.go', 'package main\n');
  write('internal/a/a.go', 'package a\n');
  const base = sourceFingerprint(root);
  const ignored = ['main_test.go', 'README.md', 'action.yml', 'app-token', 'launcher/launch.js', 'dist/x',
    'internal/a/a_test.go', 'internal/a/testdata/x.go', '.git/HEAD', 'bench/launcher/run.js'];
  for (const rel of ignored) {
    write(rel, 'changed');
    assert.equal(sourceFingerprint(root), base, `${rel} changed the fingerprint`);
  }
  for (const [rel, text] of [['main.go', 'package main // 2\n'], ['go.sum', 'x'], ['internal/a/b.go', 'package a\n'],
    ['internal/a/embed.txt', 'embedded']]) {
    const before = sourceFingerprint(root);
    write(rel, text);
    assert.notEqual(sourceFingerprint(root), before, `${rel} did not change the fingerprint`);
  }
});

test('sourceKey trusts its memo while the files are untouched, and rehashes any change', (t) => {
  const root = tempDir(t);
  const cache = tempDir(t);
  fs.writeFileSync(path.join(root, 'go.mod'), 'module x\n');
  fs.writeFileSync(path.join(root, 'main.go'), 'package main // a\n');
  const key = sourceKey(root, cache);
  assert.equal(key, sourceFingerprint(root).slice(0, 32));

  // The memo answers without reading the files: doctor its key to see it used.
  const memoDir = path.join(cache, 'source', 'memo');
  const [memo] = fs.readdirSync(memoDir);
  const text = fs.readFileSync(path.join(memoDir, memo), 'utf8');
  fs.writeFileSync(path.join(memoDir, memo), text.replace(/=[0-9a-f]{32}$/, '=from-the-memo'));
  assert.equal(sourceKey(root, cache), 'from-the-memo');

  // Same size, mtime put back: the ctime still gives the edit away.
  const file = path.join(root, 'main.go');
  const { atime, mtime } = fs.statSync(file);
  fs.writeFileSync(file, 'package main // b\n');
  fs.utimesSync(file, atime, mtime);
  const changed = sourceKey(root, cache);
  assert.equal(changed, sourceFingerprint(root).slice(0, 32));
  assert.notEqual(changed, key);
});
