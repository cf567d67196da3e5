'use strict';
// Helpers for the launcher's tests: a stand-in app-token binary, throwaway
// action trees, a launcher runner and a self-signed TLS certificate.

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');

const LAUNCHER = path.resolve(__dirname, '..');
const FAKEAPP = path.join(__dirname, 'fakeapp');
const EXE = process.platform === 'win32' ? '.exe' : '';

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let fakeBin;
// fakeBinary builds testdata/fakeapp once per test process and returns its path.
function fakeBinary() {
  if (!fakeBin) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-fakeapp-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    fakeBin = path.join(dir, `fakeapp${EXE}`);
    execFileSync('go', ['build', '-buildvcs=false', '-o', fakeBin, '.'], {
      cwd: FAKEAPP,
      env: { ...process.env, GOWORK: 'off', CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return fakeBin;
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// makeTree lays out an action tree in dir: the launcher's files, a checksum
// list, and optionally dist/ binaries and the fake app's Go source.
function makeTree(dir, { checksums = '', dist = {}, source = false } = {}) {
  fs.mkdirSync(path.join(dir, 'launcher'), { recursive: true });
  for (const f of ['launch.js', 'fetch.js', 'main.js', 'post.js']) {
    fs.copyFileSync(path.join(LAUNCHER, f), path.join(dir, 'launcher', f));
  }
  fs.writeFileSync(path.join(dir, 'launcher', 'checksums.txt'), checksums);
  for (const [name, from] of Object.entries(dist)) {
    fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
    fs.copyFileSync(from, path.join(dir, 'dist', name));
  }
  if (source) {
    for (const f of fs.readdirSync(FAKEAPP)) fs.copyFileSync(path.join(FAKEAPP, f), path.join(dir, f));
  }
  return dir;
}

// cleanEnv is the test process's environment without anything a runner or a
// proxy setting would add, plus extra.
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(GITHUB_|RUNNER_|INPUT_|STATE_|ACTIONS_)|^(https?_proxy|no_proxy|all_proxy)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

// runLauncher runs <root>/launcher/<script> like the runner does and collects
// its output. onStdout sees each chunk, with the child, as it arrives.
function runLauncher(root, script, env, { onStdout } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'launcher', script)], { env, cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (onStdout) onStdout(stdout, child);
    });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid }));
  });
}

// DER encoding, just enough for one self-signed certificate (X.690, RFC 5280).
function der(tag, ...parts) {
  const body = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  let len;
  if (body.length < 0x80) len = Buffer.from([body.length]);
  else {
    const bytes = [];
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...p) => der(0x30, ...p);
function oid(s) {
  const [a, b, ...rest] = s.split('.').map(Number);
  const out = [40 * a + b];
  for (let v of rest) {
    const enc = [v & 0x7f];
    for (v >>= 7; v > 0; v >>= 7) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return der(0x06, Buffer.from(out));
}
function utcTime(d) {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, `${s}Z`);
}

// selfSignedCert returns a P-256 key and a certificate for host and 127.0.0.1,
// valid for one day, as PEM.
function selfSignedCert(host) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaSHA256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = der(0x31, seq(oid('2.5.4.3'), der(0x0c, host)));
  const dn = seq(name);
  const san = seq(oid('2.5.29.17'), der(0x04, seq(der(0x82, host), der(0x87, Buffer.from([127, 0, 0, 1])))));
  const now = Date.now();
  const tbs = seq(
    der(0xa0, der(0x02, [2])), // v3
    der(0x02, Buffer.concat([Buffer.from([1]), crypto.randomBytes(8)])),
    ecdsaSHA256,
    dn,
    seq(utcTime(new Date(now - 3600e3)), utcTime(new Date(now + 86400e3))),
    dn,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(san)),
  );
  const sig = crypto.sign('sha256', tbs, privateKey);
  const cert = seq(tbs, ecdsaSHA256, der(0x03, Buffer.concat([Buffer.from([0]), sig])));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`,
  };
}

module.exports = { tempDir, fakeBinary, sha256, makeTree, cleanEnv, runLauncher, selfSignedCert, EXE };
